//! Pacing by the rate-limit headers, counting the requests in flight, so that concurrent page
//! chains use the window without provoking 429.

use std::pin::pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

/// Paces requests by what the server said is left of its window, less what is on its way.
#[derive(Debug, Default)]
pub struct Pacer {
    state: Mutex<PaceState>,
    /// Woken when a request ends: a probe's answer may let the others go.
    ended: tokio::sync::Notify,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Mode {
    /// No answer yet: one request at a time until one tells the limit.
    #[default]
    Unknown,
    /// The server sends no rate-limit headers: nothing to pace by.
    Unlimited,
    Limited,
}

#[derive(Debug, Default)]
struct PaceState {
    mode: Mode,
    limit: u32,
    /// Requests that may still be sent in this window, those in flight already taken off.
    remaining: u32,
    /// When this window ends at the latest; None: a new window no answer has told of yet.
    reset_at: Option<Instant>,
    /// Counts windows: an answer to a request sent in an earlier one says nothing of this one.
    epoch: u64,
    in_flight: u32,
    /// The longest `X-RateLimit-Reset` seen: the window's length, for estimates.
    window: Duration,
}

/// What the server last said of its window, for progress and estimates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateWindow {
    pub limit: u32,
    /// What may still be sent in this window (requests in flight taken off).
    pub remaining: u32,
    pub reset_in: Duration,
    /// The window's length, as far as seen.
    pub window: Duration,
}

/// One request's place in the window; dropping it without `answered` (no answer) frees it.
pub struct Permit<'a> {
    pacer: &'a Pacer,
    epoch: u64,
    done: bool,
}

impl Permit<'_> {
    /// The answer's rate-limit headers, believed when the request was sent in this window.
    pub fn answered(mut self, headers: &HeaderMap) {
        self.done = true;
        self.pacer.end(self.epoch, Some(headers));
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.pacer.end(self.epoch, None);
        }
    }
}

/// The longest wait before looking again, should no request end to wake a waiter.
const RECHECK: Duration = Duration::from_secs(1);
/// Sent this long after the window should have ended, for the clocks' sake.
const MARGIN: Duration = Duration::from_millis(50);

