//! Transition tests of the editor starting from the table inferred from where users already
//! are (a service with no table to start from): state and effects, no terminal, no IO.

use crossterm::event::KeyCode;

use groupmap::app::model::Dialog;
use groupmap::app::{Effect, Model, Msg, update};
use groupmap::domain::{FieldChoice, Mapping, Row, Target};

mod common;
use common::inferred::{loaded_read_only, ready_read_only};
use common::{B, code, g, key};

fn select_value(m: &mut Model, value: &str) {
    let pos = m.value_entries.iter().position(|e| e.value == value).unwrap();
    m.values.selected = m.values.filtered.position_of(pos).unwrap();
}

fn select_group(m: &mut Model, name: &str) {
    let pos = m.group_entries.iter().position(|e| m.group_entry_name(e) == name).unwrap();
    m.groups.selected = m.groups.filtered.position_of(pos).unwrap();
}

fn row(value: &str, group: &str) -> Row {
    Row { idp_value: value.into(), target: Target::Group(g(group)) }
}

fn status(m: &Model) -> &str {
    m.status.as_ref().map_or("", |(s, _)| s.as_str())
}

#[test]
fn with_no_table_the_editor_starts_from_the_inferred_table_as_an_edit_that_moves_nobody() {
    let (mut m, effects) = ready_read_only();
    // The values whose users are all in one group, each on its own (near-duplicates too).
    assert_eq!(m.mapping.rows, vec![row("Sales EMEA", "G1"), row("sales emea", "G1")]);
    assert!(m.mapping.enabled && m.mapping.default_group.is_none());
    assert!(m.plan.changes.is_empty(), "planning it moves nobody: {:?}", m.plan.changes);
    assert_eq!((m.plan.unchanged, m.plan.unmapped.len()), (4, 5));
    assert!(m.inferred() && m.modified());
    assert_eq!(m.undo.len(), 1, "one edit on the empty table");
    // Derived, nothing of the admin's: no draft is written for it; drafts are still looked for.
    assert!(matches!(&effects[..], [Effect::ReadDrafts { .. }]), "{effects:?}");
    assert_eq!(status(&m), "inferred 2 row(s) that move nobody; 2 value(s) left: select one to see its split");

    assert_eq!(m.agreement("Sales EMEA").as_deref(), Some("3/3"));
    assert_eq!(m.agreement("Sales NA"), None);
    select_value(&mut m, "Sales NA");
    assert_eq!(m.selection_note().as_deref(), Some("\"Sales NA\": 2 in Sales NA, 1 in no group"));
    select_value(&mut m, "Contractors");
    assert_eq!(m.selection_note().as_deref(), Some("\"Contractors\": 2 in no group"));
    select_value(&mut m, "Sales EMEA");
    assert_eq!(m.selection_note().as_deref(), Some("\"Sales EMEA\": 3/3 in Sales EMEA"));

    // Quitting loses nothing of the admin's: it does not ask.
    assert!(matches!(&update(&mut m, key('q'))[..], [Effect::Quit]));
    assert_eq!(m.dialog, None);
}

#[test]
fn the_admins_first_change_makes_the_table_theirs_and_undo_takes_the_inferred_rows_out() {
    let (mut m, _) = ready_read_only();
    let inferred = m.mapping.clone();
    select_value(&mut m, "Sales NA");
    select_group(&mut m, "Sales NA");
    let effects = update(&mut m, code(KeyCode::Enter));
    assert!(!m.inferred(), "no longer the inferred table");
    assert_eq!(m.plan.changes.len(), 1, "the Sales NA user in no group joins Sales NA");
    // The draft holds the inferred rows too: they are edits on the empty table like the admin's.
    let [Effect::WriteDraft { text, .. }] = &effects[..] else { panic!("{effects:?}") };
    assert!(text.contains("idp_value = \"Sales EMEA\"") && text.contains("idp_value = \"Sales NA\""), "{text}");
    assert_eq!(m.agreement("Sales NA"), None, "its users are not all there");

    update(&mut m, key('u'));
    assert_eq!(m.mapping, inferred);
    assert!(!m.inferred(), "the mark stays off once the admin changed something");
    let effects = update(&mut m, key('u'));
    assert!(m.mapping.rows.is_empty() && !m.modified());
    assert!(matches!(&effects[..], [Effect::DeleteDraft { .. }]), "{effects:?}");
    assert_eq!(status(&m), "undid: group mapping ON, map \"Sales EMEA\" → \"Sales EMEA\", and 1 more");
    update(&mut m, key('q'));
    assert_eq!(m.dialog, None);
}

