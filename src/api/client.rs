//! The HTTP client: bearer auth, cursor pagination, pacing by the rate-limit headers, retries.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode, header::HeaderMap};
use serde::{Serialize, de::DeserializeOwned};

use super::wire::{ApiErrorBody, Collection};

/// A token that never shows itself in `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{endpoint}: {status} {}: {}{}{}", .body.title, .body.message, details(.body), hint(*.status))]
    Status { endpoint: String, status: u16, body: ApiErrorBody },
    #[error("{endpoint}: unexpected response: {path}: {message}")]
    Decode { endpoint: String, path: String, message: String },
    #[error("{endpoint}: {message} (after {attempts} attempt{}); check the base URL and the network, then retry", if *.attempts == 1 { "" } else { "s" })]
    Transport { endpoint: String, message: String, attempts: u32 },
    #[error("{endpoint}: the server returned the page token {token:?} twice; stopped following a pagination loop")]
    PageLoop { endpoint: String, token: String },
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

fn details(body: &ApiErrorBody) -> String {
    body.details
        .iter()
        .map(|d| match &d.parameter {
            Some(p) => format!("\n  - {p}: {}", d.message),
            None => format!("\n  - {}", d.message),
        })
        .collect()
}

fn hint(status: u16) -> &'static str {
    match status {
        401 => "\n  (check the token: CALENDLY_TOKEN or token_file must hold a valid Personal Access Token)",
        403 => "\n  (the token's user must be an admin or owner of the organization)",
        429 => "\n  (rate limit still exceeded after waiting; try again in a minute)",
        s if s >= 500 => "\n  (the server failed; retried already, try again later)",
        _ => "",
    }
}

/// Paces requests so that a long load uses the window without provoking 429.
#[derive(Debug, Default)]
struct Pacer {
    state: Mutex<PaceState>,
}

#[derive(Debug, Default)]
struct PaceState {
    /// Requests we may still send in this window (None: unknown, e.g. a new window).
    remaining: Option<u32>,
    reset_at: Option<Instant>,
}

