//! Templates (minijinja, auto-escaped) and the context every page shares.

use super::i18n;
use crate::caller::Caller;
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;
use qingguan_core::Locale;
use serde_json::{json, Map, Value as Json};
use std::sync::OnceLock;

pub use super::display::{
    display, entity_label, for_record, local_time, local_time_text, state_label, title_of, zone_of,
};

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, src) in [
            ("base.html", include_str!("templates/base.html")),
            ("login.html", include_str!("templates/login.html")),
            ("message.html", include_str!("templates/message.html")),
            ("dashboard.html", include_str!("templates/dashboard.html")),
            ("list.html", include_str!("templates/list.html")),
            ("kanban.html", include_str!("templates/kanban.html")),
            ("detail.html", include_str!("templates/detail.html")),
            ("form.html", include_str!("templates/form.html")),
            ("search.html", include_str!("templates/search.html")),
            ("import.html", include_str!("templates/import.html")),
            ("tokens.html", include_str!("templates/tokens.html")),
            ("welcome.html", include_str!("templates/welcome.html")),
            (
                "admin_webhooks.html",
                include_str!("templates/admin_webhooks.html"),
            ),
            (
                "admin_dashboards.html",
                include_str!("templates/admin_dashboards.html"),
            ),
            (
                "admin_audit.html",
                include_str!("templates/admin_audit.html"),
            ),
            (
                "import_upload.html",
                include_str!("templates/import_upload.html"),
            ),
            (
                "plugin_page.html",
                include_str!("templates/plugin_page.html"),
            ),
            (
                "admin_users.html",
                include_str!("templates/admin_users.html"),
            ),
            (
                "admin_studio.html",
                include_str!("templates/admin_studio.html"),
            ),
            (
                "studio_entity.html",
                include_str!("templates/studio_entity.html"),
            ),
            (
                "admin_plugins.html",
                include_str!("templates/admin_plugins.html"),
            ),
            (
                "admin_roles.html",
                include_str!("templates/admin_roles.html"),
            ),
            (
                "admin_role_fields.html",
                include_str!("templates/admin_role_fields.html"),
            ),
            ("reports.html", include_str!("templates/reports.html")),
            ("merge.html", include_str!("templates/merge.html")),
            (
                "dashboard_arrange.html",
                include_str!("templates/dashboard_arrange.html"),
            ),
            ("report.html", include_str!("templates/report.html")),
            (
                "report_builder.html",
                include_str!("templates/report_builder.html"),
            ),
            (
                "report_chart.html",
                include_str!("templates/report_chart.html"),
            ),
            (
                "admin_settings.html",
                include_str!("templates/admin_settings.html"),
            ),
            ("setup.html", include_str!("templates/setup.html")),
            ("inbox.html", include_str!("templates/inbox.html")),
            (
                "admin_workflows.html",
                include_str!("templates/admin_workflows.html"),
            ),
            (
                "admin_workflow.html",
                include_str!("templates/admin_workflow.html"),
            ),
        ] {
            env.add_template(name, src).expect("template parses");
        }
        env
    })
}

/// Some UI strings of a locale by key, for a page's own words (`W.key` or `I.key`).
pub fn words(locale: Locale, keys: &[&str]) -> Json {
    Json::Object(
        keys.iter()
            .map(|k| (k.to_string(), json!(t(locale, k))))
            .collect(),
    )
}

