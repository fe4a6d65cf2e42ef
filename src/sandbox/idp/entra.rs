//! Microsoft Entra ID as Microsoft Graph's reference describes it, for what groupmap reads:
//! the tenant's token endpoint (`POST /login/{tenant}/oauth2/v2.0/token`, client credentials
//! with `scope=https://graph.microsoft.com/.default`; errors `{error, error_description:
//! "AADSTS…"}`), and under `/graph`: `GET /v1.0/users` (`$select`, `$top` 1–999, pages chained by
//! `@odata.nextLink` with a `$skiptoken`), `GET /v1.0/servicePrincipals/{id}/appRoleAssignedTo`
//! and `GET /v1.0/groups/{id}/transitiveMembers/microsoft.graph.user`. Throttling is 429 with
//! `Retry-After` (seconds); errors are `{"error": {"code", "message", "innerError"}}`.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::{Controls, bearer, form};
use crate::sandbox::lock;
use crate::sandbox::state::OrgState;

pub const PREFIX: &str = "/entra";
pub const TENANT_ID: &str = "5f1c0a9e-7d3b-4c1e-9a8f-2b6d4e0c1a37";
pub const CLIENT_ID: &str = "0b7e3c52-9d14-4f6a-8e21-c4a9f3d8b610";
/// The Calendly enterprise app's service principal (object) id.
pub const APP_ID: &str = "9c2d5e18-3f47-4b90-a6c1-7e8f0d2b4a95";
/// The group assigned to the app (some people are assigned through it).
pub const GROUP_ID: &str = "e4a1b7c3-2d9f-4e86-b053-1f7c8a6d2e94";
/// The directory extension's name (`extension_<app id without dashes>_costCenter`).
pub const EXTENSION: &str = "extension_0b7e3c529d144f6a8e21c4a9f3d8b610_costCenter";
const SCOPE: &str = "https://graph.microsoft.com/.default";

#[derive(Clone, Debug)]
pub struct Options {
    pub client_secret: String,
    /// An access token that works as given (as if obtained elsewhere).
    pub access_token: String,
    /// `expires_in` of issued tokens.
    pub token_lifetime: Duration,
    pub rate_limit: u32,
    pub window: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            client_secret: "Qz8~sandbox.entra-client-secret_0123".into(),
            access_token: "eyJ0eXAiOiJKV1QiLCJub25jZSI6InNhbmRib3gifQ.entra-sandbox-access-token".into(),
            token_lifetime: Duration::from_secs(3599),
            rate_limit: 600,
            window: Duration::from_secs(10),
        }
    }
}

/// One user of the fake tenant: its properties as Graph holds them.
#[derive(Clone, Debug)]
pub struct User {
    pub props: Map<String, Value>,
    /// Assigned to the app directly; else through the group, when `in_group`.
    pub direct: bool,
    pub in_group: bool,
}

impl User {
    pub fn id(&self) -> &str {
        self.props.get("id").and_then(Value::as_str).unwrap_or_default()
    }
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

fn guid(n: usize) -> String {
    let h = (n as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    format!("{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}", h >> 32, (h >> 16) & 0xffff, h & 0xfff, (h >> 20) & 0xfff, h >> 16)
}

/// A user's properties: `mail` empty for some (their address is the UPN then).
pub fn props(n: usize, first: &str, last: &str, email: &str, department: Option<&str>) -> Map<String, Value> {
    let no_mail = n % 13 == 7;
    let mut ext = Map::new();
    for i in 1..=15 {
        ext.insert(format!("extensionAttribute{i}"), Value::Null);
    }
    ext.insert("extensionAttribute1".into(), json!(department.map(|d| format!("{d} (on-premises)"))));
    let v = json!({
        "id": guid(n),
        "displayName": format!("{first} {last}").trim().to_owned(),
        "givenName": first, "surname": last,
        "mail": if no_mail { Value::Null } else { json!(email) },
        "userPrincipalName": if no_mail { email.to_owned() } else { format!("u{n}@northwind.onmicrosoft.com") },
        "department": department, "jobTitle": if department.is_some() { "Specialist" } else { "Contractor" },
        "companyName": "Northwind", "officeLocation": null, "employeeType": "Employee", "employeeId": format!("E{n:05}"),
        "city": null, "state": null, "country": null, "usageLocation": "US",
        "businessPhones": [], "mobilePhone": null, "preferredLanguage": "en-US",
        "employeeOrgData": {"division": null, "costCenter": null},
        "onPremisesExtensionAttributes": ext,
        EXTENSION: format!("CC-{:03}", n % 7),
    });
    v.as_object().cloned().unwrap_or_default()
}

impl Fake {
    pub fn seeded(opts: Options, st: &OrgState) -> Fake {
        let users = super::people(st)
            .into_iter()
            .enumerate()
            .map(|(n, p)| User {
                props: props(n, &p.first, &p.last, &p.user_name, p.value.as_deref()),
                direct: n % 5 != 3,
                in_group: true,
            })
            .collect();
        let controls = Controls::new(opts.rate_limit, opts.window, opts.token_lifetime);
        Fake { opts: Mutex::new(opts), users: Mutex::new(users), controls }
    }

    pub fn client_secret(&self) -> String {
        lock(&self.opts).client_secret.clone()
    }

    pub fn access_token(&self) -> String {
        lock(&self.opts).access_token.clone()
    }

    /// The environment a client needs for this tenant: tenant, client id and secret.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AZURE_TENANT_ID", TENANT_ID.to_owned()),
            ("AZURE_CLIENT_ID", CLIENT_ID.to_owned()),
            ("AZURE_CLIENT_SECRET", self.client_secret()),
        ]
    }

