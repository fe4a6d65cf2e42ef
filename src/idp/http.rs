//! A guarded HTTP client for identity providers: the token goes only to the provider's origin
//! (redirects and next-page links elsewhere are refused before anything is sent), answers are
//! read up to a cap, each request has a deadline, and transport failures and 5xx are retried
//! with backoff. Rate limits differ per provider, so 429 is left to the provider's module.

use std::time::Duration;

use reqwest::header::HeaderMap;

use super::error::IdpError;
use crate::domain::text::sanitize;
use crate::service::calendly::Secret;
use crate::service::calendly::redact::redact;

/// How patient the client is. The defaults suit a real provider; tests shorten them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpOptions {
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Tries of a request that failed with 5xx or a transport error.
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// The most bytes read of one answer (one page of users).
    pub max_body: u64,
    /// Pages read from one list before it is taken for an endless stream.
    pub max_pages: usize,
    /// 429 answers waited out before giving up.
    pub max_rate_limit_waits: u32,
    /// Users asked for per page (the provider may cap it lower).
    pub page_size: u32,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_attempts: 4,
            backoff_base: Duration::from_millis(250),
            backoff_cap: Duration::from_secs(8),
            max_body: 32 << 20,
            max_pages: 10_000,
            max_rate_limit_waits: 8,
            page_size: 200,
        }
    }
}

/// How the token is sent: `Authorization: <scheme> <token>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Auth {
    /// `SSWS` (an Okta API token) or `Bearer` (an OAuth access token).
    pub scheme: &'static str,
    pub token: Secret,
}

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

#[derive(Clone)]
pub struct Http {
    http: reqwest::Client,
    base: reqwest::Url,
    origin: String,
    auth: Auth,
    pub opts: HttpOptions,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http").field("origin", &self.origin).finish_non_exhaustive()
    }
}

/// `scheme://host:port` of an http(s) URL.
pub fn origin_of(url: &reqwest::Url) -> Option<String> {
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

fn loopback(url: &reqwest::Url) -> bool {
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Http {
    /// `what` names the setting for messages (`--idp-url`).
    pub fn new(base_url: &str, what: &str, auth: Auth, opts: HttpOptions) -> Result<Http, IdpError> {
        let bad = |why: &str| IdpError::Settings(format!("{what} {}: {why}", sanitize(base_url)));
        let base = reqwest::Url::parse(base_url.trim_end_matches('/')).map_err(|e| bad(&format!("not a URL ({e})")))?;
        let origin = origin_of(&base).ok_or_else(|| bad("not an http(s) URL"))?;
        // The token must not cross the network in the clear; plain http is for a local server.
        if base.scheme() != "https" && !loopback(&base) {
            return Err(bad("use https:// (plain http is accepted only on this machine's loopback)"));
        }
        let home = origin.clone();
        let redirects = reqwest::redirect::Policy::custom(move |a| {
            if a.previous().len() >= 10 {
                a.error("more than 10 redirects")
            } else if origin_of(a.url()).as_deref() == Some(home.as_str()) {
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
            .map_err(|e| bad(&e.to_string()))?;
        Ok(Http { http, base, origin, auth, opts })
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The host shown to the admin (`acme.okta.com`).
    pub fn host(&self) -> String {
        let host = self.base.host_str().unwrap_or_default();
        match self.base.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        }
    }

    /// A path on the base URL (its own path kept: a provider mounted under a prefix).
    pub fn url(&self, path: &str) -> Result<reqwest::Url, IdpError> {
        let joined = format!("{}{path}", self.base.as_str().trim_end_matches('/'));
        let url =
            reqwest::Url::parse(&joined).map_err(|e| IdpError::Settings(format!("{}: {e}", sanitize(&joined))))?;
        self.on_origin(&url, &format!("GET {path}"), "the address is on")?;
        Ok(url)
    }

    /// Refuses a URL on another origin than the provider's: the token is for it only.
    pub fn on_origin(&self, url: &reqwest::Url, endpoint: &str, how: &'static str) -> Result<(), IdpError> {
        if origin_of(url).as_deref() == Some(self.origin.as_str()) {
            return Ok(());
        }
        Err(IdpError::ForeignOrigin {
            endpoint: endpoint.to_owned(),
            how,
            origin: sanitize(&self.redact(&origin_of(url).unwrap_or_else(|| url.scheme().to_owned() + ":")))
                .into_owned(),
            base: self.origin.clone(),
        })
    }

    /// `GET /api/v1/users?limit=200`: the path and query on the provider, for messages.
    pub fn endpoint(&self, url: &reqwest::Url) -> String {
        let base_path = self.base.path().trim_end_matches('/');
        let path = url.path().strip_prefix(base_path).unwrap_or(url.path());
        let shown = match url.query() {
            Some(q) => format!("{path}?{q}"),
            None => path.to_owned(),
        };
        let shown = match shown.char_indices().nth(200) {
            Some((cut, _)) => format!("{}…", &shown[..cut]),
            None => shown,
        };
        format!("GET {}", sanitize(&self.redact(&shown)))
    }

    /// Provider text with the token blanked out, should a server echo it back.
    pub fn redact(&self, text: &str) -> String {
        redact(self.auth.token.expose(), text)
    }

    /// One GET, retried on transport failures and 5xx; any other status is returned as is.
    pub async fn get(&self, url: &reqwest::Url) -> Result<Reply, IdpError> {
        let endpoint = self.endpoint(url);
        let mut attempts = 0;
        loop {
            attempts += 1;
            let sent = self
                .http
                .get(url.clone())
                .header("authorization", format!("{} {}", self.auth.scheme, self.auth.token.expose()))
                .header("accept", "application/json")
                .send()
                .await;
            let result = match sent {
                Ok(resp) => {
                    let status = resp.status();
                    if status.is_redirection()
                        && let Some(to) = resp
                            .headers()
                            .get(reqwest::header::LOCATION)
                            .and_then(|l| l.to_str().ok())
                            .and_then(|l| resp.url().join(l).ok())
                    {
                        self.on_origin(&to, &endpoint, "the provider redirected to")?;
                    }
                    let headers = resp.headers().clone();
                    match read_body(resp, self.opts.max_body).await {
                        Ok(body) => Ok(Reply { status: status.as_u16(), headers, body }),
                        Err(None) => return Err(IdpError::TooLarge { endpoint, cap: self.opts.max_body }),
                        Err(Some(e)) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(r) if r.status >= 500 && attempts < self.opts.max_attempts => {
                    tokio::time::sleep(self.backoff(attempts)).await
                }
                Ok(r) => return Ok(r),
                Err(e) if attempts < self.opts.max_attempts && !e.is_builder() => {
                    tokio::time::sleep(self.backoff(attempts)).await
                }
                Err(e) => {
                    let mut message = e.to_string();
                    let mut src = std::error::Error::source(&e);
                    while let Some(s) = src {
                        message.push_str(": ");
                        message.push_str(&s.to_string());
                        src = s.source();
                    }
                    return Err(IdpError::Transport { endpoint, message: self.redact(&message), attempts });
                }
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.opts.backoff_base.saturating_mul(1 << attempt.min(6));
        exp.mul_f64(0.5 + fastrand::f64()).min(self.opts.backoff_cap)
    }
}

/// The body, given up as soon as it exceeds `cap` (`Err(None)`).
async fn read_body(mut resp: reqwest::Response, cap: u64) -> Result<Vec<u8>, Option<reqwest::Error>> {
    if resp.content_length().is_some_and(|n| n > cap) {
        return Err(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(Some)? {
        if (body.len() + chunk.len()) as u64 > cap {
            return Err(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
