//! OneLogin's API as its reference describes it, for what groupmap reads:
//! `POST /auth/oauth2/v2/token` (client credentials: HTTP Basic `client_id:client_secret`, or
//! the two in a form; `{"grant_type": "client_credentials"}` as JSON or form) and
//! `GET /api/2/users` (`limit`, at most 50 a page here; `app_id`; the next page by the
//! `After-Cursor` response header sent back as `?cursor=`). Every API answer carries
//! `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds left in the
//! window); errors are `{"statusCode", "name", "message"}`.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::{Controls, bearer, form};
use crate::sandbox::lock;
use crate::sandbox::state::OrgState;

pub const PREFIX: &str = "/onelogin";
pub const CLIENT_ID: &str = "7c1e9a4f2b8d6e03a5f1c9b7d2e4a680b3f5c7d9e1a2b4c6d8e0f1a3b5c7d9e1";
/// The Calendly app's id in the fake account.
pub const APP_ID: &str = "1874512";
const MAX_LIMIT: usize = 50;

#[derive(Clone, Debug)]
pub struct Options {
    pub client_secret: String,
    pub token_lifetime: Duration,
    pub rate_limit: u32,
    pub window: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            client_secret: "f3b9d1e7c5a2b8f4d6e0c2a9b7f5d3e1a8c6b4f2d0e9c7a5b3f1d8e6c4a2b0f9".into(),
            token_lifetime: Duration::from_secs(36000),
            rate_limit: 5000,
            window: Duration::from_secs(3600),
        }
    }
}

/// One user: the object as `GET /api/2/users` shows it, and whether the Calendly app is theirs.
#[derive(Clone, Debug)]
pub struct User {
    pub object: Map<String, Value>,
    pub assigned: bool,
}

pub struct Fake {
    opts: Mutex<Options>,
    users: Mutex<Vec<User>>,
    pub controls: Controls,
}

impl std::ops::Deref for Fake {
    type Target = Controls;

    fn deref(&self) -> &Controls {
        &self.controls
    }
}

/// A user object: `department` and a custom attribute `cost_center`.
pub fn object(id: u64, first: &str, last: &str, email: &str, department: Option<&str>) -> Map<String, Value> {
    let v = json!({
        "id": id, "firstname": first, "lastname": last, "email": email, "username": email.split('@').next(),
        "title": if department.is_some() { "Specialist" } else { "Contractor" }, "department": department,
        "company": "Northwind", "comment": null, "status": 1, "state": 1, "group_id": null, "role_ids": [],
        "directory_id": null, "external_id": null, "samaccountname": null, "userprincipalname": null,
        "member_of": null, "distinguished_name": null, "phone": null, "manager_user_id": null,
        "created_at": "2024-03-01T09:00:00.000Z", "updated_at": "2026-11-30T08:00:00.000Z",
        "activated_at": "2024-03-01T09:00:00.000Z", "last_login": null, "invalid_login_attempts": 0,
        "custom_attributes": {"cost_center": format!("CC-{:03}", id % 7), "employee_number": null},
    });
    v.as_object().cloned().unwrap_or_default()
}

impl Fake {
    pub fn seeded(opts: Options, st: &OrgState) -> Fake {
        let users = super::people(st)
            .into_iter()
            .enumerate()
            .map(|(n, p)| User {
                object: object(51_200_000 + n as u64, &p.first, &p.last, &p.user_name, p.value.as_deref()),
                assigned: true,
            })
            .collect();
        let controls = Controls::new(opts.rate_limit, opts.window, opts.token_lifetime);
        Fake { opts: Mutex::new(opts), users: Mutex::new(users), controls }
    }

    pub fn client_secret(&self) -> String {
        lock(&self.opts).client_secret.clone()
    }

    /// The environment a client needs: the API credential's id and secret.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![("ONELOGIN_CLIENT_ID", CLIENT_ID.to_owned()), ("ONELOGIN_CLIENT_SECRET", self.client_secret())]
    }

    /// Adds a user (its `id` given when missing), with the Calendly app when `assigned`.
    pub fn add_user(&self, mut object: Map<String, Value>, assigned: bool) {
        let mut users = lock(&self.users);
        object.entry("id").or_insert_with(|| json!(52_000_000 + users.len() as u64));
        users.push(User { object, assigned });
    }

    pub fn users(&self) -> Vec<User> {
        lock(&self.users).clone()
    }
}

/// OneLogin's error body.
fn error(status: StatusCode, name: &str, message: &str) -> Response {
    (status, Json(json!({"statusCode": status.as_u16(), "name": name, "message": message}))).into_response()
}

pub fn router(fake: Arc<Fake>) -> Router {
    Router::new()
        .route("/auth/oauth2/v2/token", post(token))
        .route("/api/2/users", get(users))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "NotFoundError", "No Route Exists") })
        .with_state(fake)
}

