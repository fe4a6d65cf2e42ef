//! `update(&mut Model, Msg) -> Vec<Effect>`: every state change, no IO, no clock.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::filter::filter;
use super::keymap::{Action, Key, action_for, key_of};
use super::model::{Dialog, GroupEntry, ListView, Model, Pane, Phase, Screen, ValueEntry};
use super::msg::{Effect, FailureKind, Msg, SaveFailure};
use crate::api::Loaded;
use crate::domain::mapping::{diff, rebase};
use crate::domain::mapping_file::{MappingFile, to_toml};
use crate::domain::suggest::suggest;
use crate::domain::text::quoted;
use crate::domain::{Target, plan};
use crate::report::{LineKind, PreviewLine};

/// Columns one horizontal scroll step moves the preview.
const HSCROLL: usize = 16;

pub fn update(m: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Resize(w, h) => {
            m.size = (w, h);
            Vec::new()
        }
        Msg::Key(k) => on_key(m, k),
        Msg::LoadProgress { id, what, n } => {
            if let Phase::Loading { id: cur, counts } = &mut m.phase
                && *cur == id
            {
                match counts.iter_mut().find(|(w, _)| *w == what) {
                    Some(c) => c.1 = n,
                    None => counts.push((what, n)),
                }
            }
            Vec::new()
        }
        Msg::Loaded { id, result } => match &m.phase {
            Phase::Loading { id: cur, .. } if *cur == id => match result {
                Ok(loaded) => on_loaded(m, loaded),
                Err(message) if m.has_data() => {
                    // Keep what is on screen; it is still what the ETag and digest describe.
                    m.phase = Phase::Ready;
                    m.status = Some((format!("reload failed, showing the data loaded earlier: {message}"), true));
                    Vec::new()
                }
                Err(message) => {
                    m.phase = Phase::Failed { message };
                    Vec::new()
                }
            },
            // A cancelled or superseded load: its result is dropped.
            _ => Vec::new(),
        },
        Msg::Cached { loaded, age_secs } => {
            // Only before anything fresh has arrived, and only while the fresh load still runs.
            if m.loaded.is_some() || !matches!(m.phase, Phase::Loading { .. }) {
                return Vec::new();
            }
            let phase = m.phase.clone();
            let effects = on_loaded(m, loaded);
            if m.phase == Phase::Ready {
                m.phase = phase;
                m.stale = Some(age_secs);
            }
            effects
        }
        Msg::Draft(text) => on_draft(m, text),
        Msg::SaveProgress(stage) => {
            if let Some(Dialog::Saving { stages, job, .. }) = &mut m.dialog {
                if let crate::api::save::SaveStage::Job { completed, failed, total } = stage {
                    *job = Some((completed, failed, total));
                } else if let Some(t) = Model::stage_text(&stage) {
                    stages.push(t);
                }
            }
            Vec::new()
        }
        Msg::Saved(result) => on_saved(m, result),
        Msg::PreviewFiltered { id, needle, filtered } => {
            on_preview_filtered(m, id, needle, filtered);
            Vec::new()
        }
        Msg::Notice { text, error } => {
            m.status = Some((text, error));
            Vec::new()
        }
        Msg::Tick { elapsed_ms } => {
            if let Some(Dialog::Saving { elapsed_ms: e, .. }) = &mut m.dialog {
                *e = elapsed_ms;
            }
            Vec::new()
        }
    }
}

/// Starts a (re)load; results of any earlier load are dropped by id.
pub fn start_load(m: &mut Model) -> Vec<Effect> {
    m.next_id += 1;
    m.phase = Phase::Loading { id: m.next_id, counts: Vec::new() };
    vec![Effect::Load { id: m.next_id }]
}

