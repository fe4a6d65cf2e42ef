//! The state of the interactive editor. Everything on screen is derived from this.

use std::sync::Arc;

use crate::domain::export::ExportError;
use crate::domain::infer::Inference;
use crate::domain::mapping::Conflict;
use crate::domain::suggest::Suggestion;
use crate::domain::{FieldChoice, GroupId, Mapping, Plan, Snapshot};
use crate::engine::Organization;
use crate::service::{Capabilities, SaveStage};

use super::filter::Filtered;
pub use super::findings::ValueView;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Mapping,
    Fields,
    Preview,
    /// The table handed to an admin center (a service that cannot save it).
    Handoff,
    /// Every finding, what it means and what to do; Enter jumps to its row.
    Findings,
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
    Loading { id: u64, status: crate::service::LoadStatus },
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
    ConfirmSave {
        save_focused: bool,
    },
    ConfirmQuit,
    NewGroup {
        name: String,
    },
    Suggestions {
        items: Vec<Suggestion>,
        selected: usize,
    },
    RestoreDraft {
        offers: Vec<DraftOffer>,
        selected: usize,
        notes: Vec<String>,
    },
    /// A save running: the stages it reached, the job's progress, and whether quitting was asked.
    Saving {
        stages: Vec<SaveStage>,
        job: Option<(u64, u64, u64)>,
        elapsed_ms: u64,
        quit_asked: bool,
    },
    Result {
        title: String,
        message: String,
        ok: bool,
    },
    Conflicts {
        items: Vec<Conflict>,
        selected: usize,
    },
    /// The admin says the hand-off's table is saved in the admin center: record it?
    ConfirmRecord,
}

/// A draft another session left, readable and ready to restore.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraftOffer {
    pub path: std::path::PathBuf,
    pub age_secs: u64,
    /// Its groups as this organization names them.
    pub draft: crate::domain::draft::Draft,
    /// Set when the file was cut short: nothing from this line on could be read.
    pub lost_from_line: Option<usize>,
}

/// What undo and redo step through: every change the admin makes, the column choice included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub mapping: Mapping,
    pub fields: FieldChoice,
}

/// Where this session's unsaved edits are kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum DraftFile {
    /// Nothing written yet (no edit).
    #[default]
    None,
    Written(std::path::PathBuf),
    /// The last write failed: the edits are only in memory.
    Failed(String),
}

#[derive(Clone, Debug)]
pub struct Model {
    pub sandbox: bool,
    pub phase: Phase,
    /// What was loaded, and the columns chosen for its values; the snapshot is derived from the
    /// two (`set_loaded`) and never set alone.
    org: Option<Arc<Organization>>,
    fields: FieldChoice,
    snap: Arc<Snapshot>,
    pub mapping: Mapping,
    pub plan: Plan,
    pub undo: Vec<Version>,
    pub redo: Vec<Version>,
    pub screen: Screen,
    pub help: bool,
    pub help_scroll: usize,
    pub focus: Pane,
    pub values: ListView,
    pub groups: ListView,
    pub preview: ListView,
    pub columns: ListView,
    /// The findings screen's list (positions in `plan.lint`).
    pub findings: ListView,
    /// Which values the values pane lists: all, the unmapped ones, or those with findings.
    pub value_view: ValueView,
    /// Shared with a filter running off the input path.
    pub value_entries: Arc<Vec<ValueEntry>>,
    /// The newest values-pane filter request's id (results for older ones are dropped).
    pub values_filter_id: u64,
    /// The pattern `values.filtered` was computed for.
    pub values_filtered_for: String,
    pub group_entries: Vec<GroupEntry>,
    /// The preview: the lines `groupmap plan` prints, each with its kind (the view styles by it).
    pub preview_lines: Arc<crate::report::Preview>,
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
    /// Where this session's unsaved edits are kept.
    pub draft_file: DraftFile,
    /// Other sessions' drafts were looked for (once, on the first fresh load).
    pub drafts_read: bool,
    /// A mapping file to apply once the organization has loaded (`--mapping FILE`).
    pub start_mapping: Option<crate::domain::mapping_file::MappingFile>,
    /// Where each value's users are, when there is no table to start from (derived with the
    /// snapshot: `set_loaded`).
    inference: Option<Arc<Inference>>,
    /// The table on screen is the inferred one, untouched by the admin.
    pub inferred_start: bool,
    /// The hand-off of the table to an admin center; kept when the screen is left.
    pub handoff: Option<super::handoff::Handoff>,
    /// Where the bundled sandbox keeps its changes, as the status line shows the path (`~` for
    /// the home directory); said there when nothing else is.
    pub sandbox_kept: Option<String>,
    /// Where the hand-off's files are written, as shown (`~` for the home directory).
    pub handoff_dir: Option<String>,
}

impl Model {
    pub fn new(sandbox: bool, fields: FieldChoice) -> Model {
        Model {
            sandbox,
            phase: Phase::Loading { id: 0, status: Default::default() },
            org: None,
            fields,
            snap: Arc::new(Snapshot::default()),
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
            findings: ListView::default(),
            value_view: ValueView::All,
            value_entries: Arc::default(),
            values_filter_id: 0,
            values_filtered_for: String::new(),
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
            sandbox_kept: None,
            handoff_dir: None,
            draft_file: DraftFile::None,
            drafts_read: false,
            stale: None,
            inference: None,
            inferred_start: false,
            handoff: None,
        }
    }

    pub fn org(&self) -> Option<&Arc<Organization>> {
        self.org.as_ref()
    }

    pub fn snap(&self) -> &Arc<Snapshot> {
        &self.snap
    }

    pub fn fields(&self) -> &FieldChoice {
        &self.fields
    }

