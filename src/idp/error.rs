//! What reading an identity provider can fail with, each worded for the admin: the endpoint,
//! the provider's own error code and summary, and what to do.

use crate::domain::text::{quoted, sanitize};

#[derive(Debug, thiserror::Error)]
pub enum IdpError {
    /// The provider's settings are missing or wrong (before anything is sent).
    #[error("{0}")]
    Settings(String),
    /// The provider answered with an error status.
    #[error("{0}")]
    Status(Box<StatusError>),
    #[error("{endpoint}: {message} (after {attempts} attempt{}); check --idp-url and the network, then retry", if *.attempts == 1 { "" } else { "s" })]
    Transport { endpoint: String, message: String, attempts: u32 },
    #[error("{endpoint}: unexpected answer: {}{}", if .path.is_empty() || .path == "." { String::new() } else { format!("at {}: ", sanitize(.path)) }, sanitize(.message))]
    Decode { endpoint: String, path: String, message: String },
    #[error(
        "{endpoint}: {how} {origin}; groupmap sends the identity provider's token only to {base}, so nothing was \
         sent there. Check --idp-url (it must be the provider's own address)"
    )]
    ForeignOrigin { endpoint: String, how: &'static str, origin: String, base: String },
    #[error("{endpoint}: the answer exceeds {} MiB; stopped reading. Check that --idp-url points at the identity provider", .cap >> 20)]
    TooLarge { endpoint: String, cap: u64 },
    #[error(
        "{endpoint}: the next page {} was offered again after {pages} page(s): a pagination loop. Stopped; nothing was changed",
        quoted(.url)
    )]
    PageLoop { endpoint: String, url: String, pages: usize },
    #[error(
        "{endpoint}: stopped after {pages} pages ({rows} users) and the provider still offers more; nothing was changed"
    )]
    TooManyPages { endpoint: String, pages: usize, rows: usize },
}

/// An error status with the provider's own error body (Okta's `errorCode`, `errorSummary`,
/// `errorId`, `errorCauses`) and what to do about it.
#[derive(Debug, thiserror::Error)]
#[error(
    "{endpoint}: {status}{}{}{}{}{}",
    .code.as_deref().map(|c| format!(" {}", sanitize(c))).unwrap_or_default(),
    .summary.as_deref().map(|s| format!(": {}", sanitize(s))).unwrap_or_default(),
    causes_text(.causes),
    .id.as_deref().map(|i| format!(" (error id {})", sanitize(i))).unwrap_or_default(),
    .hint.as_deref().map(|h| format!("\n  {h}")).unwrap_or_default()
)]
pub struct StatusError {
    pub endpoint: String,
    pub status: u16,
    pub code: Option<String>,
    pub summary: Option<String>,
    pub id: Option<String>,
    pub causes: Vec<String>,
    pub hint: Option<String>,
}

fn causes_text(causes: &[String]) -> String {
    if causes.is_empty() {
        return String::new();
    }
    let shown: Vec<String> = causes.iter().map(|c| sanitize(c).into_owned()).collect();
    format!(" ({})", shown.join("; "))
}

/// A JSON answer decoded as `T`; an error names the endpoint, the field (`[3].profile`) and
/// what was expected (`a JSON array of users`).
pub fn decode_json<T: serde::de::DeserializeOwned>(endpoint: &str, body: &[u8], expected: &str) -> Result<T, IdpError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let syntax = !matches!(e.inner().classify(), serde_json::error::Category::Data);
        let message = if syntax {
            format!("not valid JSON ({})", e.inner())
        } else {
            format!("{} (expected {expected})", e.inner())
        };
        IdpError::Decode { endpoint: endpoint.to_owned(), path: e.path().to_string(), message }
    })
}

/// What an error body says, in whichever shape the provider uses: Microsoft Graph's
/// `{"error": {"code", "message", "innerError": {"request-id"}}}`, an OAuth token endpoint's
/// `{"error", "error_description", "trace_id"}`, OneLogin's `{"statusCode", "name", "message"}`
/// or `{"status": {"code", "type", "message"}}`. Fields not found are None; never fails.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ErrorFields {
    pub code: Option<String>,
    pub message: Option<String>,
    pub id: Option<String>,
}

