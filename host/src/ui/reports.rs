//! Reports (报表): the reader's saved and shared reports, a builder (entity type, filter, up to
//! two groupings, count / sum / average, bar, line, pie or table, roles to share with), and a
//! report's page — its chart and table, computed for whoever reads it.

use crate::caller::Caller;
use crate::state::AppState;
use crate::ui::charts::{self, Point};
use crate::ui::extract::{SignedForm, UiCaller};
use crate::ui::render::{base, display, locale_of, page, t, title_of, words};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::reports::{Chart, Report, ReportDef};
use qingguan_core::schema::Entity;
use qingguan_core::{FieldType, Value};
use serde_json::{json, Value as Json};

const KEYS: &[&str] = &[
    "reports",
    "reports_help",
    "report_new",
    "report_name",
    "report_entity",
    "report_filter",
    "report_filter_help",
    "report_group_by",
    "report_then_by",
    "report_metric",
    "report_count",
    "report_sum",
    "report_avg",
    "report_chart",
    "chart_bar",
    "chart_line",
    "chart_pie",
    "chart_table",
    "report_shared_with",
    "report_none",
    "report_mine",
    "report_shared",
    "report_edit",
    "report_delete",
    "report_confirm_delete",
    "report_next",
    "report_no_rows",
    "report_total",
    "report_pin",
    "report_unpin",
    "save",
    "saved",
    "report_where",
    "report_search",
    "report_value",
];

/// `?entity=…` (the builder's type), `?error=…`, `?done=saved`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ReportsQuery {
    entity: Option<String>,
    error: Option<String>,
    done: Option<String>,
}

/// The builder's choices for one entity type, as the caller sees it.
fn builder(state: &AppState, caller: &Caller, e: &Entity, def: Option<&ReportDef>) -> Json {
    let locale = locale_of(caller);
    let mut groupable: Vec<Json> =
        std::iter::once(json!({"name": "owner", "label": t(locale, "owner")}))
            .chain(
                e.visible_fields()
                    .filter(|f| f.def.kind.info().orderable && !f.def.kind.info().multi)
                    .map(|f| json!({"name": f.def.name, "label": f.def.label.get(locale)})),
            )
            .collect();
    // Dates and times by month, quarter and year — the creation time too — for line charts.
    let dated: Vec<(String, String)> = e
        .visible_fields()
        .filter(|f| matches!(f.def.kind, FieldType::Date | FieldType::Datetime))
        .map(|f| (f.def.name.clone(), f.def.label.get(locale).to_string()))
        .chain(std::iter::once((
            "created_at".to_string(),
            t(locale, "created_at"),
        )))
        .collect();
    for (name, label) in dated {
        for period in qingguan_core::store::aggregate::Bucket::NAMES {
            groupable.push(json!({"name": format!("{name}:{period}"),
                "label": format!("{label} · {}", t(locale, &format!("report_by_{period}")))}));
        }
    }
    let mut metrics = vec![json!({"value": "count", "label": t(locale, "report_count")})];
    for f in e.visible_fields().filter(|f| {
        matches!(
            f.def.kind,
            FieldType::Integer
                | FieldType::Decimal
                | FieldType::Percent
                | FieldType::Formula
                | FieldType::Currency
        )
    }) {
        for (how, key) in [("sum", "report_sum"), ("avg", "report_avg")] {
            metrics.push(json!({"value": format!("{how}:{}", f.def.name),
                "label": format!("{} · {}", t(locale, key), f.def.label.get(locale))}));
        }
    }
    let roles: Vec<Json> = state
        .store()
        .roles()
        .iter()
        .filter(|r| !r.admin)
        .map(|r| {
            json!({"name": r.name, "label": r.label.get(locale),
                   "checked": def.is_some_and(|d| d.shared_with.contains(&r.name))})
        })
        .collect();
    json!({
        "entity": {"name": e.name, "label": e.label.get(locale)},
        "filter": super::report_filter::model(e, def.map_or("", |d| d.filter.as_str()), locale),
        "groupable": groupable,
        "metrics": metrics,
        "roles": roles,
        "charts": ["bar", "line", "pie", "table"],
        "values": def.map(|d| json!({
            "name": d.name, "filter": d.filter,
            "group1": d.group_by.first(), "group2": d.group_by.get(1),
            "metric": d.metric, "chart": d.chart,
        })).unwrap_or_else(|| json!({"chart": "bar", "metric": "count"})),
    })
}