/// The client id and secret: HTTP Basic, else the form's.
fn credentials(headers: &HeaderMap, body: &HashMap<String, String>) -> Option<(String, String)> {
    use base64::Engine;
    if let Some(b) = bearer(headers, "Basic") {
        let raw = base64::engine::general_purpose::STANDARD.decode(b).ok()?;
        let (id, secret) = String::from_utf8(raw).ok()?.split_once(':').map(|(a, b)| (a.to_owned(), b.to_owned()))?;
        return Some((id, secret));
    }
    Some((body.get("client_id")?.clone(), body.get("client_secret")?.clone()))
}

async fn token(State(fake): State<Arc<Fake>>, headers: HeaderMap, body: Bytes) -> Response {
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let fields: HashMap<String, String> = if json_body {
        match serde_json::from_slice::<Map<String, Value>>(&body) {
            Ok(m) => m.into_iter().filter_map(|(k, v)| Some((k, v.as_str()?.to_owned()))).collect(),
            Err(_) => return error(StatusCode::BAD_REQUEST, "BadRequestError", "Invalid JSON"),
        }
    } else {
        form(&body).into_iter().collect()
    };
    if fields.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "unsupported_grant_type", "error_description": "grant_type is incorrect/absent"})),
        )
            .into_response();
    }
    match credentials(&headers, &fields) {
        Some((id, secret)) if id == CLIENT_ID && secret == fake.client_secret() => {}
        _ => {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": "invalid_client", "error_description": "Invalid client credentials"})),
            )
                .into_response();
        }
    }
    let (token, lifetime) = fake.issue("ol");
    Json(json!({"access_token": token, "created_at": "2026-12-02T01:00:00.000Z", "expires_in": lifetime.as_secs(),
                "refresh_token": format!("r{:016x}", fastrand::u64(..)), "token_type": "bearer", "account_id": 555555}))
    .into_response()
}

#[derive(serde::Deserialize)]
struct Q {
    limit: Option<String>,
    cursor: Option<String>,
    app_id: Option<String>,
}

/// A cursor: the page size and where the next page starts, opaque to the client.
fn cursor(limit: usize, start: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("limit={limit}&start={start}"))
}

fn read_cursor(c: &str) -> Option<(usize, usize)> {
    use base64::Engine;
    let raw = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(c).ok()?).ok()?;
    let (l, s) = raw.strip_prefix("limit=")?.split_once("&start=")?;
    Some((l.parse().ok()?, s.parse().ok()?))
}

async fn users(State(fake): State<Arc<Fake>>, headers: HeaderMap, Query(q): Query<Q>) -> Response {
    fake.requests.fetch_add(1, Ordering::Relaxed);
    let token = bearer(&headers, "Bearer").unwrap_or_default();
    let quota = fake.take();
    let mut res = if !fake.tokens.valid(token) {
        error(StatusCode::UNAUTHORIZED, "UnauthorizedError", "Unauthorized")
    } else if !quota.allowed || fake.fault().is_some_and(|s| s == 429) {
        fake.rate_limited.fetch_add(1, Ordering::Relaxed);
        error(StatusCode::TOO_MANY_REQUESTS, "TooManyRequestsError", "Rate limit exceeded")
    } else {
        list(&fake, &q)
    };
    let h = res.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(quota.limit));
    h.insert("x-ratelimit-remaining", HeaderValue::from(quota.remaining));
    h.insert("x-ratelimit-reset", HeaderValue::from(quota.reset_in.as_millis().div_ceil(1000) as u64));
    res
}

fn list(fake: &Fake, q: &Q) -> Response {
    let (limit, start) = match (&q.cursor, q.limit.as_deref().map(str::parse::<i64>)) {
        (Some(c), _) => match read_cursor(c) {
            Some(p) => p,
            None => return error(StatusCode::BAD_REQUEST, "BadRequestError", "Invalid cursor"),
        },
        (None, None) => (MAX_LIMIT, 0),
        (None, Some(Ok(n))) if n >= 1 => ((n as usize).min(MAX_LIMIT), 0),
        (None, Some(_)) => return error(StatusCode::UNPROCESSABLE_ENTITY, "UnprocessableEntityError", "Invalid limit"),
    };
    let users: Vec<User> = fake
        .users()
        .into_iter()
        .filter(|u| q.app_id.as_deref().is_none_or(|app| app == APP_ID && u.assigned))
        .collect();
    let chunk: Vec<Value> = users.iter().skip(start).take(limit).map(|u| Value::Object(u.object.clone())).collect();
    let total_pages = users.len().div_ceil(limit).max(1);
    let mut res = Json(Value::Array(chunk)).into_response();
    let h = res.headers_mut();
    h.insert("total-count", HeaderValue::from(users.len() as u64));
    h.insert("total-pages", HeaderValue::from(total_pages as u64));
    h.insert("current-page", HeaderValue::from((start / limit + 1) as u64));
    if start > 0 {
        h.insert("before-cursor", HeaderValue::from_str(&cursor(limit, start.saturating_sub(limit))).expect("ASCII"));
    }
    if start + limit < users.len() {
        h.insert("after-cursor", HeaderValue::from_str(&cursor(limit, start + limit)).expect("ASCII"));
    }
    res
}
