//! The whole HTTP application as one `Router`, built by a function so tests can drive it.

use crate::api;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::any::Any;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

/// Request ids `<process prefix>-<counter>`: unique across the process's life and its
/// restarts (the prefix is random), and cheaper than a random UUID per request.
#[derive(Clone)]
struct SequentialIds {
    prefix: std::sync::Arc<str>,
    next: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl SequentialIds {
    fn new() -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ (std::process::id() as u64).rotate_left(32);
        SequentialIds {
            prefix: format!("{:012x}", seed & 0xffff_ffff_ffff).into(),
            next: Default::default(),
        }
    }
}

impl MakeRequestId for SequentialIds {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // The id's text becomes the header's bytes as it is, not copied again.
        let id = axum::body::Bytes::from(format!("{}-{n}", self.prefix));
        axum::http::HeaderValue::from_maybe_shared(id)
            .ok()
            .map(RequestId::new)
    }
}

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
///
/// The layers wrap the routed application once, outside it, rather than each route
/// (`Router::layer` boxes every layer around every route, so each request would clone and
/// drop a boxed service per layer); they still see every request, the fallback's too.
/// The returned `Router` has no routes of its own: a route added to it, or merged into it,
/// would go around the layers (request ids, body limit, panic containment), so routes belong
/// in the routed application built here.
pub fn app(state: AppState) -> Router {
    let (api_router, doc) = api::router();
    state.set_openapi(api::openapi::with_common_responses(
        serde_json::to_value(doc).unwrap_or_default(),
    ));
    let request_id = HeaderName::from_static("x-request-id");
    let body_limit = state.config().body_limit;
    let routed = Router::new()
        .merge(api_router)
        .nest(api::PREFIX, Router::new().fallback(api::not_found))
        .merge(crate::ui::router())
        .fallback(|| async { ApiError::not_found("no such page") })
        .with_state(state);
    let layered = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(
            request_id.clone(),
            SequentialIds::new(),
        ))
        .layer(PropagateRequestIdLayer::new(request_id))
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
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(crate::error::InEnglishUntilKnown)
        .service(routed);
    Router::new().fallback_service(layered)
}