fn on_loaded(m: &mut Model, loaded: Arc<Loaded>) -> Vec<Effect> {
    let snap = match loaded.snapshot(&m.fields) {
        Ok(s) => s,
        Err(e) => {
            m.phase = Phase::Failed { message: format!("{e}\n(press f to choose the export's columns)") };
            m.loaded = Some(loaded);
            return Vec::new();
        }
    };
    let first = m.loaded.is_none();
    let newer = snap.saved_mapping();
    let mut effects = Vec::new();
    m.etag = loaded.etag.clone();
    m.stale = None;
    m.snap = Arc::new(snap);
    m.loaded = Some(loaded);
    m.phase = Phase::Ready;
    if first {
        m.base = newer.clone();
        m.mapping = newer;
        match m.start_mapping.take() {
            // A file asked for on the command line wins over an old draft.
            Some(file) => match file.resolve(&m.snap) {
                Ok(mapping) => {
                    recompute(m);
                    effects.extend(edit(m, |map| *map = mapping));
                    m.status = Some((format!("started from {} (u returns to the saved mapping)", file.path), false));
                    return effects;
                }
                Err(e) => m.status = Some((format!("{e} (showing the saved mapping)"), true)),
            },
            None => effects.push(Effect::ReadDraft { organization: m.snap.organization.clone() }),
        }
    } else {
        let (rebased, conflicts) = rebase(&m.base, &m.mapping, &newer);
        let kept = m.modified();
        m.base = newer;
        m.mapping = rebased;
        m.status = Some((
            if kept { "reloaded; your edits were kept on top of the saved mapping".into() } else { "reloaded".into() },
            false,
        ));
        if !conflicts.is_empty() {
            m.dialog = Some(Dialog::Conflicts { items: conflicts, selected: 0 });
        }
    }
    recompute(m);
    effects
}

fn on_draft(m: &mut Model, text: Option<String>) -> Vec<Effect> {
    let Some(text) = text else { return Vec::new() };
    // The draft file is named by the organization's UUID; its `organization` line may name an
    // older base URL (the bundled sandbox listens on a new port each run), so it is not checked.
    let parsed =
        MappingFile::parse("draft", &text).and_then(|f| MappingFile { organization: None, ..f }.resolve(&m.snap));
    match parsed {
        Ok(draft) if draft != m.mapping => {
            m.dialog = Some(Dialog::RestoreDraft { draft });
            Vec::new()
        }
        Ok(_) => vec![Effect::DeleteDraft { organization: m.snap.organization.clone() }],
        Err(e) => {
            m.status = Some((format!("an earlier draft could not be read and was ignored: {e}"), true));
            Vec::new()
        }
    }
}

fn on_saved(m: &mut Model, result: Result<Box<crate::api::save::SaveOutcome>, SaveFailure>) -> Vec<Effect> {
    match result {
        Ok(outcome) => {
            let moved = outcome.moved;
            let apply = m.mapping.apply_to_existing;
            m.snap = Arc::new(outcome.snapshot);
            m.etag = Some(format!("\"{}\"", outcome.version));
            m.base = m.snap.saved_mapping();
            m.base.apply_to_existing = apply;
            m.mapping = m.base.clone();
            m.undo.clear();
            m.redo.clear();
            recompute(m);
            m.dialog = Some(Dialog::Result {
                title: "Saved".into(),
                message: format!(
                    "Mapping saved as version {}. {moved} user(s) moved, {} group(s) created.\nVerified: reloading and re-planning finds nothing left to move.",
                    outcome.version,
                    outcome.created.len()
                ),
                ok: true,
            });
            vec![Effect::DeleteDraft { organization: m.snap.organization.clone() }]
        }
        Err(SaveFailure { message, kind }) => {
            let (title, then) = match kind {
                FailureKind::Changed => (
                    "The organization changed since you loaded it",
                    "Reloading now; your edits are kept on top of the new state. Review the new preview, then save again.",
                ),
                FailureKind::MaybeSaved => (
                    "Save not confirmed",
                    "Reloading now to show what the server holds; your edits are kept (and in the draft file).",
                ),
                FailureKind::NotSaved => ("Save failed", "Your edits are kept (and in the draft file)."),
            };
            m.dialog = Some(Dialog::Result { title: title.into(), message: format!("{message}\n\n{then}"), ok: false });
            if kind == FailureKind::NotSaved { Vec::new() } else { start_load(m) }
        }
    }
}

