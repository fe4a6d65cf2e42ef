//! Reading a whole list from an identity provider, page after page, whatever its paging: the
//! next page stays on the provider's origin, a page offered twice is a loop, an endless list
//! is stopped, and progress is told once a page. Also the waits a rate limit asks for.

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use reqwest::header::HeaderMap;

use super::error::IdpError;
use super::http::{Http, Reply};
use crate::service::Progress;

/// The longest wait believed from a rate-limit header.
pub const MAX_WAIT: Duration = Duration::from_secs(90);

/// One page read: its rows and the next page's address (absolute), if any.
pub struct Page<T> {
    pub rows: Vec<T>,
    pub next: Option<reqwest::Url>,
}

/// Reads from `first` until a page has no next; `fetch` reads one page. Progress counts the
/// rows as the identity provider's users.
pub async fn read_all<T, F, Fut>(
    http: &Http,
    first: reqwest::Url,
    progress: Option<&Progress>,
    mut fetch: F,
) -> Result<Vec<T>, IdpError>
where
    F: FnMut(reqwest::Url) -> Fut,
    Fut: Future<Output = Result<Page<T>, IdpError>>,
{
    let first_shown = http.endpoint(&first);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut url = first;
    let mut pages = 0;
    loop {
        let endpoint = http.endpoint(&url);
        let page = fetch(url).await?;
        pages += 1;
        out.extend(page.rows);
        if let Some(p) = progress {
            p.page(crate::service::loading::List::IdpUsers, out.len(), page.next.is_none(), None);
        }
        let Some(next) = page.next else { return Ok(out) };
        http.on_origin(&next, &endpoint, "its next page is on")?;
        if !seen.insert(next.to_string()) {
            return Err(IdpError::PageLoop { endpoint: first_shown, url: http.endpoint(&next), pages });
        }
        if pages >= http.opts.max_pages {
            return Err(IdpError::TooManyPages { endpoint: first_shown, pages, rows: out.len() });
        }
        url = next;
    }
}

/// A GET with 429 answers waited out (`wait` reads how long from the answer's headers), at most
/// `max_rate_limit_waits` times. Returns the last answer, whatever its status, and the waits.
pub async fn get_waiting(
    http: &Http,
    url: &reqwest::Url,
    wait: impl Fn(&HeaderMap) -> Option<Duration>,
) -> Result<(Reply, u32), IdpError> {
    let mut waits = 0;
    loop {
        let reply = http.get(url).await?;
        if reply.status == 429 && waits < http.opts.max_rate_limit_waits {
            waits += 1;
            let pause = wait(&reply.headers).unwrap_or(Duration::from_secs(1)).min(MAX_WAIT);
            tokio::time::sleep(pause + jitter()).await;
            continue;
        }
        return Ok((reply, waits));
    }
}

/// `Retry-After`: seconds, or an HTTP date (read against the answer's `Date`).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs).min(MAX_WAIT));
    }
    let rfc = |s: &str| time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc2822).ok();
    let at = rfc(v)?;
    let now = headers
        .get(reqwest::header::DATE)
        .and_then(|d| d.to_str().ok())
        .and_then(rfc)
        .unwrap_or_else(time::OffsetDateTime::now_utc);
    let secs = (at - now).whole_seconds().clamp(0, MAX_WAIT.as_secs() as i64) as u64;
    Some(Duration::from_secs(secs))
}

/// A number header (`X-RateLimit-Remaining`).
pub fn number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// Waits for the window to reset when the answer says none is left, rather than provoke a 429.
pub async fn pause_if_used_up(remaining: Option<u64>, reset_in: Option<Duration>) {
    if remaining == Some(0)
        && let Some(wait) = reset_in
    {
        tokio::time::sleep(wait.min(MAX_WAIT) + jitter()).await;
    }
}

/// A short random wait on top, so that clients waiting for the same reset do not all return at once.
pub fn jitter() -> Duration {
    Duration::from_millis(100 + fastrand::u64(0..400))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds_or_a_date_and_capped() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert("retry-after", "100000".parse().unwrap());
        assert_eq!(retry_after(&h), Some(MAX_WAIT));
        h.insert("date", "Sat, 12 Jun 1993 13:25:19 GMT".parse().unwrap());
        h.insert("retry-after", "Sat, 12 Jun 1993 13:25:31 GMT".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(12)));
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }
}
