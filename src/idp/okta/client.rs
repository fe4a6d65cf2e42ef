//! Okta's management API, read-only: one list at a time, page after page by the `Link` header,
//! paced by Okta's rate-limit headers (`X-Rate-Limit-Remaining`, and `X-Rate-Limit-Reset` in
//! epoch seconds), 429 waited out until the reset, errors worded with Okta's error body.

use std::time::Duration;

use reqwest::header::HeaderMap;

use super::wire::{self, Item};
use crate::idp::error::IdpError;
use crate::idp::http::Http;
// The longest wait believed from a reset header (Okta's windows are a minute).
use crate::idp::paging::MAX_WAIT;
use crate::idp::paging::{Page, get_waiting, pause_if_used_up, read_all};
use crate::service::Progress;

#[derive(Clone, Debug)]
pub struct OktaClient {
    pub http: Http,
    /// Where the token came from, for a refused token: `OKTA_API_TOKEN`, or the file's path.
    pub token_source: String,
}

/// What an answer's headers say of the rate limit.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Quota {
    remaining: Option<u64>,
    /// How long until the window resets, by the server's clock when it sent a `Date`.
    reset_in: Option<Duration>,
}

fn quota(headers: &HeaderMap) -> Quota {
    let num = |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    let now = headers
        .get(reqwest::header::DATE)
        .and_then(|d| d.to_str().ok())
        .and_then(|d| time::OffsetDateTime::parse(d, &time::format_description::well_known::Rfc2822).ok())
        .unwrap_or_else(time::OffsetDateTime::now_utc)
        .unix_timestamp();
    let reset_in = num("x-rate-limit-reset").map(|reset| {
        let secs = (reset as i128 - now as i128).clamp(0, MAX_WAIT.as_secs() as i128) as u64;
        Duration::from_secs(secs)
    });
    Quota { remaining: num("x-rate-limit-remaining"), reset_in }
}

impl OktaClient {
    /// Reads a whole list from `path` (e.g. `/api/v1/users`), following `rel="next"` links on
    /// Okta's origin only.
    pub async fn list(&self, path: &str, progress: Option<&Progress>) -> Result<Vec<Item>, IdpError> {
        let mut first = self.http.url(path)?;
        first.query_pairs_mut().append_pair("limit", &self.http.opts.page_size.to_string());
        read_all(&self.http, first, progress, |url| async move {
            let reply = self.get(&url).await?;
            let endpoint = self.http.endpoint(&url);
            let rows = wire::decode_page(&endpoint, &reply.body).map_err(|e| self.redacted(e))?;
            let next = match wire::next_link(&reply.headers) {
                Some(next) => Some(url.join(&next).map_err(|e| IdpError::Decode {
                    endpoint: endpoint.clone(),
                    path: "Link".into(),
                    message: format!("the next link is not an address ({e})"),
                })?),
                None => None,
            };
            if next.is_some() {
                let q = quota(&reply.headers);
                pause_if_used_up(q.remaining, q.reset_in).await;
            }
            Ok(Page { rows, next })
        })
        .await
    }

    /// One page: 429 waited out until `X-Rate-Limit-Reset`, other errors worded.
    async fn get(&self, url: &reqwest::Url) -> Result<crate::idp::http::Reply, IdpError> {
        let (reply, waits) = get_waiting(&self.http, url, |h| quota(h).reset_in).await?;
        if (200..300).contains(&reply.status) {
            return Ok(reply);
        }
        Err(self.status_error(url, &reply, waits))
    }

    fn redacted(&self, e: IdpError) -> IdpError {
        match e {
            IdpError::Decode { endpoint, path, message } => {
                IdpError::Decode { endpoint, path: self.http.redact(&path), message: self.http.redact(&message) }
            }
            other => other,
        }
    }

    fn status_error(&self, url: &reqwest::Url, reply: &crate::idp::http::Reply, waits: u32) -> IdpError {
        let body = wire::decode_error(&reply.body);
        let r = |s: Option<String>| s.map(|s| self.http.redact(&s));
        let code = r(body.error_code);
        let summary = r(body.error_summary).or_else(|| {
            let text: String = self.http.redact(&String::from_utf8_lossy(&reply.body)).chars().take(200).collect();
            (!text.trim().is_empty()).then_some(text)
        });
        let causes = body.error_causes.into_iter().filter_map(|c| r(c.error_summary)).collect();
        let hint = match reply.status {
            401 => Some(format!(
                "Okta refused the token from {}: it is wrong, expired or revoked (an Okta API token expires after \
                 30 days unused). Create a new one (Admin Console: Security → API → Tokens) and put it there",
                self.token_source
            )),
            403 => Some(
                "the token may not read this: use an API token of a read-only admin, or an OAuth access token \
                 with the scopes okta.users.read and okta.apps.read"
                    .to_owned(),
            ),
            404 if url.path().contains("/apps/") => Some(
                "no such app: check --idp-app (the Calendly app's id is in its Admin Console address, \
                 …/admin/app/…/instance/<id>/)"
                    .to_owned(),
            ),
            429 => Some(format!(
                "still rate limited after waiting {waits} time(s) for the window to reset; try again in a minute"
            )),
            _ => None,
        };
        IdpError::Status(Box::new(crate::idp::error::StatusError {
            endpoint: self.http.endpoint(url),
            status: reply.status,
            code,
            summary,
            id: r(body.error_id),
            causes,
            hint,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reset_is_epoch_seconds_read_against_the_servers_clock() {
        let mut h = HeaderMap::new();
        h.insert("date", "Sat, 12 Jun 1993 13:25:19 GMT".parse().unwrap());
        let at = time::macros::datetime!(1993-06-12 13:25:19 UTC).unix_timestamp();
        h.insert("x-rate-limit-reset", (at + 7).to_string().parse().unwrap());
        h.insert("x-rate-limit-remaining", "0".parse().unwrap());
        assert_eq!(quota(&h), Quota { remaining: Some(0), reset_in: Some(Duration::from_secs(7)) });
        h.insert("x-rate-limit-reset", (at + 100_000).to_string().parse().unwrap());
        assert_eq!(quota(&h).reset_in, Some(MAX_WAIT), "a wild reset is not believed");
        h.insert("x-rate-limit-reset", (at - 5).to_string().parse().unwrap());
        assert_eq!(quota(&h).reset_in, Some(Duration::ZERO));
    }
}