/// Re-plans and rebuilds everything derived from the snapshot and the mapping.
pub fn recompute(m: &mut Model) {
    let snap = m.snap.clone();
    m.plan = plan(&snap, &m.mapping);
    let keep_value = m.selected_value().map(|e| e.value.clone());
    let keep_group = m.selected_group().cloned();

    let mut entries: Vec<ValueEntry> =
        snap.values.iter().zip(&snap.value_users).map(|(v, n)| ValueEntry { value: v.clone(), users: *n }).collect();
    for r in &m.mapping.rows {
        if snap.value_id(&r.idp_value).is_none() {
            entries.push(ValueEntry { value: r.idp_value.clone(), users: 0 });
        }
    }
    // Case-folded order puts near-duplicates ("Sales", "sales ") next to each other.
    entries.sort_by_cached_key(|e| (e.value.trim().to_lowercase(), e.value.clone()));
    m.value_entries = entries;

    let mut groups: Vec<GroupEntry> =
        (0..snap.groups.len()).map(|i| GroupEntry::Existing(crate::domain::GroupId(i as u32))).collect();
    groups.sort_by_cached_key(|g| m.group_entry_name(g).to_lowercase());
    groups.extend(m.plan.new_groups.iter().cloned().map(GroupEntry::New));
    m.group_entries = groups;

    refilter(m, Pane::Values, None);
    refilter(m, Pane::Groups, None);
    if let Some(v) = keep_value
        && let Some(i) = m.value_entries.iter().position(|e| e.value == v)
        && let Some(p) = m.values.filtered.position_of(i)
    {
        m.values.selected = p;
    }
    if let Some(g) = keep_group
        && let Some(i) = m.group_entries.iter().position(|e| *e == g)
        && let Some(p) = m.groups.filtered.position_of(i)
    {
        m.groups.selected = p;
    }
    clamp_all(m);
    if m.screen == Screen::Preview {
        // Edits on the preview screen are rare (undo/redo); a long preview then filters at once.
        for effect in build_preview(m) {
            if let Effect::FilterPreview { id, lines, needle, narrow } = effect {
                let filtered =
                    super::filter::substring(|i| lines[i].text.as_str(), lines.len(), &needle, narrow.as_deref());
                on_preview_filtered(m, id, needle, filtered);
            }
        }
    }
}

fn on_preview_filtered(m: &mut Model, id: u64, needle: String, filtered: super::filter::Filtered) {
    // Only the newest request counts; results for older patterns are dropped.
    if id == m.preview_filter_id {
        m.preview.filtered = filtered;
        m.preview_filtered_for = Some(needle);
        clamp(&mut m.preview, m.preview_lines.len());
    }
}

fn build_preview(m: &mut Model) -> Vec<Effect> {
    let d = diff(&m.base, &m.mapping);
    let lines = crate::report::plan_lines(&m.snap, &m.mapping, &m.plan, &d, m.sandbox);
    // The summary comes first on screen (and last in `groupmap plan`, as terraform prints it).
    let summary = PreviewLine::new(LineKind::Summary, crate::report::summary_line(&m.plan, &d));
    m.preview_lines = Arc::new([summary, PreviewLine::blank()].into_iter().chain(lines).collect());
    m.preview_filtered_for = None;
    refilter_preview(m, false)
}

/// Previews longer than this are filtered off the input path (a keystroke over 100,000 lines
/// can take longer than a frame); shorter ones at once.
pub const FILTER_OFF_THREAD_FROM: usize = 20_000;

/// The preview is filtered by substring (case-insensitive): an admin looks for an email, a
/// name or a group there, and fuzzy matches over long lines would keep nearly every line.
/// `extend`: the pattern grew by typing, so the current result may be narrowed.
fn refilter_preview(m: &mut Model, extend: bool) -> Vec<Effect> {
    let needle = m.preview.filter.clone();
    // Narrowing is exact only from a result whose pattern this one contains.
    let narrow = match (&m.preview_filtered_for, &m.preview.filtered.items) {
        (Some(done), Some(items)) if extend && needle.to_lowercase().contains(&done.to_lowercase()) => {
            Some(items.clone())
        }
        _ => None,
    };
    if needle.is_empty() || m.preview_lines.len() < FILTER_OFF_THREAD_FROM {
        let lines = &m.preview_lines;
        m.preview.filtered =
            super::filter::substring(|i| lines[i].text.as_str(), lines.len(), &needle, narrow.as_deref());
        m.preview_filtered_for = Some(needle);
        m.preview_filter_id += 1;
        clamp(&mut m.preview, m.preview_lines.len());
        return Vec::new();
    }
    m.preview_filter_id += 1;
    vec![Effect::FilterPreview { id: m.preview_filter_id, lines: m.preview_lines.clone(), needle, narrow }]
}