    /// Adds a user with these properties (an `id` is given), assigned to the app when `assigned`.
    pub fn add_user(&self, mut props: Map<String, Value>, assigned: bool) {
        let mut users = lock(&self.users);
        props.entry("id").or_insert_with(|| json!(guid(300_000 + users.len())));
        users.push(User { props, direct: assigned, in_group: false });
    }

    pub fn users(&self) -> Vec<User> {
        lock(&self.users).clone()
    }

    fn unauthorized(&self, headers: &HeaderMap) -> Option<Response> {
        let token = bearer(headers, "Bearer").unwrap_or_default();
        if token.is_empty() {
            return Some(error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", "Access token is empty."));
        }
        if token != self.access_token() && !self.tokens.valid(token) {
            return Some(error(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                "Access token has expired or is not yet valid.",
            ));
        }
        None
    }

    /// Counts a Graph request: the refusal for auth, throttling or an injected fault, if any.
    fn gate(&self, headers: &HeaderMap) -> Option<Response> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if let Some(r) = self.unauthorized(headers) {
            return Some(r);
        }
        let q = self.controls.take();
        let status = if !q.allowed { Some(429) } else { self.controls.fault() };
        match status {
            None => None,
            Some(429) => {
                self.rate_limited.fetch_add(1, Ordering::Relaxed);
                let mut r = error(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", "Too many requests.");
                let secs = if q.allowed { 1 } else { q.reset_in.as_millis().div_ceil(1000).max(1) as u64 };
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
                Some(r)
            }
            Some(s) => Some(error(
                StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "UnknownError",
                "An internal server error occurred.",
            )),
        }
    }
}

/// Graph's error body.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let id = format!("{:08x}-0000-4000-8000-{:012x}", fastrand::u32(..), fastrand::u64(..) >> 16);
    let body = json!({"error": {"code": code, "message": message,
        "innerError": {"date": "2026-12-02T01:00:00", "request-id": id, "client-request-id": id}}});
    (status, Json(body)).into_response()
}

fn not_found(id: &str) -> Response {
    let m = format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present.");
    error(StatusCode::NOT_FOUND, "Request_ResourceNotFound", &m)
}

/// The token endpoint's error body.
fn token_error(status: StatusCode, code: &str, description: &str) -> Response {
    let trace = format!("{:08x}-0000-4000-8000-{:012x}", fastrand::u32(..), fastrand::u64(..) >> 16);
    let body = json!({"error": code, "error_description": format!("{description}\r\nTrace ID: {trace}"),
        "error_codes": [], "timestamp": "2026-12-02 01:00:00Z", "trace_id": trace, "correlation_id": trace});
    (status, Json(body)).into_response()
}

pub fn router(fake: Arc<Fake>) -> Router {
    Router::new()
        .route("/login/{tenant}/oauth2/v2.0/token", post(token))
        .route("/graph/v1.0/users", get(users))
        .route("/graph/v1.0/servicePrincipals/{id}/appRoleAssignedTo", get(assignments))
        .route("/graph/v1.0/groups/{id}/transitiveMembers/microsoft.graph.user", get(members))
        .fallback(|| async {
            error(StatusCode::BAD_REQUEST, "BadRequest", "Resource not found for the segment 'sandbox'.")
        })
        .with_state(fake)
}

async fn token(State(fake): State<Arc<Fake>>, Path(tenant): Path<String>, body: Bytes) -> Response {
    let f: HashMap<String, String> = form(&body).into_iter().collect();
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or_default();
    if tenant != TENANT_ID {
        let d = format!("AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID.");
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", &d);
    }
    if get("grant_type") != "client_credentials" {
        return token_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "AADSTS70003: The app requested an unsupported grant type.",
        );
    }
    if get("client_id") != CLIENT_ID {
        let d =
            format!("AADSTS700016: Application with identifier '{}' was not found in the directory.", get("client_id"));
        return token_error(StatusCode::BAD_REQUEST, "unauthorized_client", &d);
    }
    if get("client_secret") != fake.client_secret() {
        let d = format!(
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client \
             secret value, not the client secret ID, for a secret added to app '{CLIENT_ID}'."
        );
        return token_error(StatusCode::UNAUTHORIZED, "invalid_client", &d);
    }
    if get("scope") != SCOPE {
        let d = format!("AADSTS1002012: The provided value for scope {} is not valid.", get("scope"));
        return token_error(StatusCode::BAD_REQUEST, "invalid_scope", &d);
    }
    let (token, lifetime) = fake.issue("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.sandbox.");
    let secs = lifetime.as_secs();
    Json(json!({"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": token}))
        .into_response()
}

