//! Contract `qingguan:plugin@1.3.0`: the 1.2 world plus the `outreach` interface
//! (notifications and outbound HTTP). Only `outreach` is generated here — a 1.3 component
//! imports and exports the 1.2 interfaces unchanged, which `v1_2` serves — and it is added to
//! the 1.2 linker, so one linker serves components built against 1.2 and 1.3.

wasmtime::component::bindgen!({
    path: "../../plugin-sdk/wit/v1.3.0",
    inline: "
        package qingguan:runtime;
        world outreach-only {
            import qingguan:plugin/outreach@1.3.0;
        }
    ",
    world: "qingguan:runtime/outreach-only",
    with: {
        "qingguan:plugin/types@1.2.0": super::v1_2::qingguan::plugin::types,
    },
});

use self::qingguan::plugin1_3_0::outreach as wit;
use super::v1_2::qingguan::plugin::types::PluginError;
use crate::host_calls::HostState;
use crate::outbound::OutboundRequest;
use crate::outreach::Notice;

fn notice(n: wit::Notice) -> Notice {
    Notice {
        en: n.en,
        zh: n.zh_cn,
        link: n.link,
    }
}

impl wit::Host for HostState {
    fn notify_users(&mut self, users: Vec<i64>, n: wit::Notice) -> Result<(), PluginError> {
        self.notify_users(&users, notice(n))
            .map_err(super::v1_2::to_wit_error)
    }

    fn notify_role(&mut self, role: String, n: wit::Notice) -> Result<u32, PluginError> {
        self.notify_role(&role, notice(n))
            .map_err(super::v1_2::to_wit_error)
    }

    fn fetch(
        &mut self,
        request: wit::OutboundRequest,
    ) -> Result<wit::OutboundResponse, PluginError> {
        self.fetch(OutboundRequest {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
        })
        .map(|r| wit::OutboundResponse {
            status: r.status,
            headers: r.headers,
            body: r.body,
        })
        .map_err(super::v1_2::to_wit_error)
    }
}
