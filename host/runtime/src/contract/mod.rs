//! The released contract versions the runtime speaks, one module each (WIT kept per version in
//! `plugin-sdk/wit/`): `v1_1` serves plugins built against 1.0.0 and 1.1.0, `v1_2` those built
//! against 1.2.0 and 1.3.0 (1.3 adds one import interface, `v1_3`, linked beside 1.2's). A component's imports say which it was built against; everything above this
//! module calls a [`Guest`] in the runtime's own types and never sees a WIT type.

pub(crate) mod v1_1;
pub(crate) mod v1_2;
pub(crate) mod v1_3;

use crate::exchange::{HttpRequest, HttpResponse, JobProgress};
use crate::failure::PluginFailure;
use crate::host_calls::HostState;
use qingguan_core::{Record, WriteOp};
use semver::Version;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Store};

/// What calling an export gives: a trap (`Err`), or the plugin's own result.
pub(crate) type Out<T> = wasmtime::Result<Result<T, PluginFailure>>;

/// The wire form of record times.
pub(crate) fn time_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// One linker per contract version, each with WASI (empty) and that version's host interface.
pub(crate) struct Linkers {
    v1_1: Linker<HostState>,
    v1_2: Linker<HostState>,
}

impl Linkers {
    /// Linkers for every supported version.
    pub(crate) fn new(engine: &Engine) -> anyhow::Result<Linkers> {
        let mut v1_1 = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut v1_1)
            .map_err(|e| anyhow::anyhow!("cannot link WASI: {e:#}"))?;
        v1_1::Plugin::add_to_linker::<_, HasSelf<_>>(&mut v1_1, |s| s)
            .map_err(|e| anyhow::anyhow!("cannot link the 1.1 host interface: {e:#}"))?;
        let mut v1_2 = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut v1_2)
            .map_err(|e| anyhow::anyhow!("cannot link WASI: {e:#}"))?;
        v1_2::Plugin::add_to_linker::<_, HasSelf<_>>(&mut v1_2, |s| s)
            .map_err(|e| anyhow::anyhow!("cannot link the 1.2 host interface: {e:#}"))?;
        v1_3::OutreachOnly::add_to_linker::<_, HasSelf<_>>(&mut v1_2, |s| s)
            .map_err(|e| anyhow::anyhow!("cannot link the 1.3 outreach interface: {e:#}"))?;
        Ok(Linkers { v1_1, v1_2 })
    }

    /// Links a component against the contract version it was built for (1.2 and 1.3 go to
    /// `v1_2`, whose linker also has 1.3's `outreach`; the caller has refused versions this host does not provide).
    pub(crate) fn link(
        &self,
        component: &Component,
        contract: &Version,
    ) -> anyhow::Result<GuestPre> {
        if contract.major == 1 && contract.minor >= 2 {
            let pre = self.v1_2.instantiate_pre(component)?;
            let label = if contract.minor >= 3 { "1.3" } else { "1.2" };
            Ok(GuestPre::V1_2(v1_2::PluginPre::new(pre)?, label))
        } else {
            let pre = self.v1_1.instantiate_pre(component)?;
            Ok(GuestPre::V1_1(v1_1::PluginPre::new(pre)?))
        }
    }
}

/// A linked component, ready to instantiate.
pub(crate) enum GuestPre {
    V1_1(v1_1::PluginPre<HostState>),
    V1_2(v1_2::PluginPre<HostState>, &'static str),
}

impl GuestPre {
    /// A fresh instance.
    pub(crate) fn instantiate(&self, store: &mut Store<HostState>) -> wasmtime::Result<Guest> {
        Ok(match self {
            GuestPre::V1_1(p) => Guest::V1_1(p.instantiate(store)?),
            GuestPre::V1_2(p, _) => Guest::V1_2(p.instantiate(store)?),
        })
    }

    /// The contract version, as shown to administrators.
    pub(crate) fn contract(&self) -> &'static str {
        match self {
            GuestPre::V1_1(_) => "1.1",
            GuestPre::V1_2(_, label) => label,
        }
    }
}

/// An instance of a plugin, whichever contract it speaks.
pub(crate) enum Guest {
    V1_1(v1_1::Plugin),
    V1_2(v1_2::Plugin),
}

