//! Merging a duplicate into the record on screen: the likely duplicates to choose from, then
//! both records side by side with the values to take from the other one ticked, then the
//! merge (the core's one transaction) and back to the record.

use super::entity_or_page;
use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::extract::{SignedForm, UiCaller};
use crate::ui::refusal::form_refusal;
use crate::ui::render::{base, core_error, display, locale_of, message, page, t, title_of, words};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::{Entity, MergeRequest, Record};
use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

const KEYS: &[&str] = &[
    "merge",
    "merge_help",
    "merge_candidates",
    "merge_none",
    "merge_compare",
    "merge_other_id",
    "merge_field",
    "merge_this",
    "merge_other",
    "merge_take",
    "merge_confirm",
    "merge_submit",
    "owner",
];

/// The other record, when chosen.
#[derive(Debug, Deserialize)]
pub struct MergeQuery {
    #[serde(default)]
    from: Option<String>,
}

/// `GET /e/{entity}/{id}/merge[?from=N]`: the likely duplicates, or both records compared.
pub async fn merge_page(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path((entity, id)): Path<(String, i64)>,
    Query(q): Query<MergeQuery>,
) -> Response {
    let from = q.from.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let from = match from.map(str::parse::<i64>) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => {
            let why = qingguan_core::Reason::NotRecordId.render(locale_of(&caller));
            return bad_request(&state, &caller, &why);
        }
    };
    render(&state, &caller, &entity, id, from, None, None)
}

/// `POST /e/{entity}/{id}/merge`: `version`, `from`, `from_version`, `take` (repeated).
pub async fn merge(
    State(state): State<AppState>,
    Path((entity, id)): Path<(String, i64)>,
    SignedForm { caller, form }: SignedForm<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| v.trim().parse::<i64>().ok())
    };
    let (Some(version), Some(from), Some(from_version)) =
        (get("version"), get("from"), get("from_version"))
    else {
        return bad_request(&state, &caller, &t(locale_of(&caller), "form_expired"));
    };
    let take: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "take")
        .map(|(_, v)| v.clone())
        .collect();
    let req = MergeRequest {
        version,
        from,
        from_version,
        take: Some(take.clone()),
    };
    let (access, ent) = (caller.access.clone(), entity.clone());
    match state
        .blocking(move |s| s.merge(&access, &ent, id, &req))
        .await
    {
        Ok(_) => Redirect::to(&format!("/e/{entity}/{id}")).into_response(),
        Err(api) => {
            let why = form_refusal(locale_of(&caller), &api);
            let status = if api.status.is_server_error() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                api.status
            };
            render(
                &state,
                &caller,
                &entity,
                id,
                Some(from),
                Some((why, status)),
                Some(&take),
            )
        }
    }
}

/// A 400 page saying `why`.
fn bad_request(state: &AppState, caller: &Caller, why: &str) -> Response {
    let heading = t(locale_of(caller), "error");
    message(state, caller, StatusCode::BAD_REQUEST, &heading, why)
}

/// The merge page: candidates, or the comparison with `from`; `refusal` when a merge was
/// refused (with the boxes as they were ticked).
fn render(
    state: &AppState,
    caller: &Caller,
    entity: &str,
    id: i64,
    from: Option<i64>,
    refusal: Option<(String, StatusCode)>,
    ticked: Option<&[String]>,
) -> Response {
    let e = match entity_or_page(state, caller, entity) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let locale = locale_of(caller);
    let perm = caller.access.permission(entity);
    if !perm.update || !perm.delete || entity == "user" || e.retired {
        return message(
            state,
            caller,
            StatusCode::FORBIDDEN,
            &t(locale, "forbidden"),
            &t(locale, "merge"),
        );
    }
    let store = state.store();
    let this = match store.get(&caller.access, entity, id) {
        Ok(r) => r,
        Err(err) => return core_error(state, caller, err),
    };
    let mut ctx = base(state, caller, &format!("/e/{entity}/{id}/merge"));
    ctx.insert("W".into(), words(locale, KEYS));
    ctx.insert(
        "entity".into(),
        json!({"name": e.name, "label": e.label.get(locale)}),
    );
    ctx.insert("id".into(), json!(id));
    ctx.insert("version".into(), json!(this.version));
    ctx.insert("title".into(), json!(this.title(&e)));
    let (error, status) = match refusal {
        Some((why, status)) => (Some(why), status),
        None => (None, StatusCode::OK),
    };
    ctx.insert("error".into(), json!(error));
    match from {
        None => {
            let values: Map<String, Json> = this
                .values
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect();
            let candidates = store
                .likely_duplicates(&caller.access, entity, &values, Some(id))
                .unwrap_or_default();
            ctx.insert("candidates".into(), json!(candidates));
        }
        Some(other_id) => {
            let other = match store.get(&caller.access, entity, other_id) {
                Ok(r) if other_id != id => r,
                Ok(_) => {
                    let why = qingguan_core::Reason::MergeIntoItself.render(locale);
                    return bad_request(state, caller, &why);
                }
                Err(err) => return core_error(state, caller, err),
            };
            ctx.insert(
                "other".into(),
                json!({"id": other.id, "version": other.version, "title": other.title(&e)}),
            );
            ctx.insert(
                "rows".into(),
                json!(rows(state, caller, &e, &this, &other, ticked)),
            );
        }
    }
    page(status, "merge.html", Json::Object(ctx))
}

/// One row per field the caller sees (and the owner): both values, and whether the other's
/// is taken — as ticked, or by default where this record is empty and the other is not.
fn rows(
    state: &AppState,
    caller: &Caller,
    e: &Entity,
    this: &Record,
    other: &Record,
    ticked: Option<&[String]>,
) -> Vec<Json> {
    // `e` is the type as the caller's role sees it: what the role may not change is
    // read-only in it.
    let mut out: Vec<Json> = e
        .visible_fields()
        .filter(|f| !f.def.computed())
        .map(|f| {
            let name = &f.def.name;
            let (a, b) = (this.get(name), other.get(name));
            let writable = !f.def.readonly;
            let take = match ticked {
                Some(t) => t.contains(name),
                None => a.is_null() && !b.is_null(),
            };
            json!({
                "name": name,
                "label": f.def.label.get(locale_of(caller)),
                "this": display(state, caller, &f.def, a),
                "other": display(state, caller, &f.def, b),
                "differs": a != b,
                "writable": writable && a != b,
                "take": take && writable && a != b,
            })
        })
        .collect();
    let owner_text = |o: Option<i64>| {
        o.map(|u| title_of(state, caller, "user", u))
            .unwrap_or_default()
    };
    out.push(json!({
        "name": "owner",
        "label": t(locale_of(caller), "owner"),
        "this": owner_text(this.owner),
        "other": owner_text(other.owner),
        "differs": this.owner != other.owner,
        "writable": this.owner != other.owner,
        "take": ticked.is_some_and(|t| t.iter().any(|n| n == "owner")),
    }));
    out
}
