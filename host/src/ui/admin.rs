//! Administration pages: users and roles, Studio (fields, labels, hiding, layout, custom
//! entity types) and plugins (upload, enable, disable, roll back, remove).

use super::render::{base, locale_of, message, page, t};
use super::session::{check_csrf, UiCaller};
use crate::api::error::ApiError;
use crate::api::extract::Caller;
use crate::plugins::InstallOptions;
use crate::state::AppState;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use qingguan_core::{
    EntityDef, EntityPermission, FieldDef, FieldPatch, FieldType, Label, Layout, ListQuery,
    NewUser, PartialLabel, Role, Scope, Section, SelectOption,
};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use std::collections::HashMap;

fn admin_only(state: &AppState, caller: &Caller) -> Result<(), Response> {
    if caller.access.is_admin() {
        Ok(())
    } else {
        Err(message(
            state,
            caller,
            StatusCode::FORBIDDEN,
            &t(locale_of(caller), "forbidden"),
            "",
        ))
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct ErrorQuery {
    #[serde(default)]
    error: Option<String>,
}

/// Back to a page with an API error: its message and the reason of each field.
fn back_with_api_error(path: &str, e: &ApiError) -> Response {
    let fields: Vec<String> = e.fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    back_with_error(path, format!("{} {}", e.message, fields.join("; ")).trim())
}

fn back_with_error(path: &str, error: &str) -> Response {
    let e: String = form_urlencoded::byte_serialize(error.as_bytes()).collect();
    Redirect::to(&format!("{path}?error={e}")).into_response()
}

/// `GET /admin/users`.
pub async fn users(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Query(q): Query<ErrorQuery>,
) -> Response {
    if let Err(r) = admin_only(&state, &caller) {
        return r;
    }
    let locale = locale_of(&caller);
    let list = state
        .store()
        .list(
            &caller.access,
            "user",
            &ListQuery::from_pairs([("sort", "username"), ("limit", "200")]).unwrap_or_default(),
        )
        .map(|p| p.items)
        .unwrap_or_default();
    let users: Vec<Json> = list
        .iter()
        .map(|u| json!({"id": u.id, "username": u.get("username").to_text(), "display_name": u.get("display_name").to_text(), "role": u.get("role").to_text(), "team": u.get("team").to_text(), "active": t(locale, if u.get("active") == &qingguan_core::Value::Bool(false) { "no" } else { "yes" })}))
        .collect();
    let roles: Vec<Json> = state
        .store()
        .roles()
        .iter()
        .map(|r| {
            let summary = if r.admin {
                "admin".to_string()
            } else {
                r.permissions
                    .iter()
                    .map(|(k, p)| {
                        format!(
                            "{k}: {}{}{}{} ({:?})",
                            if p.create { "C" } else { "" },
                            if p.read { "R" } else { "" },
                            if p.update { "U" } else { "" },
                            if p.delete { "D" } else { "" },
                            p.scope
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            json!({"name": r.name, "label": r.label.get(locale), "summary": summary})
        })
        .collect();
    let mut ctx = base(&state, &caller, "/admin/users");
    ctx.insert("users".into(), json!(users));
    ctx.insert("roles".into(), json!(roles));
    ctx.insert("error".into(), json!(q.error));
    page(StatusCode::OK, "admin_users.html", Json::Object(ctx))
}

#[derive(Debug, Deserialize)]
pub struct UserForm {
    csrf: String,
    username: String,
    #[serde(default)]
    display_name: String,
    password: String,
    role: String,
    #[serde(default)]
    team: String,
}

/// `POST /admin/users`.
pub async fn add_user(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Form(f): Form<UserForm>,
) -> Response {
    if let Err(r) = check_csrf(&caller, Some(&f.csrf)).and_then(|_| admin_only(&state, &caller)) {
        return r;
    }
    let new = NewUser {
        username: f.username,
        display_name: Some(f.display_name).filter(|s| !s.trim().is_empty()),
        password: f.password,
        role: f.role,
        team: Some(f.team).filter(|s| !s.trim().is_empty()),
        manager: None,
        email: None,
        locale: None,
    };
    let access = caller.access.clone();
    match state
        .blocking(move |s| s.create_user(&access, &new, false))
        .await
    {
        Ok(_) => Redirect::to("/admin/users").into_response(),
        Err(e) => back_with_api_error("/admin/users", &e),
    }
}

/// `GET /admin/studio`.
pub async fn studio(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Query(q): Query<ErrorQuery>,
) -> Response {
    if let Err(r) = admin_only(&state, &caller) {
        return r;
    }
    let locale = locale_of(&caller);
    let schema = state.store().schema();
    let entities: Vec<Json> = schema.entities().iter().map(|e| json!({"name": e.name, "label": e.label.get(locale), "origin": e.origin.as_string(), "retired": e.retired})).collect();
    let mut ctx = base(&state, &caller, "/admin/studio");
    ctx.insert("entities".into(), json!(entities));
    ctx.insert("error".into(), json!(q.error));
    page(StatusCode::OK, "admin_studio.html", Json::Object(ctx))
}

#[derive(Debug, Deserialize)]
pub struct EntityForm {
    csrf: String,
    name: String,
    label_en: String,
    label_zh: String,
}

/// `POST /admin/studio`: a new custom entity type with a name field.
pub async fn create_entity(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Form(f): Form<EntityForm>,
) -> Response {
    if let Err(r) = check_csrf(&caller, Some(&f.csrf)).and_then(|_| admin_only(&state, &caller)) {
        return r;
    }
    let def = EntityDef {
        name: f.name.trim().to_string(),
        label: Label::new(f.label_en.trim(), f.label_zh.trim()),
        fields: vec![FieldDef::new("name", FieldType::Text, "Name", "名称").required()],
        title_field: Some("name".into()),
        kanban_field: None,
        layout: None,
        indexes: Vec::new(),
    };
    let (access, name) = (caller.access.clone(), def.name.clone());
    match state
        .blocking(move |s| s.create_entity(&access, &def))
        .await
    {
        Ok(()) => Redirect::to(&format!("/admin/studio/{name}")).into_response(),
        Err(e) => back_with_api_error("/admin/studio", &e),
    }
}

/// `GET /admin/studio/{entity}`.
pub async fn studio_entity(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(entity): Path<String>,
    Query(q): Query<ErrorQuery>,
) -> Response {
    if let Err(r) = admin_only(&state, &caller) {
        return r;
    }
    let locale = locale_of(&caller);
    let schema = state.store().schema();
    let Some(e) = schema.entity(&entity) else {
        return message(
            &state,
            &caller,
            StatusCode::NOT_FOUND,
            &t(locale, "not_found"),
            &entity,
        );
    };
    let fields: Vec<Json> = e
        .fields
        .iter()
        .map(|f| json!({"name": f.def.name, "kind": f.def.kind.as_str(), "origin": f.origin.as_string(), "retired": f.retired, "hidden": f.hidden, "label_en": f.def.label.en, "label_zh": f.def.label.zh_cn}))
        .collect();
    let mut layout_text = String::new();
    for s in &e.layout.sections {
        layout_text.push_str(&format!("# {} | {}\n", s.title.en, s.title.zh_cn));
        for f in &s.fields {
            layout_text.push_str(f);
            layout_text.push('\n');
        }
    }
    let targets: Vec<Json> = schema
        .entities()
        .iter()
        .filter(|x| !x.retired)
        .map(|x| json!({"name": x.name, "label": x.label.get(locale)}))
        .collect();
    let mut ctx = base(&state, &caller, "/admin/studio");
    ctx.insert(
        "entity".into(),
        json!({"name": e.name, "label": e.label.get(locale)}),
    );
    ctx.insert("fields".into(), json!(fields));
    ctx.insert(
        "kinds".into(),
        json!(FieldType::ALL
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()),
    );
    ctx.insert("targets".into(), json!(targets));
    ctx.insert("layout_text".into(), json!(layout_text));
    ctx.insert(
        "columns_text".into(),
        json!(e.layout.list_columns.join(", ")),
    );
    ctx.insert("error".into(), json!(q.error));
    page(StatusCode::OK, "studio_entity.html", Json::Object(ctx))
}

/// Parses "value | English | 中文" lines.
fn parse_options(text: &str) -> Vec<SelectOption> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let parts: Vec<&str> = l.split('|').map(str::trim).collect();
            let value = parts[0].to_string();
            let en = parts.get(1).copied().unwrap_or(parts[0]);
            let zh = parts.get(2).copied().unwrap_or(en);
            SelectOption {
                value,
                label: Label::new(en, zh),
                color: None,
            }
        })
        .collect()
}

/// `POST /admin/studio/{entity}/fields`: adds a custom field.
pub async fn add_field(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(entity): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = check_csrf(&caller, f.get("csrf").map(String::as_str))
        .and_then(|_| admin_only(&state, &caller))
    {
        return r;
    }
    let back = format!("/admin/studio/{entity}");
    let kind: FieldType =
        match serde_json::from_value(json!(f.get("type").cloned().unwrap_or_default())) {
            Ok(k) => k,
            Err(_) => return back_with_error(&back, "unknown field type"),
        };
    let g = |k: &str| f.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let mut def = FieldDef::new(&g("name"), kind, &g("label_en"), &g("label_zh"));
    def.required = g("required") == "true";
    if matches!(kind, FieldType::Select | FieldType::MultiSelect) {
        def.options = parse_options(&g("options"));
    }
    if kind == FieldType::Reference {
        def.target = Some(g("target")).filter(|s| !s.is_empty());
    }
    let (access, ent) = (caller.access.clone(), entity.clone());
    match state
        .blocking(move |s| s.add_field(&access, &ent, &def))
        .await
    {
        Ok(()) => Redirect::to(&back).into_response(),
        Err(e) => back_with_api_error(&back, &e),
    }
}

/// `POST /admin/studio/{entity}/fields/{field}`: relabels and hides or shows a field.
pub async fn patch_field(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path((entity, field)): Path<(String, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = check_csrf(&caller, f.get("csrf").map(String::as_str))
        .and_then(|_| admin_only(&state, &caller))
    {
        return r;
    }
    let back = format!("/admin/studio/{entity}");
    let patch = FieldPatch {
        label: Some(PartialLabel {
            en: f.get("label_en").cloned().filter(|s| !s.trim().is_empty()),
            zh_cn: f.get("label_zh").cloned().filter(|s| !s.trim().is_empty()),
        }),
        hidden: Some(f.get("hidden").map(String::as_str) == Some("true")),
        ..Default::default()
    };
    let access = caller.access.clone();
    match state
        .blocking(move |s| s.patch_field(&access, &entity, &field, &patch))
        .await
    {
        Ok(()) => Redirect::to(&back).into_response(),
        Err(e) => back_with_api_error(&back, &e),
    }
}

#[derive(Debug, Deserialize)]
pub struct LayoutForm {
    csrf: String,
    layout: String,
    #[serde(default)]
    columns: String,
}

/// `POST /admin/studio/{entity}/layout`: sections and field order from the text editor.
pub async fn set_layout(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path(entity): Path<String>,
    Form(f): Form<LayoutForm>,
) -> Response {
    if let Err(r) = check_csrf(&caller, Some(&f.csrf)).and_then(|_| admin_only(&state, &caller)) {
        return r;
    }
    let back = format!("/admin/studio/{entity}");
    let mut sections: Vec<Section> = Vec::new();
    for line in f.layout.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(title) = line.strip_prefix('#') {
            let (en, zh) = title.split_once('|').unwrap_or((title, title));
            sections.push(Section {
                title: Label::new(en.trim(), zh.trim()),
                fields: vec![],
            });
        } else {
            if sections.is_empty() {
                sections.push(Section {
                    title: Label::new("Details", "详细信息"),
                    fields: vec![],
                });
            }
            if let Some(s) = sections.last_mut() {
                s.fields.push(line.to_string());
            }
        }
    }
    let layout = Layout {
        sections,
        list_columns: f
            .columns
            .split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect(),
    };
    let access = caller.access.clone();
    match state
        .blocking(move |s| s.set_layout(&access, &entity, &layout))
        .await
    {
        Ok(()) => Redirect::to(&back).into_response(),
        Err(e) => back_with_api_error(&back, &e),
    }
}

/// `GET /admin/plugins`.
pub async fn plugins(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Query(q): Query<ErrorQuery>,
) -> Response {
    if let Err(r) = admin_only(&state, &caller) {
        return r;
    }
    let list = state
        .plugins()
        .list()
        .map(|l| serde_json::to_value(l).unwrap_or_default())
        .unwrap_or_default();
    let mut ctx = base(&state, &caller, "/admin/plugins");
    ctx.insert("plugins".into(), list);
    ctx.insert("error".into(), json!(q.error));
    page(StatusCode::OK, "admin_plugins.html", Json::Object(ctx))
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
    mut form: Multipart,
) -> Response {
    if let Err(r) = check_csrf(&caller, Some(&cq.csrf)).and_then(|_| admin_only(&state, &caller)) {
        return r;
    }
    let (mut bytes, mut approve, mut name) = (Vec::new(), false, None);
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("file") => {
                name = field.file_name().map(String::from);
                match field.bytes().await {
                    Ok(b) => bytes = b.to_vec(),
                    Err(e) => return back_with_error("/admin/plugins", &e.to_string()),
                }
            }
            Some("approve") => approve = true,
            _ => {}
        }
    }
    if bytes.is_empty() {
        return back_with_error("/admin/plugins", "choose a .wasm file");
    }
    let plugins = state.plugins().clone();
    match tokio::task::spawn_blocking(move || {
        plugins.install(
            &bytes,
            InstallOptions {
                approve,
                source: name,
            },
        )
    })
    .await
    {
        Ok(Ok(_)) => {
            state.forget_sessions();
            Redirect::to("/admin/plugins").into_response()
        }
        Ok(Err(e)) => back_with_error("/admin/plugins", &e.to_string()),
        Err(_) => back_with_error("/admin/plugins", "install failed"),
    }
}

/// `POST /admin/plugins/{id}/{enable|disable|rollback|remove}`.
pub async fn plugin_op(
    State(state): State<AppState>,
    UiCaller(caller): UiCaller,
    Path((id, op)): Path<(String, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = check_csrf(&caller, f.get("csrf").map(String::as_str))
        .and_then(|_| admin_only(&state, &caller))
    {
        return r;
    }
    let plugins = state.plugins().clone();
    let outcome = tokio::task::spawn_blocking(move || match op.as_str() {
        "enable" => plugins.enable(&id).map(|_| ()),
        "disable" => plugins.disable(&id).map(|_| ()),
        "rollback" => plugins.rollback(&id).map(|_| ()),
        "remove" => plugins.remove(&id, false),
        _ => Err(crate::plugins::manager::LifecycleError::NotFound(format!(
            "no operation '{op}'"
        ))),
    })
    .await;
    match outcome {
        Ok(Ok(())) => Redirect::to("/admin/plugins").into_response(),
        Ok(Err(e)) => back_with_error("/admin/plugins", &e.to_string()),
        Err(_) => back_with_error("/admin/plugins", "failed"),
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
    let mut targets: Vec<(String, String)> = vec![("*".into(), "*".into())];
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
                    json!({"entity": name, "label": label, "create": p.create, "read": p.read, "update": p.update, "delete": p.delete, "scope": scope})
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
    UiCaller(caller): UiCaller,
    Path(name): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    if let Err(r) =
        check_csrf(&caller, Some(&get("csrf"))).and_then(|_| admin_only(&state, &caller))
    {
        return r;
    }
    let existing = state.store().roles().into_iter().find(|r| r.name == name);
    let role = if name == "new" {
        Role {
            name: get("name"),
            label: Label::new(get("label_en"), get("label_zh")),
            admin: false,
            permissions: Default::default(),
        }
    } else {
        let Some(old) = existing else {
            return back_with_error("/admin/roles", &format!("no role '{name}'"));
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
