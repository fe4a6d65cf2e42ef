//! What happens to the editor (messages) and what it asks the runtime to do (effects).

use std::sync::Arc;

use crossterm::event::KeyEvent;

use crate::domain::{FieldChoice, Mapping, Snapshot};
use crate::engine::{Organization, SaveOutcome};
pub use crate::service::FailureKind;
use crate::service::{LoadStatus, SaveStage};

#[derive(Clone, Debug)]
pub enum Msg {
    Key(KeyEvent),
    /// Text pasted into the terminal (bracketed paste): text for the focused input, never keys.
    Paste(String),
    Resize(u16, u16),
    LoadProgress {
        id: u64,
        status: LoadStatus,
    },
    Loaded {
        id: u64,
        result: Result<Arc<Organization>, String>,
    },
    /// The last snapshot cached for this organization, shown (stale) until the fresh load lands.
    Cached {
        loaded: Arc<Organization>,
        age_secs: u64,
    },
    /// The drafts other editor sessions left for this organization, newest first, and what is
    /// known of saves they left in flight when they ended (seconds since, what was done).
    Drafts {
        drafts: Vec<crate::store::FoundDraft>,
        interrupted: Vec<(u64, String)>,
    },
    /// This session's draft was written (its path), or could not be (what went wrong, with the path).
    DraftWritten(Result<std::path::PathBuf, String>),
    SaveProgress(SaveStage),
    Saved(Result<Box<SaveOutcome>, SaveFailure>),
    Tick {
        elapsed_ms: u64,
    },
    /// A long values pane filtered off the input path (see `Effect::FilterValues`).
    ValuesFiltered {
        id: u64,
        pattern: String,
        filtered: crate::app::filter::Filtered,
    },
    /// The preview filtered off the input path (see `Effect::FilterPreview`).
    PreviewFiltered {
        id: u64,
        needle: String,
        filtered: crate::app::filter::Filtered,
    },
    /// The hand-off's files were written (the mapping file, the CSV), or why not.
    HandoffWritten(Result<(std::path::PathBuf, std::path::PathBuf), String>),
    /// The hand-off's table was recorded as the table of record (its path), or why not.
    TableRecorded(Result<std::path::PathBuf, String>),
    /// A line for the status bar from the runtime (e.g. a failed draft write).
    Notice {
        text: String,
        error: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaveFailure {
    pub message: String,
    pub kind: FailureKind,
}

#[derive(Clone, Debug)]
pub enum Effect {
    Load {
        id: u64,
    },
    CancelLoad,
    /// Save `mapping` on the organization it was previewed on (`snap` is `org` under `fields`).
    Save {
        org: Arc<Organization>,
        snap: Arc<Snapshot>,
        fields: FieldChoice,
        mapping: Mapping,
    },
    /// List the drafts other sessions left (the answer is `Msg::Drafts`).
    ReadDrafts {
        organization: String,
    },
    WriteDraft {
        organization: String,
        text: String,
    },
    /// Delete this session's own draft.
    DeleteDraft {
        organization: String,
    },
    /// Delete another session's draft, restored here or discarded by the admin.
    DeleteDraftFile {
        path: std::path::PathBuf,
    },
    /// Move an unreadable draft aside (to `store::set_aside_path`), keeping it for a person.
    SetAsideDraft {
        path: std::path::PathBuf,
    },
    /// Filter a long values pane in the background (fuzzily, as typed); the answer is
    /// `Msg::ValuesFiltered` with the id. A newer request stops an older one still running.
    FilterValues {
        id: u64,
        entries: Arc<Vec<crate::app::model::ValueEntry>>,
        pattern: String,
        narrow: Option<Vec<u32>>,
    },
    /// Filter a long preview in the background; the answer is `Msg::PreviewFiltered` with the id.
    FilterPreview {
        id: u64,
        lines: Arc<crate::report::Preview>,
        needle: String,
        narrow: Option<Vec<u32>>,
    },
    /// Quit while a save runs: `message` says what is known; the exit status is 130.
    Abandon {
        message: String,
    },
    /// Write `sequence` (OSC 52, see `handoff::osc52`) to the terminal: the admin's clipboard.
    Clipboard {
        sequence: String,
    },
    /// Write the hand-off's mapping file and CSV (the answer is `Msg::HandoffWritten`).
    WriteHandoff {
        organization: String,
        toml: String,
        csv: String,
    },
    /// Record `toml` as the table of record, now (the answer is `Msg::TableRecorded`).
    RecordTable {
        organization: String,
        toml: String,
    },
    /// Repaint everything (after Ctrl-l).
    Redraw,
    Quit,
}