pub fn error_fields(body: &[u8]) -> ErrorFields {
    use serde_json::Value;
    let Ok(Value::Object(top)) = serde_json::from_slice::<Value>(body) else { return ErrorFields::default() };
    let text = |v: Option<&Value>| -> Option<String> {
        match v? {
            Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Array(items) => {
                let parts: Vec<String> = items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect();
                (!parts.is_empty()).then(|| parts.join("; "))
            }
            _ => None,
        }
    };
    match (top.get("error"), top.get("status")) {
        (Some(Value::Object(e)), _) => {
            let inner = e.get("innerError").or_else(|| e.get("innererror")).and_then(Value::as_object);
            ErrorFields {
                code: text(e.get("code")),
                message: text(e.get("message")),
                id: inner.and_then(|i| text(i.get("request-id")).or_else(|| text(i.get("client-request-id")))),
            }
        }
        (Some(code), _) => ErrorFields {
            code: text(Some(code)),
            message: text(top.get("error_description")).or_else(|| text(top.get("message"))),
            id: text(top.get("trace_id")).or_else(|| text(top.get("correlation_id"))),
        },
        (None, Some(Value::Object(st))) => ErrorFields {
            code: text(st.get("type")).or_else(|| text(st.get("code"))),
            message: text(st.get("message")),
            id: None,
        },
        _ => ErrorFields {
            code: text(top.get("name")).or_else(|| text(top.get("code"))),
            message: text(top.get("message")).or_else(|| text(top.get("description"))),
            id: None,
        },
    }
}

/// An error status worded from the answer: the provider's code and message (or the start of
/// the body), redacted by `redact`, and the hint.
pub fn status_error(
    endpoint: String,
    status: u16,
    body: &[u8],
    redact: &dyn Fn(&str) -> String,
    hint: Option<String>,
) -> IdpError {
    let f = error_fields(body);
    let r = |s: Option<String>| s.map(|s| redact(&s));
    let summary = r(f.message).or_else(|| {
        let text: String = redact(&String::from_utf8_lossy(body)).chars().take(200).collect();
        (!text.trim().is_empty()).then_some(text)
    });
    IdpError::Status(Box::new(StatusError {
        endpoint,
        status,
        code: r(f.code),
        summary,
        id: r(f.id),
        causes: Vec::new(),
        hint,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_providers_error_shape_is_read() {
        let graph = br#"{"error":{"code":"InvalidAuthenticationToken","message":"Access token has expired or is not yet valid.","innerError":{"date":"2026-12-02T01:00:00","request-id":"r-1","client-request-id":"c-1"}}}"#;
        assert_eq!(
            error_fields(graph),
            ErrorFields {
                code: Some("InvalidAuthenticationToken".into()),
                message: Some("Access token has expired or is not yet valid.".into()),
                id: Some("r-1".into())
            }
        );
        let token = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215],"trace_id":"t-1"}"#;
        let f = error_fields(token);
        assert_eq!((f.code.as_deref(), f.id.as_deref()), (Some("invalid_client"), Some("t-1")));
        assert!(f.message.unwrap().starts_with("AADSTS7000215"));
        let ol = br#"{"statusCode":401,"name":"UnauthorizedError","message":"Unauthorized"}"#;
        assert_eq!(error_fields(ol).code.as_deref(), Some("UnauthorizedError"));
        let ol1 = br#"{"status":{"error":true,"code":401,"type":"Unauthorized","message":"Authentication Failure"}}"#;
        let f = error_fields(ol1);
        assert_eq!((f.code.as_deref(), f.message.as_deref()), (Some("Unauthorized"), Some("Authentication Failure")));
        assert_eq!(error_fields(b"<html>"), ErrorFields::default());
    }
}
