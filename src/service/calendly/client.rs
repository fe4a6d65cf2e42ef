//! The HTTP client: bearer auth, cursor pagination, pacing by the rate-limit headers, retries.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode, header::HeaderMap};
use serde::{Serialize, de::DeserializeOwned};

pub use super::error::ApiError;
use super::log::{LOG, Logged};
pub use super::pacer::RateWindow;
use super::pacer::{Pacer, rate_limit_wait};
use super::redact::redact;
pub use super::secret::Secret;
pub use super::wire::ListItem;
use super::wire::{ApiErrorBody, Collection};
use crate::domain::text::sanitize;

const MAX_IN_FLIGHT: usize = 6;
/// Calendly's page tokens are tens of bytes; a longer one is sent back in the URL and makes it
/// too long for servers, so it is refused at once with its real cause.
const MAX_PAGE_TOKEN: usize = 4096;
/// Longer request addresses are refused by common servers and proxies (8 KiB is nginx's and
/// Apache's line limit): a connection dropped while one was sent is blamed on its length.
const LONG_URL: usize = 8 * 1024;

/// How patient the client is. The defaults suit the real API; tests shorten them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientOptions {
    /// The deadline for one request, from connecting to the last byte of the answer. An answer
    /// still arriving at the deadline is not asked for again: the server is up, just too slow.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Tries of an idempotent request that failed with 5xx, a transport error or broken JSON.
    pub max_attempts: u32,
    /// Backoff before retry `n` is `backoff_base * 2^n`, jittered to 50-150 %, at most `backoff_cap`.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// 429 answers waited out (Retry-After, else X-RateLimit-Reset) before giving up.
    pub max_rate_limit_waits: u32,
    /// Pages read from one list before it is taken for an endless stream. 100,000 users at 100
    /// a page are 1,000 pages.
    pub max_pages: usize,
    /// While following a mapping job: how often to ask, and how long it may make no progress.
    pub job_poll: Duration,
    pub job_stall: Duration,
    /// How long a job is followed at all: a server whose job always seems to progress (and so
    /// never stalls) must not keep the admin waiting for ever.
    pub job_deadline: Duration,
    /// The most bytes read of one answer (a JSON page, a job): more is taken for a broken or
    /// hostile server, and reading stops there.
    pub max_body: u64,
    /// The same for the CSV user export, which grows with the organization.
    pub max_export_body: u64,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_attempts: 4,
            backoff_base: Duration::from_millis(250),
            backoff_cap: Duration::from_secs(8),
            max_rate_limit_waits: 6,
            max_pages: 20_000,
            job_poll: Duration::from_millis(250),
            job_stall: Duration::from_secs(300),
            job_deadline: Duration::from_secs(30 * 60),
            max_body: 16 << 20,
            max_export_body: 512 << 20,
        }
    }
}