/// `GET /reports`: the caller's reports and those shared with them; the builder (choose a
/// type, then the rest).
pub async fn reports(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Query(q): Query<ReportsQuery>,
) -> Response {
    let locale = locale_of(&caller);
    let schema = state.store().schema_for(&caller.access);
    let list: Vec<Json> = state
        .store()
        .reports(&caller.access)
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let entity = schema
                .entity(&r.def.entity)
                .map(|e| e.label.get(locale).to_string())
                .unwrap_or_else(|| r.def.entity.clone());
            json!({"id": r.id, "name": r.def.name, "entity": entity,
                   "mine": caller.access.user_id == Some(r.owner),
                   "owner": title_of(&state, &caller, "user", r.owner)})
        })
        .collect();
    let entities = crate::ui::render::readable_types(&state, &caller);
    let chosen = q
        .entity
        .as_deref()
        .and_then(|name| schema.entity(name))
        .filter(|e| !e.retired && caller.access.permission(&e.name).read)
        .map(|e| builder(&state, &caller, e, None));
    let mut ctx = base(&state, &caller, "/reports");
    ctx.insert("W".into(), words(locale, KEYS));
    ctx.insert("reports".into(), json!(list));
    ctx.insert("entities".into(), json!(entities));
    ctx.insert("builder".into(), json!(chosen));
    ctx.insert("error".into(), json!(q.error));
    page(StatusCode::OK, "reports.html", Json::Object(ctx))
}

