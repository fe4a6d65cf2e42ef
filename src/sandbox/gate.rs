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
use super::{Shared, faults, lock};

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
    let is_save = req.method() == axum::http::Method::PUT && req.uri().path().ends_with("/group_mapping");
    let quota = {
        let mut limiter = lock(&shared.limiter);
        if authed { limiter.take(Instant::now()) } else { limiter.peek(Instant::now()) }
    };
    let (storm, random) = if authed && quota.allowed {
        let mut armed = lock(&shared.faults_armed);
        match armed.storm() {
            Some(wait) => (Some(wait), None),
            None if is_save && armed.refuse_save() => (None, Some(503)),
            None => (None, armed.random_error()),
        }
    } else {
        (None, None)
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
            format!("Rate limit of {} requests per {} exceeded; retry in {} s.", quota.limit, quota.per(), quota.reset),
        );
        e.retry_after = Some(quota.reset);
        e.into_response()
    } else if let Some(wait) = storm {
        shared.rate_limited.fetch_add(1, Ordering::Relaxed);
        let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Injected fault: a 429 storm.");
        e.retry_after = Some(wait);
        e.into_response()
    } else if let Some(status) = take_fault(&shared) {
        let mut e =
            ApiError::new(status, format!("Injected fault: the sandbox was told to answer {}.", status.as_u16()));
        if status == StatusCode::TOO_MANY_REQUESTS {
            shared.rate_limited.fetch_add(1, Ordering::Relaxed);
            e.retry_after = Some(1);
        }
        e.into_response()
    } else if let Some(status) = random {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError::new(status, format!("Injected fault: a random {}.", status.as_u16())).into_response()
    } else {
        next.run(req).await
    };
    let h = res.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(quota.limit));
    h.insert("x-ratelimit-remaining", HeaderValue::from(quota.remaining));
    h.insert("x-ratelimit-reset", HeaderValue::from(quota.reset));
    if authed { damage(&shared, res, is_save).await } else { res }
}

/// The faults that hit an answer on its way out: latency, a dropped save, cut-off bodies,
/// malformed JSON.
async fn damage(shared: &Shared, res: Response, is_save: bool) -> Response {
    let (latency, drop_save, cut, malformed) = {
        let mut armed = lock(&shared.faults_armed);
        let drop_save = is_save && res.status().is_success() && armed.drop_save();
        let cut = !drop_save && armed.cut_off();
        let json =
            res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
        let malformed = !drop_save && !cut && json && armed.malformed();
        (armed.latency(), drop_save, cut, malformed)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if !(drop_save || cut || malformed) {
        return res;
    }
    let (parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    if drop_save {
        // The save is applied; the answer never arrives.
        faults::cut(parts, bytes, 0)
    } else if cut {
        let keep = bytes.len() / 2;
        faults::cut(parts, bytes, keep)
    } else {
        faults::malformed(parts, bytes)
    }
}
