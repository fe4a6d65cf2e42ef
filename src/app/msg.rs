//! What happens to the editor (messages) and what it asks the runtime to do (effects).

use std::sync::Arc;

use crossterm::event::KeyEvent;

use crate::api::Loaded;
use crate::api::save::{SaveOutcome, SaveStage};
use crate::domain::{FieldChoice, Mapping, Snapshot};

#[derive(Clone, Debug)]
pub enum Msg {
    Key(KeyEvent),
    Resize(u16, u16),
    LoadProgress {
        id: u64,
        what: String,
        n: usize,
    },
    Loaded {
        id: u64,
        result: Result<Arc<Loaded>, String>,
    },
    /// The last snapshot cached for this organization, shown (stale) until the fresh load lands.
    Cached {
        loaded: Arc<Loaded>,
        age_secs: u64,
    },
    /// A draft saved by an earlier session for this organization (TOML text).
    Draft(Option<String>),
    SaveProgress(SaveStage),
    Saved(Result<Box<SaveOutcome>, SaveFailure>),
    Tick {
        elapsed_ms: u64,
    },
    /// The preview filtered off the input path (see `Effect::FilterPreview`).
    PreviewFiltered {
        id: u64,
        needle: String,
        filtered: crate::app::filter::Filtered,
    },
    /// A line for the status bar from the runtime (e.g. a failed draft write).
    Notice {
        text: String,
        error: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// Someone else changed the organization (412/409): nothing saved; reload and rebase.
    Changed,
    /// The server may hold the new mapping (answer lost, job failed or stalled): reload to see.
    MaybeSaved,
    /// Nothing was saved.
    NotSaved,
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
    Save {
        snap: Arc<Snapshot>,
        etag: String,
        mapping: Mapping,
        fields: FieldChoice,
    },
    ReadDraft {
        organization: String,
    },
    WriteDraft {
        organization: String,
        text: String,
    },
    DeleteDraft {
        organization: String,
    },
    /// Filter a long preview in the background; the answer is `Msg::PreviewFiltered` with the id.
    FilterPreview {
        id: u64,
        lines: Arc<Vec<crate::report::PreviewLine>>,
        needle: String,
        narrow: Option<Vec<u32>>,
    },
    /// Repaint everything (after Ctrl-l).
    Redraw,
    Quit,
}