fn refilter(m: &mut Model, pane: Pane, narrow: Option<Vec<u32>>) {
    match pane {
        Pane::Values => {
            let e = &m.value_entries;
            m.values.filtered = filter(|i| e[i].value.as_str(), e.len(), &m.values.filter, narrow.as_deref());
        }
        Pane::Groups => {
            let names: Vec<&str> = m.group_entries.iter().map(|g| m.group_entry_name(g)).collect();
            m.groups.filtered = filter(|i| names[i], names.len(), &m.groups.filter, narrow.as_deref());
        }
    }
}

fn clamp(list: &mut ListView, total: usize) {
    let len = list.filtered.len(total);
    list.selected = list.selected.min(len.saturating_sub(1));
}

fn clamp_all(m: &mut Model) {
    clamp(&mut m.values, m.value_entries.len());
    clamp(&mut m.groups, m.group_entries.len());
}

/// The list the keys move in, with its total item count.
fn active_list(m: &mut Model) -> (&mut ListView, usize) {
    match m.screen {
        Screen::Preview => (&mut m.preview, m.preview_lines.len()),
        Screen::Fields => {
            let n = m.column_rows().len();
            (&mut m.columns, n)
        }
        Screen::Mapping => match m.focus {
            Pane::Values => (&mut m.values, m.value_entries.len()),
            Pane::Groups => (&mut m.groups, m.group_entries.len()),
        },
    }
}

/// Rows a page holds: the body height less borders and headers.
fn page(m: &Model) -> usize {
    rows_shown(m).max(1)
}

/// Rows the active list shows at the current terminal size (the same layout the view uses).
fn rows_shown(m: &Model) -> usize {
    use super::layout::{layout, list_rows};
    let area = ratatui::layout::Rect::new(0, 0, m.size.0, m.size.1);
    let Some(a) = layout(area) else { return 1 };
    match m.screen {
        Screen::Preview => a.body.height.saturating_sub(2) as usize,
        Screen::Fields => list_rows(a.body),
        Screen::Mapping if m.focus == Pane::Values => list_rows(a.left),
        Screen::Mapping => list_rows(a.right),
    }
}

fn on_key(m: &mut Model, k: KeyEvent) -> Vec<Effect> {
    let key = key_of(&k);
    if key == Key::Ctrl('c') {
        return vec![Effect::Quit];
    }
    if key == Key::Ctrl('l') {
        return vec![Effect::Redraw];
    }
    if m.dialog.is_some() {
        return on_dialog_key(m, k);
    }
    if m.help {
        match k.code {
            KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') => m.help = false,
            KeyCode::Char('j') | KeyCode::Down => m.help_scroll += 1,
            KeyCode::Char('k') | KeyCode::Up => m.help_scroll = m.help_scroll.saturating_sub(1),
            _ => {}
        }
        return Vec::new();
    }
    if let Some(effects) = on_filter_key(m, k) {
        return effects;
    }
    let scopes = super::keymap::scopes(m.screen);
    match action_for(key, scopes) {
        Some(a) => act(m, a),
        None => Vec::new(),
    }
}

/// Keys while a filter is being typed; None when the key is not the filter's.
fn on_filter_key(m: &mut Model, k: KeyEvent) -> Option<Vec<Effect>> {
    let (list, _) = active_list(m);
    if !list.editing {
        return None;
    }
    let extend = match k.code {
        KeyCode::Esc => {
            list.filter.clear();
            list.editing = false;
            false
        }
        KeyCode::Enter => {
            list.editing = false;
            return Some(Vec::new());
        }
        KeyCode::Backspace => {
            list.filter.pop();
            false
        }
        KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
            list.filter.push(c);
            true
        }
        KeyCode::Up | KeyCode::Down | KeyCode::PageUp | KeyCode::PageDown => return None,
        _ => return Some(Vec::new()),
    };
    list.selected = 0;
    list.offset = 0;
    Some(apply_filter(m, extend))
}

/// Re-filters the active list after its pattern changed (`extend`: it grew by typing).
fn apply_filter(m: &mut Model, extend: bool) -> Vec<Effect> {
    match m.screen {
        Screen::Preview => return refilter_preview(m, extend),
        Screen::Fields => {}
        Screen::Mapping => {
            let list = if m.focus == Pane::Values { &m.values } else { &m.groups };
            let narrow = if extend { list.filtered.items.clone() } else { None };
            refilter(m, m.focus, narrow);
        }
    }
    Vec::new()
}

