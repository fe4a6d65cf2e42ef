//! The one table of keys: it drives key handling, the footer hints and the `?` help.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::model::Model;
use crate::domain::lint::Severity;

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
}

/// Where a binding applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Everywhere,
    Mapping,
    Lists,
    Fields,
    Preview,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Ctrl(char),
    Code(KeyCode),
}

pub struct Binding {
    pub keys: &'static [Key],
    /// How the key is written in hints and help.
    pub label: &'static str,
    pub action: Action,
    pub help: &'static str,
    /// Short text for the footer; None keeps it out of the footer (still in help).
    pub hint: Option<&'static str>,
    pub scope: Scope,
}

use Key::{Char, Code, Ctrl};

pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: &[Char('j'), Code(KeyCode::Down)],
        label: "j/↓",
        action: Action::Down,
        help: "move down",
        hint: None,
        scope: Scope::Lists,
    },
    Binding {
        keys: &[Char('k'), Code(KeyCode::Up)],
        label: "k/↑",
        action: Action::Up,
        help: "move up",
        hint: None,
        scope: Scope::Lists,
    },
    Binding {
        keys: &[Char('g'), Code(KeyCode::Home)],
        label: "g/Home",
        action: Action::Top,
        help: "go to the top",
        hint: None,
        scope: Scope::Lists,
    },
    Binding {
        keys: &[Char('G'), Code(KeyCode::End)],
        label: "G/End",
        action: Action::Bottom,
        help: "go to the bottom",
        hint: None,
        scope: Scope::Lists,
    },
    Binding {
        keys: &[Code(KeyCode::PageUp), Ctrl('u')],
        label: "PgUp",
        action: Action::PageUp,
        help: "page up",
        hint: None,
        scope: Scope::Lists,
    },
    Binding {
        keys: &[Code(KeyCode::PageDown), Ctrl('d')],
        label: "PgDn",
        action: Action::PageDown,
        help: "page down",
        hint: None,
        scope: Scope::Lists,
    },
    Binding {
        keys: &[Code(KeyCode::Tab), Code(KeyCode::BackTab)],
        label: "Tab",
        action: Action::SwitchPane,
        help: "switch pane (IdP values / Calendly groups)",
        hint: None,
        scope: Scope::Mapping,
    },
    Binding {
        keys: &[Char('/')],
        label: "/",
        action: Action::Filter,
        help: "fuzzy filter the list (Esc clears)",
        hint: Some("filter"),
        scope: Scope::Lists,
    },
    Binding {
        keys: &[Code(KeyCode::Enter)],
        label: "Enter",
        action: Action::Map,
        help: "map the selected value to the selected group",
        hint: Some("map"),
        scope: Scope::Mapping,
    },
    Binding {
        keys: &[Char('x'), Code(KeyCode::Delete)],
        label: "x/Del",
        action: Action::Unmap,
        help: "unmap the selected value",
        hint: Some("unmap"),
        scope: Scope::Mapping,
    },
    Binding {
        keys: &[Char('m')],
        label: "m",
        action: Action::ToggleMapping,
        help: "turn group mapping on/off",
        hint: None,
        scope: Scope::Mapping,
    },
    Binding {
        keys: &[Char('d')],
        label: "d",
        action: Action::SetDefault,
        help: "set the selected group as default group (again: clear)",
        hint: None,
        scope: Scope::Mapping,
    },
    Binding {
        keys: &[Char('e')],
        label: "e",
        action: Action::ToggleApplyExisting,
        help: "toggle apply to existing users",
        hint: None,
        scope: Scope::Mapping,
    },
    Binding {
        keys: &[Char('n')],
        label: "n",
        action: Action::NewGroup,
        help: "map the selected value to a new group (created on save)",
        hint: None,
        scope: Scope::Mapping,
    },
    Binding {
        keys: &[Char('s')],
        label: "s",
        action: Action::Suggest,
        help: "suggest groups for unmapped values",
        hint: Some("suggest"),
        scope: Scope::Mapping,
    },
    Binding {
        keys: &[Char('e')],
        label: "e",
        action: Action::UseAsEmail,
        help: "use the selected column as the login email",
        hint: Some("email column"),
        scope: Scope::Fields,
    },
    Binding {
        keys: &[Char('i')],
        label: "i",
        action: Action::UseAsIdp,
        help: "use the selected column as the IdP group value",
        hint: Some("IdP column"),
        scope: Scope::Fields,
    },
    Binding {
        keys: &[Char('h'), Code(KeyCode::Left)],
        label: "h/←",
        action: Action::ScrollLeft,
        help: "scroll the preview left",
        hint: None,
        scope: Scope::Preview,
    },
    Binding {
        keys: &[Char('l'), Code(KeyCode::Right)],
        label: "l/→",
        action: Action::ScrollRight,
        help: "scroll the preview right (long lines)",
        hint: Some("scroll"),
        scope: Scope::Preview,
    },
    Binding {
        keys: &[Char('u')],
        label: "u",
        action: Action::Undo,
        help: "undo",
        hint: Some("undo"),
        scope: Scope::Everywhere,
    },
    Binding {
        keys: &[Ctrl('r')],
        label: "C-r",
        action: Action::Redo,
        help: "redo",
        hint: None,
        scope: Scope::Everywhere,
    },
    Binding {
        keys: &[Char('p')],
        label: "p",
        action: Action::Preview,
        help: "preview: who moves where",
        hint: Some("preview"),
        scope: Scope::Everywhere,
    },
    Binding {
        keys: &[Char('f')],
        label: "f",
        action: Action::Fields,
        help: "match the export's fields (email, IdP group)",
        hint: None,
        scope: Scope::Everywhere,
    },
    Binding {
        keys: &[Char('S')],
        label: "S",
        action: Action::Save,
        help: "save the mapping (asks first)",
        hint: Some("save"),
        scope: Scope::Everywhere,
    },
    Binding {
        keys: &[Char('r')],
        label: "r",
        action: Action::Reload,
        help: "reload from the server (edits are kept)",
        hint: None,
        scope: Scope::Everywhere,
    },
    Binding {
        keys: &[Char('?')],
        label: "?",
        action: Action::Help,
        help: "help",
        hint: Some("help"),
        scope: Scope::Everywhere,
    },
    Binding {
        keys: &[Code(KeyCode::Esc)],
        label: "Esc",
        action: Action::Back,
        help: "back / clear filter / cancel loading",
        hint: None,
        scope: Scope::Everywhere,
    },
    Binding {
        keys: &[Char('q')],
        label: "q",
        action: Action::Quit,
        help: "quit (asks when edits are unsaved)",
        hint: Some("quit"),
        scope: Scope::Everywhere,
    },
    Binding {
        keys: &[Ctrl('c')],
        label: "C-c",
        action: Action::Exit,
        help: "exit now (unsaved edits stay in the draft)",
        hint: None,
        scope: Scope::Everywhere,
    },
    Binding {
        keys: &[Ctrl('l')],
        label: "C-l",
        action: Action::Redraw,
        help: "redraw the screen",
        hint: None,
        scope: Scope::Everywhere,
    },
];

