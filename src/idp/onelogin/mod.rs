//! OneLogin as the source of IdP values: its users (`GET /api/2/users`, optionally only those of
//! the Calendly app: `app_id`), page after page by the `After-Cursor` response header sent back
//! as `?cursor=`, paced by `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds left in the
//! window). The access token comes from `POST /auth/oauth2/v2/token` (client credentials, HTTP
//! Basic) or is given as is. A page is a JSON array of users; errors are
//! `{"statusCode", "name", "message"}` (read by `idp::error::error_fields`).

use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use reqwest::header::HeaderMap;
use serde_json::{Map, Value};

use super::error::{IdpError, status_error};
use super::http::{Auth, Http, HttpOptions};
use super::oauth::{ClientCredentials, Credentials, Request, Session, env_or, env_or_file};
use super::paging::{MAX_WAIT, Page, number, pause_if_used_up, read_all, retry_after};
use super::settings::Settings;
use super::table::{USER_NAME, attributes, table};
use super::{IdpSource, ValueSource};
use crate::domain::{Export, FieldChoice};
use crate::service::calendly::Secret;
use crate::service::{LoadError, Progress};

pub const USERS: &str = "/api/2/users";

#[derive(Clone, Debug)]
pub struct OneLogin {
    session: Session,
    /// The Calendly app's id; None reads all users.
    app: Option<String>,
    label: String,
}

/// `X-RateLimit-Reset`: the seconds left in the window (a value like an epoch time is read as one).
pub fn reset_in(h: &HeaderMap) -> Option<Duration> {
    let n = number(h, "x-ratelimit-reset")?;
    let secs = if n > 1_000_000_000 {
        n.saturating_sub(time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64)
    } else {
        n
    };
    Some(Duration::from_secs(secs).min(MAX_WAIT))
}

fn wait(h: &HeaderMap) -> Option<Duration> {
    retry_after(h).or_else(|| reset_in(h))
}

/// A page of users: a JSON array of objects; errors name the endpoint and the field.
pub fn decode_page(endpoint: &str, body: &[u8]) -> Result<Vec<Map<String, Value>>, IdpError> {
    super::error::decode_json(endpoint, body, "a JSON array of users")
}

/// The users as one table, joined by `email` (what OneLogin sends Calendly as `userName`).
pub fn users_table(source: &str, users: Vec<Map<String, Value>>) -> Export {
    let rows = users
        .iter()
        .map(|u| {
            let email = u.get("email").and_then(Value::as_str).map(str::trim).unwrap_or_default().to_owned();
            (email, attributes(u, "user"))
        })
        .collect();
    table(source, rows)
}

impl OneLogin {
    fn first(&self) -> Result<reqwest::Url, IdpError> {
        let mut url = self.session.api.url(USERS)?;
        url.query_pairs_mut().append_pair("limit", &self.session.api.opts.page_size.to_string());
        if let Some(app) = &self.app {
            url.query_pairs_mut().append_pair("app_id", app);
        }
        Ok(url)
    }

    async fn page(&self, url: reqwest::Url) -> Result<Page<Map<String, Value>>, IdpError> {
        let http = &self.session.api;
        let (reply, waits) = self.session.get(&url, wait).await?;
        let endpoint = http.endpoint(&url);
        if !(200..300).contains(&reply.status) {
            let hint = match reply.status {
                401 => Some(format!(
                    "OneLogin refused {}: it is wrong or expired, or the API credential was deleted (Administration → \
                     Developers → API Credentials)",
                    self.session.token_source()
                )),
                403 => Some("the API credential may not read users: create one with the scope Read users".to_owned()),
                429 => Some(format!(
                    "still rate limited after waiting {waits} time(s) for X-RateLimit-Reset; try again later"
                )),
                _ => None,
            };
            return Err(status_error(endpoint, reply.status, &reply.body, &|s| http.redact(s), hint));
        }
        let rows = decode_page(&endpoint, &reply.body).map_err(|e| match e {
            IdpError::Decode { endpoint, path, message } => {
                IdpError::Decode { endpoint, path: http.redact(&path), message: http.redact(&message) }
            }
            other => other,
        })?;
        let cursor = reply.headers.get("after-cursor").and_then(|c| c.to_str().ok()).map(str::trim);
        let next = match cursor.filter(|c| !c.is_empty() && !rows.is_empty()) {
            Some(c) => {
                // The cursor carries the page size; the filters are asked again.
                let mut next = http.url(USERS)?;
                if let Some(app) = &self.app {
                    next.query_pairs_mut().append_pair("app_id", app);
                }
                next.query_pairs_mut().append_pair("cursor", c);
                Some(next)
            }
            None => None,
        };
        if next.is_some() {
            pause_if_used_up(number(&reply.headers, "x-ratelimit-remaining"), reset_in(&reply.headers)).await;
        }
        Ok(Page { rows, next })
    }
}

