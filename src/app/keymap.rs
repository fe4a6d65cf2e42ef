//! The one table of keys: every key the editor reads is looked up here, in the scopes that are
//! live (`live_scopes`), and the same table writes the footer, every dialog's and screen's hint
//! line (`hint_line`) and the `?` help (`help_rows`).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::layout::too_small;
use crate::app::model::{Dialog, Model, Pane, Phase, Screen};
use crate::domain::lint::Severity;

mod table;
#[cfg(test)]
mod tests;

pub use table::BINDINGS;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    SwitchPane,
    Filter,
    Map,
    Unmap,
    ToggleMapping,
    SetDefault,
    ToggleApplyExisting,
    NewGroup,
    Suggest,
    Undo,
    Redo,
    Preview,
    Fields,
    Save,
    Reload,
    Help,
    Back,
    Quit,
    Exit,
    Redraw,
    UseAsEmail,
    UseAsIdp,
    ScrollLeft,
    ScrollRight,
    // Findings.
    Findings,
    JumpToFinding,
    NextFinding,
    PrevFinding,
    CycleView,
    // In dialogs, the help and text input.
    /// Moves the focus between a dialog's buttons.
    ToggleFocus,
    /// Presses the focused button.
    Choose,
    /// Takes what was typed.
    Confirm,
    /// Drops what was typed (or the dialog's question).
    Cancel,
    /// Deletes the last character typed.
    Erase,
    Yes,
    No,
    Accept,
    AcceptAll,
    Skip,
    PickMine,
    PickTheirs,
    Close,
    // The hand-off screen.
    /// Ticks the selected step off (again: back on).
    Tick,
    CopyValue,
    CopyGroup,
    WriteFiles,
    /// The admin says the table is saved in the admin center (asks, then records it).
    Recorded,
    Verify,
}

/// A dialog, by kind (the scope of its keys).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogKind {
    ConfirmSave,
    ConfirmQuit,
    NewGroup,
    Suggestions,
    RestoreDraft,
    Saving,
    Result,
    Conflicts,
    ConfirmRecord,
}

impl DialogKind {
    pub const ALL: [DialogKind; 9] = [
        DialogKind::ConfirmSave,
        DialogKind::ConfirmQuit,
        DialogKind::NewGroup,
        DialogKind::Suggestions,
        DialogKind::RestoreDraft,
        DialogKind::Saving,
        DialogKind::Result,
        DialogKind::Conflicts,
        DialogKind::ConfirmRecord,
    ];

    pub fn of(d: &Dialog) -> DialogKind {
        match d {
            Dialog::ConfirmSave { .. } => DialogKind::ConfirmSave,
            Dialog::ConfirmQuit => DialogKind::ConfirmQuit,
            Dialog::NewGroup { .. } => DialogKind::NewGroup,
            Dialog::Suggestions { .. } => DialogKind::Suggestions,
            Dialog::RestoreDraft { .. } => DialogKind::RestoreDraft,
            Dialog::Saving { .. } => DialogKind::Saving,
            Dialog::Result { .. } => DialogKind::Result,
            Dialog::Conflicts { .. } => DialogKind::Conflicts,
            Dialog::ConfirmRecord => DialogKind::ConfirmRecord,
        }
    }
}

/// Where a binding applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Under everything, dialogs and text input included.
    Always,
    /// On every screen (not in a dialog, the help or while a filter is typed).
    Everywhere,
    Mapping,
    Lists,
    Fields,
    Preview,
    /// The hand-off to an admin center.
    Handoff,
    /// The findings screen.
    Findings,
    /// While a load runs, the load error and a too small terminal: these restate bindings of
    /// `Everywhere` and `Always` (same keys, same action, same help) with the word the screen
    /// shows for them ("Esc cancels").
    Loading,
    LoadFailed,
    TooSmall,
    /// The `?` overlay.
    Help,
    /// A list's filter being typed; printable characters are text.
    FilterInput,
    Dialog(DialogKind),
}

impl Scope {
    /// Printable characters typed here are text, not keys.
    pub fn takes_text(self) -> bool {
        matches!(self, Scope::FilterInput | Scope::Dialog(DialogKind::NewGroup))
    }

    /// The scope restates bindings of `Everywhere`/`Always` (see `Loading`).
    pub fn restates(self) -> bool {
        matches!(self, Scope::Loading | Scope::LoadFailed | Scope::TooSmall)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Ctrl(char),
    Code(KeyCode),
    /// Every key not bound in an earlier scope (a result dialog closes on any key).
    Any,
}

pub struct Binding {
    pub keys: &'static [Key],
    /// How the key is written in hints and help.
    pub label: &'static str,
    pub action: Action,
    pub help: &'static str,
    /// The word hint lines show after the label (the footer's "filter", a dialog's "cancels");
    /// None keeps it out of them (still in help).
    pub hint: Option<&'static str>,
    pub scope: Scope,
}

impl Binding {
    pub fn matches(&self, key: Key) -> bool {
        self.keys.iter().any(|k| *k == key || *k == Key::Any)
    }
}

/// The scopes whose bindings apply on a screen (with `Everywhere`; the footer shows their hints).
pub fn scopes(screen: Screen) -> &'static [Scope] {
    match screen {
        Screen::Mapping => &[Scope::Mapping, Scope::Lists],
        Screen::Fields => &[Scope::Fields, Scope::Lists],
        Screen::Preview => &[Scope::Preview, Scope::Lists],
        Screen::Handoff => &[Scope::Handoff, Scope::Lists],
        Screen::Findings => &[Scope::Findings, Scope::Lists],
    }
}

