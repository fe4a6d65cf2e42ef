//! The key table's invariants.

use super::*;
use crate::app::model::Phase;

/// Every set of scopes that can be live at once.
fn contexts() -> Vec<Vec<Scope>> {
    let mut all: Vec<Vec<Scope>> = DialogKind::ALL.iter().map(|k| vec![Scope::Always, Scope::Dialog(*k)]).collect();
    all.push(vec![Scope::Always, Scope::Help]);
    all.push(vec![Scope::Always, Scope::FilterInput]);
    let phases =
        [Phase::Ready, Phase::Loading { id: 0, status: Default::default() }, Phase::Failed { message: String::new() }];
    for screen in [Screen::Mapping, Screen::Fields, Screen::Preview, Screen::Handoff, Screen::Findings] {
        for phase in &phases {
            for too_small in [false, true] {
                all.push(screen_scopes(screen, phase, too_small));
            }
        }
    }
    all
}

#[test]
fn no_key_means_two_actions_in_one_scope() {
    for scopes in contexts() {
        let live: Vec<&Binding> = BINDINGS.iter().filter(|b| scopes.contains(&b.scope)).collect();
        for a in &live {
            for b in &live {
                // `Always` is looked up first, so "any key" means any other key.
                let shadowed = a.scope == Scope::Always && b.keys.contains(&Key::Any);
                for k in a.keys {
                    assert!(
                        a.action == b.action || shadowed || !b.matches(*k),
                        "{k:?} is bound to {:?} and {:?} in {scopes:?}",
                        a.action,
                        b.action
                    );
                }
            }
        }
    }
}

#[test]
fn every_scope_is_live_somewhere() {
    let contexts = contexts();
    for b in BINDINGS {
        assert!(contexts.iter().any(|c| c.contains(&b.scope)), "{:?} is never live", b.scope);
    }
}

#[test]
fn text_input_binds_no_printable_character() {
    for b in BINDINGS.iter().filter(|b| b.scope.takes_text()) {
        assert!(!b.keys.iter().any(|k| matches!(k, Key::Char(_) | Key::Any)), "{} in {:?}", b.label, b.scope);
    }
}

#[test]
fn restating_scopes_only_restate() {
    for b in BINDINGS.iter().filter(|b| b.scope.restates()) {
        assert!(
            BINDINGS.iter().any(|o| matches!(o.scope, Scope::Everywhere | Scope::Always)
                && o.action == b.action
                && o.keys == b.keys
                && o.label == b.label
                && o.help == b.help),
            "{} in {:?} restates no binding",
            b.label,
            b.scope
        );
    }
}

#[test]
fn help_headings_and_labels_fit_the_key_column() {
    let width = HELP_KEY_COLUMN as usize;
    for row in help_rows() {
        match row {
            HelpRow::Heading(h) => assert!(h.chars().count() <= width, "{h}"),
            HelpRow::Key(b) => assert!(b.label.chars().count() + 2 <= width, "{}", b.label),
            HelpRow::Mark(..) => {}
        }
    }
}

#[test]
fn generated_hint_lines() {
    assert_eq!(hint_line(Scope::Dialog(DialogKind::ConfirmSave)), "Tab switches · Enter chooses · Esc cancels");
    assert_eq!(hint_line(Scope::Dialog(DialogKind::ConfirmQuit)), "y quits · n/Esc stays");
    assert_eq!(hint_line(Scope::LoadFailed), "r retries · f chooses the export's columns · q quits");
    assert_eq!(hint_line(Scope::Dialog(DialogKind::Saving)), "y quits now · n keeps waiting");
}

mod readme {
    /// The README's key table is written by hand; this keeps it from drifting from the keymap.
    #[test]
    fn readme_lists_every_key() {
        let readme = include_str!("../../../README.md");
        let keys = readme.split("### Keys").nth(1).and_then(|s| s.split("\n#").next()).expect("a Keys section");
        for b in crate::app::keymap::BINDINGS {
            assert!(
                keys.contains(&format!("`{}`", b.label)),
                "the README's key table lacks `{}` ({})",
                b.label,
                b.help
            );
        }
    }
}
