//! Keys: each is looked up in the key table for the scopes live now (a dialog, else the help,
//! else a filter being typed, else the screen) and its action handled here.

use crossterm::event::KeyEvent;

use super::{after_edit, build_preview, choose_column, edit, refilter, refilter_preview, start_load};
use crate::app::handoff;
use crate::app::keymap::{Action, Scope, action_for, binding, help_rows, key_of, live_scopes, typed, unavailable};
use crate::app::layout::{areas, findings_split, list_rows, scroll, text_rows};
use crate::app::model::{Dialog, GroupEntry, ListView, Model, Pane, Phase, Screen};
use crate::app::msg::Effect;
use crate::domain::Target;
use crate::domain::suggest::suggest;
use crate::domain::text::quoted;

/// Columns one horizontal scroll step moves the preview.
const HSCROLL: usize = 16;

pub(super) fn on_key(m: &mut Model, k: KeyEvent) -> Vec<Effect> {
    let scopes = live_scopes(m);
    // Text input takes printable characters as text before they can mean a key.
    let text = typed(&k).filter(|_| scopes.iter().any(|s| s.takes_text()));
    let action = if text.is_some() { None } else { action_for(key_of(&k), &scopes) };
    match action {
        // Under every dialog and input; the status line stays.
        // During a save C-c asks first (what the server holds is unknown until it ends); again, quits.
        Some(Action::Exit) => {
            if let Some(Dialog::Saving { quit_asked, .. }) = &mut m.dialog {
                if !*quit_asked {
                    *quit_asked = true;
                    return Vec::new();
                }
                return vec![Effect::Abandon { message: m.interrupted_save().unwrap_or_default() }];
            }
            return vec![Effect::Quit];
        }
        Some(Action::Redraw) => return vec![Effect::Redraw],
        _ => {}
    }
    if scopes.iter().any(|s| matches!(s, Scope::Dialog(_))) {
        super::dialogs::on_dialog_key(m, action, text)
    } else if scopes.contains(&Scope::Help) {
        on_help_key(m, action);
        Vec::new()
    } else if scopes.contains(&Scope::FilterInput) {
        on_filter_key(m, action, text)
    } else {
        action.map_or_else(Vec::new, |a| act(m, a))
    }
}

/// Pasted text goes into the text input that has focus, as text: it never runs as keys, and a
/// line break in it does not submit (lines are joined with a space).
pub(super) fn on_paste(m: &mut Model, pasted: &str) -> Vec<Effect> {
    let text: String = pasted
        .split(['\r', '\n'])
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if let Some(Dialog::NewGroup { name }) = &mut m.dialog {
        name.push_str(&text);
        return Vec::new();
    }
    if m.dialog.is_some() || m.help {
        return Vec::new();
    }
    let (list, _) = active_list(m);
    if !list.editing {
        m.status = Some(("pasted text is taken only by the filter (/) and a new group's name (n)".into(), true));
        return Vec::new();
    }
    list.filter.push_str(&text);
    list.selected = 0;
    list.offset = 0;
    apply_filter(m, true)
}

/// The help scrolls within its rows: the end shows the last page.
fn on_help_key(m: &mut Model, action: Option<Action>) {
    let fits = areas(m.size).map_or(1, |a| text_rows(a.body));
    let end = help_rows().len().saturating_sub(fits);
    match action {
        Some(Action::Close) => m.help = false,
        Some(Action::Down) => m.help_scroll = (m.help_scroll + 1).min(end),
        Some(Action::Up) => m.help_scroll = m.help_scroll.min(end).saturating_sub(1),
        Some(Action::Top) => m.help_scroll = 0,
        Some(Action::Bottom) => m.help_scroll = end,
        _ => {}
    }
}

