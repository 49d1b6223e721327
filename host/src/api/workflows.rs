//! Workflows and approvals over HTTP: administrators define an entity type's workflow; people
//! see a record's state and the transitions open to them, make them (or ask for approval), and
//! decide the approvals waiting for them.

use super::extract::{ApiJson, ApiPath};
use crate::caller::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use qingguan_core::TransitionOutcome;
use serde::Deserialize;
use serde_json::{json, Value};

/// Definitions name people and limits: administrators read them; others see a record's
/// workflow as it applies to them (`/records/{entity}/{id}/workflow`).
fn admin_only(caller: &Caller) -> ApiResult<()> {
    if caller.access.is_admin() {
        Ok(())
    } else {
        Err(ApiError::from(qingguan_core::Error::Forbidden(
            "only administrators read workflow definitions".into(),
        )))
    }
}

/// Every workflow, by entity type (administrators).
#[utoipa::path(get, path = "/workflows", tag = "workflows", security(("bearer" = [])),
    responses((status = 200, description = "{\"items\": {entity: definition}}", body = Value)))]
pub async fn list_workflows(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    admin_only(&caller)?;
    let items: serde_json::Map<String, Value> = state
        .store()
        .workflows()
        .into_iter()
        .map(|(entity, wf)| (entity, json!(*wf)))
        .collect();
    Ok(Json(json!({ "items": items })))
}

/// An entity type's workflow.
#[utoipa::path(get, path = "/workflows/{entity}", tag = "workflows", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name")),
    responses((status = 200, body = Value), (status = 404, body = ErrorBody)))]
pub async fn get_workflow(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(entity): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    admin_only(&caller)?;
    let wf = state
        .store()
        .workflow(&entity)
        .ok_or_else(|| ApiError::not_found(format!("'{entity}' has no workflow")))?;
    Ok(Json(json!(*wf)))
}

/// Sets an entity type's workflow (administrators): states from one select field,
/// transitions with who, conditions and approval steps, required and locked fields per state.
#[utoipa::path(put, path = "/workflows/{entity}", tag = "workflows", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name")),
    request_body(content = Value, description = "The workflow definition"),
    responses((status = 200, body = Value), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_workflow(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(entity): ApiPath<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    let wf = state
        .blocking(move |s| s.set_workflow(&caller.access, &entity, &body))
        .await?;
    Ok(Json(json!(wf)))
}

/// Removes an entity type's workflow (administrators); pending approvals are cancelled.
#[utoipa::path(delete, path = "/workflows/{entity}", tag = "workflows", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_workflow(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(entity): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state
        .blocking(move |s| s.remove_workflow(&caller.access, &entity))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A record's state, the transitions open to the caller, its approvals.
#[utoipa::path(get, path = "/records/{entity}/{id}/workflow", tag = "workflows", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name"), ("id" = i64, Path, description = "Record id")),
    responses((status = 200, body = Value), (status = 404, body = ErrorBody)))]
pub async fn record_workflow(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((entity, id)): ApiPath<(String, i64)>,
) -> ApiResult<Json<Value>> {
    let wf = state.store().record_workflow(&caller.access, &entity, id)?;
    let wf = wf.ok_or_else(|| ApiError::not_found(format!("'{entity}' has no workflow")))?;
    Ok(Json(json!(wf)))
}

/// What a transition or decision carries.
#[derive(Debug, Deserialize)]
pub struct TransitionInput {
    /// The record's version the caller saw.
    pub version: i64,
    /// A comment for the history.
    #[serde(default)]
    pub comment: String,
}

/// Makes a transition: the state changes at once (200 with the record), or, when the
/// transition needs approval, an approval is asked for (202 with the approval).
#[utoipa::path(post, path = "/records/{entity}/{id}/transitions/{name}", tag = "workflows", security(("bearer" = [])),
    params(("entity" = String, Path, description = "Entity type name"), ("id" = i64, Path, description = "Record id"),
        ("name" = String, Path, description = "Transition name")),
    request_body(content = Value, description = "{\"version\": n, \"comment\": \"…\"}"),
    responses((status = 200, body = Value), (status = 202, body = Value), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn make_transition(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((entity, id, name)): ApiPath<(String, i64, String)>,
    ApiJson(input): ApiJson<TransitionInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let schema = state.store().schema_for(&caller.access);
    let outcome = state
        .blocking(move |s| {
            s.make_transition(
                &caller.access,
                &entity,
                id,
                input.version,
                &name,
                &input.comment,
            )
        })
        .await?;
    Ok(match outcome {
        TransitionOutcome::Done(r) => {
            let body = schema
                .entity(&r.entity)
                .map(|e| r.to_json(e))
                .unwrap_or(Value::Null);
            (StatusCode::OK, Json(json!({ "record": body })))
        }
        TransitionOutcome::Asked(a) => (StatusCode::ACCEPTED, Json(json!({ "approval": a }))),
    })
}

/// An approver's decision.
#[derive(Debug, Deserialize)]
pub struct DecisionInput {
    /// `approve` or `reject`.
    pub decision: String,
    /// Why, for the history.
    #[serde(default)]
    pub comment: String,
}

/// Approves or rejects the current step of a pending approval.
#[utoipa::path(post, path = "/approvals/{id}/decision", tag = "workflows", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Approval id")),
    request_body(content = Value, description = "{\"decision\": \"approve\"|\"reject\", \"comment\": \"…\"}"),
    responses((status = 200, body = Value), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<DecisionInput>,
) -> ApiResult<Json<Value>> {
    let approve = match input.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => {
            return Err(ApiError::from(qingguan_core::Error::field(
                "decision",
                qingguan_core::Reason::NotOption {
                    value: input.decision.clone(),
                    options: vec!["approve".into(), "reject".into()],
                },
            )))
        }
    };
    let a = state
        .blocking(move |s| s.decide_approval(&caller.access, id, approve, &input.comment))
        .await?;
    Ok(Json(json!(a)))
}