/// The scopes whose bindings apply on a screen.
pub fn scopes(screen: crate::app::model::Screen) -> &'static [Scope] {
    use crate::app::model::Screen;
    match screen {
        Screen::Mapping => &[Scope::Mapping, Scope::Lists],
        Screen::Fields => &[Scope::Fields, Scope::Lists],
        Screen::Preview => &[Scope::Preview, Scope::Lists],
    }
}

pub fn key_of(ev: &KeyEvent) -> Key {
    match ev.code {
        KeyCode::Char(c) if ev.modifiers.contains(KeyModifiers::CONTROL) => Ctrl(c.to_ascii_lowercase()),
        KeyCode::Char(c) => Char(c),
        code => Code(code),
    }
}

/// The action a key means in a scope (a binding for `Everywhere` applies in every scope).
pub fn action_for(key: Key, scopes: &[Scope]) -> Option<Action> {
    BINDINGS
        .iter()
        .find(|b| (b.scope == Scope::Everywhere || scopes.contains(&b.scope)) && b.keys.contains(&key))
        .map(|b| b.action)
}

pub fn binding(action: Action) -> &'static Binding {
    BINDINGS.iter().find(|b| b.action == action).expect("every action has a binding")
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
    if editing && !m.has_data() && !(matches!(a, Action::UseAsEmail | Action::UseAsIdp) && m.loaded.is_some()) {
        return Some("the organization is not loaded");
    }
    if a == Action::Save && !m.ready() {
        return Some("wait for the load to finish: saving needs fresh data");
    }
    if editing && m.saving() {
        return Some("a save is running");
    }
    match a {
        Action::Undo if m.undo.is_empty() => Some("nothing to undo"),
        Action::Redo if m.redo.is_empty() => Some("nothing to redo"),
        Action::Save if m.snap.read_only() => Some(
            "read-only server: the table is kept in the draft ($XDG_STATE_HOME/groupmap/drafts/ORG.toml); `groupmap mapping export --mapping DRAFT --format csv` writes it for the admin center",
        ),
        Action::Save if !m.modified() && !m.plan.applies() => Some("nothing to save: no edits and no user to move"),
        Action::Save if m.plan.lint.iter().any(|f| f.severity == Severity::Error) => {
            Some("the mapping has errors (see the preview's findings)")
        }
        Action::Map | Action::NewGroup if m.selected_value().is_none() => Some("no value selected"),
        Action::Map if m.selected_group().is_none() => Some("no group selected"),
        Action::SetDefault if m.selected_group().is_none() => Some("no group selected"),
        Action::Unmap if m.selected_value().is_none_or(|v| m.mapping.row(&v.value).is_none()) => {
            Some("the selected value has no row")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_means_two_actions_in_one_scope() {
        for a in BINDINGS {
            for b in BINDINGS {
                if std::ptr::eq(a, b) {
                    continue;
                }
                let overlap = a.scope == b.scope || a.scope == Scope::Everywhere || b.scope == Scope::Everywhere;
                for k in a.keys {
                    assert!(!(overlap && b.keys.contains(k)), "{k:?} is bound to {:?} and {:?}", a.action, b.action);
                }
            }
        }
    }
}

#[cfg(test)]
mod readme {
    /// The README's key table is written by hand; this keeps it from drifting from the keymap.
    #[test]
    fn readme_lists_every_key() {
        let readme = include_str!("../../README.md");
        let keys = readme.split("### Keys").nth(1).and_then(|s| s.split("\n#").next()).expect("a Keys section");
        for b in super::BINDINGS {
            assert!(
                keys.contains(&format!("`{}`", b.label)),
                "the README's key table lacks `{}` ({})",
                b.label,
                b.help
            );
        }
    }
}
