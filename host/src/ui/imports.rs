//! Importing from the web UI: an entity type's upload page with its import log, and one
//! import's page — the column mapping (suggested, or remembered for the file's layout), value
//! maps for select fields, the dry run's and the import's report, progress while a pass runs,
//! and the undo.

use crate::caller::Caller;
use crate::import::options::{suggest, ImportOptions, Mode, CREATED_AT, DATE_FORMATS, OWNER};
use crate::import::service::{self, MAX_FILE_BYTES};
use crate::import::sheet::Sheet;
use crate::state::AppState;
use crate::ui::extract::{check_csrf, SignedForm, UiCaller};
use crate::ui::render::{base, local_time_text, locale_of, page, t, title_of};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::imports::{describe, ImportLog, ImportPass, ImportStatus};
use qingguan_core::{Entity, FieldType, Locale};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use std::collections::BTreeSet;

/// The UI's words for imports (`I.key` in the templates).
const KEYS: &[&str] = &[
    "import",
    "import_into",
    "import_file",
    "import_hint",
    "import_upload",
    "import_log",
    "import_none",
    "import_column",
    "import_samples",
    "import_field",
    "import_skip",
    "import_mode",
    "import_mode_insert",
    "import_mode_upsert",
    "import_key",
    "import_date_format",
    "import_values",
    "import_value_in_file",
    "import_check",
    "import_run",
    "import_undo",
    "import_confirm_undo",
    "import_refused",
    "import_row",
    "import_reason",
    "import_more_errors",
    "import_rows",
    "import_by",
    "import_when",
    "import_result",
    "import_remembered",
    "import_encoding_gb18030",
    "import_not_undone",
];

/// The most refused rows a page lists.
const SHOWN_ERRORS: usize = 200;
/// The most distinct values of a select column offered for mapping.
const SHOWN_VALUES: usize = 30;

fn words(locale: Locale) -> Json {
    Json::Object(
        KEYS.iter()
            .map(|k| (k.to_string(), json!(t(locale, k))))
            .collect(),
    )
}

/// A sentence with `{name}` parameters filled in.
fn fill(locale: Locale, key: &str, params: &[(&str, usize)]) -> String {
    params.iter().fold(t(locale, key), |s, (k, v)| {
        s.replace(&format!("{{{k}}}"), &v.to_string())
    })
}

fn status_text(locale: Locale, status: ImportStatus) -> String {
    t(locale, &format!("import_status_{}", status.as_str()))
}

fn entity_label(state: &AppState, locale: Locale, name: &str) -> String {
    state
        .store()
        .schema()
        .entity(name)
        .map(|e| e.label.get(locale).to_string())
        .unwrap_or_else(|| name.to_string())
}

/// One import as a row of the log.
fn log_row(state: &AppState, caller: &Caller, log: &ImportLog) -> Json {
    let locale = locale_of(caller);
    json!({
        "id": log.id,
        "file_name": log.file_name,
        "entity": entity_label(state, locale, &log.entity),
        "by": log.created_by.map(|u| title_of(state, caller, "user", u)).unwrap_or_default(),
        "at": local_time_text(state, caller, &log.created_at),
        "status": status_text(locale, log.status),
        "rows": log.total_rows,
        "result": fill(locale, "import_did", &[("inserted", log.counts.inserted),
            ("updated", log.counts.updated), ("failed", log.counts.failed)]),
    })
}

pub(crate) fn may_import(caller: &Caller, entity: &Entity) -> bool {
    let p = caller.access.permission(&entity.name);
    (p.create || p.update) && entity.name != "user" && !entity.retired
}

fn upload_page_with(
    state: &AppState,
    caller: &Caller,
    entity: &Entity,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let locale = locale_of(caller);
    let logs: Vec<Json> = state
        .store()
        .import_logs(&caller.access, Some(&entity.name), 50)
        .unwrap_or_default()
        .iter()
        .map(|l| log_row(state, caller, l))
        .collect();
    let mut ctx = base(state, caller, &format!("/e/{}/import", entity.name));
    ctx.insert("I".into(), words(locale));
    ctx.insert(
        "entity".into(),
        json!({"name": entity.name, "label": entity.label.get(locale)}),
    );
    ctx.insert("logs".into(), json!(logs));
    ctx.insert("error".into(), json!(error));
    page(status, "import_upload.html", Json::Object(ctx))
}

