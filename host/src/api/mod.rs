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
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
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

/// Where the API is served.
pub const PREFIX: &str = "/api/v1";

/// The `/api/v1` routes, each at its whole path, and the OpenAPI document describing them
/// (its paths relative to its server, [`PREFIX`]). Paths under the prefix that no route
/// serves are left to [`not_found`], which the application nests at the prefix.
///
/// The routes are registered at their whole paths rather than nested: `Router::nest` wraps
/// every route in two boxed layers that take the prefix off the request's URI (a new URI
/// built for each request) and record where it was nested, and no handler reads either.
pub fn router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut api) = OpenApiRouter::with_openapi(openapi::base())
        .at_v1(routes!(health::health))
        .at_v1(routes!(auth::login))
        .at_v1(routes!(auth::logout))
        .at_v1(routes!(auth::get_me, auth::patch_me))
        .at_v1(routes!(entities::list_entities, entities::create_entity))
        .at_v1(routes!(entities::get_entity, entities::patch_entity))
        .at_v1(routes!(entities::add_field))
        .at_v1(routes!(entities::patch_field))
        .at_v1(routes!(entities::put_layout))
        .at_v1(routes!(entities::reindex))
        .at_v1(routes!(records::list, records::create))
        .at_v1(routes!(records::get, records::update, records::delete))
        .at_v1(routes!(records::history))
        .at_v1(routes!(records::timeline))
        .at_v1(routes!(export::export))
        .at_v1(routes!(records::bulk))
        .at_v1(routes!(records::duplicates))
        .at_v1(routes!(merge::merge))
        .at_v1(routes!(workflows::list_workflows))
        .at_v1(routes!(
            workflows::get_workflow,
            workflows::put_workflow,
            workflows::delete_workflow
        ))
        .at_v1(routes!(workflows::record_workflow))
        .at_v1(routes!(workflows::make_transition))
        .at_v1(routes!(workflows::decide))
        .at_v1(routes!(workflows::waiting))
        .at_v1(routes!(workflows::notifications))
        .at_v1(routes!(workflows::read_notifications))
        .at_v1(routes!(
            workflows::notification_choices,
            workflows::set_notification_choices
        ))
        .at_v1(routes!(
            workflows::get_delegation,
            workflows::put_delegation,
            workflows::delete_delegation
        ))
        .at_v1(routes!(attachments::list, attachments::upload))
        .at_v1(routes!(attachments::download, attachments::remove))
        .at_v1(routes!(search::search))
        .at_v1(routes!(audit::list))
        .at_v1(routes!(reports::list, reports::create))
        .at_v1(routes!(reports::get, reports::update, reports::delete))
        .at_v1(routes!(reports::pin))
        .at_v1(routes!(webhooks::list, webhooks::create))
        .at_v1(routes!(webhooks::get, webhooks::update, webhooks::delete))
        .at_v1(routes!(webhooks::deliveries))
        .at_v1(routes!(webhooks::rotate_secret))
        .at_v1(routes!(webhooks::delivery))
        .at_v1(routes!(webhooks::replay))
        .at_v1(routes!(tokens::issue, tokens::list))
        .at_v1(routes!(tokens::revoke))
        .at_v1(routes!(imports::upload, imports::list))
        .at_v1(routes!(imports::get))
        .at_v1(routes!(imports::check))
        .at_v1(routes!(imports::run))
        .at_v1(routes!(imports::undo))
        .at_v1(routes!(imports::resume))
        .at_v1(routes!(imports::invitations))
        .at_v1(routes!(users::create_user))
        .at_v1(routes!(users::set_password))
        .at_v1(routes!(users::invite))
        .at_v1(routes!(users::list_roles))
        .at_v1(routes!(users::put_role))
        .at_v1(routes!(plugins::list, plugins::install))
        .at_v1(routes!(plugins::get, plugins::remove))
        .at_v1(routes!(plugins::enable))
        .at_v1(routes!(plugins::disable))
        .at_v1(routes!(plugins::rollback))
        .at_v1(routes!(plugins::put_config))
        .at_v1(routes!(plugin_jobs::run_job))
        .at_v1(routes!(plugin_jobs::list_jobs))
        .at_v1(routes!(plugins::ask))
        .at_v1(routes!(plugins::action))
        .split_for_parts();
    api.paths.paths = std::mem::take(&mut api.paths.paths)
        .into_iter()
        .map(|(path, item)| match path.strip_prefix(PREFIX) {
            Some(relative) => (relative.to_string(), item),
            None => (path, item),
        })
        .collect();
    let router = router
        .route(&format!("{PREFIX}/openapi.json"), get(openapi::serve))
        // Plugin routes may answer HTML: it gets the same headers as the UI's pages.
        .route(
            &format!("{PREFIX}/plugins/{{id}}/{{*rest}}"),
            axum::routing::any(plugins::route).layer(page_headers()),
        );
    (router, api)
}

/// The answer to a path under [`PREFIX`] that no route serves.
pub async fn not_found() -> crate::error::ApiError {
    crate::error::ApiError::not_found("no such API endpoint")
}

/// [`OpenApiRouter::routes`] with each path under [`PREFIX`].
trait AtV1 {
    fn at_v1(self, routes: UtoipaMethodRouter<AppState>) -> Self;
}

impl AtV1 for OpenApiRouter<AppState> {
    fn at_v1(self, (schemas, mut paths, method_router): UtoipaMethodRouter<AppState>) -> Self {
        paths.paths = std::mem::take(&mut paths.paths)
            .into_iter()
            .map(|(path, item)| (format!("{PREFIX}{path}"), item))
            .collect();
        self.routes((schemas, paths, method_router))
    }
}
