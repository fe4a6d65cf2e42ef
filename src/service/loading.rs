//! A load's progress: the rows read of each list against the totals the service and the export
//! tell, the pages read, the rate limit, and the time left. Told the same way by the CLI
//! and the editor.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use super::calendly::client::RateWindow;

/// Rows asked for per page: pages left are rows left over this.
pub const PAGE_ROWS: usize = 100;

/// The lists a load reads page by page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum List {
    Members,
    Invitations,
    Groups,
    Relationships,
    /// The identity provider's users, when the values come from it.
    IdpUsers,
}

/// Rows read of one list, and whether it was read to its end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Read {
    pub rows: usize,
    pub done: bool,
}

/// Where a load is, at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadStatus {
    pub members: Read,
    pub invitations: Read,
    pub groups: Read,
    pub relationships: Read,
    pub idp_users: Read,
    /// The users the export lists (active and pending): members and invitations to read.
    pub users_total: Option<usize>,
    /// The groups' member counts added up: about the relationships to read.
    pub relationships_total: Option<usize>,
    /// Pages read so far.
    pub pages: u64,
    pub elapsed: Duration,
    /// The rate limit as the server last told it.
    pub rate: Option<RateWindow>,
}

impl LoadStatus {
    pub fn users(&self) -> usize {
        self.members.rows + self.invitations.rows
    }

    /// Users to read in all: the export's count, or what was read once both lists ended.
    pub fn users_expected(&self) -> Option<usize> {
        let read = self.members.done && self.invitations.done;
        match self.users_total {
            _ if read => Some(self.users()),
            Some(n) => Some(beyond(n, self.users())),
            None => None,
        }
    }

    pub fn relationships_expected(&self) -> Option<usize> {
        match self.relationships_total {
            _ if self.relationships.done => Some(self.relationships.rows),
            Some(n) => Some(beyond(n, self.relationships.rows)),
            None => None,
        }
    }

    /// Rows read of the rows expected, once both totals are known.
    pub fn rows(&self) -> (usize, Option<usize>) {
        let read = self.users() + self.relationships.rows;
        let total = self.users_expected().zip(self.relationships_expected()).map(|(u, r)| u + r);
        (read, total)
    }

    /// How far the load is, 0.0 to 1.0, once the totals are known.
    pub fn fraction(&self) -> Option<f64> {
        let (read, total) = self.rows();
        total.map(|t| if t == 0 { 1.0 } else { (read as f64 / t as f64).min(1.0) })
    }

    /// Pages still to read, once the totals are known.
    pub fn pages_left(&self) -> Option<u64> {
        let left = |expected: usize, lists: &[Read]| {
            let read: usize = lists.iter().map(|l| l.rows).sum();
            let open = lists.iter().filter(|l| !l.done).count();
            // Each list still open ends on a page of its own.
            (expected.saturating_sub(read).div_ceil(PAGE_ROWS) + open) as u64
        };
        let users = left(self.users_expected()?, &[self.members, self.invitations]);
        let rels = left(self.relationships_expected()?, &[self.relationships]);
        let groups = u64::from(!self.groups.done);
        Some(users + rels + groups)
    }

    /// The time left: the pages left at the rate seen so far, and never less than the rate
    /// limit allows (what is left of this window, then a full window per `limit` requests).
    pub fn time_left(&self) -> Option<Duration> {
        let left = self.pages_left()?;
        if left == 0 {
            return Some(Duration::ZERO);
        }
        let observed =
            (self.pages >= 3 && !self.elapsed.is_zero()).then(|| self.elapsed.mul_f64(left as f64 / self.pages as f64));
        let floor = self.rate.filter(|w| w.limit > 0).map(|w| {
            let beyond = left.saturating_sub(u64::from(w.remaining));
            if beyond == 0 {
                return Duration::ZERO;
            }
            let windows = beyond.div_ceil(u64::from(w.limit));
            w.reset_in + w.window * (windows - 1) as u32
        });
        match (observed, floor) {
            (Some(o), Some(f)) => Some(o.max(f)),
            // Too early for a rate, and the limit no bound: not known yet.
            (None, Some(f)) if f.is_zero() => None,
            (o, f) => o.or(f),
        }
    }
}

/// A total told, or, once more was read of a list not yet ended (admins' relationships are
/// not in the member counts), at least a page more than that.
fn beyond(told: usize, read: usize) -> usize {
    if read < told { told } else { read + PAGE_ROWS }
}

