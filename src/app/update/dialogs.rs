//! A dialog's actions: the key was looked up in the dialog's scope of the key table.

use super::edit;
use crate::app::keymap::Action;
use crate::app::model::{Dialog, Model};
use crate::app::msg::Effect;
use crate::domain::Target;
use crate::domain::text::quoted;

/// `text`: a printable character typed into the dialog's text input (a new group's name).
pub(super) fn on_dialog_key(m: &mut Model, action: Option<Action>, text: Option<char>) -> Vec<Effect> {
    let Some(dialog) = m.dialog.take() else { return Vec::new() };
    match dialog {
        Dialog::ConfirmSave { save_focused } => match action {
            Some(Action::ToggleFocus) => {
                m.dialog = Some(Dialog::ConfirmSave { save_focused: !save_focused });
            }
            Some(Action::Choose) if save_focused => {
                m.dialog = Some(Dialog::Saving { stages: Vec::new(), job: None, elapsed_ms: 0, quit_asked: false });
                let Some(org) = m.org().cloned() else { return Vec::new() };
                return vec![Effect::Save {
                    org,
                    snap: m.snap().clone(),
                    fields: m.fields().clone(),
                    mapping: m.mapping.clone(),
                }];
            }
            // Enter on Cancel, Esc, n or q.
            Some(Action::Choose | Action::Cancel) => {
                m.status = Some(("save cancelled; nothing was saved".into(), false));
            }
            _ => m.dialog = Some(Dialog::ConfirmSave { save_focused }),
        },
        Dialog::ConfirmQuit => match action {
            Some(Action::Yes) => {
                return vec![Effect::Quit];
            }
            Some(Action::No) => {}
            _ => m.dialog = Some(Dialog::ConfirmQuit),
        },
        Dialog::NewGroup { mut name } => match (text, action) {
            (Some(c), _) => {
                name.push(c);
                m.dialog = Some(Dialog::NewGroup { name });
            }
            (None, Some(Action::Cancel)) => {}
            (None, Some(Action::Erase)) => {
                name.pop();
                m.dialog = Some(Dialog::NewGroup { name });
            }
            (None, Some(Action::Confirm)) => return create_group(m, name),
            _ => m.dialog = Some(Dialog::NewGroup { name }),
        },
        Dialog::Suggestions { mut items, mut selected } => {
            match action {
                Some(Action::Close) => return Vec::new(),
                Some(Action::Down) => selected = (selected + 1).min(items.len() - 1),
                Some(Action::Up) => selected = selected.saturating_sub(1),
                Some(Action::Skip) => {
                    items.remove(selected);
                }
                Some(Action::Accept) => {
                    let s = items.remove(selected);
                    let uri = m.snap().group(s.group).uri.clone();
                    let effects = edit(m, |map| map.set(&s.value, Target::Group(uri)));
                    if !items.is_empty() {
                        m.dialog = Some(Dialog::Suggestions { selected: selected.min(items.len() - 1), items });
                    }
                    return effects;
                }
                Some(Action::AcceptAll) => {
                    let n = items.len();
                    let rows: Vec<(String, String)> =
                        items.iter().map(|s| (s.value.clone(), m.snap().group(s.group).uri.clone())).collect();
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
        Dialog::RestoreDraft { mut offers, mut selected, set_aside } => match action {
            Some(Action::Yes) => {
                let offer = offers.remove(selected);
                let effects = super::restore_draft(m, offer);
                // Drafts not chosen stay on disk, offered again next time.
                return effects;
            }
            Some(Action::No) => {
                let offer = offers.remove(selected);
                m.status = Some((format!("draft discarded ({} deleted)", offer.path.display()), false));
                if !offers.is_empty() {
                    selected = selected.min(offers.len() - 1);
                    m.dialog = Some(Dialog::RestoreDraft { offers, selected, set_aside });
                }
                return vec![Effect::DeleteDraftFile { path: offer.path }];
            }
            Some(Action::Down) => {
                selected = (selected + 1).min(offers.len() - 1);
                m.dialog = Some(Dialog::RestoreDraft { offers, selected, set_aside });
            }
            Some(Action::Up) => {
                selected = selected.saturating_sub(1);
                m.dialog = Some(Dialog::RestoreDraft { offers, selected, set_aside });
            }
            Some(Action::Close) => {
                m.status = Some(("drafts kept; they are offered again next time".into(), false));
            }
            _ => m.dialog = Some(Dialog::RestoreDraft { offers, selected, set_aside }),
        },
        Dialog::Saving { stages, job, elapsed_ms, quit_asked } => {
            let quit_asked = match action {
                Some(Action::Yes) if quit_asked => {
                    m.dialog = Some(Dialog::Saving { stages, job, elapsed_ms, quit_asked });
                    return vec![Effect::Abandon { message: m.interrupted_save().unwrap_or_default() }];
                }
                Some(Action::No) => false,
                _ => quit_asked,
            };
            m.dialog = Some(Dialog::Saving { stages, job, elapsed_ms, quit_asked });
        }
        // Any key closes it.
        d @ Dialog::Result { .. } => {
            if action != Some(Action::Close) {
                m.dialog = Some(d);
            }
        }
        Dialog::Conflicts { items, mut selected } => {
            match action {
                Some(Action::Down) => selected = (selected + 1).min(items.len() - 1),
                Some(Action::Up) => selected = selected.saturating_sub(1),
                Some(pick @ (Action::PickTheirs | Action::PickMine)) => {
                    let c = items[selected].clone();
                    let pick = if pick == Action::PickTheirs { c.theirs.clone() } else { c.mine.clone() };
                    let effects = edit(m, |map| match pick {
                        Some(t) => map.set(&c.value, t),
                        None => {
                            map.unset(&c.value);
                        }
                    });
                    m.dialog = Some(Dialog::Conflicts { items, selected });
                    return effects;
                }
                Some(Action::Close) => return Vec::new(),
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
    let target = match m.snap().group_by_name(&name) {
        Some(g) => Target::Group(m.snap().group(g).uri.clone()),
        None => Target::New(name.clone()),
    };
    let effects = edit(m, |map| map.set(&value, target));
    m.status = Some((format!("mapped {} → {} (created on save)", quoted(&value), quoted(&name)), false));
    effects
}
