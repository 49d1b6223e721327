//! The JSON API under `/api/v1`, with its OpenAPI document generated from the handlers.

pub mod attachments;
pub mod audit;
pub mod auth;
pub mod entities;
pub mod export;
pub mod extract;
pub mod health;
pub mod imports;
pub mod merge;
pub mod openapi;
pub mod plugin_dto;
pub mod plugin_jobs;
pub mod plugins;
pub mod records;
pub mod reports;
pub mod search;
pub mod tokens;
pub mod users;
pub mod webhooks;
pub mod workflows;

use crate::state::AppState;
use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::Router;
use tower::layer::util::{Identity, Stack};
use tower::ServiceBuilder;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The Content-Security-Policy of every page we serve (UI pages and plugin routes): only our
/// own scripts and styles, no framing.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

type HeaderLayers = Stack<
    SetResponseHeaderLayer<HeaderValue>,
    Stack<
        SetResponseHeaderLayer<HeaderValue>,
        Stack<
            SetResponseHeaderLayer<HeaderValue>,
            Stack<SetResponseHeaderLayer<HeaderValue>, Identity>,
        >,
    >,
>;

/// The headers of every page, whoever wrote it (the UI, or a plugin through its routes):
/// [`CSP`], `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff` and
/// `Referrer-Policy: same-origin`, replacing whatever the handler set.
pub fn page_headers() -> ServiceBuilder<HeaderLayers> {
    ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
}

/// The `/api/v1` routes and the OpenAPI document describing them.
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, api) = OpenApiRouter::with_openapi(openapi::base())
        .routes(routes!(health::health))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::get_me, auth::patch_me))
        .routes(routes!(entities::list_entities, entities::create_entity))
        .routes(routes!(entities::get_entity, entities::patch_entity))
        .routes(routes!(entities::add_field))
        .routes(routes!(entities::patch_field))
        .routes(routes!(entities::put_layout))
        .routes(routes!(entities::reindex))
        .routes(routes!(records::list, records::create))
        .routes(routes!(records::get, records::update, records::delete))
        .routes(routes!(records::history))
        .routes(routes!(records::timeline))
        .routes(routes!(export::export))
        .routes(routes!(records::bulk))
        .routes(routes!(records::duplicates))
        .routes(routes!(merge::merge))
        .routes(routes!(workflows::list_workflows))
        .routes(routes!(
            workflows::get_workflow,
            workflows::put_workflow,
            workflows::delete_workflow
        ))
        .routes(routes!(workflows::record_workflow))
        .routes(routes!(workflows::make_transition))
        .routes(routes!(workflows::decide))
        .routes(routes!(workflows::waiting))
        .routes(routes!(workflows::notifications))
        .routes(routes!(workflows::read_notifications))
        .routes(routes!(
            workflows::notification_choices,
            workflows::set_notification_choices
        ))
        .routes(routes!(
            workflows::get_delegation,
            workflows::put_delegation,
            workflows::delete_delegation
        ))
        .routes(routes!(attachments::list, attachments::upload))
        .routes(routes!(attachments::download, attachments::remove))
        .routes(routes!(search::search))
        .routes(routes!(audit::list))
        .routes(routes!(reports::list, reports::create))
        .routes(routes!(reports::get, reports::update, reports::delete))
        .routes(routes!(reports::pin))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::get, webhooks::update, webhooks::delete))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::delivery))
        .routes(routes!(webhooks::replay))
        .routes(routes!(tokens::issue, tokens::list))
        .routes(routes!(tokens::revoke))
        .routes(routes!(imports::upload, imports::list))
        .routes(routes!(imports::get))
        .routes(routes!(imports::check))
        .routes(routes!(imports::run))
        .routes(routes!(imports::undo))
        .routes(routes!(imports::resume))
        .routes(routes!(imports::invitations))
        .routes(routes!(users::create_user))
        .routes(routes!(users::set_password))
        .routes(routes!(users::invite))
        .routes(routes!(users::list_roles))
        .routes(routes!(users::put_role))
        .routes(routes!(plugins::list, plugins::install))
        .routes(routes!(plugins::get, plugins::remove))
        .routes(routes!(plugins::enable))
        .routes(routes!(plugins::disable))
        .routes(routes!(plugins::rollback))
        .routes(routes!(plugins::put_config))
        .routes(routes!(plugin_jobs::run_job))
        .routes(routes!(plugin_jobs::list_jobs))
        .routes(routes!(plugins::ask))
        .routes(routes!(plugins::action))
        .split_for_parts();
    let router = router
        .route("/openapi.json", get(openapi::serve))
        // Plugin routes may answer HTML: it gets the same headers as the UI's pages.
        .route(
            "/plugins/{id}/{*rest}",
            axum::routing::any(plugins::route).layer(page_headers()),
        )
        .fallback(|| async { crate::error::ApiError::not_found("no such API endpoint") });
    (router, api)
}