/// The definition a builder form posts.
fn def_of(form: &[(String, String)]) -> ReportDef {
    let get = |k: &str| {
        form.iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let chart = match get("chart").as_str() {
        "line" => Chart::Line,
        "pie" => Chart::Pie,
        "table" => Chart::Table,
        _ => Chart::Bar,
    };
    ReportDef {
        name: get("name"),
        entity: get("entity"),
        filter: super::report_filter::from_form(form),
        group_by: [get("group1"), get("group2")]
            .into_iter()
            .filter(|g| !g.is_empty())
            .collect(),
        metric: get("metric"),
        chart,
        shared_with: form
            .iter()
            .filter(|(k, _)| k == "shared_with")
            .map(|(_, v)| v.clone())
            .collect(),
    }
}

/// A refusal as one sentence in the reader's language (each field's reason).
fn refusal(caller: &Caller, err: &crate::error::ApiError) -> String {
    let locale = locale_of(caller);
    let reasons: Vec<String> = err
        .fields
        .iter()
        .map(|(k, why)| {
            format!(
                "{}: {}",
                t(locale, &format!("report_{k}")),
                why.render(locale)
            )
        })
        .collect();
    if reasons.is_empty() {
        crate::ui::refusal::refusal_text(&qingguan_core::Schema::default(), locale, None, err)
    } else {
        reasons.join("; ")
    }
}

/// `POST /reports`: saves a new report and shows it.
pub async fn create_report(
    State(state): State<AppState>,
    SignedForm { caller, form }: SignedForm<Vec<(String, String)>>,
) -> Response {
    let def = def_of(&form);
    let entity = def.entity.clone();
    let access = caller.access.clone();
    match state
        .blocking(move |s| s.create_report(&access, &def))
        .await
    {
        Ok(r) => Redirect::to(&format!("/reports/{}", r.id)).into_response(),
        Err(err) => crate::ui::admin::back_with_error(
            &format!(
                "/reports?entity={}",
                form_urlencoded::byte_serialize(entity.as_bytes()).collect::<String>()
            ),
            &refusal(&caller, &err),
        ),
    }
}

/// A group key as the reader reads it: an option's label, a person's or record's name.
fn key_text(state: &AppState, caller: &Caller, e: &Entity, field: &str, key: &Json) -> String {
    if key.is_null() {
        return "—".into();
    }
    if field == "owner" {
        return key
            .as_i64()
            .map(|id| title_of(state, caller, "user", id))
            .unwrap_or_default();
    }
    if field.contains(':') {
        // A period: `2026-03`, `2026-Q1`, `2026`, as it is.
        return key.as_str().unwrap_or_default().to_string();
    }
    match e.field(field) {
        Some(f) => match Value::from_json(&f.def, key) {
            Ok(v) => display(state, caller, &f.def, &v),
            Err(_) => key.to_string(),
        },
        None => key.to_string(),
    }
}

/// A report's figures as the page shows them: the chart, the table rows, the headings and
/// the figure's name, in the reader's words.
pub(crate) struct Drawn {
    pub chart: Json,
    pub table: Vec<Json>,
    pub headings: Vec<String>,
    pub metric: String,
}

pub(crate) fn draw(
    state: &AppState,
    caller: &Caller,
    e: &Entity,
    r: &Report,
    rows: &[qingguan_core::AggregateRow],
) -> Drawn {
    let locale = locale_of(caller);
    let label_of = |spec: &str| {
        let (name, period) = qingguan_core::store::aggregate::split_group(spec);
        let label = match name {
            "owner" => t(locale, "owner"),
            "created_at" => t(locale, "created_at"),
            _ => e
                .field(name)
                .map(|f| f.def.label.get(locale).to_string())
                .unwrap_or_else(|| name.to_string()),
        };
        match period {
            Some(p) => format!("{label} · {}", t(locale, &format!("report_by_{p}"))),
            None => label,
        }
    };
    // An amount says its currency: the company's, into which amounts in several currencies
    // are converted — unless the groups are by each record's currency.
    let currency_of = |f: &str| {
        let def = &e.field(f)?.def;
        if def.kind != FieldType::Currency
            || def
                .currency_field
                .as_ref()
                .is_some_and(|cf| r.def.group_by.iter().any(|g| g == cf))
        {
            return None;
        }
        def.currency.clone()
    };
    let metric_label = match r.def.metric.split_once(':') {
        Some((how, f)) => {
            let label = format!("{} · {}", t(locale, &format!("report_{how}")), label_of(f));
            match currency_of(f) {
                Some(code) => format!("{label} ({code})"),
                None => label,
            }
        }
        None => t(locale, "report_count"),
    };
    let mut points = Vec::new();
    let mut table = Vec::new();
    for row in rows {
        let keys: Vec<String> = row
            .group
            .iter()
            .zip(&r.def.group_by)
            .map(|(k, f)| key_text(state, caller, e, f, k))
            .collect();
        let value = row.values.first().cloned().unwrap_or(Json::Null);
        let shown = match &value {
            Json::String(s) => s.clone(),
            Json::Null => String::new(),
            other => other.to_string(),
        };
        let number = match &value {
            Json::Number(n) => n.as_f64().unwrap_or(0.0),
            Json::String(s) => s.parse().unwrap_or(0.0),
            _ => 0.0,
        };
        let label = if keys.is_empty() {
            metric_label.clone()
        } else {
            keys.join(" · ")
        };
        points.push(Point {
            label,
            value: number,
            shown: shown.clone(),
        });
        table.push(json!({"keys": keys, "value": shown}));
    }
    let chart = match r.def.chart {
        Chart::Table => Json::Null,
        _ if points.is_empty() => Json::Null,
        Chart::Bar => charts::bars(&points),
        Chart::Line => charts::line(&points),
        Chart::Pie => charts::pie(&points).unwrap_or_else(|| charts::bars(&points)),
    };
    Drawn {
        chart,
        table,
        headings: r.def.group_by.iter().map(|g| label_of(g)).collect(),
        metric: metric_label,
    }
}

/// The reports the caller pinned to their dashboard, drawn for them (a report that no longer
/// runs for them is left out).
pub(crate) fn pinned(state: &AppState, caller: &Caller) -> Vec<Json> {
    let store = state.store();
    let schema = store.schema_for(&caller.access);
    store
        .pinned_reports(&caller.access)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| {
            let (r, rows) = store.run_report(&caller.access, r.id).ok()?;
            let e = schema.entity(&r.def.entity)?;
            let drawn = draw(state, caller, e, &r, &rows);
            Some(json!({"id": r.id, "name": r.def.name, "chart": drawn.chart,
                        "metric": drawn.metric, "rows": drawn.table}))
        })
        .collect()
}

/// `POST /reports/{id}/pin`: `pinned=1` pins it to the caller's dashboard, `0` unpins it;
/// `up=1` moves it one place earlier.
pub async fn pin_report(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { caller, form }: SignedForm<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| form.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
    let access = caller.access.clone();
    let (pinned, up) = (get("pinned") == Some("1"), get("up") == Some("1"));
    let outcome = state
        .blocking(move |s| {
            if up {
                s.move_pin_up(&access, id)
            } else {
                s.pin_report(&access, id, pinned)
            }
        })
        .await;
    match outcome {
        Ok(()) if up => Redirect::to("/").into_response(),
        Ok(()) => Redirect::to(&format!("/reports/{id}")).into_response(),
        Err(err) if err.status == StatusCode::NOT_FOUND => crate::ui::render::message(
            &state,
            &caller,
            err.status,
            &t(locale_of(&caller), "not_found"),
            "",
        ),
        Err(err) => {
            crate::ui::admin::back_with_error(&format!("/reports/{id}"), &refusal(&caller, &err))
        }
    }
}