/// `GET /e/{entity}/import`.
pub async fn upload_page(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(entity): Path<String>,
) -> Response {
    let e = match crate::ui::records::entity_or_page(&state, &caller, &entity) {
        Ok(e) => e,
        Err(r) => return r,
    };
    if !may_import(&caller, &e) {
        return crate::ui::render::message(
            &state,
            &caller,
            StatusCode::FORBIDDEN,
            &t(locale_of(&caller), "forbidden"),
            e.label.get(locale_of(&caller)),
        );
    }
    upload_page_with(&state, &caller, &e, StatusCode::OK, None)
}

/// The CSRF token of a multipart form, sent in the query string.
#[derive(Debug, Deserialize)]
pub struct CsrfQuery {
    #[serde(default)]
    csrf: String,
}

/// `POST /e/{entity}/import?csrf=…` (multipart, field `file`).
pub async fn upload(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(entity): Path<String>,
    Query(cq): Query<CsrfQuery>,
    request: axum::extract::Request,
) -> Response {
    if let Err(r) = check_csrf(&caller, Some(&cq.csrf)) {
        return r;
    }
    let e = match crate::ui::records::entity_or_page(&state, &caller, &entity) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let content_type = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let form = crate::plugin_upload::read(&content_type, request.into_body(), MAX_FILE_BYTES).await;
    let form = match form {
        Ok(f) if !f.component.is_empty() => f,
        Ok(_) => {
            let why = t(locale_of(&caller), "import_file");
            return upload_page_with(&state, &caller, &e, StatusCode::BAD_REQUEST, Some(why));
        }
        Err(err) => {
            return upload_page_with(
                &state,
                &caller,
                &e,
                StatusCode::BAD_REQUEST,
                Some(err.to_string()),
            )
        }
    };
    let access = caller.access.clone();
    let file_name = form.file_name.unwrap_or_default();
    let name = e.name.clone();
    let uploaded = state
        .blocking(move |s| service::upload(s, &access, &name, &file_name, form.component))
        .await;
    match uploaded {
        Ok(preview) => Redirect::to(&format!("/imports/{}", preview.import.id)).into_response(),
        Err(err) => {
            let why = err.message;
            let detail = err
                .fields
                .values()
                .map(|r| r.render(locale_of(&caller)))
                .collect::<Vec<_>>()
                .join("; ");
            let text = if detail.is_empty() { why } else { detail };
            upload_page_with(&state, &caller, &e, err.status, Some(text))
        }
    }
}

/// The options a form starts from: the last pass's, else those remembered for the layout,
/// else a suggested mapping.
fn current_options(
    state: &AppState,
    caller: &Caller,
    log: &ImportLog,
    e: &Entity,
    sheet: &Sheet,
) -> (ImportOptions, bool) {
    if let Ok(o) = serde_json::from_value::<ImportOptions>(log.options.clone()) {
        if !o.mapping.is_empty() {
            return (o, false);
        }
    }
    let remembered = state
        .store()
        .remembered_import_layout(&caller.access, &log.entity, &log.layout)
        .ok()
        .flatten()
        .and_then(|o| serde_json::from_value::<ImportOptions>(o).ok())
        .filter(|o| {
            o.check(&state.store().schema(), e, &sheet.headers, &caller.access)
                .is_ok()
        });
    match remembered {
        Some(o) => (o, true),
        None => (
            ImportOptions {
                mapping: suggest(e, &sheet.headers, &caller.access),
                ..ImportOptions::default()
            },
            false,
        ),
    }
}