/// The pending approvals waiting for the caller's decision.
#[utoipa::path(get, path = "/approvals", tag = "workflows", security(("bearer" = [])),
    responses((status = 200, description = "{\"items\": [approval]}", body = Value)))]
pub async fn waiting(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let items = state
        .blocking(move |s| s.approvals_waiting_for(&caller.access))
        .await?;
    Ok(Json(json!({ "items": items })))
}

/// A delegation while away.
#[derive(Debug, Deserialize)]
pub struct DelegationInput {
    /// The user who decides in the caller's place.
    pub delegate: i64,
    /// The last day, `YYYY-MM-DD` (inclusive).
    pub until: String,
}

/// The caller's delegation in effect, if any.
#[utoipa::path(get, path = "/approvals/delegation", tag = "workflows", security(("bearer" = [])),
    responses((status = 200, description = "{\"delegation\": {delegate, until} | null}", body = Value)))]
pub async fn get_delegation(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    let d = state.store().delegation(&caller.access)?;
    Ok(Json(json!({ "delegation": d })))
}

/// While the caller is away, another user decides their approvals too (those waiting now and
/// those to come) until the day given.
#[utoipa::path(put, path = "/approvals/delegation", tag = "workflows", security(("bearer" = [])),
    request_body(content = Value, description = "{\"delegate\": user id, \"until\": \"YYYY-MM-DD\"}"),
    responses((status = 200, body = Value), (status = 422, body = ErrorBody)))]
pub async fn put_delegation(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<DelegationInput>,
) -> ApiResult<Json<Value>> {
    let access = caller.access.clone();
    state
        .blocking(move |s| s.set_delegation(&access, Some((input.delegate, &input.until))))
        .await?;
    let d = state.store().delegation(&caller.access)?;
    Ok(Json(json!({ "delegation": d })))
}

/// Ends the caller's delegation.
#[utoipa::path(delete, path = "/approvals/delegation", tag = "workflows", security(("bearer" = [])),
    responses((status = 204)))]
pub async fn delete_delegation(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<StatusCode> {
    state
        .blocking(move |s| s.set_delegation(&caller.access, None))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's notifications, newest first (`?unread=true`: unread only), with the unread count.
#[utoipa::path(get, path = "/notifications", tag = "workflows", security(("bearer" = [])),
    params(("unread" = Option<bool>, Query, description = "Only unread ones")),
    responses((status = 200, description = "{\"unread\": n, \"items\": [{id, at, kind, params, link, read}]}", body = Value)))]
pub async fn notifications(
    State(state): State<AppState>,
    caller: Caller,
    axum::extract::Query(q): axum::extract::Query<NotificationQuery>,
) -> ApiResult<Json<Value>> {
    let store = state.store();
    let items = store.notifications(&caller.access, q.unread.unwrap_or(false))?;
    let unread = store.unread_notifications(&caller.access)?;
    Ok(Json(json!({ "unread": unread, "items": items })))
}

/// `?unread=`.
#[derive(Debug, Deserialize)]
pub struct NotificationQuery {
    unread: Option<bool>,
}

/// Which notifications to mark read: `{"ids": [..]}`, or `{}` for all.
#[derive(Debug, Deserialize)]
pub struct ReadInput {
    #[serde(default)]
    ids: Option<Vec<i64>>,
}

/// Marks the caller's notifications read.
#[utoipa::path(post, path = "/notifications/read", tag = "workflows", security(("bearer" = [])),
    request_body(content = Value, description = "{\"ids\": [..]} or {} for all"),
    responses((status = 204)))]
pub async fn read_notifications(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ReadInput>,
) -> ApiResult<StatusCode> {
    state
        .blocking(move |s| s.mark_notifications_read(&caller.access, input.ids.as_deref()))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How the caller hears of each kind of notification: `{"approvals": "mail", "decisions":
/// "inbox", "mentions": "off", "overdue": …, "plugins": …}` — `mail` (inbox and e-mail, the
/// default), `inbox` (inbox only) or `off` (not at all).
#[utoipa::path(get, path = "/notifications/choices", tag = "workflows", security(("bearer" = [])),
    responses((status = 200, description = "{group: mail|inbox|off} for every group", body = Value)))]
pub async fn notification_choices(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    let user = caller.user.id;
    let choices = state
        .blocking(move |s| s.notification_choices(user))
        .await?;
    Ok(Json(json!(choices)))
}

/// Sets how the caller hears of some kinds of notification (groups not named keep theirs);
/// an unknown group or choice is refused with 422 and nothing changes. Returns every choice.
#[utoipa::path(put, path = "/notifications/choices", tag = "workflows", security(("bearer" = [])),
    request_body(content = Value, description = "{group: mail|inbox|off}"),
    responses((status = 200, description = "every group's choice", body = Value), (status = 422)))]
pub async fn set_notification_choices(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<serde_json::Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    use qingguan_core::notification_choices::Delivery;
    let mut choices = std::collections::BTreeMap::new();
    for (group, v) in input {
        let d = v.as_str().and_then(Delivery::parse).ok_or_else(|| {
            qingguan_core::Error::field(
                group.clone(),
                qingguan_core::Reason::NotOption {
                    value: v.to_string(),
                    options: Delivery::ALL.iter().map(|d| d.name().to_string()).collect(),
                },
            )
        })?;
        choices.insert(group, d);
    }
    let access = caller.access.clone();
    let all = state
        .blocking(move |s| s.set_notification_choices(&access, &choices))
        .await?;
    Ok(Json(json!(all)))
}
