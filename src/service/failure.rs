//! What can go wrong loading and saving, defined once, and what each failure means for the
//! admin's edits.

use super::calendly::client::ApiError;
use crate::domain::export::ExportError;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(transparent)]
    Idp(#[from] crate::idp::IdpError),
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error(
        "{endpoint}: this server has no user-export endpoint (Calendly's public API has none).\n  \
         In Calendly's admin center, export the Active users and the Pending users, then pass each \
         file with --users-csv FILE (the option can be given twice)."
    )]
    NoExportEndpoint { endpoint: String },
    #[error("GET /users/me: the user has no current_organization; pass --org ORGANIZATION_URI")]
    NoOrganization,
    /// The table of record kept for the organization cannot be read or resolved.
    #[error(
        "the table of record: {0}\n  (record the table entered in the admin center again: `groupmap mapping record FILE`)"
    )]
    TableOfRecord(String),
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error(
        "this server has no group-mapping endpoint (Calendly's public API is read-only), so nothing \
         can be saved here; write the table with `groupmap mapping export --mapping FILE --format csv`, enter it \
         in Calendly's admin center, then record it with `groupmap mapping record FILE`"
    )]
    ReadOnly,
    #[error("the mapping cannot be saved:\n{0}")]
    Invalid(String),
    #[error(
        "the organization changed since you loaded it: someone else saved the group mapping \
         (412 Precondition Failed on PUT {endpoint}). Nothing was saved; reload, review the new preview and save again."
    )]
    MappingChanged { endpoint: String },
    #[error(
        "the organization changed since you previewed it: members or groups moved, so the preview \
         no longer matches (409 Conflict on PUT {endpoint}). Nothing was saved; reload, review the new preview and save again."
    )]
    PreviewStale { endpoint: String },
    #[error(
        "the organization changed since you loaded it: a group named {name:?} already exists (409 on POST /groups); reload and save again"
    )]
    GroupExists { name: String },
    #[error(
        "the mapping was saved as version {version}, but the job {job} failed: {completed} of {total} users moved, {failed} failed{errors}\n\
         Run `groupmap plan` to see who is left to move, fix what the errors name, and apply again"
    )]
    JobFailed { version: u64, job: String, completed: u64, failed: u64, total: u64, errors: String },
    #[error(
        "the mapping was saved as version {version}, but verification found {remaining} user(s) still to move; run `groupmap plan` to see them"
    )]
    NotVerified { version: u64, remaining: usize },
    #[error(
        "the mapping was saved as version {version}, but the job {job} has made no progress for {secs} s: \
         {completed} of {total} users moved, {failed} failed. The job may still finish: run `groupmap plan` \
         later to see who is left to move"
    )]
    JobStalled { version: u64, job: String, completed: u64, failed: u64, total: u64, secs: u64 },
    #[error(
        "the mapping was saved as version {version}, but the job {job} does not match the plan: {planned} \
         move(s) were planned, and the job reports {completed} completed and {failed} failed of {total}. \
         groupmap stopped following it; run `groupmap plan` later to see who is left to move"
    )]
    JobMismatch { version: u64, job: String, planned: u64, completed: u64, failed: u64, total: u64 },
    #[error(
        "the mapping was saved as version {version}, but the job {job} has not finished within {secs} s \
         (the job deadline): {completed} of {total} users moved, {failed} failed. The job may still finish: \
         run `groupmap plan` later to see who is left to move"
    )]
    JobDeadline { version: u64, job: String, completed: u64, failed: u64, total: u64, secs: f64 },
    #[error(
        "the mapping was saved as version {version}, but following the job {job} failed: {cause}\n\
         Run `groupmap plan` later to see who is left to move"
    )]
    JobUnknown { version: u64, job: String, cause: String },
    #[error(
        "{endpoint}: the save's answer was lost ({cause}); re-reading the mapping shows it was not saved \
         (still version {version}) and trying again failed too. Nothing was saved and no user moved; save again \
         when the server is reachable"
    )]
    NotSaved { endpoint: String, cause: String, version: u64 },
    #[error(
        "{endpoint}: the save's answer was lost ({cause}), but re-reading shows the mapping was saved as version \
         {version}, exactly as sent. Of the {planned} planned move(s), {done} are done and {remaining} are not yet: \
         the job's address was in the lost answer, so it cannot be followed. Run `groupmap plan` in a minute: \
         an empty plan means everything was applied"
    )]
    SavedUnconfirmed { endpoint: String, cause: String, version: u64, planned: usize, done: usize, remaining: usize },
    #[error(
        "{endpoint}: the save's answer was lost ({cause}), and re-reading the mapping failed too ({check}). \
         It is not known whether the mapping was saved: when the server is reachable, run `groupmap plan`; \
         saved version {expected} with your rows means it was saved, version {previous} means it was not"
    )]
    Unknown { endpoint: String, cause: String, check: String, previous: u64, expected: u64 },
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(
        "the mapping was saved, but reloading to verify failed: {0}\n\
         Run `groupmap plan` to check that nobody is left to move"
    )]
    Reload(#[from] LoadError),
}

/// What a failed save means for the edits: whether to reload and what to call it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// Someone else changed the organization (412/409): nothing saved; reload and rebase.
    Changed,
    /// The service may hold the new table (answer lost, job failed or stalled): reload to see.
    MaybeSaved,
    /// Nothing was saved.
    NotSaved,
}

impl SaveError {
    pub fn kind(&self) -> FailureKind {
        match self {
            SaveError::MappingChanged { .. } | SaveError::PreviewStale { .. } | SaveError::GroupExists { .. } => {
                FailureKind::Changed
            }
            SaveError::JobFailed { .. }
            | SaveError::NotVerified { .. }
            | SaveError::JobStalled { .. }
            | SaveError::JobMismatch { .. }
            | SaveError::JobDeadline { .. }
            | SaveError::JobUnknown { .. }
            | SaveError::SavedUnconfirmed { .. }
            | SaveError::Unknown { .. }
            | SaveError::Reload(_) => FailureKind::MaybeSaved,
            SaveError::ReadOnly | SaveError::Invalid(_) | SaveError::NotSaved { .. } | SaveError::Api(_) => {
                FailureKind::NotSaved
            }
        }
    }
}