/// The mapping form: columns with samples and a field each, mode and key, date format, and
/// the distinct values of each select column with the option each becomes.
fn mapping_form(caller: &Caller, e: &Entity, sheet: &Sheet, options: &ImportOptions) -> Json {
    let locale = locale_of(caller);
    let mut choices = vec![json!({"value": "", "label": t(locale, "import_skip")})];
    for f in e.fields.iter().filter(|f| !f.retired && !f.hidden) {
        choices.push(json!({"value": f.def.name, "label": f.def.label.get(locale)}));
    }
    choices.push(json!({"value": OWNER, "label": t(locale, "owner")}));
    if caller.access.is_admin() {
        choices.push(json!({"value": CREATED_AT, "label": t(locale, "created_at")}));
    }
    let columns: Vec<Json> = sheet
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let samples: Vec<String> = sheet
                .rows
                .iter()
                .map(|r| service::sample(&r.cell(i).text()))
                .filter(|t| !t.trim().is_empty())
                .take(3)
                .collect();
            json!({"index": i, "name": h, "samples": samples.join(" · "),
                   "field": options.mapping.get(h).cloned().unwrap_or_default()})
        })
        .collect();
    let keys: Vec<Json> = e
        .fields
        .iter()
        .filter(|f| f.def.unique && !f.retired)
        .map(|f| {
            json!({"value": f.def.name, "label": f.def.label.get(locale),
                        "selected": options.key.as_deref() == Some(f.def.name.as_str())})
        })
        .collect();
    let formats: Vec<Json> = DATE_FORMATS
        .iter()
        .map(|(n, _)| json!({"value": n, "selected": options.date_format_name() == *n}))
        .collect();
    let mut values = Vec::new();
    for (column, field) in &options.mapping {
        let Some(f) = e.field(field) else { continue };
        if !matches!(f.def.kind, FieldType::Select | FieldType::MultiSelect) {
            continue;
        }
        let Some(i) = sheet.headers.iter().position(|h| h == column) else {
            continue;
        };
        let distinct: BTreeSet<String> = sheet
            .rows
            .iter()
            .map(|r| r.cell(i).text().trim().to_string())
            .filter(|t| !t.is_empty())
            .take(10_000)
            .collect();
        let map = options.values.get(field);
        let entries: Vec<Json> = distinct
            .iter()
            .take(SHOWN_VALUES)
            .enumerate()
            .map(|(j, text)| {
                let chosen = map.and_then(|m| m.get(text)).cloned().or_else(|| {
                    let lower = text.to_lowercase();
                    f.def
                        .options
                        .iter()
                        .find(|o| {
                            o.value == *text
                                || o.label.en.to_lowercase() == lower
                                || o.label.zh_cn == *text
                        })
                        .map(|o| o.value.clone())
                });
                let opts: Vec<Json> = f
                    .def
                    .options
                    .iter()
                    .map(|o| {
                        json!({"value": o.value, "label": o.label.get(locale),
                                    "selected": chosen.as_deref() == Some(o.value.as_str())})
                    })
                    .collect();
                json!({"j": j, "text": text, "options": opts})
            })
            .collect();
        values.push(json!({"field": field, "label": f.def.label.get(locale), "entries": entries}));
    }
    json!({
        "choices": choices,
        "columns": columns,
        "upsert": options.mode == Mode::Upsert,
        "keys": keys,
        "formats": formats,
        "values": values,
    })
}

