//! The bundled web UI: server-rendered pages generated from the effective schema (list,
//! kanban, detail, forms for every entity type), a dashboard, search, and the admin pages
//! (users, Studio, plugins) — in Chinese and English, with a strict Content-Security-Policy and
//! CSRF tokens on every form. Our own small JavaScript adds the kanban drag and the reference
//! picker.

// Page handlers return a ready `Response` as their error (a rendered error page or a redirect).
#![allow(clippy::result_large_err)]

mod admin;
mod charts;
mod dashboard;
mod dashboard_arrange;
mod display;
mod extract;
mod i18n;
mod i18n_inbox;
mod i18n_records;
mod i18n_reports;
mod i18n_roles;
mod import_form;
mod imports;
mod inbox;
mod notify_choices;
mod plugin_pages;
mod records;
mod refusal;
mod render;
mod report_filter;
mod reports;
mod search;
mod session;
mod setup;
mod tokens;
mod welcome;

pub use inbox::mail_notifications;

use crate::state::AppState;
use axum::http::header;
use axum::routing::{get, post};
use axum::Router;

/// The UI routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::dashboard))
        .route(
            "/dashboard/arrange",
            get(dashboard_arrange::arrange).post(dashboard_arrange::save_arrangement),
        )
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/lang", post(session::language))
        .route("/setup", get(setup::setup_page).post(setup::setup))
        .route(
            "/welcome/{token}",
            get(welcome::welcome).post(welcome::accept),
        )
        .route("/search", get(search::search))
        .route("/inbox", get(inbox::inbox))
        .route("/tokens", get(tokens::tokens).post(tokens::issue))
        .route(
            "/reports",
            get(reports::reports).post(reports::create_report),
        )
        .route(
            "/reports/{id}",
            get(reports::report).post(reports::update_report),
        )
        .route("/reports/{id}/delete", post(reports::delete_report))
        .route("/reports/{id}/pin", post(reports::pin_report))
        .route("/tokens/{id}/revoke", post(tokens::revoke))
        .route("/inbox/read", post(inbox::mark_read))
        .route("/inbox/mail", post(inbox::mail_choice))
        .route("/inbox/choices", post(notify_choices::save))
        .route("/inbox/delegation", post(inbox::set_delegation))
        .route("/inbox/delegation/end", post(inbox::end_delegation))
        .route("/pick/{entity}", get(search::pick))
        .route("/e/{entity}", get(records::list))
        .route("/e/{entity}/kanban", get(records::kanban))
        .route("/e/{entity}/export.csv", get(records::export_csv))
        .route("/e/{entity}/export.xlsx", get(records::export_xlsx))
        .route("/e/{entity}/bulk", post(records::bulk_action))
        .route("/e/{entity}/{id}/activity", post(records::add_activity))
        .route(
            "/e/{entity}/{id}/attachments",
            post(records::upload_attachment),
        )
        .route(
            "/e/{entity}/{id}/attachments/{attachment}/delete",
            post(records::remove_attachment),
        )
        .route(
            "/e/{entity}/import",
            get(imports::upload_page).post(imports::upload),
        )
        .route(
            "/imports/{id}",
            get(imports::import_page).post(imports::import_action),
        )
        .route("/e/{entity}/kanban/totals", get(records::kanban_totals))
        .route("/e/{entity}/views", post(records::save_view))
        .route("/e/{entity}/views/{id}/rename", post(records::rename_view))
        .route("/e/{entity}/views/{id}/delete", post(records::delete_view))
        .route(
            "/e/{entity}/new",
            get(records::new_form).post(records::create),
        )
        .route("/e/{entity}/{id}", get(records::detail))
        .route(
            "/e/{entity}/{id}/edit",
            get(records::edit_form).post(records::update),
        )
        .route("/e/{entity}/{id}/delete", post(records::delete))
        .route("/e/{entity}/{id}/owner", post(records::change_owner))
        .route(
            "/e/{entity}/{id}/merge",
            get(records::merge_page).post(records::merge),
        )
        .route(
            "/e/{entity}/{id}/transition/{name}",
            post(records::transition),
        )
        .route(
            "/e/{entity}/{id}/approvals/{approval}",
            post(records::decide),
        )
        .route(
            "/e/{entity}/{id}/action/{plugin}/{action}",
            post(records::action),
        )
        .route(
            "/p/{plugin}/{*rest}",
            get(plugin_pages::plugin_page).post(plugin_pages::plugin_post),
        )
        .route("/admin/users", get(admin::users).post(admin::add_user))
        .route("/admin/users/{id}/password", post(admin::reset_password))
        .route("/admin/users/{id}/invite", post(admin::invite_user))
        .route(
            "/admin/settings",
            get(admin::settings).post(admin::save_settings),
        )
        .route("/admin/roles", get(admin::roles))
        .route("/admin/audit", get(admin::audit))
        .route(
            "/admin/dashboards",
            get(admin::dashboards).post(admin::save_dashboards),
        )
        .route("/admin/audit.csv", get(admin::audit_export))
        .route("/admin/workflows", get(admin::workflows))
        .route(
            "/admin/webhooks",
            get(admin::webhooks).post(admin::add_webhook),
        )
        .route("/admin/webhooks/{id}/{op}", post(admin::webhook_op))
        .route(
            "/admin/webhooks/deliveries/{id}/replay",
            post(admin::replay_delivery),
        )
        .route(
            "/admin/workflows/{entity}",
            get(admin::workflow).post(admin::save_workflow),
        )
        .route(
            "/admin/workflows/{entity}/remove",
            post(admin::remove_workflow),
        )
        .route("/admin/roles/{name}", post(admin::save_role))
        .route(
            "/admin/roles/{name}/fields/{entity}",
            get(admin::field_rules).post(admin::save_field_rules),
        )
        .route(
            "/admin/studio",
            get(admin::studio).post(admin::create_entity),
        )
        .route("/admin/studio/{entity}", get(admin::studio_entity))
        .route("/admin/studio/{entity}/fields", post(admin::add_field))
        .route(
            "/admin/studio/{entity}/fields/{field}",
            post(admin::patch_field),
        )
        .route(
            "/admin/studio/{entity}/fields/{field}/retire",
            post(admin::retire_field),
        )
        .route(
            "/admin/studio/{entity}/fields/{field}/unretire",
            post(admin::unretire_field),
        )
        .route("/admin/studio/{entity}/layout", post(admin::set_layout))
        .route("/admin/plugins", get(admin::plugins))
        .route("/admin/plugins/upload", post(admin::upload_plugin))
        .route("/admin/plugins/dismiss", post(admin::dismiss_attempt))
        .route("/admin/plugins/builtin", post(admin::install_builtin))
        .route("/admin/plugins/{id}/{op}", post(admin::plugin_op))
        .route("/admin/plugins/{id}/jobs/{job}", post(admin::run_job))
        .route(
            "/static/app.css",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                        (header::CACHE_CONTROL, "max-age=300"),
                    ],
                    include_str!("assets/app.css"),
                )
            }),
        )
        .route(
            "/static/app.js",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                        (header::CACHE_CONTROL, "max-age=300"),
                    ],
                    include_str!("assets/app.js"),
                )
            }),
        )
        .route(
            "/static/studio.js",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                        (header::CACHE_CONTROL, "max-age=300"),
                    ],
                    include_str!("assets/studio.js"),
                )
            }),
        )
        .layer(crate::api::page_headers())
}
