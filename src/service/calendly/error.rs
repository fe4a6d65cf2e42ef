//! What a request to the API can fail with, each worded for the admin.

use super::wire::ApiErrorBody;
use crate::domain::text::{quoted, sanitize};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{endpoint}: {status} {}: {}{}{}", sanitize(&.body.title), sanitize(&.body.message), details(.body), hint(*.status, .body))]
    Status { endpoint: String, status: u16, body: Box<ApiErrorBody> },
    /// The answer was not valid JSON (`syntax`) or did not have the expected shape.
    #[error("{endpoint}: {}", decode_message(.path, .message, *.syntax))]
    Decode { endpoint: String, path: String, message: String, syntax: bool },
    #[error("{endpoint}: {message} (after {attempts} attempt{}); check the base URL and the network, then retry", if *.attempts == 1 { "" } else { "s" })]
    Transport { endpoint: String, message: String, attempts: u32 },
    #[error(
        "{endpoint}: the server sent the page token {} again after {pages} page(s): a pagination loop. \
         Stopped instead of following it forever; nothing was changed. Retry later, and report it to the API provider if it persists",
        quoted(.token)
    )]
    PageLoop { endpoint: String, token: String, pages: usize },
    #[error(
        "{endpoint}: page {pages} repeats rows already read ({rows} so far): the list never ends. \
         Stopped instead of following it forever; nothing was changed. Retry later, and report it to the API provider if it persists"
    )]
    RepeatedPage { endpoint: String, pages: usize, rows: usize },
    #[error(
        "{endpoint}: stopped after {pages} pages ({rows} rows) and the server still offers more: more than groupmap \
         accepts for one list (the stream looks endless). Nothing was changed; check the organization and the base URL"
    )]
    TooManyPages { endpoint: String, pages: usize, rows: usize },
    /// A URL (a job URI, a next page, a redirect) that is not on the base URL's origin.
    #[error(
        "{endpoint}: {how} {origin}; groupmap sends the token only to {base}, so nothing was sent there. \
         Check the base URL (it must be the API's own address), and report it to the API provider if it persists"
    )]
    ForeignOrigin { endpoint: String, how: &'static str, origin: String, base: String },
    #[error(
        "{endpoint}: the answer exceeds {}; stopped reading. That is more than groupmap reads for one answer: \
         check that the base URL points at the Calendly API, and report it if it does", size(*.cap)
    )]
    TooLarge { endpoint: String, cap: u64 },
    #[error(
        "{endpoint}: the answer was too slow: it began but was not complete within {secs} s (after {attempts} \
         attempt{}); stopped waiting. The server is reachable but sends too slowly: retry later",
        if *.attempts == 1 { "" } else { "s" }
    )]
    TooSlow { endpoint: String, secs: f64, attempts: u32 },
    #[error(
        "{endpoint}: the server's next page token is {len} bytes long, more than the {} groupmap sends back: \
         a broken answer. Stopped; nothing was changed. Retry later, and report it to the API provider if it persists",
        size(*.limit as u64)
    )]
    PageTokenTooLong { endpoint: String, len: usize, limit: usize },
    #[error(
        "{endpoint}: the request could not be sent whole: its address is {len} bytes long, too long for the server \
         ({message}). Nothing was changed; report it if it persists"
    )]
    UrlTooLong { endpoint: String, len: usize, message: String },
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server may or may not have acted on the request: the connection failed, it answered
    /// with a server error, or its answer could not be read (too slow, too large).
    pub fn outcome_unknown(&self) -> bool {
        match self {
            // The request was sent; its answer was lost or unreadable.
            ApiError::Transport { .. } | ApiError::TooSlow { .. } | ApiError::TooLarge { .. } => true,
            ApiError::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// `16 MiB`, `64 KiB`, or bytes.
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

fn decode_message(path: &str, message: &str, syntax: bool) -> String {
    let message = sanitize(message);
    if syntax {
        format!(
            "the answer is not valid JSON ({message}): the server or a proxy sent a broken answer; \
             retry, and check the base URL if it persists"
        )
    } else {
        let field = if path.is_empty() || path == "." {
            "the answer".to_owned()
        } else {
            format!("field `{}`", sanitize(path))
        };
        format!(
            "unexpected answer: {field}: {message}; the answer does not have the shape groupmap expects \
             (check that the base URL points at the Calendly API, and report it if it does)"
        )
    }
}

fn details(body: &ApiErrorBody) -> String {
    body.details
        .iter()
        .map(|d| match &d.parameter {
            Some(p) => format!("\n  - {}: {}", sanitize(p), sanitize(&d.message)),
            None => format!("\n  - {}", sanitize(&d.message)),
        })
        .collect()
}

/// The scopes groupmap's reads need: `/users/me`; memberships and invitations; groups and their
/// relationships.
pub const SCOPES_NEEDED: [&str; 3] = ["users:read", "organizations:read", "groups:read"];

fn hint(status: u16, body: &ApiErrorBody) -> String {
    // A token without a scope is not an admin problem: name the scopes it lacks and all it needs.
    let scopes = &body.required_scopes;
    if status == 403 && (!scopes.is_empty() || body.message.to_ascii_lowercase().contains("scope")) {
        let lacks = if scopes.is_empty() {
            "a scope this request needs".to_owned()
        } else {
            scopes.iter().map(|s| format!("`{}`", sanitize(s))).collect::<Vec<_>>().join(", ")
        };
        let all: Vec<String> = SCOPES_NEEDED.iter().map(|s| format!("`{s}`")).collect();
        return format!(
            "\n  (the token lacks {lacks}. groupmap needs {} in all: create a Personal Access Token with \
             them in Calendly (Integrations → API and webhooks), then set CALENDLY_TOKEN or token_file)",
            all.join(", ")
        );
    }
    status_hint(status).to_owned()
}

fn status_hint(status: u16) -> &'static str {
    match status {
        400 => "\n  (the server refused the request; if this persists, report it with this message)",
        401 => "\n  (check the token: CALENDLY_TOKEN or token_file must hold a valid Personal Access Token)",
        403 => {
            "\n  (the token's user must be an organization admin or owner: ask an owner to give the token's user \
                the Admin role in Calendly's admin center (Users), or use a token of an admin)"
        }
        404 => "\n  (not found: check the organization (--org) and the base URL)",
        414 => "\n  (the request's address is too long for the server; report it if it persists)",
        431 => "\n  (the request's address or headers are too large for the server; report it if it persists)",
        409 | 412 => "\n  (the organization changed meanwhile: reload, review and try again)",
        429 => "\n  (rate limit still exceeded after waiting; try again in a minute)",
        s if s >= 500 => "\n  (the server failed; retried already, try again later)",
        _ => "\n  (unexpected answer; retry, and report it if it persists)",
    }
}