/// `12,345`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl LoadStatus {
    /// `users 20,000/100,000 · groups 500 · group relationships 10,000/100,000`.
    pub fn counts(&self) -> String {
        let of = |n: usize, total: Option<usize>, done: bool| match total {
            Some(t) if !done => format!("{}/{}", thousands(n), thousands(t)),
            _ => thousands(n),
        };
        let users_done = self.members.done && self.invitations.done;
        let idp = match self.idp_users.rows {
            0 => String::new(),
            n => format!(" · IdP users {}", thousands(n)),
        };
        format!(
            "users {} · groups {} · group relationships {}{idp}",
            of(self.users(), self.users_expected(), users_done),
            thousands(self.groups.rows),
            of(self.relationships.rows, self.relationships_expected(), self.relationships.done),
        )
    }

    /// `about 3 min 20 s left`, once known and while pages are left.
    pub fn eta(&self) -> Option<String> {
        self.time_left().filter(|d| !d.is_zero()).map(|d| format!("about {} left", clock(d)))
    }

    /// `305 pages in 40 s` (a page is a request; the few others are not counted).
    pub fn spent(&self) -> String {
        let s = if self.pages == 1 { "" } else { "s" };
        let spent = clock(Duration::from_secs(self.elapsed.as_secs()));
        format!("{} page{s} in {spent}", thousands(self.pages as usize))
    }

    /// `rate limit: 100 of 500 left, resets in 20 s`, once the server told it.
    pub fn rate_text(&self) -> Option<String> {
        self.rate.map(|w| {
            format!(
                "rate limit: {} of {} left, resets in {}",
                thousands(w.remaining as usize),
                thousands(w.limit as usize),
                clock(w.reset_in)
            )
        })
    }

    /// One plain line of progress (for a log or a pipe).
    pub fn line(&self) -> String {
        let mut parts = Vec::new();
        match self.rows() {
            (read, Some(total)) => parts.push(format!(
                "{} of {} rows ({} %)",
                thousands(read),
                thousands(total),
                (self.fraction().unwrap_or(0.0) * 100.0).floor()
            )),
            (read, None) => parts.push(format!("{} rows", thousands(read))),
        }
        parts.push(self.counts());
        parts.push(self.spent());
        parts.extend(self.eta());
        parts.extend(self.rate_text());
        format!("loading: {}", parts.join("; "))
    }

    /// The last line, once everything was read.
    pub fn finished(&self) -> String {
        format!(
            "loaded: {} users ({} members, {} invitations), {} groups, {} group relationships; {}",
            thousands(self.users()),
            thousands(self.members.rows),
            thousands(self.invitations.rows),
            thousands(self.groups.rows),
            thousands(self.relationships.rows),
            self.spent(),
        )
    }
}

/// When a plain progress line is due: every tenth of the load, or every few seconds, not more.
#[derive(Debug, Default)]
pub struct LineGate {
    last: Option<(Duration, Option<u32>)>,
}

/// The least time between two plain lines.
pub const LINE_EVERY: Duration = Duration::from_secs(5);

impl LineGate {
    pub fn due(&mut self, s: &LoadStatus) -> bool {
        let tenth = s.fraction().map(|f| (f * 10.0).floor() as u32);
        let due = match self.last {
            None => true,
            Some((at, last_tenth)) => s.elapsed >= at + LINE_EVERY || tenth.is_some_and(|t| Some(t) > last_tenth),
        };
        if due {
            self.last = Some((s.elapsed, tenth));
        }
        due
    }
}

/// A duration as a person reads it: `2 min 05 s`, `40 s`.
pub fn clock(d: Duration) -> String {
    let secs = d.as_secs_f64().ceil() as u64;
    match secs {
        0..60 => format!("{secs} s"),
        _ => format!("{} min {:02} s", secs / 60, secs % 60),
    }
}

/// Told of a load's progress: the status after each change.
#[derive(Clone)]
pub struct Progress {
    tracker: Arc<Mutex<Tracker>>,
    tell: Arc<dyn Fn(&LoadStatus) + Send + Sync>,
}

struct Tracker {
    status: LoadStatus,
    started: Instant,
    /// When the rate limit was last told: its reset counts down from then.
    rate: Option<(RateWindow, Instant)>,
}

impl Tracker {
    fn now(&mut self) -> &LoadStatus {
        self.status.elapsed = self.started.elapsed();
        self.status.rate =
            self.rate.map(|(w, at)| RateWindow { reset_in: w.reset_in.saturating_sub(at.elapsed()), ..w });
        &self.status
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress").field("status", &self.status()).finish_non_exhaustive()
    }
}

impl Progress {
    pub fn new(tell: impl Fn(&LoadStatus) + Send + Sync + 'static) -> Progress {
        let tracker = Tracker { status: LoadStatus::default(), started: Instant::now(), rate: None };
        Progress { tracker: Arc::new(Mutex::new(tracker)), tell: Arc::new(tell) }
    }