/// Keys while a filter is being typed: text, keep, clear, erase, or moving in the list.
fn on_filter_key(m: &mut Model, action: Option<Action>, text: Option<char>) -> Vec<Effect> {
    let (list, _) = active_list(m);
    let extend = match (text, action) {
        (Some(c), _) => {
            list.filter.push(c);
            true
        }
        (None, Some(Action::Cancel)) => {
            list.filter.clear();
            list.editing = false;
            false
        }
        (None, Some(Action::Confirm)) => {
            list.editing = false;
            return Vec::new();
        }
        (None, Some(Action::Erase)) => {
            list.filter.pop();
            false
        }
        (None, Some(a @ (Action::Up | Action::Down | Action::PageUp | Action::PageDown))) => return act(m, a),
        _ => return Vec::new(),
    };
    // Typing shows the best match first; erasing or clearing keeps the row that was selected.
    let kept = if extend { None } else { list.filtered.get(list.selected) };
    list.selected = 0;
    list.offset = 0;
    let effects = apply_filter(m, extend);
    keep_selected(m, kept);
    effects
}

/// Selects item `kept` of the active list again after a re-filter, if it is still listed.
fn keep_selected(m: &mut Model, kept: Option<usize>) {
    // A long preview is filtered in the background: its result is not here yet.
    if m.screen == Screen::Preview {
        return;
    }
    let rows = rows_shown(m);
    let (list, total) = active_list(m);
    if let Some(p) = kept.filter(|&i| i < total).and_then(|i| list.filtered.position_of(i)) {
        list.selected = p;
        list.offset = scroll(0, p, rows);
    }
}

