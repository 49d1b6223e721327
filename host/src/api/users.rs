//! User and role administration.

use super::extract::{ApiJson, ApiPath};
use crate::caller::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use qingguan_core::{NewUser, Role};
use serde::Deserialize;
use serde_json::Value;

/// Create a user (administrators): with a password, or with `invite: true` and no password —
/// then the answer carries `invitation: {link, mailed, mail_error}`, a one-time link (valid 7
/// days) with which the user sets their own password, mailed to them when mail is set up.
#[utoipa::path(post, path = "/users", tag = "admin", security(("bearer" = [])),
    request_body(content = Value, description = "{username, password | invite: true, role, display_name?, team?, manager?, email?, locale?}"),
    responses((status = 201, body = Value), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(new): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    // Hashing the password takes a password-check slot, as logins do.
    let slot = state.logins().slot_waiting().await;
    let invite = new.invite;
    let access = caller.access.clone();
    let r = state
        .blocking(move |s| {
            let r = s.create_user(&access, &new, false);
            drop(slot);
            r
        })
        .await?;
    let schema = state.store().schema();
    let mut body = schema
        .entity("user")
        .map(|e| r.to_json(e))
        .unwrap_or_default();
    if invite {
        let st = state.clone();
        let id = r.id;
        let invited = state
            .blocking(move |_| crate::invitations::invite(&st, &caller.access, id))
            .await?;
        body["invitation"] = serde_json::json!(invited);
    }
    Ok((StatusCode::CREATED, Json(body)))
}

/// Invite a user again (administrators): a new one-time link with which they set their
/// password (the older links stop working), mailed when mail is set up.
#[utoipa::path(post, path = "/users/{id}/invite", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, description = "{link, mailed, mail_error}", body = Value), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Value>> {
    let st = state.clone();
    let invited = state
        .blocking(move |_| crate::invitations::invite(&st, &caller.access, id))
        .await?;
    Ok(Json(serde_json::json!(invited)))
}

/// A new password.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// At least 8 characters.
    pub password: String,
    /// The caller's current password: required when changing one's own password.
    #[serde(default)]
    pub current_password: Option<String>,
}

/// Set a user's password: administrators reset anyone else's; a user changes their own,
/// giving `current_password`. Ends their sessions.
#[utoipa::path(post, path = "/users/{id}/password", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id")), request_body = PasswordChange,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_password(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(p): ApiJson<PasswordChange>,
) -> ApiResult<StatusCode> {
    let slot = state.logins().slot_waiting().await;
    state
        .blocking(move |s| {
            let r = s.set_password(
                &caller.access,
                id,
                p.current_password.as_deref(),
                &p.password,
            );
            drop(slot);
            r
        })
        .await?;
    state.forget_sessions();
    Ok(StatusCode::NO_CONTENT)
}

/// All roles and their permissions (their field rules for administrators only: which fields
/// a role may not see is itself not everyone's to know).
#[utoipa::path(get, path = "/roles", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Value), (status = 401, body = ErrorBody)))]
pub async fn list_roles(State(state): State<AppState>, caller: Caller) -> Json<Value> {
    let admin = caller.access.is_admin();
    let roles: Vec<Role> = state
        .store()
        .roles()
        .iter()
        .map(|r| {
            let mut role = (**r).clone();
            if !admin {
                role.fields.clear();
            }
            role
        })
        .collect();
    Json(serde_json::to_value(roles).unwrap_or_default())
}

/// Create or replace a role (administrators).
#[utoipa::path(put, path = "/roles/{name}", tag = "admin", security(("bearer" = [])),
    params(("name" = String, Path, description = "Role name")),
    request_body(content = Value, description = "{name, label, admin, permissions: {entity|*: {create, read, update, delete, scope}}, fields: {entity: {field: hidden|read_only}}}; answers the role as stored (an administrator's role keeps no field rules)"),
    responses((status = 200, body = Value), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_role(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(role): ApiJson<Role>,
) -> ApiResult<Json<Value>> {
    if role.name != name {
        return Err(crate::error::ApiError::bad_request(
            "name",
            "must match the path",
        ));
    }
    state
        .blocking(move |s| s.put_role(&caller.access, &role))
        .await?;
    state.forget_sessions();
    let stored = state.store().roles().into_iter().find(|r| r.name == name);
    Ok(Json(
        serde_json::to_value(stored.as_deref()).unwrap_or_default(),
    ))
}
