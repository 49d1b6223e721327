//! What the plugins page says about a plugin in the reader's words: the capabilities it asks
//! for and why the runtime refused it (shared by installed, uploaded and built-in plugins).

use crate::state::AppState;
use crate::ui::render::t;
use qingguan_core::Locale;
use qingguan_runtime::Manifest;
use serde_json::Value as Json;

/// The capabilities a manifest asks for, one sentence each in the reader's words (entity types
/// by their labels, plugins by their names — the installed ones', or for what is not installed
/// yet those that `known` manifests bring: the built-in plugins offered for installing).
pub(super) fn capability_words(
    state: &AppState,
    locale: Locale,
    caps: &Json,
    known: &[Manifest],
) -> Vec<String> {
    let schema = state.store().schema();
    let sep = if locale == Locale::ZhCn { "、" } else { ", " };
    let names = |key: &str, all: &str, label: &dyn Fn(&str) -> String| -> Option<String> {
        let list: Vec<String> = caps[key]
            .as_array()?
            .iter()
            .filter_map(Json::as_str)
            .map(|n| if n == "*" { t(locale, all) } else { label(n) })
            .collect();
        (!list.is_empty()).then(|| list.join(sep))
    };
    let entity = |n: &str| {
        schema
            .entity(n)
            .map(|e| e.label.get(locale).to_string())
            .or_else(|| {
                known
                    .iter()
                    .flat_map(|m| &m.entities)
                    .find(|e| e.name == n)
                    .map(|e| e.label.get(locale).to_string())
            })
            .unwrap_or_else(|| n.to_string())
    };
    let plugin = |n: &str| {
        state
            .plugins()
            .active(n)
            .and_then(|p| p.manifest.name.as_ref().map(|l| l.get(locale).to_string()))
            .or_else(|| {
                known
                    .iter()
                    .find(|m| m.id == n)
                    .and_then(|m| m.name.as_ref())
                    .map(|l| l.get(locale).to_string())
            })
            .unwrap_or_else(|| n.to_string())
    };
    let mut out = Vec::new();
    for (key, words, all, label) in [
        (
            "read",
            "cap_read",
            "cap_all_types",
            &entity as &dyn Fn(&str) -> String,
        ),
        ("write", "cap_write", "cap_all_types", &entity),
        ("ask", "cap_ask", "cap_all_plugins", &plugin),
    ] {
        if let Some(list) = names(key, all, label) {
            out.push(t(locale, words).replace("{list}", &list));
        }
    }
    for flag in ["kv", "emit", "elevate", "notify"] {
        if caps[flag].as_bool() == Some(true) {
            out.push(t(locale, &format!("cap_{flag}")));
        }
    }
    let hosts: Vec<&str> = caps["outbound_hosts"]
        .as_array()
        .map(|a| a.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    if !hosts.is_empty() {
        out.push(t(locale, "cap_outbound").replace("{list}", &hosts.join(", ")));
    }
    out
}

/// Why the runtime refused a component, as the key of a sentence for people (the runtime's
/// own words — parser errors and the like — are shown beside it as the technical detail).
pub(super) fn refusal_key(raw: &str) -> &'static str {
    if raw.starts_with("not a WebAssembly component") {
        "refused_not_component"
    } else if raw.starts_with("no qingguan-manifest section") {
        "refused_no_manifest"
    } else if raw.starts_with("manifest:") {
        "refused_manifest"
    } else if raw.contains("needs SDK") {
        "refused_sdk"
    } else if raw.contains("approv") {
        "refused_approval"
    } else if raw.contains("depend") {
        "refused_dependency"
    } else if raw.contains("imports or exports")
        || raw.contains("does not export")
        || raw.contains("Qingguan does not provide")
    {
        "refused_interface"
    } else {
        "refused_other"
    }
}