#[derive(serde::Deserialize)]
struct Q {
    #[serde(rename = "$select")]
    select: Option<String>,
    #[serde(rename = "$top")]
    top: Option<String>,
    #[serde(rename = "$skiptoken")]
    skip: Option<String>,
}

const DEFAULT_SELECT: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
];

/// One page of `rows` from the `$skiptoken`, and the next link on the same query.
fn page(headers: &HeaderMap, path: &str, q: &Q, default: usize, rows: Vec<Value>) -> Response {
    let top = match q.top.as_deref().map(str::parse::<i64>) {
        None => default,
        Some(Ok(n)) if (1..=999).contains(&n) => n as usize,
        Some(_) => {
            let shown = q.top.clone().unwrap_or_default();
            let m = format!("Invalid page size specified: '{shown}'. Must be between 1 and 999 inclusive.");
            return error(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", &m);
        }
    };
    let start = match &q.skip {
        None => 0,
        Some(s) => match s
            .strip_prefix("X'")
            .and_then(|s| s.strip_suffix('\''))
            .and_then(|n| usize::from_str_radix(n, 16).ok())
        {
            Some(n) => n,
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "Directory_ExpiredPageToken",
                    "The specified page token value has expired and can no longer be included in your request.",
                );
            }
        },
    };
    let chunk: Vec<Value> = rows.iter().skip(start).take(top).cloned().collect();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let mut body =
        json!({"@odata.context": format!("http://{host}{PREFIX}/graph/v1.0/$metadata#{path}"), "value": chunk});
    if start + top < rows.len() {
        let mut next = format!("http://{host}{PREFIX}/graph{path}?");
        if let Some(s) = &q.select {
            next.push_str(&format!("$select={s}&"));
        }
        next.push_str(&format!("$top={top}&$skiptoken=X'{:X}'", start + top));
        body["@odata.nextLink"] = json!(next);
    }
    Json(body).into_response()
}

async fn users(State(fake): State<Arc<Fake>>, headers: HeaderMap, Query(q): Query<Q>) -> Response {
    if let Some(r) = fake.gate(&headers) {
        return r;
    }
    let select: Vec<String> = match &q.select {
        Some(s) => s.split(',').map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect(),
        None => DEFAULT_SELECT.iter().map(|s| (*s).to_owned()).collect(),
    };
    let known = props(0, "", "", "", None);
    if let Some(p) =
        select.iter().find(|p| !p.starts_with("extension_") && !known.keys().any(|k| k.eq_ignore_ascii_case(p)))
    {
        let m = format!("Could not find a property named '{p}' on type 'microsoft.graph.user'.");
        return error(StatusCode::BAD_REQUEST, "Request_BadRequest", &m);
    }
    let rows = fake
        .users()
        .into_iter()
        .map(|u| {
            let mut out = Map::new();
            for p in &select {
                if let Some((k, v)) = u.props.iter().find(|(k, _)| k.eq_ignore_ascii_case(p)) {
                    out.insert(k.clone(), v.clone());
                } else if !p.starts_with("extension_") {
                    out.insert(p.clone(), Value::Null);
                }
            }
            Value::Object(out)
        })
        .collect();
    page(&headers, "/v1.0/users", &q, 100, rows)
}

async fn assignments(
    State(fake): State<Arc<Fake>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Q>,
) -> Response {
    if let Some(r) = fake.gate(&headers) {
        return r;
    }
    if id != APP_ID {
        return not_found(&id);
    }
    let assignment = |n: usize, kind: &str, principal: &str, name: &str| {
        json!({"id": format!("a{n:x}"), "deletedDateTime": null, "appRoleId": "00000000-0000-0000-0000-000000000000",
               "createdDateTime": "2024-03-01T09:00:00Z", "principalDisplayName": name, "principalId": principal,
               "principalType": kind, "resourceDisplayName": "Calendly", "resourceId": APP_ID})
    };
    let mut rows = vec![assignment(0, "Group", GROUP_ID, "Calendly users")];
    for (n, u) in fake.users().iter().enumerate().filter(|(_, u)| u.direct) {
        let name = u.props.get("displayName").and_then(Value::as_str).unwrap_or_default();
        rows.push(assignment(n + 1, "User", u.id(), name));
    }
    page(&headers, &format!("/v1.0/servicePrincipals/{APP_ID}/appRoleAssignedTo"), &q, 100, rows)
}

async fn members(
    State(fake): State<Arc<Fake>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Q>,
) -> Response {
    if let Some(r) = fake.gate(&headers) {
        return r;
    }
    if id != GROUP_ID {
        return not_found(&id);
    }
    let rows = fake
        .users()
        .iter()
        .filter(|u| u.in_group && !u.direct)
        .map(|u| json!({"@odata.type": "#microsoft.graph.user", "id": u.id()}))
        .collect();
    page(&headers, &format!("/v1.0/groups/{GROUP_ID}/transitiveMembers/microsoft.graph.user"), &q, 100, rows)
}