/// All UI strings of a locale, for templates (`T.key`).
pub fn strings(locale: Locale) -> Json {
    let keys = [
        "shortcuts",
        "shortcut_search",
        "shortcut_new",
        "shortcut_edit",
        "shortcut_jump",
        "shortcut_help",
        "shortcut_close",
        "export_csv",
        "api_tokens",
        "kanban_mine",
        "kanban_fold",
        "my_activities",
        "bulk_select_all",
        "bulk_ticked",
        "bulk_set",
        "bulk_owner",
        "bulk_apply",
        "invite",
        "invite_instead",
        "email",
        "webhooks",
        "audit_log",
        "dashboards",
        "export_xlsx",
        "import",
        "inbox",
        "mark_all_read",
        "inbox_empty",
        "workflow",
        "workflows",
        "state",
        "needs_approval",
        "pending_approval",
        "step",
        "waiting_for",
        "approve",
        "reject",
        "comment",
        "approvals_trail",
        "workflow_definition",
        "workflow_help",
        "remove_workflow",
        "no_workflow",
        "waiting_for_me",
        "app",
        "login",
        "logout",
        "username",
        "password",
        "home",
        "search",
        "search_placeholder",
        "no_results",
        "new",
        "edit",
        "delete",
        "save",
        "cancel",
        "list",
        "kanban",
        "filter",
        "any",
        "clear",
        "next_page",
        "first_page",
        "saved_views",
        "save_view",
        "view_name",
        "history",
        "related",
        "owner",
        "updated_at",
        "yes",
        "no",
        "back_home",
        "admin",
        "users",
        "roles",
        "studio",
        "plugins",
        "dashboard",
        "records",
        "by_status",
        "fields",
        "add_field",
        "field_name",
        "field_type",
        "label_en",
        "label_zh",
        "required",
        "hidden",
        "options_help",
        "target",
        "number_format",
        "formula_expression",
        "formula_expression_help",
        "number_format_help",
        "field_currency",
        "field_currency_help",
        "company_currency",
        "origin",
        "layout",
        "layout_help",
        "kanban_showing_recent",
        "kanban_show_all",
        "kanban_showing_all",
        "kanban_show_recent",
        "unretire",
        "default_value",
        "new_section",
        "layout_drag_help",
        "remove_section",
        "list_columns_help",
        "order",
        "layout_as_text",
        "layout_as_editor",
        "list_columns",
        "new_entity",
        "entity_name",
        "apply",
        "display_name",
        "role",
        "team",
        "active",
        "add_user",
        "status",
        "version",
        "versions",
        "faults",
        "last_attempt",
        "upload",
        "approve",
        "enable",
        "disable",
        "rollback",
        "remove",
        "actions",
        "pick",
        "drag_hint",
        "permissions",
        "confirm_delete",
        "by",
        "operator",
        "filter_value",
        "dismiss",
        "technical_detail",
        "perm_create",
        "perm_read",
        "perm_update",
        "perm_delete",
        "perm_scope",
        "field_access",
        "reports",
        "move_up",
        "timeline_older",
        "dashboard_arrange",
        "scope_own",
        "scope_team",
        "scope_all",
        "all_permissions",
        "plugin",
        "plugin_error",
        "capabilities",
        "approve_help",
        "builtin_plugins",
        "builtin_help",
        "builtin_installed",
        "retired",
        "set_by_system_short",
        "jobs",
        "job",
        "job_schedule",
        "job_progress_head",
        "job_updated",
        "run_now",
        "manifest_optional",
        "manifest_help",
        "change_owner",
        "reassign",
        "no_owner",
        "rename",
        "manage_view",
        "confirm_delete_view",
        "manager",
        "no_manager",
        "new_password",
        "reset_password",
        "settings",
        "default_language",
        "default_language_help",
        "time_zone",
        "time_zone_help",
        "company_currency_help",
        "setup",
        "setup_help",
        "setup_done",
        "password_again",
        "create_admin",
    ];
    Json::Object(
        keys.iter()
            .map(|k| (k.to_string(), json!(i18n::t(locale, k))))
            .collect(),
    )
}

/// A UI string.
pub fn t(locale: Locale, key: &str) -> String {
    i18n::t(locale, key)
}

/// The locale of a signed-in user: their choice (the language switch), else their browser's
/// (`UiCaller` applies `Accept-Language`), else the install's default (`Store::default_locale`).
pub fn locale_of(caller: &Caller) -> Locale {
    caller.locale()
}

/// Renders a template with `status`.
pub fn page(status: StatusCode, name: &str, ctx: Json) -> Response {
    match env()
        .get_template(name)
        .and_then(|t| t.render(minijinja::value::Serde(&ctx)))
    {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(template = name, error = %e, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<h1>Template error</h1>".to_string()),
            )
                .into_response()
        }
    }
}

