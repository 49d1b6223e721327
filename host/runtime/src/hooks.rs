//! The hooks bridge: the core's before/after-write hooks, delivered to the active plugins
//! that subscribe to them (a plugin's refusal becomes the core's `HookError`).

use crate::active::ActiveSet;
use crate::context::{CallCtx, CallUser};
use crate::failure::{CallError, PluginFailure};
use crate::instance::LoadedPlugin;
use crate::manifest::HookEvent;
use qingguan_core::{HookError, Hooks, Reason, Record, WriteEvent, WriteOp};
use std::sync::{Arc, Weak};

/// Connects the core's write hooks to the plugins that subscribe to them.
pub(crate) struct HooksBridge(pub(crate) Weak<ActiveSet>);

fn hook_error(e: CallError) -> HookError {
    match e {
        CallError::Plugin(PluginFailure::Invalid(message, fields)) => HookError::Rejected {
            message,
            fields: fields
                .into_iter()
                .map(|(field, why)| (field, Reason::Text(why)))
                .collect(),
        },
        CallError::Plugin(other) => HookError::Rejected {
            message: other.to_string(),
            fields: Default::default(),
        },
        other => HookError::Failed(other.to_string()),
    }
}

impl HooksBridge {
    fn ctx(ev: &WriteEvent<'_>) -> CallCtx {
        CallCtx {
            user: ev.user_id.map(CallUser::Id).unwrap_or(CallUser::None),
            locale: ev.locale,
            asked_by: ev.via.map(str::to_string),
        }
    }
}

impl Hooks for HooksBridge {
    fn before_write(
        &self,
        ev: &WriteEvent<'_>,
        values: &mut serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), HookError> {
        let Some(m) = self.0.upgrade() else {
            return Ok(());
        };
        let event = match ev.op {
            WriteOp::Create => HookEvent::BeforeCreate,
            _ => HookEvent::BeforeUpdate,
        };
        let list = m.list();
        let subscribed: Vec<&Arc<LoadedPlugin>> = list
            .iter()
            .filter(|p| p.hooked(ev.entity, event, ev.via))
            .collect();
        if subscribed.is_empty() {
            return Ok(());
        }
        for p in subscribed {
            let json = serde_json::Value::Object(values.clone()).to_string();
            let out = m
                .call(p, Self::ctx(ev), |i, s| {
                    i.before_write(s, ev.op, ev.entity, ev.before, &json)
                })
                .map_err(hook_error)?;
            if let Some(new) = out {
                match serde_json::from_str(&new) {
                    Ok(serde_json::Value::Object(obj)) if obj == *values => {}
                    Ok(serde_json::Value::Object(_)) if !p.may_write(ev.entity) => {
                        tracing::warn!(plugin = %p.manifest.id, entity = ev.entity, "a hook tried to change fields it may not write");
                        return Err(HookError::Failed(format!(
                            "plugin '{}' tried to change a '{}' record without write access to it; \
                             the change was refused",
                            p.manifest.id, ev.entity
                        )));
                    }
                    Ok(serde_json::Value::Object(obj)) => *values = obj,
                    _ => {
                        return Err(HookError::Failed(format!(
                            "plugin '{}' returned fields that are not a JSON object",
                            p.manifest.id
                        )))
                    }
                }
            }
        }
        Ok(())
    }

    fn before_delete(&self, ev: &WriteEvent<'_>) -> Result<(), HookError> {
        let Some(m) = self.0.upgrade() else {
            return Ok(());
        };
        let list = m.list();
        for p in list
            .iter()
            .filter(|p| p.hooked(ev.entity, HookEvent::BeforeDelete, ev.via))
        {
            let fields = ev
                .before
                .map(|b| serde_json::Value::Object(b.values_json()).to_string())
                .unwrap_or_else(|| "{}".into());
            m.call(p, Self::ctx(ev), |i, s| {
                i.before_write(s, WriteOp::Delete, ev.entity, ev.before, &fields)
            })
            .map_err(hook_error)?;
        }
        Ok(())
    }

    fn after_write(&self, ev: &WriteEvent<'_>, record: &Record) {
        let Some(m) = self.0.upgrade() else { return };
        let event = match ev.op {
            WriteOp::Create => HookEvent::AfterCreate,
            WriteOp::Update => HookEvent::AfterUpdate,
            WriteOp::Delete => HookEvent::AfterDelete,
        };
        let list = m.list();
        let subscribed: Vec<&Arc<LoadedPlugin>> = list
            .iter()
            .filter(|p| p.hooked(ev.entity, event, ev.via))
            .collect();
        if subscribed.is_empty() {
            return;
        }
        for p in subscribed {
            if let Err(e) = m.call(p, Self::ctx(ev), |i, s| {
                i.after_write(s, ev.op, ev.entity, record)
            }) {
                tracing::warn!(plugin = %p.manifest.id, entity = ev.entity, error = %e, "after-write hook failed");
            }
        }
    }
}
