//! The dashboard: tiles per entity type, customers by status, my activities, approvals
//! waiting, pinned reports, plugin widgets — less what an administrator hid for the reader's
//! role (`admin/dashboards.rs`), in the reader's own order and without what they put away
//! (`dashboard_arrange.rs`).

use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::extract::UiCaller;
use crate::ui::render::{base, entity_label, locale_of, page, state_label, title_of};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use qingguan_core::ListQuery;
use serde_json::{json, Value as Json};

/// The most count tiles the dashboard shows.
const MAX_TILES: usize = 6;

/// `GET /`: tiles per entity type, customers by status, plugin widgets.
pub async fn dashboard(State(state): State<AppState>, UiCaller(caller): UiCaller) -> Response {
    let locale = locale_of(&caller);
    let store = state.store().clone();
    let schema = store.schema_for(&caller.access);
    let mut ctx = base(&state, &caller, "/");
    // What this person's dashboard shows, in their order.
    let order = shown_sections(&state, &caller);
    let shows = |section: &str| order.iter().any(|s| s == section);
    // Tiles for the record types of the caller's menu (the types they work on), not for every
    // type they may read: plugins' internal types (targets, ratings, …) stay off.
    let mut tiles = Vec::new();
    let menu_types: Vec<String> = ctx
        .get("nav")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter(|item| item["href"].as_str().is_some_and(|h| h.starts_with("/e/")))
        .filter_map(|item| item["entity"].as_str().map(String::from))
        .collect();
    let mut seen = Vec::new();
    for name in menu_types {
        if !shows("tiles") || seen.contains(&name) || tiles.len() >= MAX_TILES {
            continue;
        }
        let Some(e) = schema.entity(&name) else {
            continue;
        };
        let n = store
            .count(&caller.access, &e.name, &ListQuery::default())
            .unwrap_or(0);
        tiles.push(
            json!({"label": e.label.get(locale), "count": n, "href": format!("/e/{}", e.name), "entity": e.name}),
        );
        seen.push(name);
    }
    let mut status_chart = Json::Null;
    if shows("status_chart") && caller.access.permission("customer").read {
        if let Some(f) = schema.entity("customer").and_then(|e| e.field("status")) {
            let counts: Vec<(String, i64)> = f
                .def
                .options
                .iter()
                .map(|o| {
                    let q =
                        ListQuery::from_pairs([("status", o.value.as_str())]).unwrap_or_default();
                    (
                        o.label.get(locale).to_string(),
                        store.count(&caller.access, "customer", &q).unwrap_or(0),
                    )
                })
                .collect();
            let max = counts.iter().map(|c| c.1).max().unwrap_or(1).max(1) as f64;
            let bars: Vec<Json> = counts
                .iter()
                .enumerate()
                .map(|(i, (label, v))| json!({"label": label, "value": v, "y": 10 + i * 28, "width": ((*v as f64) / max * 280.0).round()}))
                .collect();
            status_chart = json!({"height": 28 * bars.len() + 20, "bars": bars});
        }
    }
    let mut widgets = serde_json::Map::new();
    for p in state.plugins().calls().list().iter() {
        for w in &p.manifest.widgets {
            let key = format!("widget:{}/{}", p.manifest.id, w.name);
            if !shows(&key) {
                continue; // not asked for: the plugin is not called
            }
            let req = qingguan_runtime::HttpRequest {
                method: "GET".into(),
                path: w.route.clone(),
                query: String::new(),
                headers: vec![],
                body: vec![],
            };
            let (plugins, id, ctx) = (
                state.plugins().clone(),
                p.manifest.id.clone(),
                caller.call_ctx(),
            );
            let out =
                tokio::task::spawn_blocking(move || plugins.calls().http(&id, req, ctx)).await;
            if let Ok(Ok(resp)) = out {
                if resp.status == 200 {
                    widgets.insert(key, json!({"title": w.title.get(locale), "html": String::from_utf8_lossy(&resp.body)}));
                }
            }
        }
    }
    // Approvals waiting for this person, each a link to its record.
    // Hidden sections are not read at all.
    let waiting: Vec<Json> = if shows("waiting") {
        state.store().approvals_waiting_for(&caller.access).unwrap_or_default()
    } else {
        vec![]
    }
        .iter()
        .map(|a| {
            let label = entity_label(&state, &caller, &a.entity);
            json!({"href": format!("/e/{}/{}", a.entity, a.record_id),
                   "title": format!("{label} · {}", title_of(&state, &caller, &a.entity, a.record_id)),
                   "to": state_label(&state, &caller, &a.entity, Some(&a.to_state)), "step": a.step + 1, "steps": a.steps})
        })
        .collect();
    ctx.insert("waiting".into(), json!(waiting));
    // My activities due today or overdue, not done.
    // "Today" in the reader's time zone.
    let today = chrono::Utc::now()
        .with_timezone(&crate::ui::render::zone_of(&state, &caller))
        .date_naive()
        .to_string();
    let me_text = caller.user.id.to_string();
    let due: Vec<Json> = if !shows("my_activities") {
        vec![]
    } else {
        qingguan_core::ListQuery::from_pairs([
        ("owner", me_text.as_str()),
        ("due_on[lte]", today.as_str()),
        ("done[ne]", "true"),
        ("sort", "due_on"),
        ("limit", "20"),
    ])
    .ok()
    .and_then(|q| state.store().list(&caller.access, "activity", &q).ok())
    .map(|p| p.items)
    .unwrap_or_default()
    .iter()
    .map(|a| {
        let href = match (a.get("about_entity").to_text(), a.get("about_id").to_text()) {
            (e, i) if !e.is_empty() && !i.is_empty() => format!("/e/{e}/{i}"),
            _ => format!("/e/activity/{}", a.id),
        };
        json!({"href": href, "subject": a.get("subject").to_text(), "due": a.get("due_on").to_text(),
               "overdue": a.get("due_on").to_text() < today})
    })
    .collect()
    };
    ctx.insert("my_activities".into(), json!(due));
    // The reports the person pinned, computed for them.
    let reports = if shows("my_reports") {
        crate::ui::reports::pinned(&state, &caller)
    } else {
        Vec::new()
    };
    ctx.insert("my_reports".into(), json!(reports));
    ctx.insert("tiles".into(), json!(tiles));
    ctx.insert("status_chart".into(), status_chart);
    ctx.insert("widgets".into(), Json::Object(widgets));
    ctx.insert("order".into(), json!(order));
    page(StatusCode::OK, "dashboard.html", Json::Object(ctx))
}

/// The sections the caller's role may show (`(key, words)`, in the usual order).
pub(crate) fn available_sections(state: &AppState, caller: &Caller) -> Vec<(String, String)> {
    let hidden = state
        .store()
        .dashboard_hidden(&caller.access.role.name)
        .unwrap_or_default();
    crate::ui::admin::dashboard_sections(state, caller)
        .into_iter()
        .filter(|(k, _)| !hidden.contains(k))
        .collect()
}

/// The section keys the caller's dashboard shows, in their order.
fn shown_sections(state: &AppState, caller: &Caller) -> Vec<String> {
    let available: Vec<String> = available_sections(state, caller)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    let arrangement = state
        .store()
        .dashboard_arrangement(caller.user.id)
        .unwrap_or_default();
    arrangement
        .ordered(&available)
        .into_iter()
        .filter(|s| !arrangement.hides(s))
        .collect()
}
