//! An API reached with an OAuth access token: given as is (from the environment or an
//! owner-only file), or obtained with client credentials from the provider's token endpoint,
//! kept until shortly before it expires (`expires_in`) and obtained again when the API refuses it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

use super::error::{IdpError, status_error};
use super::http::{Body, Http, Reply};
use super::paging::get_waiting;
use crate::service::calendly::Secret;

/// How the token endpoint is asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// A form with `client_id`, `client_secret`, `scope` and `grant_type` (Microsoft's).
    Form { scope: &'static str },
    /// HTTP Basic `client_id:client_secret` and a JSON `{"grant_type": "client_credentials"}` (OneLogin's).
    BasicJson,
}

/// Client credentials and the token they got.
#[derive(Clone, Debug)]
pub struct ClientCredentials {
    /// The token endpoint (its own origin: the secret goes only there).
    pub endpoint: Http,
    pub url: reqwest::Url,
    pub client_id: String,
    pub secret: Secret,
    pub request: Request,
    /// Where the credentials came from, for a refusal: `AZURE_CLIENT_ID and AZURE_CLIENT_SECRET`.
    pub source: String,
    /// What to do when the endpoint refuses them.
    pub fix: String,
    cached: Arc<Mutex<Option<(Secret, Instant)>>>,
}

impl ClientCredentials {
    pub fn new(
        endpoint: Http,
        url: reqwest::Url,
        client_id: String,
        secret: Secret,
        request: Request,
        source: String,
        fix: String,
    ) -> ClientCredentials {
        endpoint.keep_secret(secret.clone());
        // As it went in the form, should the endpoint echo the request back.
        let encoded = Body::form(&[("s", secret.expose())]).bytes;
        let encoded = String::from_utf8_lossy(&encoded[2..]).into_owned();
        if encoded != secret.expose() {
            endpoint.keep_secret(Secret::new(encoded));
        }
        if request == Request::BasicJson {
            use base64::Engine;
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{}", secret.expose()));
            endpoint.keep_secret(Secret::new(basic));
        }
        ClientCredentials { endpoint, url, client_id, secret, request, source, fix, cached: Arc::default() }
    }

    /// The token kept, unless it expires soon (or `fresh`): then a new one.
    async fn token(&self, fresh: bool) -> Result<(Secret, bool), IdpError> {
        if !fresh
            && let Some((t, until)) = self.cached.lock().unwrap_or_else(|e| e.into_inner()).clone()
            && Instant::now() < until
        {
            return Ok((t, false));
        }
        let (body, basic) = match self.request {
            Request::Form { scope } => (
                Body::form(&[
                    ("client_id", &self.client_id),
                    ("client_secret", self.secret.expose()),
                    ("scope", scope),
                    ("grant_type", "client_credentials"),
                ]),
                None,
            ),
            Request::BasicJson => (
                Body::json(&serde_json::json!({"grant_type": "client_credentials"})),
                Some((self.client_id.as_str(), &self.secret)),
            ),
        };
        let reply = self.endpoint.post(&self.url, body, basic).await?;
        let endpoint = self.endpoint.endpoint_of("POST", &self.url);
        if !(200..300).contains(&reply.status) {
            let hint = match reply.status {
                400 | 401 | 403 => Some(format!(
                    "the token endpoint refused the client credentials from {}: {}",
                    self.source, self.fix
                )),
                _ => None,
            };
            return Err(status_error(endpoint, reply.status, &reply.body, &|s| self.endpoint.redact(s), hint));
        }
        let (token, expires_in) = decode_token(&endpoint, &reply.body).map_err(|e| match e {
            IdpError::Decode { endpoint, path, message } => {
                IdpError::Decode { endpoint, path, message: self.endpoint.redact(&message) }
            }
            other => other,
        })?;
        // Obtained again a little before it expires, so that no request goes with a dead token.
        let margin = Duration::from_secs(300).min(expires_in / 2);
        let until = Instant::now() + expires_in.saturating_sub(margin);
        *self.cached.lock().unwrap_or_else(|e| e.into_inner()) = Some((token.clone(), until));
        Ok((token, true))
    }
}

