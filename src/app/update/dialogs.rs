//! A dialog's actions: the key was looked up in the dialog's scope of the key table.

use super::edit;
use crate::app::keymap::Action;
use crate::app::model::{Dialog, Model};
use crate::app::msg::Effect;
use crate::domain::Target;
use crate::domain::group_names;
use crate::domain::text::{fold_name, quoted};

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
        Dialog::RestoreDraft { mut offers, mut selected, notes } => match action {
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
                    m.dialog = Some(Dialog::RestoreDraft { offers, selected, notes });
                }
                return vec![Effect::DeleteDraftFile { path: offer.path }];
            }
            Some(Action::Down) => {
                selected = (selected + 1).min(offers.len() - 1);
                m.dialog = Some(Dialog::RestoreDraft { offers, selected, notes });
            }
            Some(Action::Up) => {
                selected = selected.saturating_sub(1);
                m.dialog = Some(Dialog::RestoreDraft { offers, selected, notes });
            }
            Some(Action::Close) => {
                m.status = Some(("drafts kept; they are offered again next time".into(), false));
            }
            _ => m.dialog = Some(Dialog::RestoreDraft { offers, selected, notes }),
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
        Dialog::ConfirmRecord => match action {
            Some(Action::Yes) => return crate::app::handoff::record(m),
            Some(Action::No) => m.status = Some(("not recorded; D when the table is saved in Calendly".into(), false)),
            _ => m.dialog = Some(Dialog::ConfirmRecord),
        },
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

/// Maps the selected value to the group named `typed`: the existing group when the name is a
/// group's but for case and spaces, else a new one (created on save). The status says which, and
/// warns when a new name looks like a slip for an existing group's.
fn create_group(m: &mut Model, typed: String) -> Vec<Effect> {
    let name = typed.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        m.status = Some(("a group name needs 1 to 100 characters".into(), true));
        m.dialog = Some(Dialog::NewGroup { name });
        return Vec::new();
    }
    let value = m.selected_value().expect("checked when opened").value.clone();
    let (target, said, warn) = match m.snap().group_by_name(&name) {
        Some(g) => {
            let group = m.snap().group(g);
            (
                Target::Group(group.uri.clone()),
                format!("{} ({})", quoted(&group.name), existing_group(&typed, &group.name)),
                false,
            )
        }
        None => {
            // A new group this mapping already names (in another case or spacing) is that one.
            let (name, how) = match m.mapping.new_groups().into_iter().find(|n| fold_name(n) == fold_name(&name)) {
                Some(same) if same != name => (same, "; group names compare ignoring case and spaces"),
                _ => (name, ""),
            };
            let mut said = format!("{} (a new group, {}{how})", quoted(&name), m.label().new_group());
            let like = group_names::like_existing(m.snap(), &name);
            if let Some(g) = like {
                let existing = quoted(&m.snap().group(g).name);
                said.push_str(&format!(", like the existing group {existing}: did you mean {existing}? (u undoes)"));
            }
            (Target::New(name), said, like.is_some())
        }
    };
    let effects = edit(m, |map| map.set(&value, target));
    m.status = Some((format!("mapped {} → {said}", quoted(&value)), warn));
    effects
}

/// How the status names an existing group a typed name resolved to.
fn existing_group(typed: &str, name: &str) -> &'static str {
    if typed == name {
        "the existing group"
    } else {
        "the existing group; group names compare ignoring case and spaces"
    }
}