/// The report's page: its chart and table, and (for its owner) its definition to change.
fn report_page(state: &AppState, caller: &Caller, id: i64, q: &ReportsQuery) -> Response {
    let locale = locale_of(caller);
    let store = state.store();
    let (r, rows): (Report, Vec<qingguan_core::AggregateRow>) = match store
        .run_report(&caller.access, id)
    {
        Ok(found) => found,
        Err(qingguan_core::Error::NotFound(m)) => {
            return crate::ui::render::core_error(state, caller, qingguan_core::Error::NotFound(m))
        }
        Err(err) => {
            // It no longer runs for this reader (a field gone, hidden from their role).
            let api = crate::error::ApiError::from(err);
            let Ok(r) = store.report(&caller.access, id) else {
                return crate::ui::render::message(
                    state,
                    caller,
                    api.status,
                    &t(locale, "error"),
                    "",
                );
            };
            let mut ctx = base(state, caller, "/reports");
            ctx.insert("W".into(), words(locale, KEYS));
            ctx.insert("report".into(), json!({"id": r.id, "name": r.def.name}));
            ctx.insert("error".into(), json!(refusal(caller, &api)));
            return page(api.status, "report.html", Json::Object(ctx));
        }
    };
    let schema = store.schema_for(&caller.access);
    let Some(e) = schema.entity(&r.def.entity) else {
        return crate::ui::render::message(
            state,
            caller,
            StatusCode::NOT_FOUND,
            &t(locale, "not_found"),
            "",
        );
    };
    let drawn = draw(state, caller, e, &r, &rows);
    let may_change = caller.access.user_id == Some(r.owner) || caller.access.is_admin();
    let mut ctx = base(state, caller, "/reports");
    ctx.insert("W".into(), words(locale, KEYS));
    let pinned = store
        .pinned_reports(&caller.access)
        .unwrap_or_default()
        .iter()
        .any(|p| p.id == r.id);
    ctx.insert(
        "report".into(),
        json!({"id": r.id, "name": r.def.name, "entity": e.label.get(locale),
               "owner": title_of(state, caller, "user", r.owner),
               "filter": if may_change { r.def.filter.clone() } else { String::new() },
               "headings": drawn.headings, "metric": drawn.metric, "pinned": pinned}),
    );
    ctx.insert("chart".into(), drawn.chart);
    ctx.insert("rows".into(), json!(drawn.table));
    ctx.insert(
        "builder".into(),
        if may_change {
            builder(state, caller, e, Some(&r.def))
        } else {
            Json::Null
        },
    );
    ctx.insert("error".into(), json!(q.error));
    ctx.insert("saved".into(), json!(q.done.is_some()));
    page(StatusCode::OK, "report.html", Json::Object(ctx))
}

/// `GET /reports/{id}`.
pub async fn report(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(id): Path<i64>,
    Query(q): Query<ReportsQuery>,
) -> Response {
    let s = state.clone();
    let c = caller.clone();
    match tokio::task::spawn_blocking(move || report_page(&s, &c, id, &q)).await {
        Ok(page) => page,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `POST /reports/{id}`: replaces its definition (its owner or an administrator).
pub async fn update_report(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { caller, form }: SignedForm<Vec<(String, String)>>,
) -> Response {
    let def = def_of(&form);
    let access = caller.access.clone();
    match state
        .blocking(move |s| s.update_report(&access, id, &def))
        .await
    {
        Ok(_) => Redirect::to(&format!("/reports/{id}?done=saved")).into_response(),
        Err(err) if err.status == StatusCode::NOT_FOUND || err.status == StatusCode::FORBIDDEN => {
            crate::ui::render::message(
                &state,
                &caller,
                err.status,
                &t(locale_of(&caller), "forbidden"),
                "",
            )
        }
        Err(err) => {
            crate::ui::admin::back_with_error(&format!("/reports/{id}"), &refusal(&caller, &err))
        }
    }
}

/// `POST /reports/{id}/delete`.
pub async fn delete_report(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { caller, .. }: SignedForm<Vec<(String, String)>>,
) -> Response {
    let access = caller.access.clone();
    match state.blocking(move |s| s.delete_report(&access, id)).await {
        Ok(()) => Redirect::to("/reports").into_response(),
        Err(err) => crate::ui::render::message(
            &state,
            &caller,
            err.status,
            &t(locale_of(&caller), "forbidden"),
            "",
        ),
    }
}
