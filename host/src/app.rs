//! The whole HTTP application as one `Router`, built by a function so tests can drive it.

use crate::api;
use crate::api::error::ApiError;
use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::any::Any;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

fn panic_response(err: Box<dyn Any + Send + 'static>) -> Response {
    let what = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    tracing::error!(panic = %what, "request handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the server could not complete the request; it has been logged",
    )
    .into_response()
}

/// Builds the application: `/api/v1` (JSON API and OpenAPI document), with request ids,
/// request spans, a body size limit and panic containment.
pub fn app(state: AppState) -> Router {
    let (api_router, doc) = api::router();
    state.set_openapi(doc);
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .nest("/api/v1", api_router)
        .merge(crate::ui::router())
        .fallback(|| async { ApiError::not_found("no such page") })
        .layer(DefaultBodyLimit::max(state.config().body_limit))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), id)
                })
                .on_response(DefaultOnResponse::new().level(Level::DEBUG)),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}
