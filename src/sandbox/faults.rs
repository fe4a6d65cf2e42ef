//! Fault modes: what a real API and network do on a bad day, on demand, for tests and demos.
//! Selected by `Options::faults` (and `groupmap sandbox` flags), re-armed with
//! `Sandbox::set_faults`. Counted faults ("the first N ...") are used up as requests arrive.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::Response;

/// Which faults are on. The defaults are all off; every field is also a `groupmap sandbox` flag.
#[derive(Clone, Debug, PartialEq, clap::Args)]
pub struct Faults {
    /// Delay every answer by MS milliseconds (after the request is handled: a save is applied
    /// even when the client gives up waiting)
    #[arg(long = "latency-ms", value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Answer this fraction (0 to 1) of requests with a random 500, 502 or 503 before handling them
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    pub error_rate: f64,
    /// Seed for --error-rate (the same seed gives the same sequence of answers)
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub fault_seed: u64,
    /// Answer the first N requests with 429 Too Many Requests (a 429 storm)
    #[arg(long = "storm-429", value_name = "N", default_value_t = 0)]
    pub storm_429: u32,
    /// The Retry-After (seconds) the storm's 429 answers carry
    #[arg(long, value_name = "SECONDS", default_value_t = 1)]
    pub storm_retry_after: u64,
    /// Cut off the bodies of the first N answers midway (the connection then closes)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub cut_off: u32,
    /// Send malformed (truncated) JSON in the first N JSON answers
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub malformed: u32,
    /// List endpoints send the same next_page_token forever (a pagination loop)
    #[arg(long)]
    pub page_loop: bool,
    /// List endpoints always send a fresh next_page_token: the list starts over instead of ending
    #[arg(long)]
    pub endless_pages: bool,
    /// Group-mapping jobs start but never finish (for merely slow jobs use --job-step-ms)
    #[arg(long)]
    pub stalled_job: bool,
    /// Group-mapping jobs never finish yet always seem to progress: each read of a job reports
    /// one more user moved, on past the planned total (nobody really moves)
    #[arg(long)]
    pub runaway_job: bool,
    /// The next N saves (PUT group_mapping) are applied, then the connection drops before the answer
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub drop_save: u32,
    /// The next N saves (PUT group_mapping) answer 503 without being applied
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub refuse_save: u32,
    /// Someone else saves the mapping just before the next save arrives (it gets 412)
    #[arg(long)]
    pub concurrent_save: bool,
    /// Someone else moves a member just before the next save arrives (the preview is stale: 409)
    #[arg(long)]
    pub move_before_save: bool,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            latency_ms: 0,
            error_rate: 0.0,
            fault_seed: 1,
            storm_429: 0,
            storm_retry_after: 1,
            cut_off: 0,
            malformed: 0,
            page_loop: false,
            endless_pages: false,
            stalled_job: false,
            runaway_job: false,
            drop_save: 0,
            refuse_save: 0,
            concurrent_save: false,
            move_before_save: false,
        }
    }
}

/// The faults as they are used up.
pub(crate) struct Armed {
    pub faults: Faults,
    rng: fastrand::Rng,
}

/// Page tokens the paging faults hand out; a request carrying one starts the list over.
pub const LOOP_TOKEN: &str = "sandbox-fault-page-loop";
pub const ENDLESS_PREFIX: &str = "sandbox-fault-endless-";

static ENDLESS: AtomicU64 = AtomicU64::new(0);

pub fn endless_token() -> String {
    format!("{ENDLESS_PREFIX}{}", ENDLESS.fetch_add(1, Ordering::Relaxed))
}

pub fn is_fault_token(t: &str) -> bool {
    t == LOOP_TOKEN || t.starts_with(ENDLESS_PREFIX)
}

/// Takes one from a counted fault.
fn take(n: &mut u32) -> bool {
    if *n == 0 {
        return false;
    }
    *n -= 1;
    true
}

impl Armed {
    pub fn new(faults: Faults) -> Armed {
        Armed { rng: fastrand::Rng::with_seed(faults.fault_seed), faults }
    }

    /// A 429 from the storm, with its Retry-After.
    pub fn storm(&mut self) -> Option<u64> {
        take(&mut self.faults.storm_429).then_some(self.faults.storm_retry_after)
    }

    /// A random server error, at the configured rate.
    pub fn random_error(&mut self) -> Option<u16> {
        if self.faults.error_rate <= 0.0 {
            return None;
        }
        let hit = self.rng.f64() < self.faults.error_rate;
        hit.then(|| [500, 502, 503][self.rng.usize(0..3)])
    }

    pub fn cut_off(&mut self) -> bool {
        take(&mut self.faults.cut_off)
    }

    pub fn malformed(&mut self) -> bool {
        take(&mut self.faults.malformed)
    }

    pub fn drop_save(&mut self) -> bool {
        take(&mut self.faults.drop_save)
    }

    pub fn refuse_save(&mut self) -> bool {
        take(&mut self.faults.refuse_save)
    }

    pub fn concurrent_save(&mut self) -> bool {
        std::mem::take(&mut self.faults.concurrent_save)
    }

    pub fn move_before_save(&mut self) -> bool {
        std::mem::take(&mut self.faults.move_before_save)
    }

    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.faults.latency_ms)
    }
}

/// An answer whose body stops after `keep` bytes: the head promises the whole length, then the
/// connection closes. With `keep == 0` nothing at all arrives (hyper drops the unsent head).
pub fn cut(parts: axum::http::response::Parts, bytes: Bytes, keep: usize) -> Response {
    let total = bytes.len();
    let head = bytes.slice(..keep.min(total));
    let stream = futures_util::stream::unfold(0u8, move |step| {
        let head = head.clone();
        async move {
            match step {
                0 if !head.is_empty() => Some((Ok(head), 1)),
                0 | 1 => {
                    // Let the head and the first half reach the client before the cut.
                    if step == 1 {
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    }
                    let cut = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "sandbox fault: connection cut");
                    Some((Err(cut), 2))
                }
                _ => None,
            }
        }
    });
    let mut res = Response::from_parts(parts, Body::from_stream(stream));
    res.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(total));
    res
}

/// An answer whose JSON body is cut in half (a complete HTTP answer, broken JSON).
pub fn malformed(mut parts: axum::http::response::Parts, bytes: Bytes) -> Response {
    let half = bytes.slice(..bytes.len() / 2);
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(half.len()));
    Response::from_parts(parts, Body::from(half))
}
