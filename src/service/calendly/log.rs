//! The request log (`-v`, `GROUPMAP_LOG`): one line per request, for troubleshooting. Paths and
//! queries are logged redacted; headers other than the rate limit's never are.

use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::HeaderMap;

/// The log target of requests (`GROUPMAP_LOG=groupmap::http=debug` keeps only them).
pub const LOG: &str = "groupmap::http";

/// One try of a request, as far as the log tells it.
pub struct Logged<'a> {
    pub method: &'a Method,
    /// Path and query, redacted; empty when the log is off.
    pub url: &'a str,
    /// 1 for the first try, counting waits after 429 too.
    pub attempt: u32,
    /// When the request started waiting for its turn (the in-flight cap and the pacer).
    pub queued: Instant,
    pub started: Instant,
}

impl Logged<'_> {
    fn waited_ms(&self) -> u128 {
        self.started.duration_since(self.queued).as_millis()
    }

    pub fn answer(&self, status: u16, headers: &HeaderMap) {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
        tracing::debug!(
            target: LOG,
            method = %self.method,
            url = self.url,
            status,
            ms = self.started.elapsed().as_millis() as u64,
            waited_ms = self.waited_ms() as u64,
            attempt = self.attempt,
            rate_limit = %header("x-ratelimit-limit"),
            rate_remaining = %header("x-ratelimit-remaining"),
            rate_reset = %header("x-ratelimit-reset"),
            "answer"
        );
    }

    /// `why` is already redacted.
    pub fn failed(&self, why: &str) {
        tracing::debug!(
            target: LOG,
            method = %self.method,
            url = self.url,
            ms = self.started.elapsed().as_millis() as u64,
            waited_ms = self.waited_ms() as u64,
            attempt = self.attempt,
            error = why,
            "no answer"
        );
    }

    pub fn retry(&self, wait: Duration, why: &str) {
        tracing::debug!(
            target: LOG,
            method = %self.method,
            url = self.url,
            wait_ms = wait.as_millis() as u64,
            next_attempt = self.attempt + 1,
            "{why}"
        );
    }
}
