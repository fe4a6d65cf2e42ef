//! Errors in the contract's shape: `{"title","message","details":[...]}` with Calendly's titles.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::service::calendly::wire::{ApiErrorBody, ErrorDetail};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ApiErrorBody,
    /// Seconds, sent as `Retry-After` (429 only).
    pub retry_after: Option<u64>,
}

/// The contract's title for a status.
pub fn title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Invalid Argument",
        401 => "Unauthenticated",
        403 => "Permission Denied",
        404 => "Resource Not Found",
        409 => "Conflict",
        412 => "Precondition Failed",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        _ => status.canonical_reason().unwrap_or("Internal Server Error"),
    }
}

pub fn detail(parameter: &str, message: impl Into<String>, code: &str) -> ErrorDetail {
    ErrorDetail { parameter: Some(parameter.to_owned()), message: message.into(), code: Some(code.to_owned()) }
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: ApiErrorBody {
                title: title(status).to_owned(),
                message: message.into(),
                details: Vec::new(),
                required_scopes: Vec::new(),
            },
            retry_after: None,
        }
    }

    /// 400 with one detail per problem.
    pub fn invalid(message: impl Into<String>, details: Vec<ErrorDetail>) -> ApiError {
        let mut e = ApiError::new(StatusCode::BAD_REQUEST, message);
        e.body.details = details;
        e
    }

    /// 400 naming one parameter.
    pub fn param(parameter: &str, message: impl Into<String>, code: &str) -> ApiError {
        let message = message.into();
        ApiError::invalid("The supplied parameters are invalid.", vec![detail(parameter, message, code)])
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn forbidden() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "You do not have permission to access this resource.")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = (self.status, Json(self.body)).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
