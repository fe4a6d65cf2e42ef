//! What every request passes first: the bearer token, the rate limit, injected faults; and the
//! `X-RateLimit-*` headers on every answer.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::{Shared, lock};

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Takes one injected fault, if any are pending.
fn take_fault(shared: &Shared) -> Option<StatusCode> {
    let mut faults = lock(&shared.faults);
    if faults.0 == 0 {
        return None;
    }
    faults.0 -= 1;
    Some(StatusCode::from_u16(faults.1).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
}

pub async fn gate(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let authed = bearer(req.headers()) == Some(shared.token.as_str());
    let quota = {
        let mut limiter = lock(&shared.limiter);
        if authed { limiter.take(Instant::now()) } else { limiter.peek(Instant::now()) }
    };
    let mut res = if !authed {
        let mut res = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "The access token is missing, expired or invalid. Send `Authorization: Bearer <token>`.",
        )
        .into_response();
        res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        res
    } else if !quota.allowed {
        shared.rate_limited.fetch_add(1, Ordering::Relaxed);
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Rate limit of {} requests per minute exceeded; retry in {} s.", quota.limit, quota.reset),
        );
        e.retry_after = Some(quota.reset);
        e.into_response()
    } else if let Some(status) = take_fault(&shared) {
        let mut e =
            ApiError::new(status, format!("Injected fault: the sandbox was told to answer {}.", status.as_u16()));
        if status == StatusCode::TOO_MANY_REQUESTS {
            shared.rate_limited.fetch_add(1, Ordering::Relaxed);
            e.retry_after = Some(1);
        }
        e.into_response()
    } else {
        next.run(req).await
    };
    let h = res.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(quota.limit));
    h.insert("x-ratelimit-remaining", HeaderValue::from(quota.remaining));
    h.insert("x-ratelimit-reset", HeaderValue::from(quota.reset));
    res
}
