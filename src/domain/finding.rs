//! What a review of a mapping can find: kinds and severities, shared by the plan and the lint.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    /// How a finding or a problem of this severity is labelled wherever it is shown (the plan,
    /// `mapping check`, the editor, the command line's errors): `error`, `warning`, `note`.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "note",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LintKind {
    /// Empty or duplicate value, too many rows: the API would refuse the table.
    InvalidRow,
    /// A row or the default names a group URI the organization does not have.
    UnknownGroup,
    /// A new group whose name is a letter or two from an existing group's (a typo?).
    NewGroupLikeExisting,
    /// Values that differ only by case, spaces or Unicode normalization, or that look alike.
    NearDuplicate,
    /// A row whose value no user has (typo or stale).
    UnusedRow,
    /// A value users have, with no row and no default group.
    UnmappedValue,
    /// A group that has members now and none after the plan.
    GroupEmptied,
    /// The default group is also the target of a row (fine, but worth seeing).
    DefaultIsRowTarget,
    /// An export row whose email matches no member or invitee.
    StaleExportRow,
    /// An export row for an email already seen with a different value.
    ConflictingExportRow,
    /// An owner the service lists in several member groups (Calendly allows one).
    ConflictingMembership,
    /// Only the Active (or only the Pending) users export was given, or people have no row in it.
    MissingExport,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: LintKind,
    #[serde(skip)]
    pub severity: Severity,
    pub message: String,
    /// The IdP values the finding is about (for marks in the value list).
    #[serde(skip)]
    pub values: Vec<String>,
}

impl Finding {
    /// A near-duplicate whose spellings all map to the same group: shown, but nothing to do.
    pub fn resolved(&self) -> bool {
        self.kind == LintKind::NearDuplicate && self.severity == Severity::Info
    }

    /// Something to act on: an error or a warning (notes and resolved findings are not).
    pub fn actionable(&self) -> bool {
        self.severity != Severity::Info
    }
}