fn move_by(m: &mut Model, delta: isize) {
    let (list, total) = active_list(m);
    let len = list.filtered.len(total);
    if len == 0 {
        return;
    }
    let next = (list.selected as isize + delta).clamp(0, len as isize - 1);
    list.selected = next as usize;
    // The window moves only when the selection would leave it (the view uses the same rule).
    let rows = rows_shown(m);
    let (list, _) = active_list(m);
    list.offset = super::layout::scroll(list.offset, list.selected, rows);
}

fn act(m: &mut Model, a: Action) -> Vec<Effect> {
    if let Some(why) = super::keymap::unavailable(m, a) {
        m.status = Some((format!("{}: {why}", super::keymap::binding(a).help), true));
        return Vec::new();
    }
    m.status = None;
    let page = page(m) as isize;
    match a {
        Action::Up => move_by(m, -1),
        Action::Down => move_by(m, 1),
        Action::PageUp => move_by(m, -page),
        Action::PageDown => move_by(m, page),
        Action::Top => move_by(m, isize::MIN / 2),
        Action::Bottom => move_by(m, isize::MAX / 2),
        Action::SwitchPane => {
            m.focus = if m.focus == Pane::Values { Pane::Groups } else { Pane::Values };
        }
        Action::Filter => active_list(m).0.editing = true,
        Action::ScrollLeft => m.preview_hscroll = m.preview_hscroll.saturating_sub(HSCROLL),
        Action::ScrollRight => m.preview_hscroll += HSCROLL,
        Action::Map => {
            let value = m.selected_value().expect("checked").value.clone();
            let entry = m.selected_group().expect("checked").clone();
            let target = match &entry {
                GroupEntry::Existing(g) => Target::Group(m.snap.group(*g).uri.clone()),
                GroupEntry::New(n) => Target::New(n.clone()),
            };
            let name = m.group_entry_name(&entry).to_owned();
            let effects = edit(m, |map| map.set(&value, target));
            m.status = Some((format!("mapped {} → {}", quoted(&value), quoted(&name)), false));
            if m.focus == Pane::Values {
                move_by(m, 1);
            }
            return effects;
        }
        Action::Unmap => {
            let value = m.selected_value().expect("checked").value.clone();
            let effects = edit(m, |map| {
                map.unset(&value);
            });
            m.status = Some((format!("unmapped {}", quoted(&value)), false));
            return effects;
        }
        Action::ToggleMapping => return edit(m, |map| map.enabled = !map.enabled),
        Action::ToggleApplyExisting => return edit(m, |map| map.apply_to_existing = !map.apply_to_existing),
        Action::SetDefault => {
            let entry = m.selected_group().expect("checked").clone();
            let target = match &entry {
                GroupEntry::Existing(g) => Target::Group(m.snap.group(*g).uri.clone()),
                GroupEntry::New(n) => Target::New(n.clone()),
            };
            return edit(m, |map| {
                map.default_group = if map.default_group.as_ref() == Some(&target) { None } else { Some(target) };
            });
        }
        Action::NewGroup => m.dialog = Some(Dialog::NewGroup { name: String::new() }),
        Action::Suggest => {
            let items = suggest(&m.snap, &m.mapping);
            if items.is_empty() {
                m.status = Some(("no suggestions: no unmapped value resembles a group name".into(), false));
            } else {
                m.dialog = Some(Dialog::Suggestions { items, selected: 0 });
            }
        }
        Action::Undo => {
            let prev = m.undo.pop().expect("checked");
            m.redo.push(std::mem::replace(&mut m.mapping, prev));
            return after_edit(m);
        }
        Action::Redo => {
            let next = m.redo.pop().expect("checked");
            m.undo.push(std::mem::replace(&mut m.mapping, next));
            return after_edit(m);
        }
        Action::Preview => {
            if m.screen == Screen::Preview {
                m.screen = Screen::Mapping;
            } else {
                m.screen = Screen::Preview;
                m.preview.selected = 0;
                m.preview_hscroll = 0;
                return build_preview(m);
            }
        }
        Action::Fields => m.screen = if m.screen == Screen::Fields { Screen::Mapping } else { Screen::Fields },
        Action::UseAsEmail | Action::UseAsIdp => return choose_column(m, a == Action::UseAsEmail),
        Action::Save => m.dialog = Some(Dialog::ConfirmSave { save_focused: false }),
        Action::Reload => return start_load(m),
        Action::Help => {
            m.help = true;
            m.help_scroll = 0;
        }
        Action::Back => {
            let (list, _) = active_list(m);
            if !list.filter.is_empty() {
                list.filter.clear();
                return apply_filter(m, false);
            } else if m.screen != Screen::Mapping {
                m.screen = Screen::Mapping;
            } else if matches!(m.phase, Phase::Loading { .. }) {
                if m.has_data() {
                    m.phase = Phase::Ready;
                    m.status = Some(("reload cancelled; showing the data loaded earlier".into(), false));
                } else {
                    m.phase = Phase::Failed { message: "loading cancelled; press r to load again".into() };
                }
                return vec![Effect::CancelLoad];
            }
        }
        Action::Quit => {
            if m.modified() {
                m.dialog = Some(Dialog::ConfirmQuit);
            } else {
                return vec![Effect::Quit];
            }
        }
        Action::Exit => return vec![Effect::Quit],
        Action::Redraw => return vec![Effect::Redraw],
    }
    Vec::new()
}