/// The access token and `expires_in` of a token endpoint's answer (RFC 6749 §5.1; some send
/// `expires_in` as a string).
pub fn decode_token(endpoint: &str, body: &[u8]) -> Result<(Secret, Duration), IdpError> {
    let bad = |path: &str, message: &str| IdpError::Decode {
        endpoint: endpoint.to_owned(),
        path: path.to_owned(),
        message: message.to_owned(),
    };
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| bad("", &format!("not valid JSON ({e})")))?;
    let token = v
        .get("access_token")
        .and_then(|t| t.as_str())
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| bad("access_token", "no access token in the answer"))?;
    let expires_in = match v.get("expires_in") {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        None => Some(3600),
        _ => None,
    }
    .ok_or_else(|| bad("expires_in", "not a number of seconds"))?;
    Ok((Secret::new(token.trim()), Duration::from_secs(expires_in.clamp(1, 24 * 3600))))
}

/// Where the API's token comes from.
#[derive(Clone, Debug)]
pub enum Credentials {
    /// An access token given as is; `source` names where (`AZURE_ACCESS_TOKEN`, the file's path).
    Given {
        source: String,
    },
    Client(Box<ClientCredentials>),
}

/// The API and how it is authorized.
#[derive(Clone, Debug)]
pub struct Session {
    pub api: Http,
    pub credentials: Credentials,
}

impl Session {
    /// Where the token came from, for a refused token.
    pub fn token_source(&self) -> String {
        match &self.credentials {
            Credentials::Given { source } => source.clone(),
            Credentials::Client(c) => format!("the access token obtained with {}", c.source),
        }
    }

    async fn authorize(&self, fresh: bool) -> Result<(), IdpError> {
        if let Credentials::Client(c) = &self.credentials {
            let (token, new) = c.token(fresh).await?;
            if new {
                self.api.set_token("Bearer", token);
            }
        }
        Ok(())
    }

    /// A GET with a live token: 429 waited out (`wait`), and with client credentials a 401
    /// answered by obtaining a new token once. Returns the last answer and the waits.
    pub async fn get(
        &self,
        url: &reqwest::Url,
        wait: impl Fn(&HeaderMap) -> Option<Duration>,
    ) -> Result<(Reply, u32), IdpError> {
        self.authorize(false).await?;
        let (reply, waits) = get_waiting(&self.api, url, &wait).await?;
        if reply.status == 401 && matches!(self.credentials, Credentials::Client(_)) {
            self.authorize(true).await?;
            return get_waiting(&self.api, url, &wait).await;
        }
        Ok((reply, waits))
    }
}

/// A secret from the environment variable `var`, else from the owner-only `file`, with where it
/// came from (`AZURE_CLIENT_SECRET`, `the client-secret file PATH`); None when neither has one.
pub fn env_or_file(
    env: &dyn Fn(&str) -> Option<String>,
    var: &str,
    file: Option<&std::path::Path>,
    what: &str,
) -> Result<Option<(Secret, String)>, IdpError> {
    if let Some(v) = env(var).map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) {
        return Ok(Some((Secret::new(v), var.to_owned())));
    }
    match file {
        Some(p) => {
            let s = crate::config::read_token_file(p).map_err(|e| IdpError::Settings(e.to_string()))?;
            Ok(Some((s, format!("the {what} file {}", p.display()))))
        }
        None => Ok(None),
    }
}

/// A setting from the environment variable `var`, else from the config file.
pub fn env_or(env: &dyn Fn(&str) -> Option<String>, var: &str, file: Option<&String>) -> Option<String> {
    env(var).or_else(|| file.cloned()).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_answer_is_read_with_its_lifetime() {
        let (t, d) =
            decode_token("POST /t", br#"{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ0"}"#).unwrap();
        assert_eq!((t.expose(), d), ("eyJ0", Duration::from_secs(3599)));
        let (_, d) = decode_token("POST /t", br#"{"access_token":"a","expires_in":"36000"}"#).unwrap();
        assert_eq!(d, Duration::from_secs(36000));
        let err = decode_token("POST /t", br#"{"token_type":"Bearer"}"#).unwrap_err().to_string();
        assert!(err.contains("POST /t: unexpected answer: at access_token: no access token"), "{err}");
    }
}
