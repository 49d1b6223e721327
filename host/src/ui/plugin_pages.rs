//! Plugin pages inside the UI: a plugin's GET routes rendered as pages, and its forms
//! posted back to its own routes with the session's CSRF token.

use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::extract::{check_csrf, UiCaller};
use crate::ui::render::{base, locale_of, message, page, t};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{json, Value as Json};

/// `GET /p/{plugin}/{route}`: a plugin's page (an HTML fragment from one of its GET routes).
pub async fn plugin_page(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path((plugin, rest)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    plugin_route(&state, &caller, &plugin, &rest, "GET", query, vec![]).await
}

/// `POST /p/{plugin}/{route}`: a form on a plugin's page, posted to the same plugin's POST
/// route. The form carries that plugin's form token (`csrf`, added by the host to the forms of
/// the plugin's pages that post to the plugin's own pages; the session token is accepted too);
/// the plugin receives the url-encoded body and answers with a page, an error page (4xx) or a
/// redirect to another of its pages (303 with a `location` relative to it).
pub async fn plugin_post(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path((plugin, rest)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    body: axum::body::Bytes,
) -> Response {
    if body.len() > 256 * 1024 {
        return (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response();
    }
    // The raw body goes to the plugin as it is, so the token is checked here rather than by
    // `SignedForm`.
    let sent = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned());
    let scoped = caller.plugin_form_token(&plugin);
    if sent.as_deref() != Some(scoped.as_str()) {
        if let Err(r) = check_csrf(&caller, sent.as_deref()) {
            return r;
        }
    }
    plugin_route(
        &state,
        &caller,
        &plugin,
        &rest,
        "POST",
        query,
        body.to_vec(),
    )
    .await
}

/// Adds the plugin's form token to the POST forms of a plugin's HTML that post to the
/// plugin's own pages (no `action`, a relative one, or one under `/p/{plugin}/`), so that
/// plugins never handle tokens. Forms that post anywhere else get none, and the token would
/// not be taken there anyway (it is scoped to the plugin).
fn with_csrf(html: &str, token: &str, plugin: &str) -> String {
    // ASCII lower-casing keeps byte offsets, so one lower-cased copy indexes the original.
    let lower = html.to_ascii_lowercase();
    let mut out = String::with_capacity(html.len() + 256);
    let mut at = 0;
    while let Some(i) = lower[at..].find("<form").map(|i| at + i) {
        let Some(end) = lower[i..].find('>').map(|e| i + e + 1) else {
            break;
        };
        out.push_str(&html[at..end]);
        let tag = lower[i..end].replace(['\'', ' '], "");
        let post = tag.contains("method=\"post\"") || tag.contains("method=post");
        if post && posts_to_plugin(&tag, plugin) {
            out.push_str(&format!(
                r#"<input type="hidden" name="csrf" value="{token}">"#
            ));
        }
        at = end;
    }
    out.push_str(&html[at..]);
    out
}

/// Whether a (lower-cased, quote- and space-free) form tag posts to the plugin's own pages.
/// (A button's `formaction` could still send the form elsewhere; the token would be refused
/// there, as it is scoped to the plugin.)
fn posts_to_plugin(tag: &str, plugin: &str) -> bool {
    let action = tag
        .split("action=")
        .nth(1)
        .map(|a| {
            a.trim_start_matches('"')
                .split(['"', '>'])
                .next()
                .unwrap_or("")
        })
        .unwrap_or("");
    if action.is_empty() || action.starts_with('?') {
        return true;
    }
    if action.contains(':') || action.starts_with("//") || action.contains('\\') {
        return false;
    }
    if action.starts_with('/') {
        return action.starts_with(&format!("/p/{plugin}/")) && !action.contains("/../");
    }
    !action.split('/').any(|seg| seg == "..")
}

async fn plugin_route(
    state: &AppState,
    caller: &Caller,
    plugin: &str,
    rest: &str,
    method: &str,
    query: Option<String>,
    body: Vec<u8>,
) -> Response {
    let locale = locale_of(caller);
    let route = format!("/{rest}");
    // The page's title: its menu entry's label, else the plugin's name, in the reader's
    // language (the plugin id only for a plugin that is not running).
    let heading = state
        .plugins()
        .active(plugin)
        .and_then(|p| {
            p.manifest
                .menu
                .iter()
                .find(|m| m.route.as_deref() == Some(route.as_str()))
                .map(|m| m.label.get(locale).to_string())
                .or_else(|| p.manifest.name.as_ref().map(|n| n.get(locale).to_string()))
        })
        .unwrap_or_else(|| plugin.to_string());
    let req = qingguan_runtime::HttpRequest {
        method: method.into(),
        path: route.clone(),
        query: query.unwrap_or_default(),
        headers: vec![(
            "content-type".into(),
            "application/x-www-form-urlencoded".into(),
        )],
        body,
    };
    let (plugins, ctx, id) = (
        state.plugins().clone(),
        caller.call_ctx(),
        plugin.to_string(),
    );
    match tokio::task::spawn_blocking(move || plugins.calls().http(&id, req, ctx)).await {
        Ok(Ok(resp)) if matches!(resp.status, 302 | 303) => {
            let to = resp
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("location"))
                .map(|(_, v)| v.as_str())
                .filter(|v| v.starts_with('/') && !v.starts_with("//") && !v.contains('\\'))
                .unwrap_or("/");
            Redirect::to(&format!("/p/{plugin}{to}")).into_response()
        }
        Ok(Ok(resp))
            if resp.status == 200 || (400..500).contains(&resp.status) && !resp.body.is_empty() =>
        {
            let mut c = base(state, caller, &format!("/p/{plugin}{route}"));
            c.insert("heading".into(), json!(heading));
            let html = with_csrf(
                &String::from_utf8_lossy(&resp.body),
                &caller.plugin_form_token(plugin),
                plugin,
            );
            c.insert("html".into(), json!(html));
            let status = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::OK);
            page(status, "plugin_page.html", Json::Object(c))
        }
        Ok(Ok(resp)) => message(
            state,
            caller,
            StatusCode::from_u16(resp.status).unwrap_or(StatusCode::BAD_GATEWAY),
            &heading,
            "",
        ),
        Ok(Err(err)) => {
            let api = crate::error::ApiError::from(err);
            let schema = state.store().schema();
            let why = crate::ui::refusal::refusal_text(&schema, locale, None, &api);
            message(state, caller, api.status, &heading, &why)
        }
        Err(_) => message(
            state,
            caller,
            StatusCode::INTERNAL_SERVER_ERROR,
            &t(locale, "error"),
            "",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::with_csrf;

    #[test]
    fn the_token_goes_into_post_forms_only() {
        let html = r#"<p>x</p><FORM METHOD='POST' action="a"><button>b</button></form><form method="get"><input name=q></form><form method = "post">"#;
        let out = with_csrf(html, "T", "x");
        let token = r#"<input type="hidden" name="csrf" value="T">"#;
        assert_eq!(out.matches(token).count(), 2, "{out}");
        assert!(
            out.starts_with(r#"<p>x</p><FORM METHOD='POST' action="a"><input type="hidden""#),
            "{out}"
        );
        assert!(
            out.contains(r#"<form method="get"><input name=q>"#),
            "{out}"
        );
        assert_eq!(
            with_csrf("<form method=post", "T", "x"),
            "<form method=post",
            "an unclosed tag is left alone"
        );
    }

    #[test]
    fn only_forms_posting_to_the_plugins_own_pages_get_its_token() {
        let token = r#"<input type="hidden" name="csrf" value="T">"#;
        let gets = |action: &str| {
            with_csrf(
                &format!(r#"<form method="post" action="{action}">"#),
                "T",
                "x",
            )
            .contains(token)
        };
        for own in ["", "accept", "?id=3", "/p/x/appraisal", "sub/page"] {
            assert!(gets(own), "{own}");
        }
        for foreign in [
            "/admin/roles/sales",
            "/admin/plugins/x/remove",
            "/p/other/page",
            "/p/x/../../admin/users",
            "../../admin/users",
            "https://evil.example/x",
            "//evil.example/x",
            "javascript:alert(1)",
            "/e/customer/new",
        ] {
            assert!(!gets(foreign), "{foreign}");
        }
    }
}