    /// The mapping and column choice as they are now (for undo).
    pub fn version(&self) -> Version {
        Version { mapping: self.mapping.clone(), fields: self.fields.clone() }
    }

    pub fn capabilities(&self) -> Capabilities {
        self.org.as_ref().map_or(Capabilities::READ_ONLY, |o| o.capabilities())
    }

    /// What the organization's label says besides its URI.
    pub fn label(&self) -> crate::report::Context {
        crate::report::Context { sandbox: self.sandbox, read_only: self.capabilities().read_only() }
    }

    /// Replaces what was loaded and the column choice together, and derives the snapshot. When
    /// the columns cannot be found, the organization is kept (its columns are what the Fields
    /// screen offers), the choice stays as it was and there is no snapshot.
    pub fn set_loaded(&mut self, org: Arc<Organization>, fields: FieldChoice) -> Result<(), ExportError> {
        let joined = org.snapshot(&fields);
        self.org = Some(org);
        match joined {
            Ok(snap) => {
                self.fields = fields;
                // With no table to start from, where users are is what the editor starts from.
                self.inference = snap.saved.is_none().then(|| Arc::new(Inference::new(&snap)));
                self.snap = Arc::new(snap);
                Ok(())
            }
            Err(e) => {
                self.snap = Arc::default();
                self.inference = None;
                Err(e)
            }
        }
    }

    /// Where each value's users are, when there is no table to start from.
    pub fn inference(&self) -> Option<&Arc<Inference>> {
        self.inference.as_ref()
    }

    /// The table on screen is the inferred one as inferred (said until the admin changes it).
    pub fn inferred(&self) -> bool {
        self.inferred_start && self.inference.is_some()
    }

    /// Where the selected value's users are (`"Sales NA": 28 in Sales NA, 1 in no group`), when
    /// there is no table to start from: what the admin decides an unmapped value by.
    pub fn selection_note(&self) -> Option<String> {
        let inference = self.inference.as_ref()?;
        let v = self.snap.value_id(&self.selected_value()?.value)?;
        let where_ = crate::domain::infer::where_users_are(&self.snap, inference.of(v));
        Some(format!("{}: {where_}", crate::domain::text::quoted(self.snap.value(v))))
    }

    /// `29/29` for a row that maps a value to the group all its users are in, as inferred.
    pub fn agreement(&self, value: &str) -> Option<String> {
        let p = self.inference.as_ref()?.of(self.snap.value_id(value)?);
        let g = p.agreed()?;
        let row = self.mapping.row(value)?;
        (row.target == crate::domain::Target::Group(self.snap.group(g).uri.clone()))
            .then(|| format!("{}/{}", p.users, p.users))
    }

    /// The table the edits are on: the saved one, or the table of record (for "modified" and for
    /// rebasing). Apply-to-existing is
    /// a choice made at save time, not part of the table, so it is the edit's own.
    pub fn base(&self) -> Mapping {
        let mut base = self.snap.saved_mapping();
        base.apply_to_existing = self.mapping.apply_to_existing;
        base
    }

    /// The table the edits are compared with, in words: `the saved table`, `the table recorded …`.
    pub fn base_described(&self) -> String {
        self.snap
            .saved
            .as_ref()
            .map_or_else(|| "the empty table (none is saved or recorded)".to_owned(), |s| s.described())
    }

    /// The table differs from the saved one (apply-to-existing aside, as in `base`). Asked on
    /// every frame, so it compares in place rather than building `base`.
    pub fn modified(&self) -> bool {
        // A table recorded as entered in the admin center is saved there.
        if let Some(h) = &self.handoff
            && h.recorded.is_some()
            && h.mapping.enabled == self.mapping.enabled
            && h.mapping.default_group == self.mapping.default_group
            && h.mapping.rows == self.mapping.rows
        {
            return false;
        }
        let empty = Mapping::default();
        let saved = self.snap.saved.as_ref().map_or(&empty, |s| &s.mapping);
        saved.enabled != self.mapping.enabled
            || saved.default_group != self.mapping.default_group
            || saved.rows != self.mapping.rows
    }

    /// Where the unsaved edits are, in words for a dialog.
    pub fn edits_kept(&self) -> String {
        match &self.draft_file {
            DraftFile::Written(path) => format!("They stay in the draft file {}", path.display()),
            DraftFile::Failed(why) => format!("They are NOT in a draft file ({why}): quitting loses them"),
            DraftFile::None => "They are only in this session".to_owned(),
        }
    }

    /// A save is running (its dialog cannot be closed until it ends); edits wait.
    pub fn saving(&self) -> bool {
        matches!(self.dialog, Some(Dialog::Saving { .. }))
    }

    /// Fresh data from a completed load: what saving needs.
    pub fn ready(&self) -> bool {
        self.phase == Phase::Ready && self.stale.is_none()
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
        self.org
            .as_ref()
            .map(|l| {
                l.exports.iter().enumerate().flat_map(|(e, ex)| (0..ex.headers.len()).map(move |c| (e, c))).collect()
            })
            .unwrap_or_default()
    }

    /// What is known of the running save, for the admin quitting during it.
    pub fn interrupted_save(&self) -> Option<String> {
        let Some(Dialog::Saving { stages, job, .. }) = &self.dialog else { return None };
        let mut reached = stages.clone();
        if let Some((completed, failed, total)) = *job {
            reached.push(SaveStage::Job { completed, failed, total });
        }
        Some(format!("quit during a save: {}. {}.", crate::service::stage::interrupted(&reached), self.edits_kept()))
    }

    /// A save stage as the progress dialog lists it (job progress has a line of its own).
    pub fn stage_text(stage: &SaveStage) -> Option<String> {
        match stage {
            SaveStage::Job { .. } => None,
            other => Some(other.to_string()),
        }
    }
}