fn import_page_with(
    state: &AppState,
    caller: &Caller,
    id: i64,
    status: StatusCode,
    error: Option<String>,
    posted: Option<ImportOptions>,
) -> Response {
    let locale = locale_of(caller);
    let log = match state.store().import_log(&caller.access, id) {
        Ok(l) => l,
        Err(e) => return crate::ui::render::core_error(state, caller, e),
    };
    let Some(e) = state.store().schema().entity(&log.entity).cloned() else {
        return crate::ui::render::core_error(
            state,
            caller,
            qingguan_core::Error::NotFound(log.entity.clone()),
        );
    };
    let mut ctx = base(state, caller, &format!("/imports/{id}"));
    ctx.insert("I".into(), words(locale));
    ctx.insert("import".into(), log_row(state, caller, &log));
    ctx.insert(
        "entity".into(),
        json!({"name": e.name, "label": e.label.get(locale)}),
    );
    ctx.insert("busy".into(), json!(log.status.is_busy()));
    if log.status.is_busy() {
        ctx.insert("refresh_seconds".into(), json!(1));
    }
    let counts = &log.counts;
    let summary = match log.status {
        ImportStatus::Checking | ImportStatus::Running => fill(
            locale,
            "import_progress",
            &[
                ("done", counts.rows_done),
                ("total", log.total_rows),
                ("failed", counts.failed),
            ],
        ),
        ImportStatus::Checked => fill(
            locale,
            "import_would",
            &[
                ("inserted", counts.inserted),
                ("updated", counts.updated),
                ("failed", counts.failed),
            ],
        ),
        ImportStatus::Done | ImportStatus::Interrupted | ImportStatus::Undone => fill(
            locale,
            "import_did",
            &[
                ("inserted", counts.inserted),
                ("updated", counts.updated),
                ("failed", counts.failed),
            ],
        ),
        ImportStatus::Uploaded => String::new(),
    };
    ctx.insert("summary".into(), json!(summary));
    ctx.insert(
        "percent".into(),
        json!((counts.rows_done * 100)
            .checked_div(log.total_rows)
            .unwrap_or(0)),
    );
    let errors: Vec<Json> = log
        .errors
        .iter()
        .take(SHOWN_ERRORS)
        .map(|r| json!({"row": r.row, "column": r.column, "why": r.message(locale)}))
        .collect();
    ctx.insert("errors".into(), json!(errors));
    ctx.insert(
        "more_errors".into(),
        json!(log.errors.len() > SHOWN_ERRORS || counts.failed > log.errors.len()),
    );
    let may_pass = matches!(log.status, ImportStatus::Uploaded | ImportStatus::Checked);
    if may_pass {
        match service::sheet_of(state.store(), &caller.access, id) {
            Ok(sheet) => {
                let encoding = match sheet.encoding {
                    crate::import::sheet::Encoding::Utf8 => String::new(),
                    crate::import::sheet::Encoding::Gb18030 => t(locale, "import_encoding_gb18030"),
                    crate::import::sheet::Encoding::Utf8Repaired { replaced } => fill(
                        locale,
                        "import_encoding_repaired",
                        &[("replaced", replaced)],
                    ),
                };
                ctx.insert("encoding".into(), json!(encoding));
                let (options, remembered) = match posted {
                    Some(o) => (o, false),
                    None => current_options(state, caller, &log, &e, &sheet),
                };
                ctx.insert("form".into(), mapping_form(caller, &e, &sheet, &options));
                ctx.insert("remembered".into(), json!(remembered));
            }
            Err(err) => {
                ctx.insert("error".into(), json!(describe(&err, locale)));
            }
        }
    }
    ctx.insert(
        "may_undo".into(),
        json!(matches!(
            log.status,
            ImportStatus::Done | ImportStatus::Interrupted
        )),
    );
    if let Some(report) = &log.undo_report {
        let skipped: Vec<Json> = report
            .skipped
            .iter()
            .map(|s| {
                json!({"href": format!("/e/{}/{}", e.name, s.record_id), "id": s.record_id,
                            "why": if locale == Locale::ZhCn { &s.zh } else { &s.en }})
            })
            .collect();
        let text = if log.status == ImportStatus::Undone {
            fill(
                locale,
                "import_undone",
                &[("deleted", report.deleted), ("restored", report.restored)],
            )
        } else {
            t(locale, "import_not_undone")
        };
        ctx.insert("undo".into(), json!({"text": text, "skipped": skipped}));
    }
    if let Some(err) = error {
        ctx.insert("error".into(), json!(err));
    }
    page(status, "import.html", Json::Object(ctx))
}

/// `GET /imports/{id}`.
pub async fn import_page(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(id): Path<i64>,
) -> Response {
    import_page_with(&state, &caller, id, StatusCode::OK, None, None)
}