/// The list the keys move in, with its total item count.
fn active_list(m: &mut Model) -> (&mut ListView, usize) {
    match m.screen {
        Screen::Preview => (&mut m.preview, m.preview_lines.len()),
        Screen::Handoff => {
            let h = m.handoff.get_or_insert_with(Default::default);
            let n = h.steps.len();
            (&mut h.list, n)
        }
        Screen::Findings => (&mut m.findings, m.plan.lint.len()),
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
    let Some(a) = areas(m.size) else { return 1 };
    match m.screen {
        Screen::Preview => text_rows(a.body),
        Screen::Handoff => text_rows(crate::app::handoff::split(m, a.body).0),
        Screen::Findings => text_rows(findings_split(a.body).0),
        Screen::Fields => list_rows(a.body),
        Screen::Mapping if m.focus == Pane::Values => list_rows(a.left),
        Screen::Mapping => list_rows(a.right),
    }
}

/// Re-filters the active list after its pattern changed (`extend`: it grew by typing).
fn apply_filter(m: &mut Model, extend: bool) -> Vec<Effect> {
    match m.screen {
        Screen::Preview => return refilter_preview(m, extend),
        Screen::Fields | Screen::Handoff => {}
        Screen::Findings => super::refilter_findings(m),
        Screen::Mapping
            if m.focus == Pane::Values
                && !m.values.filter.is_empty()
                && m.value_entries.len() >= super::FILTER_OFF_THREAD_FROM =>
        {
            return super::refilter_values_off_thread(m);
        }
        Screen::Mapping => {
            let list = if m.focus == Pane::Values { &m.values } else { &m.groups };
            let narrow = if extend { list.filtered.narrowing() } else { None };
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
    list.offset = scroll(list.offset, list.selected, rows);
}

fn act(m: &mut Model, a: Action) -> Vec<Effect> {
    if let Some(why) = unavailable(m, a) {
        m.status = Some((format!("{}: {why}", binding(a).help), true));
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
                GroupEntry::Existing(g) => Target::Group(m.snap().group(*g).uri.clone()),
                GroupEntry::New(n) => Target::New(n.clone()),
            };
            let name = m.group_entry_name(&entry).to_owned();
            if m.mapping.row(&value).is_some_and(|r| r.target == target) {
                m.status =
                    Some((format!("{} already maps to {}: nothing changed", quoted(&value), quoted(&name)), false));
                return Vec::new();
            }
            let effects = edit(m, |map| map.set(&value, target));
            m.status = Some((format!("mapped {} → {}", quoted(&value), quoted(&name)), false));
            // On to the next value; in the unmapped view the mapped one has left the list already.
            if m.focus == Pane::Values && m.selected_value().is_some_and(|e| e.value == value) {
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
        Action::ToggleMapping | Action::ToggleApplyExisting | Action::SetDefault => {
            let before = m.mapping.clone();
            let effects = match a {
                Action::ToggleMapping => edit(m, |map| map.enabled = !map.enabled),
                Action::ToggleApplyExisting => edit(m, |map| map.apply_to_existing = !map.apply_to_existing),
                _ => {
                    let entry = m.selected_group().expect("checked").clone();
                    let target = match &entry {
                        GroupEntry::Existing(g) => Target::Group(m.snap().group(*g).uri.clone()),
                        GroupEntry::New(n) => Target::New(n.clone()),
                    };
                    edit(m, |map| {
                        map.default_group =
                            if map.default_group.as_ref() == Some(&target) { None } else { Some(target) };
                    })
                }
            };
            m.status = Some((format!("{}; u undoes", super::describe_change(m, &before, &m.mapping)), false));
            return effects;
        }
        Action::NewGroup => m.dialog = Some(Dialog::NewGroup { name: String::new() }),
        Action::Suggest => {
            let items = suggest(m.snap(), &m.mapping);
            if items.is_empty() {
                m.status = Some(("no suggestions: no unmapped value resembles a group name".into(), false));
            } else {
                m.dialog = Some(Dialog::Suggestions { items, selected: 0 });
            }
        }
        Action::Undo => return step(m, true),
        Action::Redo => return step(m, false),
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
        Action::Findings => {
            m.screen = if m.screen == Screen::Findings { Screen::Mapping } else { Screen::Findings };
            super::refilter_findings(m);
        }
        Action::JumpToFinding => jump_to_finding(m),
        Action::NextFinding => next_finding(m, true),
        Action::PrevFinding => next_finding(m, false),
        Action::CycleView => {
            m.value_view = m.value_view.next();
            m.focus = Pane::Values;
            super::refilter_values_keeping(m);
            if m.values.filtered.len(m.value_entries.len()) == 0 {
                let label = m.value_view.label(m.mapping.default_group.is_some()).unwrap_or_default();
                m.status = Some((
                    format!("no value is listed {label}; {} shows others", binding(Action::CycleView).label),
                    false,
                ));
            }
        }
        Action::Fields => m.screen = if m.screen == Screen::Fields { Screen::Mapping } else { Screen::Fields },
        Action::UseAsEmail | Action::UseAsIdp => return choose_column(m, a == Action::UseAsEmail),
        Action::Save if !m.capabilities().save_table => return handoff::open(m),
        Action::Save => m.dialog = Some(Dialog::ConfirmSave { save_focused: false }),
        Action::Tick => handoff::tick(m),
        Action::CopyValue => return handoff::copy(m, false),
        Action::CopyGroup => return handoff::copy(m, true),
        Action::WriteFiles => return handoff::write_files(m),
        Action::Recorded => m.dialog = Some(Dialog::ConfirmRecord),
        Action::Verify => return handoff::verify(m),
        Action::Reload => return start_load(m),
        Action::Help => {
            m.help = true;
            m.help_scroll = 0;
        }
        Action::Back => {
            let (list, _) = active_list(m);
            if !list.filter.is_empty() {
                list.filter.clear();
                let kept = list.filtered.get(list.selected);
                let effects = apply_filter(m, false);
                keep_selected(m, kept);
                return effects;
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
            // An untouched inferred table is nothing of the admin's to lose: it is inferred again.
            if m.modified() && !m.inferred() {
                m.dialog = Some(Dialog::ConfirmQuit);
            } else {
                return vec![Effect::Quit];
            }
        }
        Action::Exit => return vec![Effect::Quit],
        Action::Redraw => return vec![Effect::Redraw],
        // Dialogs', the help's and text input's actions: no screen binds them.
        Action::ToggleFocus
        | Action::Choose
        | Action::Confirm
        | Action::Cancel
        | Action::Erase
        | Action::Yes
        | Action::No
        | Action::Accept
        | Action::AcceptAll
        | Action::Skip
        | Action::PickMine
        | Action::PickTheirs
        | Action::Close => {}
    }
    Vec::new()
}

/// Enter on a finding: the Mapping screen with its value selected in the values pane (the
/// filter and view cleared when they hide it). The list of unmapped values opens the unmapped view.
fn jump_to_finding(m: &mut Model) {
    let i = m.findings.filtered.get(m.findings.selected).expect("checked");
    let f = m.plan.lint[i].clone();
    let Some(value) = crate::app::findings::jump_value(m, &f).map(str::to_owned) else {
        m.status = Some(("this finding is about no value in the list: nothing to go to".into(), false));
        return;
    };
    m.screen = Screen::Mapping;
    m.focus = Pane::Values;
    if f.kind == crate::domain::lint::LintKind::UnmappedValue {
        m.value_view = crate::app::findings::ValueView::Unmapped;
    }
    select_value(m, &value);
}

/// Selects `value` in the values pane, clearing the filter and the view if they hide it.
fn select_value(m: &mut Model, value: &str) {
    let Some(i) = m.value_entries.iter().position(|e| e.value == value) else { return };
    if m.values.filtered.position_of(i).is_none() || m.values.editing {
        m.values.editing = false;
        m.values.filter.clear();
        super::refilter_values_keeping(m);
        if m.values.filtered.position_of(i).is_none() {
            m.value_view = crate::app::findings::ValueView::All;
            super::refilter_values_keeping(m);
        }
    }
    if let Some(p) = m.values.filtered.position_of(i) {
        m.values.selected = p;
        let rows = rows_shown(m);
        m.values.offset = scroll(m.values.offset, p, rows);
    }
}

/// `]` / `[`: the next (previous) value listed in the values pane that a finding is about,
/// round the end of the list.
fn next_finding(m: &mut Model, forward: bool) {
    m.focus = Pane::Values;
    let with = crate::app::findings::by_value(&m.plan.lint);
    let total = m.value_entries.len();
    let len = m.values.filtered.len(total);
    let has = |pos: usize| {
        m.values.filtered.get(pos).is_some_and(|i| {
            with.get(m.value_entries[i].value.as_str()).is_some_and(|fs| fs.iter().any(|f| f.actionable()))
        })
    };
    let from = m.values.selected;
    let found =
        (1..=len).map(|k| if forward { (from + k) % len } else { (from + len * 2 - k) % len }).find(|&p| has(p));
    drop(with);
    match found {
        Some(p) => {
            m.values.selected = p;
            let rows = rows_shown(m);
            m.values.offset = scroll(m.values.offset, p, rows);
        }
        None => {
            let hidden = !m.values.filter.is_empty() || m.value_view != crate::app::findings::ValueView::All;
            m.status = Some((
                if hidden {
                    "no value listed here has a finding (the filter or view hides some values)"
                } else {
                    "no value has a finding"
                }
                .into(),
                false,
            ));
        }
    }
}

/// Undo (`back`) or redo one change, saying which it was (a column choice says itself).
fn step(m: &mut Model, back: bool) -> Vec<Effect> {
    let to = if back { m.undo.pop() } else { m.redo.pop() }.expect("checked");
    let said = if back {
        format!("undid: {}", super::describe_change(m, &to.mapping, &m.mapping))
    } else {
        format!("redid: {}", super::describe_change(m, &m.mapping, &to.mapping))
    };
    let left = super::step_to(m, to);
    if back {
        m.redo.push(left)
    } else {
        m.undo.push(left)
    }
    let effects = after_edit(m);
    if !m.status.as_ref().is_some_and(|(s, _)| s.starts_with("columns:")) {
        m.status = Some((said, false));
    }
    effects
}
