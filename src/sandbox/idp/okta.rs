//! Okta's management API as its reference describes it, for the two lists groupmap reads:
//! `GET /api/v1/users` and `GET /api/v1/apps/{appId}/users`. `Authorization: SSWS <api token>`
//! or `Bearer <access token>`; pages of `limit` users (users: at most 200, app users: at most
//! 500) chained by `Link: <…?after=ID&limit=N>; rel="next"`; a per-minute rate limit told in
//! `X-Rate-Limit-Limit`, `X-Rate-Limit-Remaining` and `X-Rate-Limit-Reset` (epoch seconds);
//! errors as `{errorCode, errorSummary, errorLink, errorId, errorCauses}`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::{Faults, Window};
use crate::sandbox::lock;
use crate::sandbox::state::OrgState;

pub const PREFIX: &str = "/okta";
/// The Calendly app's id in the fake org (Okta app ids are 20 characters, `0oa…`).
pub const APP_ID: &str = "0oa7calendly5and60x7";

#[derive(Clone, Debug)]
pub struct Options {
    /// Sent as `SSWS <token>`.
    pub api_token: String,
    /// Sent as `Bearer <token>` (an OAuth access token with okta.users.read and okta.apps.read).
    pub access_token: String,
    /// Requests per window before 429.
    pub rate_limit: u32,
    pub window: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            api_token: "00okta-sandbox-api-token".into(),
            access_token: "okta-sandbox-access-token".into(),
            rate_limit: 600,
            window: Duration::from_secs(60),
        }
    }
}

/// One user of the fake org.
#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    /// What the Calendly app sends as `userName` (the app user's `credentials.userName`).
    pub user_name: String,
    pub profile: Map<String, Value>,
    /// Assigned to the Calendly app.
    pub assigned: bool,
}

pub struct Fake {
    opts: Mutex<Options>,
    users: Mutex<Vec<User>>,
    limit: Mutex<Window>,
    faults: Faults,
    pub requests: AtomicU64,
    pub rate_limited: AtomicU64,
}

fn okta_id(prefix: &str, n: usize) -> String {
    format!("{prefix}{:017x}", n as u64 * 0x9e37_79b9 % 0x000f_ffff_ffff_ffff)
}

fn profile(first: &str, last: &str, email: &str, department: Option<&str>) -> Map<String, Value> {
    let mut p = Map::new();
    p.insert("firstName".into(), json!(first));
    p.insert("lastName".into(), json!(last));
    p.insert("login".into(), json!(email));
    p.insert("email".into(), json!(email));
    p.insert("mobilePhone".into(), Value::Null);
    p.insert("title".into(), json!(if department.is_some() { "Specialist" } else { "Contractor" }));
    if let Some(d) = department {
        p.insert("department".into(), json!(d));
    }
    p
}

impl Fake {
    /// The fake org from the sandbox organization: its members and pending invitees, by email,
    /// with Calendly's recorded value as `department`, but for a few changes that have not
    /// reached Calendly yet (another department, a case change, a trailing space, a non-ASCII
    /// name), a few people not provisioned yet, and some addresses capitalized.
    pub fn seeded(opts: Options, st: &OrgState) -> Fake {
        let users = super::people(st)
            .into_iter()
            .enumerate()
            .map(|(n, p)| User {
                id: okta_id("00u", if p.provisioned { n + 1 } else { 100_000 + n }),
                profile: profile(&p.first, &p.last, &p.email, p.value.as_deref()),
                user_name: p.user_name,
                assigned: true,
            })
            .collect();
        let limit = Window::new(opts.rate_limit, opts.window);
        Fake {
            opts: Mutex::new(opts),
            users: Mutex::new(users),
            limit: Mutex::new(limit),
            faults: Faults::default(),
            requests: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
        }
    }

    pub fn api_token(&self) -> String {
        lock(&self.opts).api_token.clone()
    }

    pub fn access_token(&self) -> String {
        lock(&self.opts).access_token.clone()
    }

