//! A guarded HTTP client for identity providers: the token goes only to the provider's origin
//! (redirects and next-page links elsewhere are refused before anything is sent), answers are
//! read up to a cap, each request has a deadline, and transport failures and 5xx are retried
//! with backoff. Rate limits differ per provider, so 429 is left to the provider's module.
//! A token that is refreshed (OAuth client credentials) is swapped in place; every secret the
//! client has held is kept out of the texts it returns.

use std::sync::{Arc, RwLock};
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
    /// None for a token endpoint (the credentials go in the request itself).
    auth: Arc<RwLock<Option<Auth>>>,
    /// Secrets to keep out of messages besides the token: a client secret, earlier tokens.
    secrets: Arc<RwLock<Vec<Secret>>>,
    pub opts: HttpOptions,
}

/// A request body: its content type and bytes.
pub struct Body {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl Body {
    /// `application/x-www-form-urlencoded`.
    pub fn form(pairs: &[(&str, &str)]) -> Body {
        let mut u = reqwest::Url::parse("http://form.invalid/").expect("a URL");
        u.query_pairs_mut().extend_pairs(pairs);
        Body { content_type: "application/x-www-form-urlencoded", bytes: u.query().unwrap_or_default().into() }
    }

    pub fn json(v: &serde_json::Value) -> Body {
        Body { content_type: "application/json", bytes: v.to_string().into_bytes() }
    }
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
        Http::build(base_url, what, Some(auth), opts)
    }

    /// A client that sends no `Authorization` of its own (a token endpoint).
    pub fn anonymous(base_url: &str, what: &str, opts: HttpOptions) -> Result<Http, IdpError> {
        Http::build(base_url, what, None, opts)
    }

    fn build(base_url: &str, what: &str, auth: Option<Auth>, opts: HttpOptions) -> Result<Http, IdpError> {
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
        let auth = Arc::new(RwLock::new(auth));
        Ok(Http { http, base, origin, auth, secrets: Arc::default(), opts })
    }

    /// Sends this token from now on (a refreshed access token); the old one stays redacted.
    pub fn set_token(&self, scheme: &'static str, token: Secret) {
        let mut auth = self.auth.write().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = auth.replace(Auth { scheme, token }) {
            self.keep_secret(old.token);
        }
    }

    /// Keeps this secret out of every message too (a client secret).
    pub fn keep_secret(&self, secret: Secret) {
        self.secrets.write().unwrap_or_else(|e| e.into_inner()).push(secret);
    }

    fn auth(&self) -> Option<Auth> {
        self.auth.read().unwrap_or_else(|e| e.into_inner()).clone()
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
        self.endpoint_of("GET", url)
    }

    /// The same for another method (`POST /oauth2/v2.0/token`).
    pub fn endpoint_of(&self, method: &str, url: &reqwest::Url) -> String {
        let base_path = self.base.path().trim_end_matches('/');
        // A base that is the whole address (a token endpoint) shows its path.
        let path = url.path().strip_prefix(base_path).filter(|p| !p.is_empty()).unwrap_or(url.path());
        let shown = match url.query() {
            Some(q) => format!("{path}?{q}"),
            None => path.to_owned(),
        };
        let shown = match shown.char_indices().nth(200) {
            Some((cut, _)) => format!("{}…", &shown[..cut]),
            None => shown,
        };
        format!("{method} {}", sanitize(&self.redact(&shown)))
    }

    /// Provider text with the token (and every other secret held) blanked out, should a server
    /// echo it back.
    pub fn redact(&self, text: &str) -> String {
        let mut out = match self.auth() {
            Some(a) => redact(a.token.expose(), text),
            None => text.to_owned(),
        };
        for s in self.secrets.read().unwrap_or_else(|e| e.into_inner()).iter() {
            out = redact(s.expose(), &out);
        }
        out
    }

    /// One GET, retried on transport failures and 5xx; any other status is returned as is.
    pub async fn get(&self, url: &reqwest::Url) -> Result<Reply, IdpError> {
        self.send(reqwest::Method::GET, url, None, None).await
    }

    /// One POST of `body` (with HTTP Basic credentials when given), retried like a GET.
    pub async fn post(
        &self,
        url: &reqwest::Url,
        body: Body,
        basic: Option<(&str, &Secret)>,
    ) -> Result<Reply, IdpError> {
        self.send(reqwest::Method::POST, url, Some(body), basic).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        url: &reqwest::Url,
        body: Option<Body>,
        basic: Option<(&str, &Secret)>,
    ) -> Result<Reply, IdpError> {
        let endpoint = self.endpoint_of(method.as_str(), url);
        let mut attempts = 0;
        loop {
            attempts += 1;
            let mut req = self.http.request(method.clone(), url.clone()).header("accept", "application/json");
            if let Some(a) = self.auth() {
                req = req.header("authorization", format!("{} {}", a.scheme, a.token.expose()));
            }
            if let Some((user, secret)) = basic {
                req = req.basic_auth(user, Some(secret.expose()));
            }
            if let Some(b) = &body {
                req = req.header("content-type", b.content_type).body(b.bytes.clone());
            }
            let sent = req.send().await;
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
                    match crate::bounded_body::read(resp, self.opts.max_body).await {
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
