//! The plugins page: upload, enable, disable, roll back and remove.

use super::plugin_words::{capability_words, refusal_key};
use super::{admin_only, back_with_detail, back_with_error, ErrorQuery};
use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::admin::AdminForm;
use crate::ui::extract::{check_csrf, UiCaller};
use crate::ui::render::{base, local_time_text, locale_of, page, t};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::Locale;
use qingguan_runtime::InstallOptions;
use serde::Deserialize;
use serde_json::{json, Value as Json};
use std::collections::HashMap;

/// Components larger than this install in the background from the plugins page.
const BACKGROUND_INSTALL_BYTES: usize = 4 * 1024 * 1024;

/// `GET /admin/plugins`.
pub async fn plugins(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Query(q): Query<ErrorQuery>,
) -> Response {
    if let Err(r) = admin_only(&state, &caller) {
        return r;
    }
    let locale = locale_of(&caller);
    let mut list = state
        .plugins()
        .list()
        .map(|l| serde_json::to_value(l).unwrap_or_default())
        .unwrap_or_default();
    for p in list.as_array_mut().into_iter().flatten() {
        describe(&state, &caller, locale, p);
    }
    let jobs = super::plugin_jobs::rows(&state, &caller, &list);
    // An install going on in the background, or a job running: the page looks again shortly.
    let busy = list
        .as_array()
        .is_some_and(|l| l.iter().any(|p| p["status"] == "installing"))
        || jobs.iter().any(|j| j["state"] == "running");
    let mut ctx = base(&state, &caller, "/admin/plugins");
    if busy {
        ctx.insert("refresh_seconds".into(), json!(2));
    }
    let builtin = super::builtin_plugins::offers(&state, locale, &list);
    ctx.insert("builtin".into(), json!(builtin));
    ctx.insert("plugins".into(), list);
    ctx.insert("jobs".into(), json!(jobs));
    ctx.insert("error".into(), json!(q.error));
    ctx.insert("detail".into(), json!(q.detail));
    page(StatusCode::OK, "admin_plugins.html", Json::Object(ctx))
}