    /// Changes the rate limit (and starts a new window).
    pub fn set_rate_limit(&self, limit: u32, window: Duration) {
        let mut o = lock(&self.opts);
        o.rate_limit = limit;
        o.window = window;
        *lock(&self.limit) = Window::new(limit, window);
    }

    /// The next `n` requests answer `status` with Okta's error body.
    pub fn fail_next(&self, n: u32, status: u16) {
        self.faults.fail_next(n, status);
    }

    /// Adds a user (assigned to the Calendly app when `assigned`) with this profile.
    pub fn add_user(&self, user_name: &str, profile: Map<String, Value>, assigned: bool) {
        let mut users = lock(&self.users);
        let id = okta_id("00u", 200_000 + users.len());
        users.push(User { id, user_name: user_name.to_owned(), profile, assigned });
    }

    /// Sets (or with None removes) a profile attribute of the user with this `userName`.
    pub fn set_attribute(&self, user_name: &str, key: &str, value: Option<Value>) {
        let mut users = lock(&self.users);
        let u = users
            .iter_mut()
            .find(|u| u.user_name.eq_ignore_ascii_case(user_name))
            .unwrap_or_else(|| panic!("okta fake: no user {user_name}"));
        match value {
            Some(v) => u.profile.insert(key.to_owned(), v),
            None => u.profile.remove(key),
        };
    }

    pub fn users(&self) -> Vec<User> {
        lock(&self.users).clone()
    }

    /// Counts one request; the quota as the headers tell it (the reset in epoch seconds), and
    /// whether it is allowed.
    fn take(&self) -> (u32, u32, u64, bool) {
        let q = lock(&self.limit).take();
        // The window's end in epoch seconds, rounded up: a client that waits until then is in the next one.
        let end_ms =
            time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000 + q.reset_in.as_millis() as i128;
        let reset = (end_ms.max(0) as u64).div_ceil(1000);
        (q.limit, q.remaining, reset, q.allowed)
    }
}

/// Okta's error body.
fn error(status: StatusCode, code: &str, summary: &str) -> Response {
    let id = format!("oae{:019x}", fastrand::u64(..) >> 8);
    let body = json!({"errorCode": code, "errorSummary": summary, "errorLink": code, "errorId": id, "errorCauses": []});
    (status, Json(body)).into_response()
}

pub fn router(fake: Arc<Fake>) -> Router {
    Router::new()
        .route("/api/v1/users", get(list_users))
        .route("/api/v1/apps/{app}/users", get(list_app_users))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "E0000007", "Not found: Resource not found: (Endpoint)") })
        .layer(axum::middleware::from_fn_with_state(fake.clone(), gate))
        .with_state(fake)
}

/// Auth, the rate limit and injected faults, with the rate-limit headers on every answer.
async fn gate(State(fake): State<Arc<Fake>>, req: Request, next: axum::middleware::Next) -> Response {
    fake.requests.fetch_add(1, Ordering::Relaxed);
    let (api, access) = (fake.api_token(), fake.access_token());
    let auth = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
    let authed =
        auth.strip_prefix("SSWS ") == Some(api.as_str()) || auth.strip_prefix("Bearer ") == Some(access.as_str());
    let (limit, remaining, reset, allowed) = fake.take();
    let mut res = if !authed {
        error(StatusCode::UNAUTHORIZED, "E0000011", "Invalid token provided")
    } else if !allowed {
        fake.rate_limited.fetch_add(1, Ordering::Relaxed);
        error(StatusCode::TOO_MANY_REQUESTS, "E0000047", "API call exceeded rate limit due to too many requests.")
    } else if let Some(status) = fake.faults.take() {
        if status == 429 {
            fake.rate_limited.fetch_add(1, Ordering::Relaxed);
            error(StatusCode::TOO_MANY_REQUESTS, "E0000047", "API call exceeded rate limit due to too many requests.")
        } else {
            let s = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            error(s, "E0000009", "Internal Server Error")
        }
    } else {
        next.run(req).await
    };
    let h = res.headers_mut();
    h.insert("x-rate-limit-limit", HeaderValue::from(limit));
    h.insert("x-rate-limit-remaining", HeaderValue::from(remaining));
    h.insert("x-rate-limit-reset", HeaderValue::from(reset));
    res
}

