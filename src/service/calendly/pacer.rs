//! Pacing by the rate-limit headers, so that a long load uses the window without provoking 429.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

/// Paces requests: what the server said is left of its window.
#[derive(Debug, Default)]
pub struct Pacer {
    state: Mutex<PaceState>,
}

#[derive(Debug, Default)]
struct PaceState {
    /// Requests we may still send in this window (None: unknown, e.g. a new window).
    remaining: Option<u32>,
    reset_at: Option<Instant>,
}

impl Pacer {
    /// Waits until a request may be sent, and counts it.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut s = self.state.lock().expect("pacer lock");
                let now = Instant::now();
                if s.reset_at.is_some_and(|r| now >= r) {
                    s.remaining = None;
                    s.reset_at = None;
                }
                match (s.remaining, s.reset_at) {
                    (Some(0), Some(reset)) => reset - now + Duration::from_millis(50),
                    (Some(n), _) => {
                        s.remaining = Some(n.saturating_sub(1));
                        return;
                    }
                    (None, _) => return,
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    pub fn observe(&self, headers: &HeaderMap) {
        let num = |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        let (Some(remaining), Some(reset)) = (num("x-ratelimit-remaining"), num("x-ratelimit-reset")) else {
            return;
        };
        // A hostile or broken header must not overflow the clock or stall us for long.
        let reset_at = Instant::now() + Duration::from_secs(reset.min(MAX_RESET_SECS));
        let mut s = self.state.lock().expect("pacer lock");
        let same_window = s.reset_at.is_some_and(|r| reset_at <= r + Duration::from_millis(1500));
        let remaining = remaining as u32;
        // Keep a small reserve for requests already in flight.
        let usable = remaining.saturating_sub(RESERVE);
        s.remaining = Some(match (same_window, s.remaining) {
            (true, Some(local)) => local.min(usable),
            _ => usable,
        });
        if !same_window || s.reset_at.is_none() {
            s.reset_at = Some(reset_at);
        }
    }
}

const RESERVE: u32 = 2;
/// The longest rate-limit window believed (Calendly's is 60 s).
const MAX_RESET_SECS: u64 = 120;

pub fn rate_limit_wait(headers: &HeaderMap) -> Duration {
    let secs = |name: &str| -> Option<f64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    let finite = |v: f64| v.is_finite().then_some(v);
    let base =
        secs("retry-after").and_then(finite).or_else(|| secs("x-ratelimit-reset").and_then(finite)).unwrap_or(1.0);
    Duration::from_secs_f64(base.clamp(0.0, MAX_RESET_SECS as f64)) + Duration::from_millis(50 + fastrand::u64(0..200))
}
