//! Okta's answers as its reference describes them: a page is a JSON array of users (app users
//! from `GET /api/v1/apps/{appId}/users`, users from `GET /api/v1/users`), the next page is in a
//! `Link: <…>; rel="next"` header, and an error is `{errorCode, errorSummary, errorLink, errorId,
//! errorCauses: [{errorSummary}]}`.

use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::idp::error::IdpError;

/// One user of a page, whichever list it came from; unknown keys are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct Item {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub credentials: Option<Credentials>,
    #[serde(default)]
    pub profile: Option<Map<String, Value>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Credentials {
    /// On an app user: the username Okta sends the app (what Calendly knows the user by).
    #[serde(default, rename = "userName")]
    pub user_name: Option<String>,
}

#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub error_summary: Option<String>,
    #[serde(default)]
    pub error_link: Option<String>,
    #[serde(default)]
    pub error_id: Option<String>,
    #[serde(default)]
    pub error_causes: Vec<ErrorCause>,
}

#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorCause {
    #[serde(default)]
    pub error_summary: Option<String>,
}

/// A page of users, decoded; errors name the endpoint and the field (`[3].credentials.userName`).
pub fn decode_page(endpoint: &str, body: &[u8]) -> Result<Vec<Item>, IdpError> {
    crate::idp::error::decode_json(endpoint, body, "a JSON array of users")
}

/// The error body, when the answer has one (else all fields empty).
pub fn decode_error(body: &[u8]) -> ErrorBody {
    serde_json::from_slice(body).unwrap_or_default()
}

pub use crate::idp::table::flatten;

/// The `rel="next"` target among the answer's `Link` headers (Okta sends one header per link;
/// a proxy may join them with commas).
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    for value in headers.get_all(reqwest::header::LINK) {
        let Ok(value) = value.to_str() else { continue };
        for link in split_links(value) {
            let Some((target, params)) = link.trim().strip_prefix('<').and_then(|l| l.split_once('>')) else {
                continue;
            };
            let next = params.split(';').any(|p| {
                let Some((name, val)) = p.split_once('=') else { return false };
                name.trim().eq_ignore_ascii_case("rel")
                    && val.trim().trim_matches('"').split_ascii_whitespace().any(|r| r.eq_ignore_ascii_case("next"))
            });
            if next {
                return Some(target.trim().to_owned());
            }
        }
    }
    None
}

/// Splits a `Link` value at the commas between links, not those inside `<…>` or quotes.
fn split_links(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut angle, mut quote, mut start) = (false, false, 0);
    for (i, c) in value.char_indices() {
        match c {
            '<' if !quote => angle = true,
            '>' if !quote => angle = false,
            '"' if !angle => quote = !quote,
            ',' if !angle && !quote => {
                out.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&value[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_is_found_among_separate_or_joined_link_headers() {
        let mut h = HeaderMap::new();
        h.append("link", "<https://a.okta.com/api/v1/users?limit=2>; rel=\"self\"".parse().unwrap());
        h.append("link", "<https://a.okta.com/api/v1/users?after=00u2&limit=2>; rel=\"next\"".parse().unwrap());
        assert_eq!(next_link(&h).as_deref(), Some("https://a.okta.com/api/v1/users?after=00u2&limit=2"));
        let mut j = HeaderMap::new();
        j.append("link", "<https://x/a?b=1,2>; rel=\"self\", <https://x/a?after=Z>; rel=next".parse().unwrap());
        assert_eq!(next_link(&j).as_deref(), Some("https://x/a?after=Z"));
        let mut none = HeaderMap::new();
        none.append("link", "<https://x/a>; rel=\"self\"".parse().unwrap());
        assert_eq!(next_link(&none), None);
    }

    #[test]
    fn profiles_flatten_to_text() {
        let p: Map<String, Value> = serde_json::from_str(
            r#"{"department":"Sales EMEA","n":3,"ok":true,"none":null,"groups":["a","b"],"addr":{"city":"Oslo"}}"#,
        )
        .unwrap();
        let f = flatten(&p);
        let get = |k: &str| f.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("department"), Some("Sales EMEA"));
        assert_eq!((get("n"), get("ok"), get("none")), (Some("3"), Some("true"), Some("")));
        assert_eq!((get("groups"), get("addr.city")), (Some("a, b"), Some("Oslo")));
    }

    #[test]
    fn a_wrong_shape_names_the_field() {
        let err = decode_page("GET /api/v1/users", br#"[{"credentials":{"userName":5}}]"#).unwrap_err().to_string();
        assert!(err.contains("[0].credentials.userName"), "{err}");
        let err = decode_page("GET /api/v1/users", b"[{\"a\"").unwrap_err().to_string();
        assert!(err.contains("not valid JSON"), "{err}");
    }
}