/// The context every signed-in page has: strings, navigation, user, CSRF token.
pub fn base(state: &AppState, caller: &Caller, path: &str) -> Map<String, Json> {
    let locale = locale_of(caller);
    let schema = state.store().schema();
    let mut nav = Vec::new();
    let current = path
        .trim_start_matches("/e/")
        .split('/')
        .next()
        .unwrap_or("");
    let plugins = state.plugins().calls().list();
    // A plugin that declares a menu decides which of its entity types get an entry; the
    // others stay reachable from its pages, related lists and links.
    let plugin_entities: Vec<&str> = plugins
        .iter()
        .filter(|p| !p.manifest.menu.is_empty())
        .flat_map(|p| p.manifest.entities.iter().map(|e| e.name.as_str()))
        .collect();
    for e in schema.entities() {
        if e.retired
            || e.name == "user"
            || !caller.access.permission(&e.name).read
            // Rates are everyone's to read (amounts are converted at them), in the menu of
            // those who keep them.
            || (e.name == qingguan_core::schema::EXCHANGE_RATE
                && !caller.access.permission(&e.name).create)
            || plugin_entities.contains(&e.name.as_str())
        {
            continue;
        }
        nav.push(json!({"label": e.label.get(locale), "href": format!("/e/{}", e.name), "entity": e.name, "active": path.starts_with("/e/") && current == e.name}));
    }
    for p in plugins.iter() {
        for m in &p.manifest.menu {
            // An entry that names an entity type is for the people who work on that type; a
            // route entry that also names one links to the route and is gated by the type.
            if let Some(ent) = &m.entity {
                match schema.entity(ent) {
                    Some(e) if !e.retired && works_on(caller, &p.manifest, ent) => {}
                    _ => continue,
                }
            }
            match (&m.route, &m.entity) {
                (Some(route), _) => {
                    let href = format!("/p/{}{}", p.manifest.id, route);
                    nav.push(json!({"label": m.label.get(locale), "href": href, "entity": m.entity.as_deref().unwrap_or(""), "active": path == href}));
                }
                (None, Some(ent)) => {
                    let view = if m.view.as_deref() == Some("kanban") {
                        "/kanban"
                    } else {
                        ""
                    };
                    nav.push(json!({"label": m.label.get(locale), "href": format!("/e/{ent}{view}"), "entity": ent, "active": path.starts_with("/e/") && current == ent}));
                }
                (None, None) => {}
            }
        }
    }
    let mut m = Map::new();
    m.insert("locale".into(), json!(locale.as_str()));
    m.insert("T".into(), strings(locale));
    m.insert("nav".into(), Json::Array(nav));
    let unread = state
        .store()
        .unread_notifications(&caller.access)
        .unwrap_or(0);
    m.insert("me".into(), json!({"display_name": caller.user.display_name, "admin": caller.user.admin, "id": caller.user.id, "unread": unread}));
    m.insert("csrf".into(), json!(caller.csrf));
    m.insert("path".into(), json!(path));
    m
}

/// Whether a plugin's menu entry for entity type `entity` belongs in the caller's menu: they
/// can read the type, and either may change it or read it for more than the plugin's pages. A
/// plugin's own read-only defaults for a role (`[permissions.<role>]` in its manifest) let its
/// pages show the role those records — a rep reads cycles, job profiles and grade bands for
/// "My appraisal" — and do not make the type's list a place the role works in. An
/// administrator who gives the role more than reading brings the entry back.
pub fn works_on(caller: &Caller, manifest: &qingguan_runtime::Manifest, entity: &str) -> bool {
    let p = caller.access.permission(entity);
    if caller.access.is_admin() || p.create || p.update || p.delete {
        return true;
    }
    if !p.read {
        return false;
    }
    let plugin_default = manifest
        .permissions
        .get(&caller.access.role.name)
        .and_then(|perms| perms.get(entity));
    !matches!(plugin_default, Some(d) if d.read && !d.create && !d.update && !d.delete)
}

/// A page with a heading and a message (errors, refusals).
pub fn message(
    state: &AppState,
    caller: &Caller,
    status: StatusCode,
    heading: &str,
    text: &str,
) -> Response {
    let mut ctx = base(state, caller, "");
    ctx.insert("heading".into(), json!(heading));
    ctx.insert("message".into(), json!(text));
    page(status, "message.html", Json::Object(ctx))
}

/// The page for a core error.
pub fn core_error(state: &AppState, caller: &Caller, e: qingguan_core::Error) -> Response {
    let locale = locale_of(caller);
    let api = crate::error::ApiError::from(e);
    let heading = match api.status {
        StatusCode::FORBIDDEN => t(locale, "forbidden"),
        StatusCode::NOT_FOUND => t(locale, "not_found"),
        _ => t(locale, "error"),
    };
    let text = crate::ui::refusal::refusal_text(&state.store().schema(), locale, None, &api);
    // The heading already says it when the detail would only repeat it.
    let text = if text == heading { String::new() } else { text };
    message(state, caller, api.status, &heading, &text)
}

/// The record types the caller may read (not retired), as `{name, label}` in their language.
pub fn readable_types(state: &AppState, caller: &Caller) -> Vec<Json> {
    let locale = locale_of(caller);
    state
        .store()
        .schema()
        .entities()
        .iter()
        .filter(|e| !e.retired && caller.access.permission(&e.name).read)
        .map(|e| json!({"name": e.name, "label": e.label.get(locale)}))
        .collect()
}