#[derive(serde::Deserialize)]
struct Page {
    limit: Option<String>,
    after: Option<String>,
}

/// The page after the cursor, and the Link headers (`self`, and `next` when there is more).
fn page(
    headers: &HeaderMap,
    path: &str,
    q: &Page,
    default: usize,
    max: usize,
    users: Vec<User>,
    render: impl Fn(&User) -> Value,
) -> Response {
    let limit = match q.limit.as_deref().map(str::parse::<i64>) {
        None => default,
        Some(Ok(n)) if n >= 1 => (n as usize).min(max),
        Some(_) => return error(StatusCode::BAD_REQUEST, "E0000001", "Api validation failed: limit"),
    };
    let start = match &q.after {
        None => 0,
        Some(after) => match users.iter().position(|u| &u.id == after) {
            Some(i) => i + 1,
            None => return error(StatusCode::BAD_REQUEST, "E0000031", "Invalid search criteria."),
        },
    };
    let chunk: Vec<&User> = users.iter().skip(start).take(limit).collect();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let base = format!("http://{host}{PREFIX}{path}");
    let mut res = Json(Value::Array(chunk.iter().map(|u| render(u)).collect())).into_response();
    let h = res.headers_mut();
    let self_link = match &q.after {
        Some(a) => format!("<{base}?after={a}&limit={limit}>; rel=\"self\""),
        None => format!("<{base}?limit={limit}>; rel=\"self\""),
    };
    h.append(header::LINK, HeaderValue::from_str(&self_link).expect("ASCII"));
    if start + chunk.len() < users.len()
        && let Some(last) = chunk.last()
    {
        let next = format!("<{base}?after={}&limit={limit}>; rel=\"next\"", last.id);
        h.append(header::LINK, HeaderValue::from_str(&next).expect("ASCII"));
    }
    res
}

fn links(path: &str, id: &str) -> Value {
    json!({"self": {"href": format!("{PREFIX}{path}/{id}")}})
}

async fn list_users(State(fake): State<Arc<Fake>>, headers: HeaderMap, Query(q): Query<Page>) -> Response {
    let users = fake.users();
    page(&headers, "/api/v1/users", &q, 200, 200, users, |u| {
        json!({
            "id": u.id, "status": "ACTIVE", "created": "2024-03-01T09:00:00.000Z", "activated": "2024-03-01T09:00:00.000Z",
            "statusChanged": "2024-03-01T09:00:00.000Z", "lastLogin": null, "lastUpdated": "2026-11-30T08:00:00.000Z",
            "passwordChanged": null, "type": {"id": "oty1sandbox0default01"}, "profile": u.profile,
            "credentials": {"password": {}, "provider": {"type": "OKTA", "name": "OKTA"}},
            "_links": links("/api/v1/users", &u.id),
        })
    })
}

async fn list_app_users(
    State(fake): State<Arc<Fake>>,
    Path(app): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Page>,
) -> Response {
    if app != APP_ID {
        return error(
            StatusCode::NOT_FOUND,
            "E0000007",
            &format!("Not found: Resource not found: {app} (AppInstance)"),
        );
    }
    let users: Vec<User> = fake.users().into_iter().filter(|u| u.assigned).collect();
    let path = format!("/api/v1/apps/{APP_ID}/users");
    page(&headers, &path, &q, 50, 500, users, |u| {
        json!({
            "id": u.id, "externalId": null, "created": "2024-03-01T09:00:00.000Z", "lastUpdated": "2026-11-30T08:00:00.000Z",
            "scope": "USER", "status": "PROVISIONED", "statusChanged": "2024-03-01T09:00:00.000Z", "passwordChanged": null,
            "syncState": "SYNCHRONIZED", "lastSync": "2026-11-30T08:00:00.000Z",
            "credentials": {"userName": u.user_name}, "profile": u.profile,
            "_links": {"app": {"href": format!("{PREFIX}/api/v1/apps/{APP_ID}")}, "user": {"href": format!("{PREFIX}/api/v1/users/{}", u.id)}},
        })
    })
}
