//! Calendly's rate limit: a fixed 60-second window per token.

use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(60);

pub struct RateLimit {
    pub limit: u32,
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
}

impl RateLimit {
    pub fn new(limit: u32) -> RateLimit {
        RateLimit { limit, started: None, used: 0 }
    }

    fn roll(&mut self, now: Instant) -> Instant {
        match self.started {
            Some(s) if now.duration_since(s) < WINDOW => s,
            _ => {
                self.started = Some(now);
                self.used = 0;
                now
            }
        }
    }

    fn quota(&self, start: Instant, now: Instant, allowed: bool) -> Quota {
        let left = WINDOW.saturating_sub(now.duration_since(start));
        Quota {
            limit: self.limit,
            remaining: self.limit.saturating_sub(self.used),
            reset: left.as_millis().div_ceil(1000).max(1) as u64,
            allowed,
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
        let mut r = RateLimit::new(2);
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