/// The options a mapping form posts.
fn options_from_form(form: &[(String, String)], headers: &[String]) -> ImportOptions {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut options = ImportOptions {
        mode: if get("mode").as_deref() == Some("upsert") {
            Mode::Upsert
        } else {
            Mode::Insert
        },
        key: get("key").filter(|k| !k.is_empty()),
        date_format: get("date_format").filter(|f| !f.is_empty()),
        ..ImportOptions::default()
    };
    for (name, value) in form {
        if let Some(i) = name
            .strip_prefix("col.")
            .and_then(|i| i.parse::<usize>().ok())
        {
            if let (Some(h), false) = (headers.get(i), value.is_empty()) {
                options.mapping.insert(h.clone(), value.clone());
            }
        }
        if let Some(rest) = name.strip_prefix("val.") {
            let Some((field, j)) = rest.rsplit_once('.') else {
                continue;
            };
            let Some(text) = get(&format!("valtext.{field}.{j}")) else {
                continue;
            };
            if !value.is_empty() {
                options
                    .values
                    .entry(field.to_string())
                    .or_default()
                    .insert(text, value.clone());
            }
        }
    }
    // A value map only for fields still mapped.
    let mapped: Vec<String> = options.mapping.values().cloned().collect();
    options.values.retain(|f, _| mapped.contains(f));
    options
}

/// `POST /imports/{id}`: `action` = `check`, `run` or `undo`, with the mapping form.
pub async fn import_action(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { caller, form }: SignedForm<Vec<(String, String)>>,
) -> Response {
    let locale = locale_of(&caller);
    let action = form
        .iter()
        .find(|(k, _)| k == "action")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let access = caller.access.clone();
    if action == "undo" {
        return match state.blocking(move |s| s.undo_import(&access, id)).await {
            Ok(_) => Redirect::to(&format!("/imports/{id}")).into_response(),
            Err(err) => import_page_with(&state, &caller, id, err.status, Some(err.message), None),
        };
    }
    let pass = if action == "run" {
        ImportPass::Import
    } else {
        ImportPass::Check
    };
    let headers = match service::sheet_of(state.store(), &caller.access, id) {
        Ok(s) => s.headers,
        Err(err) => return crate::ui::render::core_error(&state, &caller, err),
    };
    let options = options_from_form(&form, &headers);
    let posted = options.clone();
    let started = state
        .blocking_shared(move |s| service::start_pass(s, &access, id, pass, options))
        .await;
    match started {
        Ok(_) => Redirect::to(&format!("/imports/{id}")).into_response(),
        Err(err) => {
            let detail: Vec<String> = err
                .fields
                .iter()
                .map(|(k, r)| {
                    let at = k.strip_prefix("mapping.").unwrap_or(k);
                    format!("{at}: {}", r.render(locale))
                })
                .collect();
            let text = if detail.is_empty() {
                err.message
            } else {
                detail.join("; ")
            };
            import_page_with(&state, &caller, id, err.status, Some(text), Some(posted))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_posted_form_becomes_options() {
        let headers = vec!["Name".to_string(), "Stage".to_string(), "Notes".to_string()];
        let form: Vec<(String, String)> = [
            ("csrf", "x"),
            ("col.0", "name"),
            ("col.1", "status"),
            ("col.2", ""),
            ("col.9", "kind"),
            ("mode", "upsert"),
            ("key", "name"),
            ("date_format", "DD-MM-YY"),
            ("valtext.status.0", "Won"),
            ("val.status.0", "customer"),
            ("valtext.status.1", "Open"),
            ("val.status.1", ""),
            ("valtext.kind.0", "x"),
            ("val.kind.0", "company"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let o = options_from_form(&form, &headers);
        assert_eq!(o.mapping.len(), 2);
        assert_eq!(o.mapping["Stage"], "status");
        assert_eq!(o.mode, Mode::Upsert);
        assert_eq!(o.key.as_deref(), Some("name"));
        assert_eq!(o.values["status"]["Won"], "customer");
        assert!(!o.values["status"].contains_key("Open"));
        assert!(!o.values.contains_key("kind"), "kind is not mapped");
    }
}