impl Pacer {
    /// Waits until a request may be sent, and counts it.
    async fn acquire(&self) {
        loop {
            let wait = {
                let mut s = self.state.lock().expect("pacer lock");
                let now = Instant::now();
                if s.reset_at.is_some_and(|r| now >= r) {
                    s.remaining = None;
                    s.reset_at = None;
                }
                match (s.remaining, s.reset_at) {
                    (Some(0), Some(reset)) => reset - now + Duration::from_millis(50),
                    (Some(n), _) => {
                        s.remaining = Some(n.saturating_sub(1));
                        return;
                    }
                    (None, _) => return,
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    fn observe(&self, headers: &HeaderMap) {
        let num = |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        let (Some(remaining), Some(reset)) = (num("x-ratelimit-remaining"), num("x-ratelimit-reset")) else {
            return;
        };
        let reset_at = Instant::now() + Duration::from_secs(reset);
        let mut s = self.state.lock().expect("pacer lock");
        let same_window = s.reset_at.is_some_and(|r| reset_at <= r + Duration::from_millis(1500));
        let remaining = remaining as u32;
        // Keep a small reserve for requests already in flight.
        let usable = remaining.saturating_sub(RESERVE);
        s.remaining = Some(match (same_window, s.remaining) {
            (true, Some(local)) => local.min(usable),
            _ => usable,
        });
        if !same_window || s.reset_at.is_none() {
            s.reset_at = Some(reset_at);
        }
    }
}

const RESERVE: u32 = 2;
const MAX_IN_FLIGHT: usize = 6;
const MAX_ATTEMPTS: u32 = 4;
const MAX_RATE_LIMIT_WAITS: u32 = 6;

/// Called with (what, rows so far) while lists are fetched.
pub type Progress = Arc<dyn Fn(&str, usize) + Send + Sync>;

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: Secret,
    pacer: Arc<Pacer>,
    in_flight: Arc<tokio::sync::Semaphore>,
    pub(crate) backoff_base: Duration,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("base", &self.base).finish_non_exhaustive()
    }
}

pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Client {
    pub fn new(base_url: &str, token: Secret) -> Result<Client, ApiError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("groupmap/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Transport { endpoint: base_url.into(), message: e.to_string(), attempts: 0 })?;
        Ok(Client {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            token,
            pacer: Arc::default(),
            in_flight: Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT)),
            backoff_base: Duration::from_millis(250),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// A path on the base URL for a resource URI or path.
    fn url(&self, path_or_uri: &str) -> String {
        if path_or_uri.starts_with("http://") || path_or_uri.starts_with("https://") {
            path_or_uri.to_owned()
        } else {
            format!("{}{}", self.base, path_or_uri)
        }
    }

    fn endpoint(&self, method: &Method, url: &str) -> String {
        let path = url.strip_prefix(&self.base).unwrap_or(url);
        format!("{method} {path}")
    }

    /// Sends one request, retrying 429 (after the advertised wait) and, when `idempotent`,
    /// 5xx and transport failures with exponential backoff and jitter.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, String)],
        body: Option<&serde_json::Value>,
        idempotent: bool,
    ) -> Result<Response, ApiError> {
        let url = self.url(path);
        let endpoint = self.endpoint(&method, &url);
        let mut attempts = 0;
        let mut waits = 0;
        loop {
            attempts += 1;
            let _slot = self.in_flight.acquire().await.expect("semaphore never closed");
            self.pacer.acquire().await;
            let mut req = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(self.token.expose())
                .header("accept", "application/json");
            if !query.is_empty() {
                req = req.query(query);
            }
            for (k, v) in headers {
                req = req.header(*k, v);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            let result = match req.send().await {
                Ok(resp) => {
                    self.pacer.observe(resp.headers());
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    resp.bytes().await.map(|b| (status, headers, b.to_vec()))
                }
                Err(e) => Err(e),
            };
            drop(_slot);
            match result {
                Ok((status, headers, _)) if status == StatusCode::TOO_MANY_REQUESTS && waits < MAX_RATE_LIMIT_WAITS => {
                    // Not processed by the server, so safe to resend even when not idempotent.
                    waits += 1;
                    attempts -= 1;
                    tokio::time::sleep(rate_limit_wait(&headers)).await;
                }
                Ok((status, _, _)) if status.is_server_error() && idempotent && attempts < MAX_ATTEMPTS => {
                    tokio::time::sleep(self.backoff(attempts)).await;
                }
                Ok((status, headers, body)) => {
                    return Ok(Response { status: status.as_u16(), headers, body });
                }
                Err(e)
                    if idempotent
                        && attempts < MAX_ATTEMPTS
                        && (e.is_timeout() || e.is_connect() || e.is_request() || e.is_body()) =>
                {
                    tokio::time::sleep(self.backoff(attempts)).await;
                }
                Err(e) => {
                    return Err(ApiError::Transport { endpoint, message: describe(&e), attempts });
                }
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.backoff_base.saturating_mul(1 << attempt.min(6));
        let jittered = exp.mul_f64(0.5 + fastrand::f64());
        jittered.min(Duration::from_secs(8))
    }

    /// Turns a non-2xx response into an error carrying the server's `{title, message, details}`.
    pub fn check(&self, method: &Method, path: &str, resp: Response) -> Result<Response, ApiError> {
        if (200..300).contains(&resp.status) {
            return Ok(resp);
        }
        let endpoint = self.endpoint(method, &self.url(path));
        let mut body: ApiErrorBody = serde_json::from_slice(&resp.body).unwrap_or_default();
        if body.title.is_empty() {
            body.title =
                StatusCode::from_u16(resp.status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error").to_owned();
        }
        if body.message.is_empty() {
            body.message = String::from_utf8_lossy(&resp.body).chars().take(200).collect();
        }
        Err(ApiError::Status { endpoint, status: resp.status, body })
    }

    pub fn decode<T: DeserializeOwned>(&self, method: &Method, path: &str, body: &[u8]) -> Result<T, ApiError> {
        let de = &mut serde_json::Deserializer::from_slice(body);
        serde_path_to_error::deserialize(de).map_err(|e| ApiError::Decode {
            endpoint: self.endpoint(method, &self.url(path)),
            path: e.path().to_string(),
            message: e.inner().to_string(),
        })
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> Result<T, ApiError> {
        let resp = self.send(Method::GET, path, query, &[], None, true).await?;
        let resp = self.check(&Method::GET, path, resp)?;
        self.decode(&Method::GET, path, &resp.body)
    }

    /// A GET answered as raw bytes (the CSV export).
    pub async fn get_raw(&self, path: &str, query: &[(&str, &str)]) -> Result<Response, ApiError> {
        let resp = self.send(Method::GET, path, query, &[], None, true).await?;
        self.check(&Method::GET, path, resp)
    }

    pub async fn send_json<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, String)],
        body: &B,
    ) -> Result<Response, ApiError> {
        let value = serde_json::to_value(body).expect("request bodies serialize");
        let resp = self.send(method.clone(), path, &[], headers, Some(&value), false).await?;
        self.check(&method, path, resp)
    }

    /// Every item of a cursor-paginated list, 100 a page.
    pub async fn get_all<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        what: &str,
        progress: Option<&Progress>,
    ) -> Result<Vec<T>, ApiError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        loop {
            let mut q: Vec<(&str, &str)> = query.to_vec();
            q.push(("count", "100"));
            if let Some(t) = &token {
                q.push(("page_token", t));
            }
            let page: Collection<T> = self.get(path, &q).await?;
            out.extend(page.collection);
            if let Some(p) = progress {
                p(what, out.len());
            }
            match page.pagination.next_page_token {
                Some(next) if !next.is_empty() => {
                    if !seen.insert(next.clone()) {
                        return Err(ApiError::PageLoop {
                            endpoint: self.endpoint(&Method::GET, &self.url(path)),
                            token: next,
                        });
                    }
                    token = Some(next);
                }
                _ => return Ok(out),
            }
        }
    }
}

fn rate_limit_wait(headers: &HeaderMap) -> Duration {
    let secs = |name: &str| -> Option<f64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    let base = secs("retry-after").or_else(|| secs("x-ratelimit-reset")).unwrap_or(1.0);
    Duration::from_secs_f64(base.clamp(0.0, 120.0)) + Duration::from_millis(50 + fastrand::u64(0..200))
}

fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the response was cut off"
    } else {
        "request failed"
    };
    let mut msg = kind.to_owned();
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}