type S<'a> = &'a mut Store<HostState>;

impl Guest {
    pub(crate) fn install(&self, s: S) -> Out<()> {
        match self {
            Guest::V1_1(p) => v1_1::install(p.qingguan_plugin_guest(), s),
            Guest::V1_2(p) => v1_2::install(p.qingguan_plugin_guest(), s),
        }
    }

    pub(crate) fn upgrade(&self, s: S, from: &str) -> Out<()> {
        match self {
            Guest::V1_1(p) => v1_1::upgrade(p.qingguan_plugin_guest(), s, from),
            Guest::V1_2(p) => v1_2::upgrade(p.qingguan_plugin_guest(), s, from),
        }
    }

    pub(crate) fn uninstall(&self, s: S) -> Out<()> {
        match self {
            Guest::V1_1(p) => v1_1::uninstall(p.qingguan_plugin_guest(), s),
            Guest::V1_2(p) => v1_2::uninstall(p.qingguan_plugin_guest(), s),
        }
    }

    pub(crate) fn health(&self, s: S) -> Out<()> {
        match self {
            Guest::V1_1(p) => v1_1::health(p.qingguan_plugin_guest(), s),
            Guest::V1_2(p) => v1_2::health(p.qingguan_plugin_guest(), s),
        }
    }

    pub(crate) fn before_write(
        &self,
        s: S,
        op: WriteOp,
        entity: &str,
        before: Option<&Record>,
        fields: &str,
    ) -> Out<Option<String>> {
        match self {
            Guest::V1_1(p) => {
                v1_1::before_write(p.qingguan_plugin_guest(), s, op, entity, before, fields)
            }
            Guest::V1_2(p) => {
                v1_2::before_write(p.qingguan_plugin_guest(), s, op, entity, before, fields)
            }
        }
    }

    pub(crate) fn after_write(&self, s: S, op: WriteOp, entity: &str, written: &Record) -> Out<()> {
        match self {
            Guest::V1_1(p) => v1_1::after_write(p.qingguan_plugin_guest(), s, op, entity, written),
            Guest::V1_2(p) => v1_2::after_write(p.qingguan_plugin_guest(), s, op, entity, written),
        }
    }

    pub(crate) fn action(
        &self,
        s: S,
        name: &str,
        entity: &str,
        id: i64,
        input: &str,
    ) -> Out<String> {
        match self {
            Guest::V1_1(p) => v1_1::action(p.qingguan_plugin_guest(), s, name, entity, id, input),
            Guest::V1_2(p) => v1_2::action(p.qingguan_plugin_guest(), s, name, entity, id, input),
        }
    }

    /// One step of a job. A 1.1 job runs whole in one step.
    pub(crate) fn job_step(&self, s: S, name: &str, cursor: Option<&str>) -> Out<JobProgress> {
        match self {
            Guest::V1_1(p) => v1_1::job(p.qingguan_plugin_guest(), s, name).map(|r| {
                r.map(|()| JobProgress {
                    cursor: None,
                    done: 1,
                    total: Some(1),
                })
            }),
            Guest::V1_2(p) => v1_2::job_step(p.qingguan_plugin_guest(), s, name, cursor),
        }
    }

    pub(crate) fn http(&self, s: S, req: &HttpRequest) -> Out<HttpResponse> {
        match self {
            Guest::V1_1(p) => v1_1::http(p.qingguan_plugin_guest(), s, req),
            Guest::V1_2(p) => v1_2::http(p.qingguan_plugin_guest(), s, req),
        }
    }

    pub(crate) fn answer(&self, s: S, query: &str, args: &str) -> Out<String> {
        match self {
            Guest::V1_1(p) => v1_1::answer(p.qingguan_plugin_guest(), s, query, args),
            Guest::V1_2(p) => v1_2::answer(p.qingguan_plugin_guest(), s, query, args),
        }
    }

    pub(crate) fn event(&self, s: S, name: &str, payload: &str) -> Out<()> {
        match self {
            Guest::V1_1(p) => v1_1::event(p.qingguan_plugin_guest(), s, name, payload),
            Guest::V1_2(p) => v1_2::event(p.qingguan_plugin_guest(), s, name, payload),
        }
    }
}
