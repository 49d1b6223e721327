//! Users and roles: the user list, adding users, and the roles and permissions editor.

use super::{admin_only, back_with_api_error, back_with_error, ErrorQuery};
use crate::error::ApiError;
use crate::state::AppState;
use crate::ui::admin::AdminForm;
use crate::ui::extract::UiCaller;
use crate::ui::render::{base, locale_of, page, t};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use qingguan_core::{EntityPermission, Label, ListQuery, NewUser, Role, Scope};
use serde::Deserialize;
use serde_json::{json, Value as Json};

/// `GET /admin/users`.
pub async fn users(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Query(q): Query<ErrorQuery>,
) -> Response {
    if let Err(r) = admin_only(&state, &caller) {
        return r;
    }
    let flash = (q.done.as_deref() == Some("password"))
        .then(|| t(locale_of(&caller), "password_reset_done"));
    users_page(&state, &caller, q.error, flash, None)
}

/// The users page, with an error, a sentence, or an invitation just made (its link).
fn users_page(
    state: &AppState,
    caller: &crate::caller::Caller,
    error: Option<String>,
    flash: Option<String>,
    invitation: Option<Json>,
) -> Response {
    let locale = locale_of(caller);
    let list = state
        .store()
        .list(
            &caller.access,
            "user",
            &ListQuery::from_pairs([("sort", "username"), ("limit", "200")]).unwrap_or_default(),
        )
        .map(|p| p.items)
        .unwrap_or_default();
    let roles_all = state.store().roles();
    let role_label = |name: &str| {
        roles_all
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.label.get(locale).to_string())
            .unwrap_or_else(|| name.to_string())
    };
    let name_of = |id: i64| {
        list.iter()
            .find(|u| u.id == id)
            .map(|u| u.get("display_name").to_text())
            .unwrap_or_else(|| format!("#{id}"))
    };
    let users: Vec<Json> = list
        .iter()
        .map(|u| {
            let manager = match u.get("manager") {
                qingguan_core::Value::Ref(m) => name_of(*m),
                _ => String::new(),
            };
            json!({"id": u.id, "username": u.get("username").to_text(), "display_name": u.get("display_name").to_text(), "role": u.get("role").to_text(), "role_label": role_label(&u.get("role").to_text()), "team": u.get("team").to_text(), "manager": manager, "me": u.id == caller.user.id, "active": t(locale, if u.get("active") == &qingguan_core::Value::Bool(false) { "no" } else { "yes" })})
        })
        .collect();
    let schema = state.store().schema();
    let type_label = |k: &str| {
        if k == "*" {
            t(locale, "other_types")
        } else {
            schema
                .entity(k)
                .map(|e| e.label.get(locale).to_string())
                .unwrap_or_else(|| k.to_string())
        }
    };
    let sep = if locale == qingguan_core::Locale::ZhCn {
        "、"
    } else {
        ", "
    };
    let roles: Vec<Json> = roles_all
        .iter()
        .map(|r| {
            let summary = if r.admin {
                t(locale, "all_permissions")
            } else {
                r.permissions
                    .iter()
                    .filter(|(k, _)| *k == "*" || schema.entity(k).is_some_and(|e| !e.retired))
                    .map(|(k, p)| {
                        let ops: Vec<String> = [
                            (p.create, "perm_create"),
                            (p.read, "perm_read"),
                            (p.update, "perm_update"),
                            (p.delete, "perm_delete"),
                        ]
                        .iter()
                        .filter(|(on, _)| *on)
                        .map(|(_, key)| t(locale, key))
                        .collect();
                        if ops.is_empty() {
                            format!("{}: {}", type_label(k), t(locale, "no_permissions"))
                        } else {
                            format!(
                                "{}: {} ({})",
                                type_label(k),
                                ops.join(sep),
                                t(locale, scope_key(p.scope))
                            )
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            json!({"name": r.name, "label": r.label.get(locale), "summary": summary})
        })
        .collect();
    let mut ctx = base(state, caller, "/admin/users");
    ctx.insert("users".into(), json!(users));
    ctx.insert("roles".into(), json!(roles));
    ctx.insert("error".into(), json!(error));
    ctx.insert("flash".into(), json!(flash));
    ctx.insert("invitation".into(), json!(invitation));
    page(StatusCode::OK, "admin_users.html", Json::Object(ctx))
}

/// An invitation as the users page shows it: the link, and whether it was mailed.
fn invitation_notice(
    caller: &crate::caller::Caller,
    invited: &crate::invitations::Invited,
) -> Json {
    let locale = locale_of(caller);
    let said = if invited.mailed {
        t(locale, "invite_mailed")
    } else {
        t(locale, "invite_pass_on")
    };
    json!({"link": invited.link, "text": said, "mail_error": invited.mail_error})
}

/// `POST /admin/users/{id}/invite`: a new one-time link for the user to set their password.
pub async fn invite_user(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    AdminForm { caller, form: _f }: AdminForm<serde::de::IgnoredAny>,
) -> Response {
    let (st, access) = (state.clone(), caller.access.clone());
    match state
        .blocking(move |_| crate::invitations::invite(&st, &access, id))
        .await
    {
        Ok(invited) => {
            let notice = invitation_notice(&caller, &invited);
            users_page(&state, &caller, None, None, Some(notice))
        }
        Err(e) => back_with_api_error("/admin/users", &e),
    }
}

/// The UI string of a scope.
fn scope_key(scope: Scope) -> &'static str {
    match scope {
        Scope::Own => "scope_own",
        Scope::Team => "scope_team",
        Scope::All => "scope_all",
    }
}

#[derive(Debug, Deserialize)]
pub struct UserForm {
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    /// Ticked: an invitation link instead of a password.
    #[serde(default)]
    invite: Option<String>,
    #[serde(default)]
    email: String,
    role: String,
    #[serde(default)]
    team: String,
    /// The new user's manager (a user id), or empty.
    #[serde(default)]
    manager: String,
}

/// `POST /admin/users`.
pub async fn add_user(
    State(state): State<AppState>,
    AdminForm { caller, form: f }: AdminForm<UserForm>,
) -> Response {
    let manager = match f.manager.trim() {
        "" => None,
        m => match m.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                let e = ApiError::from(qingguan_core::Error::field(
                    "manager",
                    qingguan_core::Reason::NotUserId,
                ));
                return back_with_api_error("/admin/users", &e);
            }
        },
    };
    let new = NewUser {
        username: f.username,
        display_name: Some(f.display_name).filter(|s| !s.trim().is_empty()),
        password: f.password,
        invite: f.invite.is_some(),
        role: f.role,
        team: Some(f.team).filter(|s| !s.trim().is_empty()),
        manager,
        email: Some(f.email.trim().to_string()).filter(|s| !s.is_empty()),
        locale: None,
    };
    let invite = new.invite;
    let access = caller.access.clone();
    let slot = state.logins().slot_waiting().await;
    let created = state
        .blocking(move |s| {
            let r = s.create_user(&access, &new, false);
            drop(slot);
            r
        })
        .await;
    match created {
        Ok(r) if invite => {
            let (st, access, id) = (state.clone(), caller.access.clone(), r.id);
            match state
                .blocking(move |_| crate::invitations::invite(&st, &access, id))
                .await
            {
                Ok(invited) => {
                    let notice = invitation_notice(&caller, &invited);
                    users_page(&state, &caller, None, None, Some(notice))
                }
                Err(e) => back_with_api_error("/admin/users", &e),
            }
        }
        Ok(_) => Redirect::to("/admin/users").into_response(),
        Err(e) => back_with_api_error("/admin/users", &e),
    }
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    password: String,
}