fn choose_column(m: &mut Model, email: bool) -> Vec<Effect> {
    let rows = m.column_rows();
    let Some(&(e, c)) = m.columns.filtered.get(m.columns.selected).and_then(|p| rows.get(p)) else {
        return Vec::new();
    };
    let Some(loaded) = m.loaded.clone() else { return Vec::new() };
    let header = loaded.exports[e].headers[c].clone();
    let mut fields = m.fields.clone();
    if email {
        fields.email = Some(header.clone());
    } else {
        fields.idp_value = Some(header.clone());
    }
    match loaded.snapshot(&fields) {
        Ok(snap) => {
            m.fields = fields;
            m.snap = Arc::new(snap);
            m.phase = Phase::Ready;
            if m.base == crate::domain::Mapping::default() && m.mapping == m.base {
                m.base = m.snap.saved_mapping();
                m.mapping = m.base.clone();
            }
            recompute(m);
            m.status = Some((
                format!(
                    "{} column: {} (joined and re-planned)",
                    if email { "login email" } else { "IdP group" },
                    quoted(&header)
                ),
                false,
            ));
        }
        Err(err) => m.status = Some((err.to_string(), true)),
    }
    Vec::new()
}

/// Records an edit for undo, re-plans and writes the draft.
fn edit(m: &mut Model, f: impl FnOnce(&mut crate::domain::Mapping)) -> Vec<Effect> {
    let before = m.mapping.clone();
    f(&mut m.mapping);
    if m.mapping == before {
        return Vec::new();
    }
    m.undo.push(before);
    m.redo.clear();
    after_edit(m)
}

fn after_edit(m: &mut Model) -> Vec<Effect> {
    recompute(m);
    let organization = m.snap.organization.clone();
    if m.modified() {
        vec![Effect::WriteDraft { organization, text: to_toml(&m.snap, &m.mapping) }]
    } else {
        vec![Effect::DeleteDraft { organization }]
    }
}

