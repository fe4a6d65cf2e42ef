//! The state of the interactive editor. Everything on screen is derived from this.

use std::sync::Arc;

use crate::api::Loaded;
use crate::api::save::SaveStage;
use crate::domain::mapping::Conflict;
use crate::domain::suggest::Suggestion;
use crate::domain::{FieldChoice, GroupId, Mapping, Plan, Snapshot};

use super::filter::Filtered;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Mapping,
    Fields,
    Preview,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    Values,
    Groups,
}

/// A scrolling, filterable list. `selected` and `offset` are positions in the filtered order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListView {
    pub selected: usize,
    pub offset: usize,
    pub filter: String,
    /// The filter is being typed.
    pub editing: bool,
    pub filtered: Filtered,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    Loading { id: u64, counts: Vec<(String, usize)> },
    Failed { message: String },
    Ready,
}

/// A left-pane row: an IdP value users have, or one only a mapping row names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueEntry {
    pub value: String,
    pub users: u32,
}

/// A right-pane row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupEntry {
    Existing(GroupId),
    New(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dialog {
    ConfirmSave { save_focused: bool },
    ConfirmQuit,
    NewGroup { name: String },
    Suggestions { items: Vec<Suggestion>, selected: usize },
    RestoreDraft { draft: Mapping },
    Saving { stages: Vec<String>, job: Option<(u64, u64, u64)>, elapsed_ms: u64 },
    Result { title: String, message: String, ok: bool },
    Conflicts { items: Vec<Conflict>, selected: usize },
}

#[derive(Clone, Debug)]
pub struct Model {
    pub sandbox: bool,
    pub phase: Phase,
    pub loaded: Option<Arc<Loaded>>,
    pub snap: Arc<Snapshot>,
    pub fields: FieldChoice,
    /// Sent back as If-Match on save.
    pub etag: Option<String>,
    /// The saved mapping the draft started from (for "modified" and for rebasing).
    pub base: Mapping,
    pub mapping: Mapping,
    pub plan: Plan,
    pub undo: Vec<Mapping>,
    pub redo: Vec<Mapping>,
    pub screen: Screen,
    pub help: bool,
    pub help_scroll: usize,
    pub focus: Pane,
    pub values: ListView,
    pub groups: ListView,
    pub preview: ListView,
    pub columns: ListView,
    pub value_entries: Vec<ValueEntry>,
    pub group_entries: Vec<GroupEntry>,
    /// The preview: the lines `groupmap plan` prints, each with its kind (the view styles by it).
    pub preview_lines: Arc<Vec<crate::report::PreviewLine>>,
    /// The pattern `preview.filtered` was computed for, and the newest filter request's id.
    pub preview_filtered_for: Option<String>,
    pub preview_filter_id: u64,
    /// Columns the preview is scrolled right by.
    pub preview_hscroll: usize,
    pub dialog: Option<Dialog>,
    pub status: Option<(String, bool)>,
    pub size: (u16, u16),
    pub next_id: u64,
    /// The data on screen came from the cache (its age in seconds); None once a load lands.
    pub stale: Option<u64>,
    /// A mapping file to apply once the organization has loaded (`--mapping FILE`).
    pub start_mapping: Option<crate::domain::mapping_file::MappingFile>,
}

impl Model {
    pub fn new(sandbox: bool, fields: FieldChoice) -> Model {
        Model {
            sandbox,
            phase: Phase::Loading { id: 0, counts: Vec::new() },
            loaded: None,
            snap: Arc::new(Snapshot::default()),
            fields,
            etag: None,
            base: Mapping::default(),
            mapping: Mapping::default(),
            plan: Plan::default(),
            undo: Vec::new(),
            redo: Vec::new(),
            screen: Screen::Mapping,
            help: false,
            help_scroll: 0,
            focus: Pane::Values,
            values: ListView::default(),
            groups: ListView::default(),
            preview: ListView::default(),
            columns: ListView::default(),
            value_entries: Vec::new(),
            group_entries: Vec::new(),
            preview_lines: Arc::default(),
            preview_filtered_for: None,
            preview_filter_id: 0,
            preview_hscroll: 0,
            dialog: None,
            status: None,
            size: (80, 24),
            next_id: 0,
            start_mapping: None,
            stale: None,
        }
    }

    pub fn modified(&self) -> bool {
        self.mapping != self.base
    }

    /// A save is running (its dialog cannot be closed until it ends); edits wait.
    pub fn saving(&self) -> bool {
        matches!(self.dialog, Some(Dialog::Saving { .. }))
    }

    /// Fresh data from a completed load: what saving needs.
    pub fn ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    /// An organization is on screen, possibly while a reload runs: enough to edit.
    pub fn has_data(&self) -> bool {
        !self.snap.organization.is_empty() && !matches!(self.phase, Phase::Failed { .. })
    }

    pub fn selected_value(&self) -> Option<&ValueEntry> {
        self.values.filtered.get(self.values.selected).and_then(|i| self.value_entries.get(i))
    }

    pub fn selected_group(&self) -> Option<&GroupEntry> {
        self.groups.filtered.get(self.groups.selected).and_then(|i| self.group_entries.get(i))
    }

    pub fn group_entry_name<'a>(&'a self, e: &'a GroupEntry) -> &'a str {
        match e {
            GroupEntry::Existing(g) => &self.snap.group(*g).name,
            GroupEntry::New(n) => n,
        }
    }

    /// The export columns shown on the Fields screen: (export index, column index).
    pub fn column_rows(&self) -> Vec<(usize, usize)> {
        self.loaded
            .as_ref()
            .map(|l| {
                l.exports.iter().enumerate().flat_map(|(e, ex)| (0..ex.headers.len()).map(move |c| (e, c))).collect()
            })
            .unwrap_or_default()
    }

    pub fn stage_text(stage: &SaveStage) -> Option<String> {
        Some(match stage {
            SaveStage::CreatingGroup { name, done, total } => {
                format!("creating group {}/{total}: {}", done + 1, crate::domain::text::quoted(name))
            }
            SaveStage::GroupCreated { group } => format!("created group {}", crate::domain::text::quoted(&group.name)),
            SaveStage::Saving { version } => format!("saving the mapping (If-Match version {version})"),
            SaveStage::Saved { version, job } => {
                format!("saved as version {version}{}", if job.is_some() { "; moving users" } else { "" })
            }
            SaveStage::Job { .. } => return None,
            SaveStage::Verifying => "verifying: reloading and re-planning".to_owned(),
        })
    }
}
