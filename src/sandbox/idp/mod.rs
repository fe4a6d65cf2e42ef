//! Fakes of identity providers' APIs, each mounted under a path prefix of the sandbox server
//! (`/okta/api/v1/...`, `/entra/graph/v1.0/...`, `/onelogin/api/2/...`) with its own auth,
//! paging, rate limit and error shapes. A fake is seeded from the sandbox organization, so that
//! its people agree with it by email, but for a few who are not provisioned yet and a few whose
//! value has not reached Calendly yet.

pub mod entra;
pub mod okta;
pub mod onelogin;

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;

use super::lock;
use super::state::OrgState;

/// The fakes' options.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub okta: okta::Options,
    pub entra: entra::Options,
    pub onelogin: onelogin::Options,
}

/// The running fakes.
pub struct Fakes {
    pub okta: Arc<okta::Fake>,
    pub entra: Arc<entra::Fake>,
    pub onelogin: Arc<onelogin::Fake>,
}

impl Fakes {
    pub fn new(opts: Options, st: &OrgState) -> Fakes {
        Fakes {
            okta: Arc::new(okta::Fake::seeded(opts.okta, st)),
            entra: Arc::new(entra::Fake::seeded(opts.entra, st)),
            onelogin: Arc::new(onelogin::Fake::seeded(opts.onelogin, st)),
        }
    }

    /// `router` with every fake mounted (outside the Calendly routes' token check).
    pub fn mount(&self, router: Router) -> Router {
        router
            .nest(okta::PREFIX, okta::router(self.okta.clone()))
            .nest(entra::PREFIX, entra::router(self.entra.clone()))
            .nest(onelogin::PREFIX, onelogin::router(self.onelogin.clone()))
    }
}

/// One person of a fake IdP.
#[derive(Clone, Debug)]
pub struct Person {
    pub first: String,
    pub last: String,
    pub email: String,
    /// The address as the IdP sends it to Calendly (some capitalized).
    pub user_name: String,
    /// The group value (`department`).
    pub value: Option<String>,
    /// Calendly has them already.
    pub provisioned: bool,
}

/// People the IdP has that Calendly has not provisioned yet: (name, email, department).
pub const NOT_PROVISIONED: [(&str, &str, &str); 4] = [
    ("Noor Haddad", "noor.haddad@northwind.example", "Engineering"),
    ("Mikael Lindqvist", "mikael.lindqvist@northwind.example", "Sales EMEA"),
    ("Zoë Okonkwo", "zoe.okonkwo@northwind.example", "Marketing"),
    ("Hiroshi Sato", "hiroshi.sato@northwind.example", "Ventes Île-de-France"),
];

/// The sandbox organization's members and pending invitees, by email, with Calendly's recorded
/// value, but for a few changes that have not reached Calendly yet (another department, a case
/// change, a trailing space, a non-ASCII name), a few people not provisioned yet, and some
/// addresses capitalized.
pub fn people(st: &OrgState) -> Vec<Person> {
    let mut known: Vec<(String, String, Option<String>)> =
        st.members.iter().map(|m| (m.user.name.clone(), m.user.email.clone(), m.idp_value.clone())).collect();
    known.extend(
        st.invitations
            .iter()
            .filter(|i| i.status == "pending")
            .map(|i| (String::new(), i.email.clone(), i.idp_value.clone())),
    );
    let mut changed = 0;
    let mut out = Vec::with_capacity(known.len() + NOT_PROVISIONED.len());
    for (n, (name, email, value)) in known.into_iter().enumerate() {
        let value = match value {
            Some(v) if n % 29 == 11 && changed < 4 => {
                changed += 1;
                Some(match changed {
                    1 => if v == "Customer Success" { "Support" } else { "Customer Success" }.to_owned(),
                    2 => v.to_lowercase(),
                    3 => format!("{v} "),
                    _ => "Ventes Île-de-France".to_owned(),
                })
            }
            other => other,
        };
        let (first, last) = name.split_once(' ').unwrap_or((&name, ""));
        let user_name = if n % 17 == 5 { capitalized(&email) } else { email.clone() };
        out.push(Person { first: first.into(), last: last.into(), email, user_name, value, provisioned: true });
    }
    for (name, email, dept) in NOT_PROVISIONED {
        let (first, last) = name.split_once(' ').unwrap_or((name, ""));
        out.push(Person {
            first: first.into(),
            last: last.into(),
            email: email.into(),
            user_name: email.into(),
            value: Some(dept.into()),
            provisioned: false,
        });
    }
    out
}

fn capitalized(email: &str) -> String {
    let mut chars = email.chars();
    chars.next().map_or_else(String::new, |c| c.to_ascii_uppercase().to_string() + chars.as_str())
}