/// The scopes a key is looked up in now, most specific first: `Always`, then a dialog, else
/// the help, else a filter being typed, else the screen's scopes. A dialog, the help and the
/// filter input hide the screen's keys.
pub fn live_scopes(m: &Model) -> Vec<Scope> {
    let modal = if let Some(d) = &m.dialog {
        Some(Scope::Dialog(DialogKind::of(d)))
    } else if m.help {
        Some(Scope::Help)
    } else if typing(m) {
        Some(Scope::FilterInput)
    } else {
        None
    };
    match modal {
        Some(s) => vec![Scope::Always, s],
        None => screen_scopes(m.screen, &m.phase, too_small(m.size.0, m.size.1)),
    }
}

/// The live scopes when no dialog, help or filter input has the keys.
pub fn screen_scopes(screen: Screen, phase: &Phase, too_small: bool) -> Vec<Scope> {
    let mut s = vec![Scope::Always];
    if too_small {
        s.push(Scope::TooSmall);
    }
    match phase {
        Phase::Loading { .. } => s.push(Scope::Loading),
        Phase::Failed { .. } => s.push(Scope::LoadFailed),
        Phase::Ready => {}
    }
    s.extend_from_slice(scopes(screen));
    s.push(Scope::Everywhere);
    s
}

/// A filter is being typed in the list the keys move in.
fn typing(m: &Model) -> bool {
    match m.screen {
        Screen::Preview => m.preview.editing,
        Screen::Handoff => false,
        Screen::Fields => m.columns.editing,
        Screen::Findings => m.findings.editing,
        Screen::Mapping if m.focus == Pane::Values => m.values.editing,
        Screen::Mapping => m.groups.editing,
    }
}

pub fn key_of(ev: &KeyEvent) -> Key {
    match ev.code {
        KeyCode::Char(c) if ev.modifiers.contains(KeyModifiers::CONTROL) => Key::Ctrl(c.to_ascii_lowercase()),
        KeyCode::Char(c) => Key::Char(c),
        code => Key::Code(code),
    }
}

/// The character a key types into text input, if it is a printable one.
pub fn typed(ev: &KeyEvent) -> Option<char> {
    match ev.code {
        KeyCode::Char(c) if !ev.modifiers.contains(KeyModifiers::CONTROL) && !c.is_control() => Some(c),
        _ => None,
    }
}

/// The action a key means: its binding in the first of `scopes` that binds it.
pub fn action_for(key: Key, scopes: &[Scope]) -> Option<Action> {
    scopes.iter().find_map(|s| BINDINGS.iter().find(|b| b.scope == *s && b.matches(key))).map(|b| b.action)
}

pub fn binding(action: Action) -> &'static Binding {
    BINDINGS.iter().find(|b| b.action == action).expect("every action has a binding")
}

/// The binding of an action in a scope.
pub fn binding_in(scope: Scope, action: Action) -> &'static Binding {
    BINDINGS.iter().find(|b| b.scope == scope && b.action == action).expect("the scope binds the action")
}

/// How a hint line names a binding: "Tab switches".
pub fn hint(b: &Binding) -> String {
    format!("{} {}", b.label, b.hint.unwrap_or(b.help))
}

/// The bindings of a scope that hint lines show, in table order.
pub fn hinted(scope: Scope) -> impl Iterator<Item = &'static Binding> {
    BINDINGS.iter().filter(move |b| b.scope == scope && b.hint.is_some())
}

/// Hints joined into a line: "Tab switches · Enter chooses · Esc cancels".
pub fn join_hints<'a>(bindings: impl IntoIterator<Item = &'a Binding>) -> String {
    bindings.into_iter().map(hint).collect::<Vec<_>>().join(" · ")
}

/// The hint line of a scope (a dialog's, the loading or error screen's).
pub fn hint_line(scope: Scope) -> String {
    join_hints(hinted(scope))
}

/// Columns of the help's first column: headings, and labels after two spaces, fit in it.
pub const HELP_KEY_COLUMN: u16 = 16;