impl ValueSource for OneLogin {
    fn describe(&self) -> String {
        match &self.app {
            Some(app) => format!("{} (GET {USERS}?app_id={app})", self.label),
            None => format!("{} (GET {USERS})", self.label),
        }
    }

    fn provider(&self) -> Option<String> {
        Some(self.label.clone())
    }

    fn read_with_progress<'a>(
        &'a self,
        _organization: &'a str,
        progress: Option<&'a Progress>,
    ) -> BoxFuture<'a, Result<Vec<Export>, LoadError>> {
        async move {
            let first = self.first()?;
            let users = read_all(&self.session.api, first, progress, |url| self.page(url)).await?;
            Ok(vec![users_table(&self.describe(), users)])
        }
        .boxed()
    }
}

/// `https://SUBDOMAIN.onelogin.com` from `--idp-url` (a URL, or the subdomain alone).
fn base_url(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    if url.contains("://") || url.contains('.') || url.contains(':') {
        url.to_owned()
    } else {
        format!("https://{url}.onelogin.com")
    }
}

/// OneLogin from the settings: the account's URL, and client credentials or an access token
/// from the environment or owner-only files.
pub fn open(s: &Settings, env: &dyn Fn(&str) -> Option<String>) -> Result<IdpSource, IdpError> {
    let url = s.url.as_deref().map(base_url).ok_or_else(|| {
        IdpError::Settings(
            "--idp onelogin needs the account's address: --idp-url https://SUBDOMAIN.onelogin.com (or the subdomain \
             alone; or url in [idp])"
                .to_owned(),
        )
    })?;
    let opts = s.http.clone().unwrap_or(HttpOptions { page_size: 50, ..HttpOptions::default() });
    let secret = env_or_file(env, "ONELOGIN_CLIENT_SECRET", s.client_secret_file.as_deref(), "client-secret")?;
    let (credentials, token) = if let Some((secret, secret_source)) = secret {
        let client_id = env_or(env, "ONELOGIN_CLIENT_ID", s.client_id.as_ref()).ok_or_else(|| {
            IdpError::Settings(
                "--idp onelogin needs the API credential's client ID: set ONELOGIN_CLIENT_ID (or client_id in [idp])"
                    .to_owned(),
            )
        })?;
        let token_url = s.token_url.clone().unwrap_or_else(|| format!("{url}/auth/oauth2/v2/token"));
        let endpoint = Http::anonymous(&token_url, "--idp-token-url", opts.clone())?;
        let token_at =
            reqwest::Url::parse(&token_url).map_err(|e| IdpError::Settings(format!("--idp-token-url: {e}")))?;
        let source = format!("ONELOGIN_CLIENT_ID and {secret_source}");
        let fix = "check both, and that the API credential still exists (Administration → Developers → API \
                   Credentials)"
            .to_owned();
        let c = ClientCredentials::new(endpoint, token_at, client_id, secret, Request::BasicJson, source, fix);
        (Credentials::Client(Box::new(c)), Secret::new(String::new()))
    } else if let Some((token, source)) =
        env_or_file(env, "ONELOGIN_ACCESS_TOKEN", s.access_token_file.as_deref(), "access-token")?
    {
        (Credentials::Given { source }, token)
    } else {
        return Err(IdpError::Settings(
            "--idp onelogin needs credentials: set ONELOGIN_CLIENT_ID and ONELOGIN_CLIENT_SECRET (an API credential \
             with the scope Read users; or client_secret_file in [idp]), or ONELOGIN_ACCESS_TOKEN (or \
             access_token_file in [idp])"
                .to_owned(),
        ));
    };
    let api = Http::new(&url, "--idp-url", Auth { scheme: "Bearer", token }, opts)?;
    let label = format!("OneLogin {}", api.host());
    let onelogin = OneLogin { session: Session { api, credentials }, app: s.app.clone(), label: label.clone() };
    Ok(IdpSource {
        provider: label,
        fields: FieldChoice {
            email: Some(USER_NAME.to_owned()),
            idp_value: s.attribute.clone(),
            ..FieldChoice::default()
        },
        source: std::sync::Arc::new(onelogin),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reset_is_seconds_left_and_a_subdomain_is_an_address() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-reset", "832".parse().unwrap());
        assert_eq!(reset_in(&h), Some(MAX_WAIT), "capped");
        h.insert("x-ratelimit-reset", "7".parse().unwrap());
        assert_eq!(wait(&h), Some(Duration::from_secs(7)));
        assert_eq!(base_url("acme"), "https://acme.onelogin.com");
        assert_eq!(base_url("https://acme.onelogin.com/"), "https://acme.onelogin.com");
    }
}