pub use crate::service::Progress;
use crate::service::loading::List;

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    /// The base URL's origin (`https://api.calendly.com`), the only one that sees the token;
    /// None when the base URL is not a valid http(s) URL.
    origin: Option<String>,
    token: Secret,
    pacer: Arc<Pacer>,
    in_flight: Arc<tokio::sync::Semaphore>,
    opts: ClientOptions,
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
        Client::with_options(base_url, token, ClientOptions::default())
    }

    pub fn with_options(base_url: &str, token: Secret, opts: ClientOptions) -> Result<Client, ApiError> {
        let base = base_url.trim_end_matches('/').to_owned();
        let origin = reqwest::Url::parse(&base).ok().as_ref().and_then(origin_of);
        let home = origin.clone();
        // reqwest drops the token on a redirect to another host, and the answer would then be a
        // 401 blamed on the token: such a redirect is not followed, and `send` names it instead.
        let redirects = reqwest::redirect::Policy::custom(move |a| {
            if a.previous().len() >= 10 {
                a.error("more than 10 redirects")
            } else if home.is_some() && origin_of(a.url()) == home {
                a.follow()
            } else {
                a.stop()
            }
        });
        let http = reqwest::Client::builder()
            .redirect(redirects)
            .connect_timeout(opts.connect_timeout)
            .timeout(opts.timeout)
            .user_agent(concat!("groupmap/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Transport { endpoint: base_url.into(), message: e.to_string(), attempts: 0 })?;
        Ok(Client {
            http,
            base,
            origin,
            token,
            pacer: Arc::default(),
            in_flight: Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT)),
            opts,
        })
    }

    pub fn options(&self) -> &ClientOptions {
        &self.opts
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The URL of a path on the base URL, or of an absolute URI the server handed out (a job).
    /// Checked after joining, so that a "path" like `@evil.test/x` or `.evil.test/x` cannot
    /// move the host either.
    fn url(&self, method: &Method, path_or_uri: &str) -> Result<reqwest::Url, ApiError> {
        let url = match reqwest::Url::parse(path_or_uri) {
            Ok(absolute) => Ok(absolute),
            Err(_) => reqwest::Url::parse(&format!("{}{}", self.base, path_or_uri)),
        };
        let url = url.map_err(|e| ApiError::Transport {
            endpoint: self.endpoint(method, path_or_uri),
            message: format!("not a valid address ({e})"),
            attempts: 0,
        })?;
        self.on_base(&url, || self.endpoint(method, path_or_uri), "the address is on")?;
        Ok(url)
    }

    /// Refuses a URL on another origin than the base URL's: the token is for the API only.
    fn on_base(&self, url: &reqwest::Url, endpoint: impl Fn() -> String, how: &'static str) -> Result<(), ApiError> {
        let theirs = origin_of(url);
        if theirs.is_some() && theirs == self.origin {
            return Ok(());
        }
        Err(ApiError::ForeignOrigin {
            endpoint: endpoint(),
            how,
            origin: sanitize(&self.redact(&theirs.unwrap_or_else(|| url.scheme().to_owned() + ":"))).into_owned(),
            base: self.origin.clone().unwrap_or_else(|| sanitize(&self.base).into_owned()),
        })
    }

    /// `GET /groups`, for errors; a path too long to read is shortened.
    fn endpoint(&self, method: &Method, path_or_uri: &str) -> String {
        let path = path_or_uri.strip_prefix(&self.base).unwrap_or(path_or_uri);
        let path = match path.char_indices().nth(200) {
            Some((cut, _)) => format!("{}… ({} bytes)", &path[..cut], path.len()),
            None => path.to_owned(),
        };
        format!("{method} {}", sanitize(&self.redact(&path)))
    }

    /// The larger cap is for the CSV user export, the one answer that grows with the users.
    fn body_cap(&self, path: &str) -> u64 {
        if path.ends_with("/user_export") { self.opts.max_export_body } else { self.opts.max_body }
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
        // Before anything is sent: a URL on another origin never sees the token.
        let url = self.url(&method, path)?;
        let endpoint = self.endpoint(&method, path);
        let cap = self.body_cap(path);
        let mut attempts = 0;
        let mut waits = 0;
        loop {
            attempts += 1;
            let queued = std::time::Instant::now();
            let _slot = self.in_flight.acquire().await.expect("semaphore never closed");
            let permit = self.pacer.acquire().await;
            let started = std::time::Instant::now();
            let mut req = self
                .http
                .request(method.clone(), url.clone())
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
            let mut shown = String::new();
            let sent = match req.build() {
                Ok(req) => {
                    let len = req.url().as_str().len();
                    if tracing::enabled!(target: LOG, tracing::Level::DEBUG) {
                        shown = self.shown(req.url());
                    }
                    self.http.execute(req).await.map_err(|e| (e, len))
                }
                Err(e) => Err((e, 0)),
            };
            let log = Logged { method: &method, url: &shown, attempt: attempts + waits, queued, started };
            let result = match sent {
                Ok(resp) => {
                    permit.answered(resp.headers());
                    log.answer(resp.status().as_u16(), resp.headers());
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    if status.is_redirection()
                        && let Some(to) = redirect_target(&resp)
                    {
                        // Same-origin redirects were followed; this one leaves the origin.
                        self.on_base(&to, || endpoint.clone(), "the server redirected to")?;
                    }
                    match crate::bounded_body::read(resp, cap).await {
                        Ok(body) => Ok((status, headers, body)),
                        Err(None) => return Err(ApiError::TooLarge { endpoint, cap }),
                        // The server answered but too slowly: asking again would only wait as long.
                        Err(Some(e)) if e.is_timeout() => {
                            return Err(ApiError::TooSlow {
                                endpoint,
                                secs: self.opts.timeout.as_secs_f64(),
                                attempts,
                            });
                        }
                        Err(Some(e)) => Err(e),
                    }
                }
                // No answer to a long address: it will not get shorter by asking again.
                Err((e, len)) if len > LONG_URL && !e.is_timeout() && !e.is_connect() => {
                    let message = self.redact(&describe(&e, self.opts.timeout));
                    return Err(ApiError::UrlTooLong { endpoint, len, message });
                }
                Err((e, _)) => Err(e),
            };
            if let Err(e) = &result {
                log.failed(&self.redact(&describe(e, self.opts.timeout)));
            }
            drop(_slot);
            match result {
                Ok((status, headers, _))
                    if status == StatusCode::TOO_MANY_REQUESTS && waits < self.opts.max_rate_limit_waits =>
                {
                    // Not processed by the server, so safe to resend even when not idempotent.
                    waits += 1;
                    attempts -= 1;
                    let wait = rate_limit_wait(&headers);
                    log.retry(wait, "429: waiting as the server asks");
                    tokio::time::sleep(wait).await;
                }
                Ok((status, _, _)) if status.is_server_error() && idempotent && attempts < self.opts.max_attempts => {
                    let wait = self.backoff(attempts);
                    log.retry(wait, "server error: retrying after a backoff");
                    tokio::time::sleep(wait).await;
                }
                Ok((status, headers, body)) => {
                    return Ok(Response { status: status.as_u16(), headers, body });
                }
                Err(e)
                    if idempotent
                        && attempts < self.opts.max_attempts
                        && (e.is_timeout() || e.is_connect() || e.is_request() || e.is_body() || e.is_decode()) =>
                {
                    let wait = self.backoff(attempts);
                    log.retry(wait, "no answer: retrying after a backoff");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => {
                    let message = self.redact(&describe(&e, self.opts.timeout));
                    return Err(ApiError::Transport { endpoint, message, attempts });
                }
            }
        }
    }

    /// A request's path and query as the log shows them: nothing token-like.
    fn shown(&self, url: &reqwest::Url) -> String {
        let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
        sanitize(&self.redact(&format!("{}{query}", url.path()))).into_owned()
    }

    /// The rate-limit window as the server last told it.
    pub fn rate_window(&self) -> Option<RateWindow> {
        self.pacer.window()
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.opts.backoff_base.saturating_mul(1 << attempt.min(6));
        let jittered = exp.mul_f64(0.5 + fastrand::f64());
        jittered.min(self.opts.backoff_cap)
    }

    /// Server-supplied text with the token blanked out, should a server echo it back.
    fn redact(&self, text: &str) -> String {
        redact(self.token.expose(), text)
    }

    /// Turns a non-2xx response into an error carrying the server's `{title, message, details}`.
    pub fn check(&self, method: &Method, path: &str, resp: Response) -> Result<Response, ApiError> {
        if (200..300).contains(&resp.status) {
            return Ok(resp);
        }
        let endpoint = self.endpoint(method, path);
        let mut body: ApiErrorBody = serde_json::from_slice(&resp.body).unwrap_or_default();
        if body.title.is_empty() {
            body.title =
                StatusCode::from_u16(resp.status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error").to_owned();
        }
        if body.message.is_empty() {
            // Redacted whole, then cut: a cut through the token would hide it from the redaction.
            body.message = self.redact(&String::from_utf8_lossy(&resp.body)).chars().take(200).collect();
        }
        body.title = self.redact(&body.title);
        body.message = self.redact(&body.message);
        for d in &mut body.details {
            d.message = self.redact(&d.message);
            d.parameter = d.parameter.as_deref().map(|p| self.redact(p));
        }
        Err(ApiError::Status { endpoint, status: resp.status, body: Box::new(body) })
    }

    pub fn decode<T: DeserializeOwned>(&self, method: &Method, path: &str, body: &[u8]) -> Result<T, ApiError> {
        decode(&self.endpoint(method, path), body).map_err(|mut e| {
            if let ApiError::Decode { path, message, .. } = &mut e {
                *path = self.redact(path);
                *message = self.redact(message);
            }
            e
        })
    }

    /// A GET decoded as JSON. Broken JSON (a proxy cutting an answer short) is retried like a
    /// transport failure; an answer of the wrong shape is not.
    pub async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, &str)]) -> Result<T, ApiError> {
        let mut attempt = 1;
        loop {
            let resp = self.send(Method::GET, path, query, &[], None, true).await?;
            let resp = self.check(&Method::GET, path, resp)?;
            match self.decode(&Method::GET, path, &resp.body) {
                Err(ApiError::Decode { syntax: true, .. }) if attempt < self.opts.max_attempts => {
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
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

    /// Every item of a cursor-paginated list, 100 a page. A page token seen before (a loop), a
    /// page of rows already read (a list that starts over) and more than `max_pages` pages (an
    /// endless stream) are errors, never followed forever.
    pub async fn get_all<T: DeserializeOwned + ListItem>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        what: &str,
        progress: Option<(&Progress, List)>,
    ) -> Result<Vec<T>, ApiError> {
        let mut out = Vec::new();
        self.get_pages(path, query, what, progress, |page| out.extend(page)).await?;
        Ok(out)
    }

    /// As `get_all`, each page handed to `sink` as it is read: a caller keeping less than the
    /// rows (people from memberships, placements from relationships) never holds the whole list
    /// as decoded. The rows read, in total.
    pub async fn get_pages<T: DeserializeOwned + ListItem>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        what: &str,
        progress: Option<(&Progress, List)>,
        mut sink: impl FnMut(Vec<T>),
    ) -> Result<usize, ApiError> {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let mut read = 0;
        let mut token: Option<String> = None;
        let mut tokens = std::collections::HashSet::new();
        // Hashes of the URIs read: 8 bytes a row, not a copy of each URI.
        let hasher = BuildHasherDefault::<DefaultHasher>::default();
        let mut rows = std::collections::HashSet::new();
        let mut pages = 0;
        let endpoint = || self.endpoint(&Method::GET, path);
        loop {
            let mut q: Vec<(&str, &str)> = query.to_vec();
            q.push(("count", "100"));
            if let Some(t) = &token {
                q.push(("page_token", t));
            }
            let page: Collection<T> = self.get(path, &q).await?;
            pages += 1;
            // The token, or (from a server that only sends the URL) the URL's `page_token`. The
            // next page is always asked of the base URL: a URL on another origin is followed
            // nowhere, and refused when it is all there is (the server means another host).
            let next = match (&page.pagination.next_page_token, page.pagination.next_page.as_deref()) {
                (Some(t), _) => Some(t.clone()),
                (None, Some(url)) => {
                    if let Ok(u) = reqwest::Url::parse(url) {
                        self.on_base(&u, endpoint, "its next page is on")?;
                    }
                    page_token_of(url)
                }
                (None, None) => None,
            }
            .filter(|t| !t.is_empty());
            if let Some(t) = &next {
                if t.len() > MAX_PAGE_TOKEN {
                    return Err(ApiError::PageTokenTooLong {
                        endpoint: endpoint(),
                        len: t.len(),
                        limit: MAX_PAGE_TOKEN,
                    });
                }
                if !tokens.insert(t.clone()) {
                    return Err(ApiError::PageLoop { endpoint: endpoint(), token: t.clone(), pages });
                }
            }
            let mut fresh = false;
            for item in &page.collection {
                fresh |= rows.insert(hasher.hash_one(item.uri()));
            }
            if !fresh && !page.collection.is_empty() && pages > 1 {
                return Err(ApiError::RepeatedPage { endpoint: endpoint(), pages, rows: read });
            }
            read += page.collection.len();
            sink(page.collection);
            tracing::debug!(target: LOG, list = what, page = pages, rows = read, last = next.is_none(), "page read");
            if let Some((p, list)) = progress {
                p.page(list, read, next.is_none(), self.rate_window());
            }
            match next {
                Some(next) => {
                    if pages >= self.opts.max_pages {
                        return Err(ApiError::TooManyPages { endpoint: endpoint(), pages, rows: read });
                    }
                    token = Some(next);
                }
                _ => return Ok(read),
            }
        }
    }
}

/// Decodes a JSON answer; errors name the endpoint and the field (`collection[3].user.email`).
pub fn decode<T: DeserializeOwned>(endpoint: &str, body: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    let result: Result<T, _> = serde_path_to_error::deserialize(de);
    let value = result.map_err(|e| {
        let syntax = !matches!(e.inner().classify(), serde_json::error::Category::Data);
        let message = e.inner().to_string();
        let mut path = e.path().to_string();
        // serde reports a missing field at the object holding it: name the field itself.
        if let Some(field) = message.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
            path = if path == "." || path.is_empty() { field.to_owned() } else { format!("{path}.{field}") };
        }
        ApiError::Decode { endpoint: endpoint.to_owned(), path, message, syntax }
    })?;
    Ok(value)
}

