//! The one HTTP error type: every failure leaves the API as
//! `{"error": {"code", "message", "fields"}}` with a 4xx status (5xx only for real faults).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use qingguan_core::{Error as CoreError, FieldErrors, HookError, Locale, Reason};
use serde::Serialize;
use utoipa::ToSchema;

/// The code of a 503 that asks the client to retry (the plugin runtime is at capacity); it
/// carries `Retry-After`.
pub const AT_CAPACITY: &str = "at_capacity";

/// An API error: status, machine code, message and per-field reasons.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code (`validation_failed`, `stale_version`, …).
    pub code: &'static str,
    /// Human-readable summary.
    pub message: String,
    /// Field → why.
    pub fields: FieldErrors,
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Details of an error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable code.
    #[schema(example = "validation_failed")]
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// Per-field messages in the caller's language (empty when the error is not about
    /// fields).
    #[schema(value_type = Object)]
    pub fields: std::collections::BTreeMap<String, String>,
}

impl ApiError {
    /// An error without field detail.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            fields: FieldErrors::new(),
        }
    }

    /// 400 about one parameter or header (the host's own wording, in English).
    pub fn bad_request(param: &str, why: impl Into<String>) -> Self {
        let why = why.into();
        let mut e = ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("{param}: {why}"),
        );
        e.fields.insert(param.to_string(), Reason::Text(why));
        e
    }

    /// 401.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        let message = e.to_string();
        match e {
            CoreError::NotFound(_) => ApiError::not_found(message),
            CoreError::Validation { fields, .. } => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "validation_failed",
                message,
                fields,
            },
            CoreError::BadRequest { fields, .. } => ApiError {
                status: StatusCode::BAD_REQUEST,
                code: "bad_request",
                message,
                fields,
            },
            CoreError::Conflict { fields, .. } => ApiError {
                status: StatusCode::CONFLICT,
                code: "conflict",
                message,
                fields,
            },
            CoreError::StaleVersion { current, .. } => {
                let mut e = ApiError::new(StatusCode::CONFLICT, "stale_version", message);
                e.fields
                    .insert("version".into(), Reason::StaleVersion { current });
                e
            }
            CoreError::Forbidden(_) => ApiError::forbidden(message),
            CoreError::Unauthenticated(_) => ApiError::unauthenticated(message),
            CoreError::Hook(HookError::Rejected { fields, .. }) => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "rejected",
                message,
                fields,
            },
            CoreError::Hook(HookError::Failed(_)) => {
                tracing::warn!(error = %message, "a hook failed a write");
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "plugin_failed", message)
            }
            CoreError::Unavailable(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
            }
            CoreError::Database(_) => {
                tracing::error!(error = %message, "database failure");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the server could not complete the request; it has been logged",
                )
            }
        }
    }
}

tokio::task_local! {
    /// The language of the request being answered: the signed-in caller's once the caller
    /// extractor has run, English before. Field reasons render in it.
    static LOCALE: std::cell::Cell<Locale>;
}

/// Answers each request in English until the caller is known (the caller extractors then set
/// the caller's language), so that field reasons in error bodies read in the user's language.
/// A layer of its own rather than `axum::middleware::from_fn`, which boxes every request's
/// future and clones the services behind it.
#[derive(Debug, Clone, Copy, Default)]
pub struct InEnglishUntilKnown;

impl<S> tower::Layer<S> for InEnglishUntilKnown {
    type Service = InEnglishUntilKnownService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        InEnglishUntilKnownService(inner)
    }
}

/// The service of [`InEnglishUntilKnown`].
#[derive(Debug, Clone)]
pub struct InEnglishUntilKnownService<S>(S);

impl<S: tower::Service<R>, R> tower::Service<R> for InEnglishUntilKnownService<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = tokio::task::futures::TaskLocalFuture<std::cell::Cell<Locale>, S::Future>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        LOCALE.scope(std::cell::Cell::new(Locale::En), self.0.call(request))
    }
}

/// Sets the language of the current request (once the caller is known).
pub fn set_request_locale(locale: Locale) {
    let _ = LOCALE.try_with(|l| l.set(locale));
}

/// The language of the current request.
pub fn request_locale() -> Locale {
    LOCALE.try_with(|l| l.get()).unwrap_or_default()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
                fields: qingguan_core::render_fields(&self.fields, request_locale()),
            },
        };
        if body.error.code == AT_CAPACITY {
            return (
                self.status,
                [(axum::http::header::RETRY_AFTER, "1")],
                axum::Json(body),
            )
                .into_response();
        }
        (self.status, axum::Json(body)).into_response()
    }
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;