fn on_dialog_key(m: &mut Model, k: KeyEvent) -> Vec<Effect> {
    let Some(dialog) = m.dialog.take() else { return Vec::new() };
    let code = k.code;
    match dialog {
        Dialog::ConfirmSave { save_focused } => match code {
            KeyCode::Tab
            | KeyCode::BackTab
            | KeyCode::Left
            | KeyCode::Right
            | KeyCode::Char('h')
            | KeyCode::Char('l') => {
                m.dialog = Some(Dialog::ConfirmSave { save_focused: !save_focused });
            }
            KeyCode::Enter if save_focused => {
                m.dialog = Some(Dialog::Saving { stages: Vec::new(), job: None, elapsed_ms: 0 });
                let etag =
                    m.etag.clone().unwrap_or_else(|| format!("\"{}\"", m.snap.saved.as_ref().map_or(0, |s| s.version)));
                return vec![Effect::Save {
                    snap: m.snap.clone(),
                    etag,
                    mapping: m.mapping.clone(),
                    fields: m.fields.clone(),
                }];
            }
            KeyCode::Enter | KeyCode::Esc | KeyCode::Char('n') | KeyCode::Char('q') => {
                m.status = Some(("save cancelled; nothing was saved".into(), false));
            }
            _ => m.dialog = Some(Dialog::ConfirmSave { save_focused }),
        },
        Dialog::ConfirmQuit => match code {
            KeyCode::Char('y') => {
                return vec![Effect::Quit];
            }
            KeyCode::Esc | KeyCode::Char('n') | KeyCode::Char('q') => {}
            _ => m.dialog = Some(Dialog::ConfirmQuit),
        },
        Dialog::NewGroup { mut name } => match code {
            KeyCode::Esc => {}
            KeyCode::Backspace => {
                name.pop();
                m.dialog = Some(Dialog::NewGroup { name });
            }
            KeyCode::Enter => return create_group(m, name),
            KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) && !c.is_control() => {
                name.push(c);
                m.dialog = Some(Dialog::NewGroup { name });
            }
            _ => m.dialog = Some(Dialog::NewGroup { name }),
        },
        Dialog::Suggestions { mut items, mut selected } => {
            match code {
                KeyCode::Esc | KeyCode::Char('q') => return Vec::new(),
                KeyCode::Char('j') | KeyCode::Down => selected = (selected + 1).min(items.len() - 1),
                KeyCode::Char('k') | KeyCode::Up => selected = selected.saturating_sub(1),
                KeyCode::Char('x') | KeyCode::Delete => {
                    items.remove(selected);
                }
                KeyCode::Enter | KeyCode::Char('a') => {
                    let s = items.remove(selected);
                    let uri = m.snap.group(s.group).uri.clone();
                    let effects = edit(m, |map| map.set(&s.value, Target::Group(uri)));
                    if !items.is_empty() {
                        m.dialog = Some(Dialog::Suggestions { selected: selected.min(items.len() - 1), items });
                    }
                    return effects;
                }
                KeyCode::Char('A') => {
                    let n = items.len();
                    let rows: Vec<(String, String)> =
                        items.iter().map(|s| (s.value.clone(), m.snap.group(s.group).uri.clone())).collect();
                    let effects = edit(m, |map| {
                        for (v, uri) in rows {
                            map.set(&v, Target::Group(uri));
                        }
                    });
                    m.status = Some((format!("accepted {n} suggestion(s); u undoes"), false));
                    return effects;
                }
                _ => {}
            }
            if !items.is_empty() {
                m.dialog = Some(Dialog::Suggestions { selected: selected.min(items.len() - 1), items });
            }
        }
        Dialog::RestoreDraft { draft } => match code {
            KeyCode::Char('y') | KeyCode::Enter => {
                let effects = edit(m, |map| *map = draft);
                m.status = Some(("restored the unsaved draft from the last session; u undoes".into(), false));
                return effects;
            }
            KeyCode::Char('n') | KeyCode::Esc => {
                m.status = Some(("draft discarded".into(), false));
                return vec![Effect::DeleteDraft { organization: m.snap.organization.clone() }];
            }
            _ => m.dialog = Some(Dialog::RestoreDraft { draft }),
        },
        d @ Dialog::Saving { .. } => m.dialog = Some(d),
        Dialog::Result { .. } => {}
        Dialog::Conflicts { items, mut selected } => {
            match code {
                KeyCode::Char('j') | KeyCode::Down => selected = (selected + 1).min(items.len() - 1),
                KeyCode::Char('k') | KeyCode::Up => selected = selected.saturating_sub(1),
                KeyCode::Char('t') | KeyCode::Char('m') => {
                    let c = items[selected].clone();
                    let pick = if code == KeyCode::Char('t') { c.theirs.clone() } else { c.mine.clone() };
                    let effects = edit(m, |map| match pick {
                        Some(t) => map.set(&c.value, t),
                        None => {
                            map.unset(&c.value);
                        }
                    });
                    m.dialog = Some(Dialog::Conflicts { items, selected });
                    return effects;
                }
                KeyCode::Enter | KeyCode::Esc => return Vec::new(),
                _ => {}
            }
            m.dialog = Some(Dialog::Conflicts { items, selected });
        }
    }
    Vec::new()
}

fn create_group(m: &mut Model, name: String) -> Vec<Effect> {
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        m.status = Some(("a group name needs 1 to 100 characters".into(), true));
        m.dialog = Some(Dialog::NewGroup { name });
        return Vec::new();
    }
    let value = m.selected_value().expect("checked when opened").value.clone();
    let target = match m.snap.group_by_name(&name) {
        Some(g) => Target::Group(m.snap.group(g).uri.clone()),
        None => Target::New(name.clone()),
    };
    let effects = edit(m, |map| map.set(&value, target));
    m.status = Some((format!("mapped {} → {} (created on save)", quoted(&value), quoted(&name)), false));
    effects
}
