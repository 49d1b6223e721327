//! Importing from the web UI: an entity type's upload page with its import log, and one
//! import's page — the mapping form (`import_form.rs`), the dry run's and the import's report,
//! progress while a pass runs, and the undo.

use super::import_form::{current_options, mapping_form, options_from_form};
use crate::caller::Caller;
use crate::import::options::ImportOptions;
use crate::import::service::{self, MAX_FILE_BYTES};
use crate::state::AppState;
use crate::ui::extract::{check_csrf, SignedForm, UiCaller};
use crate::ui::render::{base, local_time_text, locale_of, page, t, title_of};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::imports::{describe, ImportLog, ImportPass, ImportStatus};
use qingguan_core::{Access, Entity, Locale, Store};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use std::sync::Arc;

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
    "import_resume",
    "import_resume_help",
    "import_refused",
    "import_row",
    "import_reason",
    "import_more_errors",
    "import_rows",
    "import_by",
    "import_when",
    "import_result",
    "import_remembered",
    "import_invite",
    "import_invited",
    "import_encoding_gb18030",
    "import_not_undone",
];

/// The most refused rows a page lists.
const SHOWN_ERRORS: usize = 200;

/// A sentence with `{name}` parameters filled in.
fn fill(locale: Locale, key: &str, params: &[(&str, usize)]) -> String {
    params.iter().fold(t(locale, key), |s, (k, v)| {
        s.replace(&format!("{{{k}}}"), &v.to_string())
    })
}

fn status_text(locale: Locale, status: ImportStatus) -> String {
    t(locale, &format!("import_status_{}", status.as_str()))
}

/// One import as a row of the log.
fn log_row(state: &AppState, caller: &Caller, log: &ImportLog) -> Json {
    let locale = locale_of(caller);
    json!({
        "id": log.id,
        "file_name": log.file_name,
        "entity": crate::ui::render::entity_label(state, caller, &log.entity),
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
    ctx.insert("I".into(), crate::ui::render::words(locale, KEYS));
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
            let text = crate::ui::refusal::form_refusal(locale_of(&caller), &err);
            upload_page_with(&state, &caller, &e, err.status, Some(text))
        }
    }
}

fn import_page_with(
    state: &AppState,
    caller: &Caller,
    id: i64,
    status: StatusCode,
    error: Option<String>,
    posted: Option<ImportOptions>,
    invited: Option<Json>,
) -> Response {
    let locale = locale_of(caller);
    let log = match state.store().import_log(&caller.access, id) {
        Ok(l) => l,
        Err(e) => return crate::ui::render::core_error(state, caller, e),
    };
    let Some(e) = state
        .store()
        .schema_for(&caller.access)
        .entity(&log.entity)
        .cloned()
    else {
        return crate::ui::render::core_error(
            state,
            caller,
            qingguan_core::Error::NotFound(log.entity.clone()),
        );
    };
    let mut ctx = base(state, caller, &format!("/imports/{id}"));
    ctx.insert("I".into(), crate::ui::render::words(locale, KEYS));
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
        ImportStatus::Done
        | ImportStatus::Interrupted
        | ImportStatus::Undoing
        | ImportStatus::UndoStopped
        | ImportStatus::Undone => fill(
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
        "may_resume".into(),
        json!(
            log.status == ImportStatus::Interrupted
                && caller.access.user_id.is_some()
                && caller.access.user_id == log.created_by
        ),
    );
    ctx.insert(
        "may_undo".into(),
        json!(
            matches!(
                log.status,
                ImportStatus::Done | ImportStatus::Interrupted | ImportStatus::UndoStopped
            ) && log.entity != "user"
        ),
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
    ctx.insert(
        "may_invite".into(),
        json!(log.entity == "user" && log.status == ImportStatus::Done && caller.access.is_admin()),
    );
    ctx.insert("invited".into(), json!(invited));
    page(status, "import.html", Json::Object(ctx))
}

/// `GET /imports/{id}`.
pub async fn import_page(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(id): Path<i64>,
) -> Response {
    import_page_with(&state, &caller, id, StatusCode::OK, None, None, None)
}

/// `POST /imports/{id}`: `action` = `check`, `run`, `resume` or `undo`, with the mapping form.
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
    if action == "invite" {
        let st = state.clone();
        return match state
            .blocking(move |_| crate::invitations::invite_imported(&st, &access, id))
            .await
        {
            Ok(items) => {
                let rows: Vec<Json> = items
                    .iter()
                    .map(|u| {
                        json!({"username": u.username, "link": u.invited.link,
                                    "mailed": u.invited.mailed})
                    })
                    .collect();
                import_page_with(
                    &state,
                    &caller,
                    id,
                    StatusCode::OK,
                    None,
                    None,
                    Some(json!(rows)),
                )
            }
            Err(err) => import_page_with(
                &state,
                &caller,
                id,
                err.status,
                Some(err.message),
                None,
                None,
            ),
        };
    }
    // Both start work in the background and show the import's page, which follows it.
    type Start = fn(&Arc<Store>, &Access, i64) -> Result<ImportLog, qingguan_core::Error>;
    let background: Option<Start> = match action.as_str() {
        "resume" => Some(service::resume),
        "undo" => Some(service::start_undo),
        _ => None,
    };
    if let Some(start) = background {
        let store = state.store().clone();
        return match state.blocking(move |_| start(&store, &access, id)).await {
            Ok(_) => Redirect::to(&format!("/imports/{id}")).into_response(),
            Err(err) => import_page_with(
                &state,
                &caller,
                id,
                err.status,
                Some(err.message),
                None,
                None,
            ),
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
            let text = crate::ui::refusal::form_refusal(locale, &err);
            import_page_with(
                &state,
                &caller,
                id,
                err.status,
                Some(text),
                Some(posted),
                None,
            )
        }
    }
}