/// Adds what the plugins page shows about a plugin in the reader's words: its name, status,
/// times in their time zone, the actions that apply to its state (with a confirmation for the
/// ones that stop or remove something) and the capabilities it asks for.
fn describe(state: &AppState, caller: &Caller, locale: Locale, p: &mut Json) {
    let id = p["id"].as_str().unwrap_or_default().to_string();
    let name = p["manifest"]["name"]
        .as_object()
        .map(|n| {
            let key = if locale == Locale::ZhCn {
                "zh-CN"
            } else {
                "en"
            };
            n.get(key)
                .or_else(|| n.get("en"))
                .and_then(Json::as_str)
                .unwrap_or(&id)
                .to_string()
        })
        .unwrap_or_else(|| id.clone());
    let status = p["status"].as_str().unwrap_or("failed").to_string();
    let version = p["version"].as_str().unwrap_or_default().to_string();
    let can_rollback = p["versions"]
        .as_array()
        .is_some_and(|vs| vs.iter().any(|v| v.as_str() != Some(version.as_str())));
    let installed = status != "rejected";
    let actions: Vec<Json> = [
        ("enable", installed && status != "active", None),
        ("disable", status == "active", Some("confirm_disable")),
        (
            "rollback",
            installed && can_rollback,
            Some("confirm_rollback"),
        ),
        ("remove", installed, Some("confirm_remove")),
    ]
    .into_iter()
    .filter(|(_, applies, _)| *applies)
    .map(|(op, _, confirm)| {
        json!({"op": op, "label": t(locale, op), "danger": op == "remove",
               "confirm": confirm.map(|k| t(locale, k).replace("{name}", &name))})
    })
    .collect();
    let caps = capability_words(state, locale, &p["manifest"]["capabilities"], &[]);
    let Some(o) = p.as_object_mut() else {
        return;
    };
    o.insert("name".into(), json!(name));
    o.insert(
        "status_text".into(),
        json!(t(locale, &format!("status_{status}"))),
    );
    o.insert("actions".into(), json!(actions));
    o.insert("capabilities".into(), json!(caps));
    // A refused attempt as a sentence in the user's language; the runtime's words (a parser
    // error, say) are the technical detail.
    if let Some(a) = o.get_mut("last_attempt").and_then(Json::as_object_mut) {
        if let Some(raw) = a.get("error").and_then(Json::as_str) {
            let sentence = t(locale, refusal_key(raw));
            a.insert("error_text".into(), json!(sentence));
        }
        if let Some(at) = a.get("at").and_then(Json::as_str) {
            let local = local_time_text(state, caller, at);
            a.insert("at_local".into(), json!(local));
        }
        let ms = a.get("millis").and_then(Json::as_u64).unwrap_or(0);
        a.insert(
            "done_text".into(),
            json!(t(locale, "installed_in").replace("{ms}", &ms.to_string())),
        );
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfQuery {
    #[serde(default)]
    csrf: String,
}

/// `POST /admin/plugins/upload`: a `.wasm` from the file input (multipart).
pub async fn upload_plugin(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Query(cq): Query<CsrfQuery>,
    request: axum::extract::Request,
) -> Response {
    // A multipart body: the token travels in the query string (the one hand-written check
    // besides the plugin-page post; every url-encoded form goes through `SignedForm`).
    if let Err(r) = check_csrf(&caller, Some(&cq.csrf)).and_then(|_| admin_only(&state, &caller)) {
        return r;
    }
    let content_type = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let limit = state.config().plugin_limits.max_component_bytes;
    let upload = match crate::plugin_upload::read(&content_type, request.into_body(), limit).await {
        Ok(u) => u,
        Err(e) => return back_with_detail(&caller, "refused_other", &e.to_string()),
    };
    let (mut bytes, approve, name, manifest) = (
        upload.component,
        upload.approve,
        upload.file_name,
        upload.manifest,
    );
    if bytes.is_empty() {
        return back_with_error("/admin/plugins", &t(locale_of(&caller), "choose_wasm"));
    }
    if let Some(m) = manifest {
        match qingguan_runtime::pack(&bytes, &m) {
            Ok(packed) => bytes = packed,
            Err(e) => return back_with_detail(&caller, "refused_manifest", &e.to_string()),
        }
    }
    let plugins = state.plugins().clone();
    let options = InstallOptions {
        approve,
        source: name,
        by: Some(caller.user.id),
    };
    // A large component (an interpreter-based one takes seconds to compile) installs in the
    // background; the page shows it installing and looks again until it is done.
    if bytes.len() > BACKGROUND_INSTALL_BYTES {
        return match tokio::task::spawn_blocking(move || {
            plugins.install_in_background(bytes, options)
        })
        .await
        {
            Ok(Ok(_)) => Redirect::to("/admin/plugins").into_response(),
            Ok(Err(e)) => back_with_detail(&caller, refusal_key(&e.to_string()), &e.to_string()),
            Err(_) => back_with_error("/admin/plugins", &t(locale_of(&caller), "refused_other")),
        };
    }
    match tokio::task::spawn_blocking(move || plugins.install(&bytes, options)).await {
        Ok(Ok(_)) => {
            state.forget_sessions();
            Redirect::to("/admin/plugins").into_response()
        }
        Ok(Err(e)) => {
            let raw = e.to_string();
            let sentence = t(locale_of(&caller), refusal_key(&raw));
            let detail: String = form_urlencoded::byte_serialize(raw.as_bytes()).collect();
            let error: String = form_urlencoded::byte_serialize(sentence.as_bytes()).collect();
            Redirect::to(&format!("/admin/plugins?error={error}&detail={detail}")).into_response()
        }
        Err(_) => back_with_error("/admin/plugins", &t(locale_of(&caller), "refused_other")),
    }
}

#[derive(Debug, Deserialize)]
pub struct DismissForm {
    id: String,
}

/// `POST /admin/plugins/dismiss`: forgets a plugin's last install attempt (a refused upload
/// leaves the list; an installed plugin's failed upgrade stops being shown).
pub async fn dismiss_attempt(
    State(state): State<AppState>,
    AdminForm { caller: _, form: f }: AdminForm<DismissForm>,
) -> Response {
    state.plugins().forget_attempt(&f.id);
    Redirect::to("/admin/plugins").into_response()
}

/// `POST /admin/plugins/{id}/{enable|disable|rollback|remove}`.
pub async fn plugin_op(
    State(state): State<AppState>,
    Path((id, op)): Path<(String, String)>,
    AdminForm { caller, form: _f }: AdminForm<HashMap<String, String>>,
) -> Response {
    let plugins = state.plugins().clone();
    let by = Some(caller.user.id);
    let outcome = tokio::task::spawn_blocking(move || match op.as_str() {
        "enable" => plugins.enable(&id, by).map(|_| ()),
        "disable" => plugins.disable(&id, by).map(|_| ()),
        "rollback" => plugins.rollback(&id, by).map(|_| ()),
        "remove" => plugins.remove(&id, false, by),
        _ => Err(qingguan_runtime::LifecycleError::NotFound(format!(
            "no operation '{op}'"
        ))),
    })
    .await;
    match outcome {
        Ok(Ok(())) => Redirect::to("/admin/plugins").into_response(),
        Ok(Err(e)) => back_with_detail(&caller, "op_failed", &e.to_string()),
        Err(_) => back_with_error("/admin/plugins", &t(locale_of(&caller), "op_failed")),
    }
}