/// A fixed-window rate limit.
pub struct Window {
    limit: u32,
    window: Duration,
    started: Option<Instant>,
    used: u32,
}

/// What one request was told: the limit, the requests left, the time until the window resets,
/// and whether it may go on.
#[derive(Clone, Copy, Debug)]
pub struct Quota {
    pub limit: u32,
    pub remaining: u32,
    pub reset_in: Duration,
    pub allowed: bool,
}

impl Window {
    pub fn new(limit: u32, window: Duration) -> Window {
        Window { limit, window, started: None, used: 0 }
    }

    /// Counts one request.
    pub fn take(&mut self) -> Quota {
        let now = Instant::now();
        let start = match self.started {
            Some(s) if now.duration_since(s) < self.window => s,
            _ => {
                self.started = Some(now);
                self.used = 0;
                now
            }
        };
        let allowed = self.used < self.limit;
        if allowed {
            self.used += 1;
        }
        let reset_in = self.window.saturating_sub(now.duration_since(start));
        Quota { limit: self.limit, remaining: self.limit.saturating_sub(self.used), reset_in, allowed }
    }
}

/// Requests still to fail, and with which status (a test control).
#[derive(Default)]
pub struct Faults(Mutex<(u32, u16)>);

impl Faults {
    pub fn fail_next(&self, n: u32, status: u16) {
        *lock(&self.0) = (n, status);
    }

    /// The status this request fails with, if any.
    pub fn take(&self) -> Option<u16> {
        let mut f = lock(&self.0);
        (f.0 > 0).then(|| {
            f.0 -= 1;
            f.1
        })
    }
}

/// The token the request carries after `scheme ` (`Bearer`, case-insensitive as RFC 6750 says).
pub fn bearer<'a>(headers: &'a axum::http::HeaderMap, scheme: &str) -> Option<&'a str> {
    let v = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (s, t) = v.split_once(' ')?;
    s.eq_ignore_ascii_case(scheme).then(|| t.trim())
}

/// An issued access token and when it stops working.
#[derive(Clone, Debug)]
pub struct Issued {
    pub token: String,
    pub until: Instant,
}

/// The tokens a fake's token endpoint issued (a test control can expire them all).
#[derive(Default)]
pub struct Tokens(Mutex<Vec<Issued>>);

impl Tokens {
    pub fn issue(&self, prefix: &str, lifetime: Duration) -> String {
        let token = format!("{prefix}{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        lock(&self.0).push(Issued { token: token.clone(), until: Instant::now() + lifetime });
        token
    }

    pub fn valid(&self, token: &str) -> bool {
        let now = Instant::now();
        lock(&self.0).iter().any(|i| i.token == token && now < i.until)
    }

    /// Every token issued so far stops working.
    pub fn expire_all(&self) {
        let now = Instant::now();
        for i in lock(&self.0).iter_mut() {
            i.until = now;
        }
    }

    pub fn count(&self) -> usize {
        lock(&self.0).len()
    }
}

/// The test controls and counters of a fake with a token endpoint: its rate limit, injected
/// faults, the tokens issued and their lifetime.
pub struct Controls {
    limit: Mutex<Window>,
    faults: Faults,
    lifetime: Mutex<Duration>,
    pub tokens: Tokens,
    pub requests: AtomicU64,
    pub rate_limited: AtomicU64,
}

impl Controls {
    pub fn new(limit: u32, window: Duration, lifetime: Duration) -> Controls {
        Controls {
            limit: Mutex::new(Window::new(limit, window)),
            faults: Faults::default(),
            lifetime: Mutex::new(lifetime),
            tokens: Tokens::default(),
            requests: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
        }
    }

    /// Changes the rate limit (and starts a new window).
    pub fn set_rate_limit(&self, limit: u32, window: Duration) {
        *lock(&self.limit) = Window::new(limit, window);
    }

    /// The `expires_in` of tokens issued from now on.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        *lock(&self.lifetime) = lifetime;
    }

    /// The next `n` API requests answer `status` with the provider's error body.
    pub fn fail_next(&self, n: u32, status: u16) {
        self.faults.fail_next(n, status);
    }

    /// Counts one API request against the window.
    pub fn take(&self) -> Quota {
        lock(&self.limit).take()
    }

    /// The status this request fails with, if one is injected.
    pub fn fault(&self) -> Option<u16> {
        self.faults.take()
    }

    /// A new token and its lifetime.
    pub fn issue(&self, prefix: &str) -> (String, Duration) {
        let lifetime = *lock(&self.lifetime);
        (self.tokens.issue(prefix, lifetime), lifetime)
    }
}

/// The pairs of a form body (`application/x-www-form-urlencoded`).
pub fn form(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    match reqwest::Url::parse(&format!("http://form.invalid/?{text}")) {
        Ok(u) => u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect(),
        Err(_) => Vec::new(),
    }
}
