//! Calendly's rate limit: a fixed window (60 s, like Calendly's; shorter for tests) per token.

use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(60);

pub struct RateLimit {
    pub limit: u32,
    window: Duration,
    started: Option<Instant>,
    used: u32,
}

/// What the `X-RateLimit-*` headers say after a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the window resets (rounded up).
    pub reset: u64,
    pub allowed: bool,
    pub window: Duration,
}

impl Quota {
    /// The window as the 429's message says it: "minute", or "2 s".
    pub fn per(&self) -> String {
        if self.window == WINDOW { "minute".to_owned() } else { format!("{} s", self.window.as_secs_f64()) }
    }
}

impl RateLimit {
    pub fn new(limit: u32, window: Duration) -> RateLimit {
        RateLimit { limit, window: window.max(Duration::from_millis(1)), started: None, used: 0 }
    }

    fn roll(&mut self, now: Instant) -> Instant {
        match self.started {
            Some(s) if now.duration_since(s) < self.window => s,
            _ => {
                self.started = Some(now);
                self.used = 0;
                now
            }
        }
    }

    fn quota(&self, start: Instant, now: Instant, allowed: bool) -> Quota {
        let left = self.window.saturating_sub(now.duration_since(start));
        Quota {
            limit: self.limit,
            remaining: self.limit.saturating_sub(self.used),
            reset: left.as_millis().div_ceil(1000).max(1) as u64,
            allowed,
            window: self.window,
        }
    }

    /// Counts one request, or refuses it when the window is used up.
    pub fn take(&mut self, now: Instant) -> Quota {
        let start = self.roll(now);
        let allowed = self.used < self.limit;
        if allowed {
            self.used += 1;
        }
        self.quota(start, now, allowed)
    }

    /// The quota without counting a request (for answers to unauthenticated requests).
    pub fn peek(&mut self, now: Instant) -> Quota {
        let start = self.roll(now);
        self.quota(start, now, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_over_the_limit_until_the_window_rolls() {
        let t0 = Instant::now();
        let mut r = RateLimit::new(2, WINDOW);
        assert_eq!(r.take(t0).remaining, 1);
        assert!(r.take(t0).allowed);
        let q = r.take(t0 + Duration::from_millis(1500));
        assert!(!q.allowed);
        assert_eq!((q.remaining, q.reset), (0, 59));
        let q = r.take(t0 + WINDOW);
        assert!(q.allowed);
        assert_eq!((q.remaining, q.reset), (1, 60));
    }
}