/// `POST /admin/users/{id}/password`: an administrator sets another user's password (their
/// sessions end). The password is never shown back; one's own is changed with the current
/// one, through the API.
pub async fn reset_password(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    AdminForm { caller, form: f }: AdminForm<PasswordForm>,
) -> Response {
    let access = caller.access.clone();
    let slot = state.logins().slot_waiting().await;
    let outcome = state
        .blocking(move |s| {
            // A user that does not exist is refused before a password is hashed for it.
            s.get(&access, "user", id)?;
            let r = s.set_password(&access, id, None, &f.password);
            drop(slot);
            r
        })
        .await;
    match outcome {
        Ok(()) => {
            state.forget_sessions();
            Redirect::to("/admin/users?done=password").into_response()
        }
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            back_with_error("/admin/users", &t(locale_of(&caller), "not_found"))
        }
        Err(e) => back_with_api_error("/admin/users", &e),
    }
}

/// `GET /admin/roles`: every role's permission per entity type, editable.
pub async fn roles(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Query(q): Query<ErrorQuery>,
) -> Response {
    if let Err(r) = admin_only(&state, &caller) {
        return r;
    }
    let locale = locale_of(&caller);
    let schema = state.store().schema();
    let mut targets: Vec<(String, String)> = vec![("*".into(), t(locale, "other_types"))];
    targets.extend(
        schema
            .entities()
            .iter()
            .filter(|e| !e.retired)
            .map(|e| (e.name.clone(), e.label.get(locale).to_string())),
    );
    let roles: Vec<Json> = state
        .store()
        .roles()
        .iter()
        .map(|r| {
            let perms: Vec<Json> = targets
                .iter()
                .map(|(name, label)| {
                    let p = if name == "*" { r.permissions.get("*").copied().unwrap_or(EntityPermission::NONE) } else { r.permission(name) };
                    let scope = match p.scope {
                        Scope::Own => "own",
                        Scope::Team => "team",
                        Scope::All => "all",
                    };
                    let limited = r.fields.get(name).map_or(0, |rules| rules.len());
                    json!({"entity": name, "label": label, "create": p.create, "read": p.read, "update": p.update, "delete": p.delete, "scope": scope, "limited": limited})
                })
                .collect();
            json!({"name": r.name, "label": r.label.get(locale), "label_en": r.label.en, "label_zh": r.label.zh_cn, "admin": r.admin, "perms": perms})
        })
        .collect();
    let mut ctx = base(&state, &caller, "/admin/roles");
    ctx.insert("roles".into(), json!(roles));
    ctx.insert("error".into(), json!(q.error));
    page(StatusCode::OK, "admin_roles.html", Json::Object(ctx))
}

