//! The service port: the system that holds the people, the groups and the mapping table.
//!
//! Calendly's API is the implementation (`calendly`). A service declares what it can do; callers
//! ask its capabilities and never check for a particular service. Its revision of the table (the
//! ETag) is its own business: it travels inside the `Directory` it loaded, untouched by callers.

pub mod calendly;
pub mod failure;
pub mod loading;
pub mod stage;

use futures_util::future::BoxFuture;

use crate::domain::people::MembershipConflict;
use crate::domain::{Group, Mapping, SavedMapping};
pub use failure::{FailureKind, LoadError, SaveError};
pub use loading::{LoadStatus, Progress};
pub use stage::{SaveProgress, SaveStage};

/// What a service can do. A read-only service (Calendly's public API) reads people, groups and
/// placements, and cannot save the table, create groups or move members.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Capabilities {
    /// It holds the mapping table and can save it.
    pub save_table: bool,
    /// Groups can be created (a row may name a new group).
    pub create_groups: bool,
    /// Saving with apply-to-existing moves members through a job that can be followed.
    pub move_members: bool,
    /// Saves are checked against the revision they were based on (optimistic concurrency).
    pub revision: bool,
}

impl Capabilities {
    pub const READ_ONLY: Capabilities =
        Capabilities { save_table: false, create_groups: false, move_members: false, revision: false };

    pub fn read_only(&self) -> bool {
        !self.save_table
    }
}

/// What a service holds for one organization, as one load read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directory {
    pub base_url: String,
    pub organization: String,
    pub groups: Vec<Group>,
    pub people: crate::domain::People,
    /// The table the service holds; None when it cannot show one.
    pub table: Option<SavedMapping>,
    pub capabilities: Capabilities,
    /// The service's revision of the table, opaque to everyone else.
    pub revision: Option<String>,
    /// Owners listed in several member groups (see `MembershipConflict` for which one counts).
    pub membership_conflicts: Vec<MembershipConflict>,
}

/// What saving the table answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableSaved {
    /// Saved as `version`; members move through `job` when there is one.
    Answered { version: u64, job: Option<String> },
    /// The answer was lost, but re-reading shows the table saved, exactly as sent, as `version`.
    Lost { version: u64, endpoint: String, cause: String },
}

/// How a member-moving job ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobReport {
    pub status: String,
    pub completed: u64,
    pub failed: u64,
    pub total: u64,
}

/// How a job is followed (see `Service::job_timing`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobTiming {
    pub poll: std::time::Duration,
    pub stall: std::time::Duration,
    pub deadline: std::time::Duration,
}

pub trait Service: Send + Sync {
    fn base_url(&self) -> &str;

    /// While following a job, or re-planning after a lost answer: how often to look, how long
    /// no progress is taken for a stalled job, and how long to follow it at all.
    fn job_timing(&self) -> JobTiming;

    /// The organization to load: the configured one, or the service's default for the token.
    fn organization<'a>(&'a self, configured: Option<&'a str>) -> BoxFuture<'a, Result<String, LoadError>>;

    fn load<'a>(
        &'a self,
        organization: &'a str,
        progress: Option<&'a Progress>,
    ) -> BoxFuture<'a, Result<Directory, LoadError>>;

    /// Creates a group (needs `create_groups`).
    fn create_group<'a>(&'a self, organization: &'a str, name: &'a str) -> BoxFuture<'a, Result<Group, SaveError>>;

    /// Saves the table on the revision `base` was loaded with (needs `save_table`). `digest` is the
    /// preview digest of the plan the admin confirmed.
    fn save_table<'a>(
        &'a self,
        base: &'a Directory,
        table: &'a Mapping,
        digest: String,
    ) -> BoxFuture<'a, Result<TableSaved, SaveError>>;

    /// Follows a member-moving job to its end, reporting progress. `planned` is the number of
    /// moves the confirmed plan has: a job that claims more work than that is not followed on.
    fn follow_job<'a>(
        &'a self,
        job: &'a str,
        version: u64,
        planned: usize,
        progress: &'a SaveProgress,
    ) -> BoxFuture<'a, Result<JobReport, SaveError>>;
}