impl Pacer {
    /// Waits until a request may be sent, and counts it in flight.
    pub async fn acquire(&self) -> Permit<'_> {
        loop {
            let mut ended = pin!(self.ended.notified());
            ended.as_mut().enable();
            let wait = {
                let mut s = self.state.lock().expect("pacer lock");
                let now = Instant::now();
                s.roll(now);
                match s.take(now) {
                    Ok(()) => {
                        s.in_flight += 1;
                        return Permit { pacer: self, epoch: s.epoch, done: false };
                    }
                    Err(wait) => wait.min(RECHECK),
                }
            };
            tokio::select! {
                _ = ended => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    fn end(&self, epoch: u64, headers: Option<&HeaderMap>) {
        {
            let mut s = self.state.lock().expect("pacer lock");
            s.in_flight = s.in_flight.saturating_sub(1);
            if let Some(h) = headers {
                s.observe(epoch, h, Instant::now());
            }
        }
        self.ended.notify_waiters();
    }

    /// The window as last told, when the server tells one.
    pub fn window(&self) -> Option<RateWindow> {
        let s = self.state.lock().expect("pacer lock");
        let now = Instant::now();
        (s.mode == Mode::Limited).then(|| RateWindow {
            limit: s.limit,
            remaining: s.remaining,
            reset_in: s.reset_at.map_or(Duration::ZERO, |r| r.saturating_duration_since(now)),
            window: s.window,
        })
    }
}

impl PaceState {
    /// A window that has ended gives way to a new one, of which only the limit is known: the
    /// requests still in flight may yet land in it, so they are taken off.
    fn roll(&mut self, now: Instant) {
        if self.mode == Mode::Limited && self.reset_at.is_some_and(|r| now >= r + MARGIN) {
            self.epoch += 1;
            self.reset_at = None;
            self.remaining = self.limit.saturating_sub(self.in_flight);
        }
    }

    /// Takes a place for one request, or says how long to wait before asking again.
    fn take(&mut self, now: Instant) -> Result<(), Duration> {
        match self.mode {
            Mode::Unlimited => Ok(()),
            Mode::Unknown if self.in_flight == 0 => Ok(()),
            Mode::Unknown => Err(RECHECK),
            Mode::Limited if self.remaining > 0 => {
                self.remaining -= 1;
                Ok(())
            }
            Mode::Limited => match self.reset_at {
                Some(reset) => Err((reset + MARGIN).saturating_duration_since(now)),
                // A new window taken up by requests of the last one: one probe, once they end.
                None if self.in_flight == 0 => Ok(()),
                None => Err(RECHECK),
            },
        }
    }

    fn observe(&mut self, epoch: u64, headers: &HeaderMap, now: Instant) {
        let num = |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        let (Some(remaining), Some(reset)) = (num("x-ratelimit-remaining"), num("x-ratelimit-reset")) else {
            if self.mode == Mode::Unknown {
                self.mode = Mode::Unlimited;
            }
            return;
        };
        let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        let remaining = clamp(remaining);
        // A hostile or broken header must not overflow the clock or stall us for long.
        let reset = Duration::from_secs(reset.min(MAX_RESET_SECS));
        let reset_at = now + reset;
        self.window = self.window.max(reset);
        let limit = num("x-ratelimit-limit").map(clamp).unwrap_or(remaining);
        // What is left for new requests: the others in flight may not have been counted yet.
        let usable = remaining.saturating_sub(self.in_flight);
        if self.mode != Mode::Limited {
            self.mode = Mode::Limited;
            self.epoch += 1;
            (self.limit, self.remaining, self.reset_at) = (limit.max(remaining), usable, Some(reset_at));
            return;
        }
        if epoch != self.epoch {
            return;
        }
        self.limit = limit.max(remaining);
        self.remaining = self.remaining.min(usable);
        // Each answer rounds its seconds up: the latest end told is never before the real one.
        self.reset_at = Some(self.reset_at.map_or(reset_at, |r| r.max(reset_at)));
    }
}

/// The longest rate-limit window believed (Calendly's is 60 s).
const MAX_RESET_SECS: u64 = 120;

pub fn rate_limit_wait(headers: &HeaderMap) -> Duration {
    let secs = |name: &str| -> Option<f64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
    let finite = |v: f64| v.is_finite().then_some(v);
    let base =
        secs("retry-after").and_then(finite).or_else(|| secs("x-ratelimit-reset").and_then(finite)).unwrap_or(1.0);
    Duration::from_secs_f64(base.clamp(0.0, MAX_RESET_SECS as f64)) + Duration::from_millis(50 + fastrand::u64(0..200))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(limit: u32, remaining: u32, reset: u64) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-limit", limit.into());
        h.insert("x-ratelimit-remaining", remaining.into());
        h.insert("x-ratelimit-reset", reset.into());
        h
    }

    #[test]
    fn the_first_request_goes_alone_and_the_others_wait_for_its_answer() {
        let mut s = PaceState::default();
        let now = Instant::now();
        assert_eq!(s.take(now), Ok(()));
        s.in_flight = 1;
        assert!(s.take(now).is_err(), "a second request before any answer");
        s.in_flight = 0;
        s.observe(0, &headers(5, 4, 2), now);
        for _ in 0..4 {
            assert_eq!(s.take(now), Ok(()));
            s.in_flight += 1;
        }
        assert!(s.take(now).is_err(), "the fifth of five waits for the window");
    }

    #[test]
    fn an_answer_counts_the_requests_still_in_flight_against_what_is_left() {
        let mut s = PaceState::default();
        let now = Instant::now();
        s.observe(0, &headers(10, 9, 60), now);
        for _ in 0..3 {
            s.take(now).unwrap();
            s.in_flight += 1;
        }
        // The server counted one of the three; two others are still on their way.
        s.in_flight -= 1;
        s.observe(s.epoch, &headers(10, 8, 60), now);
        assert_eq!(s.remaining, 6);
    }

    #[test]
    fn a_new_window_holds_back_what_is_in_flight_and_answers_of_the_old_one_are_not_believed() {
        let mut s = PaceState::default();
        let now = Instant::now();
        s.observe(0, &headers(5, 0, 2), now);
        let old = s.epoch;
        s.in_flight = 2;
        s.roll(now + Duration::from_secs(3));
        assert_eq!((s.remaining, s.reset_at), (3, None));
        s.in_flight = 1;
        s.observe(old, &headers(5, 4, 1), now + Duration::from_secs(3));
        assert_eq!((s.remaining, s.reset_at), (3, None), "an answer from the last window");
    }

    #[test]
    fn a_server_without_the_headers_is_not_paced() {
        let mut s = PaceState::default();
        s.observe(0, &HeaderMap::new(), Instant::now());
        s.in_flight = 5;
        assert_eq!(s.take(Instant::now()), Ok(()));
    }
}