/// `POST /admin/roles/{name}` (`new` creates one): labels and per-entity permissions.
pub async fn save_role(
    State(state): State<AppState>,
    Path(name): Path<String>,
    AdminForm {
        caller,
        form: pairs,
    }: AdminForm<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let existing = state.store().roles().into_iter().find(|r| r.name == name);
    let role = if name == "new" {
        Role {
            name: get("name"),
            label: Label::new(get("label_en"), get("label_zh")),
            admin: false,
            permissions: Default::default(),
            fields: Default::default(),
        }
    } else {
        let Some(old) = existing else {
            return back_with_error("/admin/roles", &t(locale_of(&caller), "no_role"));
        };
        let schema = state.store().schema();
        let mut permissions = std::collections::BTreeMap::new();
        let entities: Vec<String> = std::iter::once("*".to_string())
            .chain(
                schema
                    .entities()
                    .iter()
                    .filter(|e| !e.retired)
                    .map(|e| e.name.clone()),
            )
            .collect();
        for e in entities {
            let has = |op: &str| {
                pairs
                    .iter()
                    .any(|(k, v)| k == &format!("{e}.{op}") && v == "1")
            };
            let scope = match get(&format!("{e}.scope")).as_str() {
                "all" => Scope::All,
                "team" => Scope::Team,
                _ => Scope::Own,
            };
            let p = EntityPermission {
                create: has("create"),
                read: has("read"),
                update: has("update"),
                delete: has("delete"),
                scope,
            };
            permissions.insert(e, p);
        }
        let label = Label::new(
            Some(get("label_en"))
                .filter(|s| !s.is_empty())
                .unwrap_or(old.label.en.clone()),
            Some(get("label_zh"))
                .filter(|s| !s.is_empty())
                .unwrap_or(old.label.zh_cn.clone()),
        );
        let permissions = if old.admin {
            old.permissions.clone()
        } else {
            permissions
        };
        Role {
            name: old.name.clone(),
            label,
            admin: old.admin,
            permissions,
            // Field rules are set on their own page.
            fields: old.fields.clone(),
        }
    };
    let access = caller.access.clone();
    match state.blocking(move |s| s.put_role(&access, &role)).await {
        Ok(()) => {
            state.forget_sessions();
            Redirect::to("/admin/roles").into_response()
        }
        Err(e) => back_with_api_error("/admin/roles", &e),
    }
}