    pub fn status(&self) -> LoadStatus {
        self.tracker.lock().expect("progress lock").now().clone()
    }

    fn change(&self, f: impl FnOnce(&mut Tracker)) {
        let mut t = self.tracker.lock().expect("progress lock");
        f(&mut t);
        // Told under the lock, so that what is told never goes back.
        (self.tell)(t.now());
    }

    /// Tells the status again with the time moved on (the rate limit's reset counts down).
    pub fn tick(&self) {
        self.change(|_| {});
    }

    /// A page of `list` was read: `rows` read of it so far; `done` at its last page.
    pub fn page(&self, list: List, rows: usize, done: bool, rate: Option<RateWindow>) {
        self.change(|t| {
            if let Some(w) = rate {
                t.rate = Some((w, Instant::now()));
            }
            let s = &mut t.status;
            let read = match list {
                List::Members => &mut s.members,
                List::Invitations => &mut s.invitations,
                List::Groups => &mut s.groups,
                List::Relationships => &mut s.relationships,
                List::IdpUsers => &mut s.idp_users,
            };
            *read = Read { rows, done };
            s.pages += 1;
        });
    }

    pub fn users_total(&self, n: usize) {
        self.change(|t| t.status.users_total = Some(n));
    }

    pub fn relationships_total(&self, n: usize) {
        self.change(|t| t.status.relationships_total = Some(n));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status() -> LoadStatus {
        LoadStatus {
            members: Read { rows: 20_000, done: false },
            invitations: Read { rows: 0, done: false },
            groups: Read { rows: 500, done: true },
            relationships: Read { rows: 10_000, done: false },
            idp_users: Read::default(),
            users_total: Some(100_000),
            relationships_total: Some(100_000),
            pages: 305,
            elapsed: Duration::from_secs(40),
            rate: None,
        }
    }

    #[test]
    fn the_fraction_and_the_pages_left_come_from_the_totals() {
        let s = status();
        assert_eq!(s.rows(), (30_000, Some(200_000)));
        assert_eq!(s.fraction(), Some(0.15));
        // 80,000 users over two open lists, 90,000 relationships.
        assert_eq!(s.pages_left(), Some(800 + 2 + 900 + 1));
        let unknown = LoadStatus { relationships_total: None, ..s };
        assert_eq!((unknown.fraction(), unknown.pages_left(), unknown.time_left()), (None, None, None));
    }

    #[test]
    fn the_time_left_is_never_less_than_the_rate_limit_allows() {
        let mut s = status();
        // Seen so far: 305 pages in 40 s, so 1,703 more take about 223 s.
        assert_eq!(s.time_left().map(|d| d.as_secs()), Some(223));
        // 500 a minute, 100 left in this window, 20 s to its end: 1,603 beyond it need 4 more
        // windows, the last ending 20 + 3 × 60 s from now.
        s.rate = Some(RateWindow {
            limit: 500,
            remaining: 100,
            reset_in: Duration::from_secs(20),
            window: Duration::from_secs(60),
        });
        s.elapsed = Duration::from_secs(10);
        assert_eq!(s.time_left(), Some(Duration::from_secs(200)));
        assert_eq!(clock(Duration::from_secs(200)), "3 min 20 s");
        assert_eq!(clock(Duration::from_millis(4_200)), "5 s");
    }

    #[test]
    fn a_plain_line_names_the_totals_and_lines_come_every_tenth_or_every_few_seconds() {
        let s = status();
        assert_eq!(
            s.line(),
            "loading: 30,000 of 200,000 rows (15 %); users 20,000/100,000 · groups 500 · group relationships \
             10,000/100,000; 305 pages in 40 s; about 3 min 44 s left"
        );
        let mut gate = LineGate::default();
        assert!(gate.due(&s), "the first line");
        let mut later = LoadStatus { elapsed: Duration::from_secs(41), ..s.clone() };
        assert!(!gate.due(&later), "same tenth, a second later");
        later.relationships.rows = 30_000;
        assert!(gate.due(&later), "25 %: a new tenth");
        later.elapsed = Duration::from_secs(47);
        assert!(gate.due(&later), "six seconds on");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn a_list_read_to_its_end_is_its_own_total() {
        let mut s = status();
        s.users_total = None;
        assert_eq!(s.users_expected(), None);
        s.members.done = true;
        s.invitations.done = true;
        assert_eq!(s.users_expected(), Some(20_000));
        s.relationships = Read { rows: 100_400, done: false };
        assert_eq!(s.relationships_expected(), Some(100_500), "admins' relationships come on top of the counts");
        s.relationships.done = true;
        assert_eq!(s.relationships_expected(), Some(100_400));
    }
}