#[test]
fn a_restored_draft_wins_over_the_inferred_table() {
    let (mut m, _) = ready_read_only();
    let mine = Mapping { enabled: true, rows: vec![row("Contractors", "G3")], ..Mapping::default() };
    let draft = groupmap::domain::draft::Draft {
        organization: format!("{B}/organizations/ORG"),
        base_url: B.into(),
        base_version: None,
        base: Mapping::default(),
        mine: mine.clone(),
    };
    let path = std::path::PathBuf::from("/state/groupmap/drafts/ORG-x/1-1.toml");
    let found = groupmap::store::FoundDraft { path, age_secs: 120, text: Ok(draft.to_toml(m.snap())) };
    update(&mut m, Msg::Drafts { drafts: vec![found], interrupted: Vec::new() });
    assert!(matches!(m.dialog, Some(Dialog::RestoreDraft { .. })), "{:?}", m.dialog);
    update(&mut m, key('y'));
    assert_eq!(m.mapping.rows, mine.rows, "the draft, not on top of the inferred rows");
    assert!(!m.inferred());
    assert!(status(&m).contains("instead of the table inferred from where users are"), "{}", status(&m));
}

#[test]
fn a_mapping_file_wins_over_the_inferred_table() {
    let mut m = Model::new(false, FieldChoice::default());
    let text = "enabled = true\n[[rows]]\nidp_value = \"Sales NA\"\ngroup = \"Sales NA\"\n";
    m.start_mapping = Some(groupmap::domain::mapping_file::MappingFile::parse("team.toml", text).unwrap());
    let Effect::Load { id } = groupmap::app::update::start_load(&mut m)[0] else { panic!() };
    update(&mut m, Msg::Loaded { id, result: Ok(loaded_read_only(false)) });
    assert_eq!(m.mapping.rows, vec![row("Sales NA", "G2")]);
    assert!(!m.inferred());
    assert_eq!(
        status(&m),
        "started from team.toml (instead of the table inferred from where users are; u returns to an empty table)"
    );
    update(&mut m, key('u'));
    assert!(m.mapping.rows.is_empty());
}

#[test]
fn an_untouched_inferred_table_is_inferred_again_from_fresh_data() {
    let (mut m, _) = ready_read_only();
    let Some(Effect::Load { id }) = update(&mut m, key('r')).first().cloned() else { panic!("reload") };
    // Meanwhile the Sales NA user in no group was put in Sales NA.
    update(&mut m, Msg::Loaded { id, result: Ok(loaded_read_only(true)) });
    assert_eq!(m.mapping.rows, vec![row("Sales EMEA", "G1"), row("Sales NA", "G2"), row("sales emea", "G1")]);
    assert!(m.inferred() && m.plan.changes.is_empty());
    assert_eq!(status(&m), "reloaded; the table inferred again from where users are now");
    assert_eq!(m.undo.len(), 1, "still one edit on the empty table");
}

#[test]
fn an_untouched_inferred_table_gives_way_to_a_table_that_appeared_meanwhile() {
    let (mut m, _) = ready_read_only();
    let Some(Effect::Load { id }) = update(&mut m, key('r')).first().cloned() else { panic!("reload") };
    update(&mut m, Msg::Loaded { id, result: Ok(common::loaded(3, &[("Engineering", "G2")])) });
    assert_eq!(m.mapping.rows, vec![row("Engineering", "G2")], "the table now held, not the inferred rows on it");
    assert!(!m.inferred() && !m.modified() && m.undo.is_empty());
    assert_eq!(status(&m), "reloaded; there is a table to start from now, so the inferred one is set aside");
}

#[test]
fn a_service_with_a_saved_table_starts_from_it_not_from_an_inferred_one() {
    let mut m = common::ready();
    assert!(m.inference().is_none() && !m.inferred());
    assert_eq!(m.mapping.rows, vec![row("Engineering", "G2")]);
    select_value(&mut m, "Sales EMEA");
    assert_eq!(m.selection_note(), None);
}