/// A row of the `?` help.
pub enum HelpRow {
    Heading(&'static str),
    Key(&'static Binding),
    /// A mark in the lists and what it means.
    Mark(&'static str, &'static str),
}

const MARKS: &[(&str, &str)] = &[
    ("›", "the selected row"),
    ("!", "value differs only by case or spaces from another (the status line says how)"),
    ("?", "a row whose value no user has (typo or stale)"),
    ("␣", "a leading or trailing space in a value"),
];

type Section = (&'static str, &'static [Scope]);

/// The help's sections before the marks. The restating scopes are left out (their keys are
/// listed under Everywhere), and so is a scope without keys (a running save waits).
const SCREEN_SECTIONS: &[Section] = &[
    ("Everywhere", &[Scope::Everywhere, Scope::Always]),
    ("Lists", &[Scope::Lists]),
    ("Mapping screen", &[Scope::Mapping]),
    ("Preview screen", &[Scope::Preview]),
    ("Findings screen", &[Scope::Findings]),
    ("Fields screen", &[Scope::Fields]),
    ("Hand-off screen", &[Scope::Handoff]),
];

/// The help's sections after the marks.
const INPUT_SECTIONS: &[Section] = &[
    ("Typing a filter", &[Scope::FilterInput]),
    ("Help", &[Scope::Help]),
    ("Save dialog", &[Scope::Dialog(DialogKind::ConfirmSave)]),
    ("Quit dialog", &[Scope::Dialog(DialogKind::ConfirmQuit)]),
    ("New group dialog", &[Scope::Dialog(DialogKind::NewGroup)]),
    ("Suggestions", &[Scope::Dialog(DialogKind::Suggestions)]),
    ("Unsaved draft", &[Scope::Dialog(DialogKind::RestoreDraft)]),
    ("While saving", &[Scope::Dialog(DialogKind::Saving)]),
    ("Save result", &[Scope::Dialog(DialogKind::Result)]),
    ("Conflicts", &[Scope::Dialog(DialogKind::Conflicts)]),
    ("Record dialog", &[Scope::Dialog(DialogKind::ConfirmRecord)]),
];

/// The `?` help, row by row: the screens' keys, the marks, then text input, the help and dialogs.
pub fn help_rows() -> Vec<HelpRow> {
    let section = |rows: &mut Vec<HelpRow>, (name, scopes): &Section| {
        let keys: Vec<&'static Binding> = BINDINGS.iter().filter(|b| scopes.contains(&b.scope)).collect();
        if !keys.is_empty() {
            rows.push(HelpRow::Heading(name));
            rows.extend(keys.into_iter().map(HelpRow::Key));
        }
    };
    let mut rows = Vec::new();
    SCREEN_SECTIONS.iter().for_each(|s| section(&mut rows, s));
    rows.push(HelpRow::Heading("Marks"));
    rows.extend(MARKS.iter().map(|(mark, text)| HelpRow::Mark(mark, text)));
    INPUT_SECTIONS.iter().for_each(|s| section(&mut rows, s));
    rows
}

/// Why an action cannot run now, or None when it can.
pub fn unavailable(m: &Model, a: Action) -> Option<&'static str> {
    let editing = matches!(
        a,
        Action::Map
            | Action::Unmap
            | Action::ToggleMapping
            | Action::SetDefault
            | Action::ToggleApplyExisting
            | Action::NewGroup
            | Action::Suggest
            | Action::Undo
            | Action::Redo
            | Action::Save
            | Action::UseAsEmail
            | Action::UseAsIdp
    );
    if editing && !m.has_data() && !(matches!(a, Action::UseAsEmail | Action::UseAsIdp) && m.org().is_some()) {
        return Some("the organization is not loaded");
    }
    let findings = matches!(
        a,
        Action::Findings | Action::JumpToFinding | Action::NextFinding | Action::PrevFinding | Action::CycleView
    );
    if findings && !m.has_data() {
        return Some("the organization is not loaded");
    }
    if a == Action::Save && m.stale.is_some() && !matches!(m.phase, Phase::Loading { .. }) {
        return Some("the data on screen is a cached snapshot: press r to load fresh data, saving needs it");
    }
    if a == Action::Save && !m.ready() {
        return Some("wait for the load to finish: saving needs fresh data");
    }
    if editing && m.saving() {
        return Some("a save is running");
    }
    if let Some(why) = crate::app::handoff::unavailable(m, a, editing) {
        return Some(why);
    }
    match a {
        Action::Undo if m.undo.is_empty() => Some("nothing to undo"),
        Action::Redo if m.redo.is_empty() => Some("nothing to redo"),
        // A read-only service's save is the hand-off: it holds no table to compare with.
        Action::Save if m.capabilities().save_table && !m.modified() && !m.plan.applies() => {
            Some("nothing to save: no edits and no user to move")
        }
        Action::Save if m.plan.lint.iter().any(|f| f.severity == Severity::Error) => {
            Some("the mapping has errors (see the preview's findings)")
        }
        Action::Map | Action::NewGroup if m.selected_value().is_none() => Some("no value selected"),
        Action::Map if m.selected_group().is_none() => Some("no group selected"),
        Action::SetDefault if m.selected_group().is_none() => Some("no group selected"),
        Action::JumpToFinding
            if m.findings.filtered.get(m.findings.selected).is_none_or(|i| i >= m.plan.lint.len()) =>
        {
            Some("no finding selected")
        }
        Action::Unmap if m.selected_value().is_none_or(|v| m.mapping.row(&v.value).is_none()) => {
            Some("the selected value has no row")
        }
        _ => None,
    }
}