/// The `page_token` query parameter of a `next_page` URL, decoded.
fn page_token_of(url: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let parsed = reqwest::Url::parse(&format!("http://x/?{query}")).ok()?;
    parsed.query_pairs().find(|(k, _)| k == "page_token").map(|(_, v)| v.into_owned())
}

/// `scheme://host:port` of an http(s) URL, the unit that may see the token.
fn origin_of(url: &reqwest::Url) -> Option<String> {
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// Where a redirect that was not followed points, resolved against the answer's URL.
fn redirect_target(resp: &reqwest::Response) -> Option<reqwest::Url> {
    let location = resp.headers().get(reqwest::header::LOCATION)?.to_str().ok()?;
    resp.url().join(location).ok()
}

fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    let kind = if e.is_timeout() {
        &format!("no complete answer within {} s (timed out)", timeout.as_secs_f64())
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the response was cut off"
    } else if e.is_request() {
        "the connection failed before an answer arrived"
    } else {
        "request failed"
    };
    let mut msg = kind.to_string();
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

#[cfg(test)]
mod page_token_tests {
    #[test]
    fn the_token_is_read_from_a_next_page_url_when_the_server_sends_only_that() {
        let url = "https://api.calendly.com/groups?organization=https%3A%2F%2Fapi.calendly.com%2Forganizations%2FO&count=100&page_token=a%2Bb%3D";
        assert_eq!(super::page_token_of(url).as_deref(), Some("a+b="));
        assert_eq!(super::page_token_of("https://x/groups?count=100"), None);
        assert_eq!(super::page_token_of("https://x/groups"), None);
    }
}
