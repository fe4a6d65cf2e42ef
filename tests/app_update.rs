//! Transition tests of the editor: state and effects, no terminal, no IO.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use groupmap::app::model::{Dialog, Pane, Phase, Screen};
use groupmap::app::msg::{FailureKind, SaveFailure};
use groupmap::app::{Effect, Model, Msg, update};
use groupmap::domain::{FieldChoice, Target};
use groupmap::engine::SaveOutcome;

mod common;
use common::{B, code, g, key, loaded, read_only_loaded, read_only_ready, ready};

fn select_value(m: &mut Model, value: &str) {
    let pos = m.value_entries.iter().position(|e| e.value == value).unwrap();
    m.values.selected = m.values.filtered.position_of(pos).unwrap();
}

fn select_group(m: &mut Model, name: &str) {
    let pos = m.group_entries.iter().position(|e| m.group_entry_name(e) == name).unwrap();
    m.groups.selected = m.groups.filtered.position_of(pos).unwrap();
}

#[test]
fn enter_maps_selected_value_to_selected_group_and_writes_the_draft() {
    let mut m = ready();
    select_value(&mut m, "Sales EMEA");
    select_group(&mut m, "Sales EMEA");
    let before = m.plan.changes.len();
    let effects = update(&mut m, code(KeyCode::Enter));
    assert_eq!(m.mapping.row("Sales EMEA").unwrap().target, Target::Group(g("G1")));
    assert!(m.modified());
    assert_eq!(m.plan.changes.len(), before + 2, "u0 and u1 now move to Sales EMEA");
    assert!(matches!(&effects[..], [Effect::WriteDraft { text, .. }] if text.contains("idp_value = \"Sales EMEA\"")));
}

#[test]
fn unmap_undo_and_redo_walk_the_mapping_versions() {
    let mut m = ready();
    select_value(&mut m, "Engineering");
    update(&mut m, key('x'));
    assert!(m.mapping.row("Engineering").is_none());
    update(&mut m, key('u'));
    assert!(m.mapping.row("Engineering").is_some());
    assert!(!m.modified());
    let effects = update(&mut m, Msg::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL)));
    assert!(m.mapping.row("Engineering").is_none());
    assert!(matches!(&effects[..], [Effect::WriteDraft { .. }]));
    // Undo back to the saved mapping removes the draft.
    let effects = update(&mut m, key('u'));
    assert!(matches!(&effects[..], [Effect::DeleteDraft { .. }]));
}

#[test]
fn toggles_and_default_group_change_the_plan_at_once() {
    let mut m = ready();
    update(&mut m, key('m'));
    assert!(!m.mapping.enabled && m.plan.changes.is_empty());
    update(&mut m, key('m'));
    update(&mut m, key('e'));
    assert!(!m.mapping.apply_to_existing && !m.plan.applies());
    update(&mut m, code(KeyCode::Tab));
    assert_eq!(m.focus, Pane::Groups);
    select_group(&mut m, "Everyone");
    update(&mut m, key('d'));
    assert_eq!(m.mapping.default_group, Some(Target::Group(g("G3"))));
    assert!(m.plan.unmapped.is_empty());
    assert_eq!(m.plan.to_default(), 3, "Sales EMEA ×2 and sales emea join the default");
    update(&mut m, key('d'));
    assert_eq!(m.mapping.default_group, None);
}

#[test]
fn filter_narrows_as_you_type_and_esc_clears_without_quitting() {
    let mut m = ready();
    update(&mut m, key('/'));
    for c in "sal".chars() {
        update(&mut m, key(c));
    }
    assert_eq!(m.values.filtered.len(m.value_entries.len()), 2);
    let effects = update(&mut m, code(KeyCode::Esc));
    assert!(effects.is_empty(), "Esc never quits");
    assert!(m.values.filter.is_empty() && !m.values.editing);
    assert_eq!(m.values.filtered.len(m.value_entries.len()), m.value_entries.len());
}

#[test]
fn quit_asks_only_when_edits_are_unsaved() {
    let mut m = ready();
    assert!(matches!(&update(&mut m, key('q'))[..], [Effect::Quit]));
    let mut m = ready();
    update(&mut m, key('m'));
    assert!(update(&mut m, key('q')).is_empty());
    assert_eq!(m.dialog, Some(Dialog::ConfirmQuit));
    update(&mut m, code(KeyCode::Esc));
    assert_eq!(m.dialog, None);
    update(&mut m, key('q'));
    assert!(matches!(&update(&mut m, key('y'))[..], [Effect::Quit]));
}

#[test]
fn save_confirm_focuses_cancel_and_only_a_deliberate_choice_saves() {
    let mut m = ready();
    update(&mut m, key('S'));
    assert_eq!(m.dialog, Some(Dialog::ConfirmSave { save_focused: false }));
    assert!(update(&mut m, code(KeyCode::Enter)).is_empty(), "Enter on Cancel saves nothing");
    assert_eq!(m.dialog, None);
    update(&mut m, key('S'));
    update(&mut m, code(KeyCode::Tab));
    let effects = update(&mut m, code(KeyCode::Enter));
    assert!(matches!(&effects[..], [Effect::Save { org, .. }] if org.version() == Some(3)));
    assert!(matches!(m.dialog, Some(Dialog::Saving { .. })));
    assert!(update(&mut m, key('m')).is_empty() && m.mapping.enabled, "no edits while saving");
}

#[test]
fn a_conflict_reloads_and_keeps_the_edits_on_the_new_state() {
    let mut m = ready();
    select_value(&mut m, "Sales EMEA");
    select_group(&mut m, "Sales EMEA");
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, key('S'));
    update(&mut m, code(KeyCode::Tab));
    update(&mut m, code(KeyCode::Enter));
    let effects = update(&mut m, Msg::Saved(Err(SaveFailure { message: "412".into(), kind: FailureKind::Changed })));
    let Some(Effect::Load { id }) = effects.first().cloned() else { panic!("reload expected: {effects:?}") };
    assert!(
        matches!(&m.dialog, Some(Dialog::Result { ok: false, title, .. }) if title.contains("changed since you loaded it"))
    );
    // Someone else saved: Engineering now goes to Everyone, and "sales emea" to Engineering.
    let newer = loaded(4, &[("Engineering", "G3"), ("sales emea", "G2")]);
    update(&mut m, Msg::Loaded { id, result: Ok(newer) });
    assert_eq!(m.mapping.row("Sales EMEA").unwrap().target, Target::Group(g("G1")), "my edit kept");
    assert_eq!(m.mapping.row("Engineering").unwrap().target, Target::Group(g("G3")), "their edit kept");
    assert_eq!(m.mapping.row("sales emea").unwrap().target, Target::Group(g("G2")));
    assert_eq!(m.org().unwrap().version(), Some(4));
    assert!(m.modified());
}

#[test]
fn a_superseded_or_cancelled_load_is_dropped() {
    let mut m = Model::new(false, FieldChoice::default());
    groupmap::app::update::start_load(&mut m);
    let effects = update(&mut m, code(KeyCode::Esc));
    assert!(matches!(&effects[..], [Effect::CancelLoad]));
    assert!(matches!(m.phase, Phase::Failed { .. }));
    update(&mut m, Msg::Loaded { id: 1, result: Ok(loaded(1, &[])) });
    assert!(matches!(m.phase, Phase::Failed { .. }), "the cancelled load's result is ignored");
    let Effect::Load { id } = update(&mut m, key('r'))[0] else { panic!() };
    assert_eq!(id, 2);
    update(&mut m, Msg::Loaded { id, result: Err("GET /groups: 500".into()) });
    assert_eq!(m.phase, Phase::Failed { message: "GET /groups: 500".into() });
}

#[test]
fn a_draft_from_an_earlier_session_is_offered_back() {
    let mut m = ready();
    let text = draft_text(&m, B, |d| {
        d.enabled = false;
        d.set("X", Target::Group(g("G3")));
    });
    update(&mut m, found(&text));
    assert!(matches!(m.dialog, Some(Dialog::RestoreDraft { .. })));
    let effects = update(&mut m, key('y'));
    assert!(!m.mapping.enabled);
    assert_eq!(m.mapping.row("X").unwrap().target, Target::Group(g("G3")));
    assert!(matches!(&effects[..], [Effect::WriteDraft { .. }, Effect::DeleteDraftFile { .. }]), "{effects:?}");
}

/// A draft as an earlier session on `base_url` wrote it: the saved table of `m` edited by `edit`.
fn draft_text(m: &Model, base_url: &str, edit: impl FnOnce(&mut groupmap::domain::Mapping)) -> String {
    let on_base = |t: &Target| match t {
        Target::Group(uri) => Target::Group(uri.replacen(B, base_url, 1)),
        other => other.clone(),
    };
    let mut base = m.base();
    for r in &mut base.rows {
        r.target = on_base(&r.target);
    }
    let mut mine = base.clone();
    edit(&mut mine);
    for r in &mut mine.rows {
        r.target = on_base(&r.target);
    }
    let draft = groupmap::domain::draft::Draft {
        organization: format!("{base_url}/organizations/ORG"),
        base_url: base_url.into(),
        base_version: m.org().unwrap().version(),
        base,
        mine,
    };
    draft.to_toml(m.snap())
}

fn found(text: &str) -> Msg {
    let path = std::path::PathBuf::from("/state/groupmap/drafts/ORG-x/1-1.toml");
    let drafts = vec![groupmap::store::FoundDraft { path, age_secs: 120, text: Ok(text.into()) }];
    Msg::Drafts { drafts, interrupted: Vec::new() }
}

#[test]
fn new_group_maps_the_value_to_a_group_created_on_save() {
    let mut m = ready();
    select_value(&mut m, "sales emea");
    update(&mut m, key('n'));
    for c in "Sales Ops".chars() {
        update(&mut m, key(c));
    }
    update(&mut m, code(KeyCode::Enter));
    assert_eq!(m.mapping.row("sales emea").unwrap().target, Target::New("Sales Ops".into()));
    assert_eq!(m.plan.new_groups, vec!["Sales Ops".to_owned()]);
    assert!(m.group_entries.iter().any(|e| m.group_entry_name(e) == "Sales Ops"));
}

/// Types a name into the new-group dialog for `value` and presses Enter; returns the status.
fn new_group(m: &mut Model, value: &str, name: &str) -> (String, bool) {
    select_value(m, value);
    update(m, key('n'));
    for c in name.chars() {
        update(m, key(c));
    }
    update(m, code(KeyCode::Enter));
    assert_eq!(m.dialog, None, "{:?}", m.status);
    m.status.clone().expect("the dialog says what it did")
}

/// The new-group dialog says what happened: a name that is a group's but for case and spaces
/// maps to that group, and the status says so instead of promising a group created on save.
#[test]
fn new_group_dialog_with_an_existing_groups_name_says_it_maps_to_that_group() {
    let mut m = ready();
    let status = new_group(&mut m, "sales emea", "engineering");
    assert_eq!(m.mapping.row("sales emea").unwrap().target, Target::Group(g("G2")));
    assert_eq!(
        status,
        (
            "mapped \"sales emea\" → \"Engineering\" (the existing group; group names compare ignoring case and spaces)"
                .to_owned(),
            false
        )
    );
    assert!(m.plan.new_groups.is_empty(), "nothing is created");
    let status = new_group(&mut m, "sales emea", "Sales  EMEA ");
    assert_eq!(m.mapping.row("sales emea").unwrap().target, Target::Group(g("G1")));
    assert!(status.0.ends_with("→ \"Sales EMEA\" (the existing group; group names compare ignoring case and spaces)"));
    let status = new_group(&mut m, "Sales EMEA", "Everyone");
    assert_eq!(status.0, "mapped \"Sales EMEA\" → \"Everyone\" (the existing group)");
    assert!(m.plan.new_groups.is_empty());
}

#[test]
fn new_group_dialog_says_a_new_group_is_new_and_warns_when_it_is_like_an_existing_one() {
    let mut m = ready();
    let status = new_group(&mut m, "sales emea", "Sales Ops");
    assert_eq!(status, ("mapped \"sales emea\" → \"Sales Ops\" (a new group, created on save)".to_owned(), false));
    // The same new group typed again in another case is that group, not a second one.
    let status = new_group(&mut m, "Sales EMEA", "sales  ops");
    assert_eq!(m.mapping.row("Sales EMEA").unwrap().target, Target::New("Sales Ops".into()));
    assert!(
        status
            .0
            .ends_with("→ \"Sales Ops\" (a new group, created on save; group names compare ignoring case and spaces)")
    );
    assert_eq!(m.plan.new_groups, ["Sales Ops"]);

    let (text, warn) = new_group(&mut m, "Engineering", "Enginering");
    assert_eq!(m.mapping.row("Engineering").unwrap().target, Target::New("Enginering".into()));
    assert!(warn, "shown as a warning: {text}");
    assert!(
        text.starts_with(
            "mapped \"Engineering\" → \"Enginering\" (a new group, created on save), like the existing group \
             \"Engineering\": did you mean \"Engineering\"?"
        ),
        "{text}"
    );
    assert!(
        m.plan
            .lint
            .iter()
            .any(|f| f.kind == groupmap::domain::lint::LintKind::NewGroupLikeExisting && f.values == ["Engineering"]),
        "and the preview's findings say it too: {:?}",
        m.plan.lint
    );
}

/// A read-only service (Calendly's API) creates no group on save: the status says who does.
#[test]
fn on_a_read_only_service_a_new_group_is_one_to_create_in_the_admin_center() {
    let mut m = read_only_ready();
    let value = m.snap().values[0].clone();
    let status = new_group(&mut m, &value, "Sales Ops");
    assert_eq!(
        status,
        (format!("mapped {value:?} → \"Sales Ops\" (a new group, create it in Calendly's admin center first)"), false)
    );
    assert_eq!(m.mapping.row(&value).unwrap().target, Target::New("Sales Ops".into()));
    update(&mut m, key('p'));
    let heading = m.preview_lines.iter().map(|l| l.text).find(|t| t.contains("\"Sales Ops\""));
    assert!(
        heading.as_deref().is_some_and(|t| t.contains("(new group, create it in Calendly's admin center first)")),
        "the preview says the same: {heading:?}"
    );
}

#[test]
fn suggestions_are_accepted_one_by_one() {
    let mut m = ready();
    update(&mut m, key('s'));
    let Some(Dialog::Suggestions { items, .. }) = &m.dialog else { panic!("suggestions") };
    assert_eq!(items[0].value, "Sales EMEA");
    update(&mut m, code(KeyCode::Enter));
    assert_eq!(m.mapping.row("Sales EMEA").unwrap().target, Target::Group(g("G1")));
}

#[test]
fn a_successful_save_replaces_the_snapshot_and_clears_the_draft() {
    let mut m = ready();
    update(&mut m, key('m'));
    let outcome = SaveOutcome {
        version: 4,
        created: vec![],
        job: None,
        moved: 0,
        organization: loaded(4, &[("Engineering", "G2")]),
    };
    let effects = update(&mut m, Msg::Saved(Ok(Box::new(outcome))));
    assert!(matches!(&effects[..], [Effect::DeleteDraft { .. }]));
    assert!(!m.modified() && m.undo.is_empty());
    assert_eq!(m.org().unwrap().version(), Some(4));
    assert!(matches!(m.dialog, Some(Dialog::Result { ok: true, .. })));
}

#[test]
fn preview_screen_shows_the_plan_text() {
    let mut m = ready();
    update(&mut m, key('p'));
    assert_eq!(m.screen, Screen::Preview);
    assert!(m.preview_lines.iter().any(|l| l.text.starts_with("Plan:") || l.text.starts_with("No changes")));
    update(&mut m, code(KeyCode::Esc));
    assert_eq!(m.screen, Screen::Mapping);
}

#[test]
fn a_reload_keeps_the_data_on_screen_and_edits_allowed_but_not_saving() {
    let mut m = ready();
    let effects = update(&mut m, key('r'));
    let Some(Effect::Load { id }) = effects.first().cloned() else { panic!("reload") };
    assert!(m.has_data() && !m.ready());
    update(&mut m, key('m'));
    assert!(!m.mapping.enabled, "editing works during a reload");
    update(&mut m, key('S'));
    assert_eq!(m.dialog, None, "saving waits for fresh data");
    assert!(m.status.as_ref().is_some_and(|(s, err)| *err && s.contains("fresh data")));
    update(&mut m, Msg::Loaded { id, result: Err("GET /groups: timed out".into()) });
    assert!(m.ready(), "a failed reload keeps the earlier data");
    assert!(!m.mapping.enabled, "and the edit");
    assert!(m.status.as_ref().is_some_and(|(s, _)| s.contains("reload failed")));
}

#[test]
fn preview_scrolls_sideways_for_long_lines() {
    let mut m = ready();
    update(&mut m, key('p'));
    update(&mut m, key('l'));
    update(&mut m, code(KeyCode::Right));
    assert_eq!(m.preview_hscroll, 32);
    update(&mut m, key('h'));
    assert_eq!(m.preview_hscroll, 16);
    update(&mut m, key('p'));
    assert_eq!(m.screen, Screen::Mapping);
    update(&mut m, key('l'));
    assert_eq!(m.preview_hscroll, 16, "h/l only scroll on the preview");
}

#[test]
fn a_draft_written_against_another_base_url_is_still_offered() {
    let mut m = ready();
    let text = draft_text(&m, "http://127.0.0.1:1234", |d| d.enabled = false);
    update(&mut m, found(&text));
    assert!(matches!(m.dialog, Some(Dialog::RestoreDraft { .. })), "{:?}", m.status);
    update(&mut m, key('y'));
    assert!(!m.mapping.enabled && m.mapping.row("Engineering").unwrap().target == Target::Group(g("G2")));
}

#[test]
fn a_start_mapping_file_is_applied_after_load_and_undo_returns_to_the_saved_one() {
    let mut m = Model::new(false, FieldChoice::default());
    let text = "enabled = true\n[[rows]]\nidp_value = \"Sales EMEA\"\ngroup = \"Sales EMEA\"\n";
    m.start_mapping = Some(groupmap::domain::mapping_file::MappingFile::parse("team.toml", text).unwrap());
    let Effect::Load { id } = groupmap::app::update::start_load(&mut m)[0] else { panic!() };
    let effects = update(&mut m, Msg::Loaded { id, result: Ok(common::loaded(3, &[("Engineering", "G2")])) });
    assert!(matches!(&effects[..], [Effect::WriteDraft { .. }]), "no draft offer; the file is the edit");
    assert_eq!(m.mapping.rows.len(), 1);
    assert_eq!(m.mapping.row("Sales EMEA").unwrap().target, Target::Group(g("G1")));
    update(&mut m, key('u'));
    assert!(m.mapping.row("Engineering").is_some() && !m.modified());
}

#[test]
fn preview_filter_matches_substrings_case_insensitively() {
    let mut m = ready();
    update(&mut m, key('p'));
    update(&mut m, key('/'));
    for c in "U2@X".chars() {
        update(&mut m, key(c));
    }
    let shown: Vec<String> = (0..m.preview.filtered.len(m.preview_lines.len()))
        .filter_map(|p| m.preview.filtered.get(p))
        .map(|i| m.preview_lines.line(i).text)
        .collect();
    assert!(!shown.is_empty());
    assert!(shown.iter().all(|l| l.to_lowercase().contains("u2@x")), "{shown:?}");
}

#[test]
fn a_cached_snapshot_shows_at_once_as_stale_and_the_fresh_load_replaces_it() {
    let mut m = Model::new(false, FieldChoice::default());
    let Effect::Load { id } = groupmap::app::update::start_load(&mut m)[0] else { panic!() };
    let effects = update(&mut m, Msg::Cached { loaded: common::loaded(2, &[]), age_secs: 300 });
    assert!(effects.is_empty(), "drafts are offered on fresh data, not on the cache: {effects:?}");
    assert!(m.has_data() && !m.ready() && m.stale == Some(300));
    update(&mut m, key('m'));
    assert!(!m.mapping.enabled, "editing works on the stale snapshot");
    update(&mut m, key('S'));
    assert_eq!(m.dialog, None, "saving refuses stale data");
    let effects = update(&mut m, Msg::Loaded { id, result: Ok(common::loaded(3, &[("Engineering", "G2")])) });
    assert!(matches!(&effects[..], [Effect::ReadDrafts { .. }]), "{effects:?}");
    assert!(m.ready() && m.stale.is_none());
    assert_eq!(m.org().unwrap().version(), Some(3));
    assert!(!m.mapping.enabled && m.mapping.row("Engineering").is_some(), "the edit rebased on fresh data");
    // A cached snapshot arriving after fresh data is ignored.
    update(&mut m, Msg::Cached { loaded: common::loaded(1, &[]), age_secs: 9 });
    assert_eq!(m.org().unwrap().version(), Some(3));
}

#[test]
fn a_long_preview_is_filtered_off_the_input_path_and_stale_results_are_dropped() {
    use groupmap::app::filter::Filtered;
    let mut m = ready();
    update(&mut m, key('p'));
    let n = groupmap::app::update::FILTER_OFF_THREAD_FROM + 10;
    m.preview_lines = std::sync::Arc::new(groupmap::report::Preview::of_lines(
        (0..n)
            .map(|i| {
                groupmap::report::PreviewLine::new(
                    groupmap::report::LineKind::Plain,
                    format!("line {i} user{i}@x.test"),
                )
            })
            .collect(),
    ));
    update(&mut m, key('/'));
    let first = update(&mut m, key('9'));
    let [Effect::FilterPreview { id: id1, narrow: None, .. }] = &first[..] else { panic!("{first:?}") };
    let second = update(&mut m, key('9'));
    let [Effect::FilterPreview { id: id2, needle, .. }] = &second[..] else { panic!("{second:?}") };
    assert_eq!(needle, "99");
    // The newer answer lands first; the older one arriving later is dropped.
    update(
        &mut m,
        Msg::PreviewFiltered {
            id: *id2,
            needle: "99".into(),
            filtered: Filtered { items: Some(vec![99]), weak: vec![] },
        },
    );
    update(
        &mut m,
        Msg::PreviewFiltered {
            id: *id1,
            needle: "9".into(),
            filtered: Filtered { items: Some(vec![9, 99]), weak: vec![] },
        },
    );
    assert_eq!(m.preview.filtered.items, Some(vec![99]));
    // Typing on narrows from that result; after a backspace nothing is narrowed.
    let third = update(&mut m, key('9'));
    assert!(matches!(&third[..], [Effect::FilterPreview { narrow: Some(v), .. }] if *v == vec![99]));
    let back = update(&mut m, code(KeyCode::Backspace));
    assert!(matches!(&back[..], [Effect::FilterPreview { narrow: None, .. }]));
}

#[test]
fn a_long_values_pane_is_filtered_off_the_input_path_and_the_newest_pattern_wins() {
    use groupmap::app::filter::Filtered;
    use groupmap::app::model::ValueEntry;
    let mut m = ready();
    let n = groupmap::app::update::FILTER_OFF_THREAD_FROM + 10;
    m.value_entries =
        std::sync::Arc::new((0..n).map(|i| ValueEntry { value: format!("Team {i}"), users: 1 }).collect());
    let before = m.values.filtered.clone();
    update(&mut m, key('/'));
    let first = update(&mut m, key('7'));
    let [Effect::FilterValues { id: id1, pattern, narrow: None, entries }] = &first[..] else { panic!("{first:?}") };
    assert_eq!((pattern.as_str(), entries.len()), ("7", n));
    assert_eq!(m.values.filtered, before, "the list stays as it was until the answer lands");
    let second = update(&mut m, key('7'));
    let [Effect::FilterValues { id: id2, pattern, narrow: None, .. }] = &second[..] else { panic!("{second:?}") };
    assert_eq!(pattern, "77", "no answer yet to narrow from");
    update(
        &mut m,
        Msg::ValuesFiltered {
            id: *id2,
            pattern: "77".into(),
            filtered: Filtered { items: Some(vec![77]), weak: vec![] },
        },
    );
    update(
        &mut m,
        Msg::ValuesFiltered {
            id: *id1,
            pattern: "7".into(),
            filtered: Filtered { items: Some(vec![7, 77]), weak: vec![] },
        },
    );
    assert_eq!(m.values.filtered.items, Some(vec![77]), "the older answer, arriving later, is dropped");
    assert_eq!(m.selected_value().map(|e| e.value.as_str()), Some("Team 77"));
    // Typing on narrows from the answer; after a backspace the pattern no longer extends it.
    let third = update(&mut m, key('1'));
    assert!(matches!(&third[..], [Effect::FilterValues { narrow: Some(v), .. }] if *v == vec![77]), "{third:?}");
    update(&mut m, code(KeyCode::Backspace));
    let back = update(&mut m, code(KeyCode::Backspace));
    assert!(matches!(&back[..], [Effect::FilterValues { narrow: None, .. }]), "{back:?}");
    // A change to the list filtered at once (the view) makes any answer still coming stale.
    let [Effect::FilterValues { id: pending, .. }] = &back[..] else { unreachable!() };
    update(&mut m, code(KeyCode::Esc));
    assert!(m.values.filter.is_empty());
    update(
        &mut m,
        Msg::ValuesFiltered {
            id: *pending,
            pattern: "7".into(),
            filtered: Filtered { items: Some(vec![3]), weak: vec![] },
        },
    );
    assert_ne!(m.values.filtered.items, Some(vec![3]));
}

#[test]
fn a_save_that_may_have_landed_reloads_and_one_that_did_not_keeps_the_edits() {
    let mut m = ready();
    update(&mut m, key('m'));
    let effects =
        update(&mut m, Msg::Saved(Err(SaveFailure { message: "lost".into(), kind: FailureKind::MaybeSaved })));
    assert!(matches!(&effects[..], [Effect::Load { .. }]));
    assert!(matches!(&m.dialog, Some(Dialog::Result { title, .. }) if title == "Save not confirmed"));
    let mut m = ready();
    update(&mut m, key('m'));
    let effects = update(&mut m, Msg::Saved(Err(SaveFailure { message: "400".into(), kind: FailureKind::NotSaved })));
    assert!(effects.is_empty() && m.modified() && m.ready());
}

#[test]
fn the_list_window_moves_only_when_the_selection_would_leave_it() {
    let mut m = ready();
    update(&mut m, key('p'));
    update(&mut m, Msg::Resize(80, 24));
    let rows = 24 - 5 - 2; // body less header/status/footer, less the preview's border
    for _ in 0..rows + 3 {
        update(&mut m, key('j'));
    }
    let offset = m.preview.offset;
    assert!(offset > 0, "scrolled");
    update(&mut m, key('k'));
    assert_eq!(m.preview.offset, offset, "moving back up inside the window keeps it");
}

/// Once a save landed, the organization it reloaded is the one every later derivation starts
/// from: re-choosing a column must not rebuild the plan from the data loaded before the save.
#[test]
fn choosing_a_column_after_a_save_plans_on_the_saved_organization() {
    let mut m = ready();
    assert_eq!(m.plan.changes.len(), 2, "u2 and the invitee u5 move to Engineering");
    let mut after = (*loaded(4, &[("Engineering", "G2")])).clone();
    for p in std::sync::Arc::make_mut(&mut after.directory.people) {
        if &*p.email == "u2@x.test" || &*p.email == "u5@x.test" {
            p.group = Some(g("G2").into());
        }
    }
    let outcome =
        SaveOutcome { version: 4, created: vec![], job: None, moved: 2, organization: std::sync::Arc::new(after) };
    update(&mut m, Msg::Saved(Ok(Box::new(outcome))));
    update(&mut m, code(KeyCode::Esc));
    assert!(m.plan.changes.is_empty(), "the moves happened");
    update(&mut m, key('f'));
    assert_eq!(m.screen, Screen::Fields);
    let idp = m.column_rows().iter().position(|&(_, c)| c == 2).unwrap();
    m.columns.selected = idp;
    update(&mut m, key('i'));
    assert!(m.plan.changes.is_empty(), "re-joined on the organization the save reloaded: {:?}", m.plan.changes);
    update(&mut m, key('p'));
    assert!(m.preview_lines.iter().any(|l| l.text.starts_with("No changes")), "{:?}", m.preview_lines);
    assert_eq!(m.org().unwrap().version(), Some(4), "the next save is based on the saved version");
}

#[test]
fn preview_lines_carry_the_kind_their_text_shows() {
    use groupmap::domain::lint::Severity;
    use groupmap::report::LineKind;
    let mut m = ready();
    select_value(&mut m, "Sales EMEA");
    select_group(&mut m, "Sales EMEA");
    update(&mut m, code(KeyCode::Enter));
    select_value(&mut m, "Engineering");
    update(&mut m, key('x'));
    update(&mut m, key('p'));
    let mut seen = std::collections::HashSet::new();
    for l in m.preview_lines.iter() {
        let t = l.text.trim_start();
        let ok = match l.kind {
            LineKind::Summary => ["Plan:", "No changes", "Not applied"].iter().any(|p| l.text.starts_with(p)),
            LineKind::Heading => !l.text.starts_with(' ') && !l.text.is_empty(),
            LineKind::GroupHeading => l.text.starts_with("  \""),
            LineKind::UserMove { new_member } => l.text.starts_with(if new_member { "    + " } else { "    ~ " }),
            LineKind::TableAdded => l.text.starts_with("  + "),
            LineKind::TableChanged => l.text.starts_with("  ~ "),
            LineKind::TableRemoved => l.text.starts_with("  - "),
            LineKind::Unmapped => l.text.starts_with("    \""),
            LineKind::Finding(Severity::Error) => t.starts_with("error: "),
            LineKind::Finding(Severity::Warning) => t.starts_with("warning: "),
            LineKind::Finding(Severity::Info) => t.starts_with("note: "),
            LineKind::Blank => l.text.is_empty(),
            LineKind::Legend => l.text.starts_with("Legend: ~ moves from another group · + joins"),
            LineKind::Plain => false,
        };
        assert!(ok, "{:?} for {:?}", l.kind, l.text);
        seen.insert(std::mem::discriminant(&l.kind));
    }
    assert!(seen.len() >= 8, "the fixture shows most kinds: {seen:?}");
}

#[test]
fn help_scrolls_within_its_rows_and_jumps_to_the_end_and_the_top() {
    let mut m = ready();
    update(&mut m, Msg::Resize(80, 24));
    update(&mut m, key('?'));
    let rows = groupmap::app::keymap::help_rows().len();
    let fits = 24 - 5 - 2; // body less header/status/footer, less the border
    update(&mut m, key('G'));
    assert_eq!(m.help_scroll, rows - fits, "G shows the last page");
    update(&mut m, key('j'));
    assert_eq!(m.help_scroll, rows - fits, "not past the end");
    update(&mut m, key('k'));
    assert_eq!(m.help_scroll, rows - fits - 1, "k moves up at once from the end");
    update(&mut m, code(KeyCode::Home));
    assert_eq!(m.help_scroll, 0);
    update(&mut m, code(KeyCode::End));
    assert_eq!(m.help_scroll, rows - fits);
    update(&mut m, key('g'));
    assert_eq!(m.help_scroll, 0);
    update(&mut m, key('q'));
    assert!(!m.help, "q closes the help");
}

#[test]
fn keys_under_dialogs_and_input_go_through_their_scopes() {
    let mut m = ready();
    // A result closes on any key; C-l redraws under it and C-c exits from it.
    m.dialog = Some(Dialog::Result { title: "Saved".into(), message: "ok".into(), ok: true });
    let ctrl = |c| Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
    assert!(matches!(&update(&mut m, ctrl('l'))[..], [Effect::Redraw]));
    assert!(m.dialog.is_some());
    assert!(matches!(&update(&mut m, ctrl('c'))[..], [Effect::Quit]));
    update(&mut m, key('z'));
    assert_eq!(m.dialog, None);
    // While a filter is typed, ↑/↓ move in the list, letters are text and Tab does nothing.
    update(&mut m, key('/'));
    update(&mut m, code(KeyCode::Down));
    assert_eq!(m.values.selected, 1);
    update(&mut m, key('x'));
    assert_eq!(m.values.filter, "x");
    update(&mut m, code(KeyCode::Tab));
    assert_eq!(m.focus, Pane::Values);
    update(&mut m, code(KeyCode::Backspace));
    update(&mut m, code(KeyCode::Enter));
    assert!(!m.values.editing && m.values.filter.is_empty());
    // A new group's name takes the letters that are keys elsewhere ('q', 'y', 'n').
    update(&mut m, key('n'));
    for c in "qyn".chars() {
        update(&mut m, key(c));
    }
    assert_eq!(m.dialog, Some(Dialog::NewGroup { name: "qyn".into() }));
    update(&mut m, code(KeyCode::Esc));
    assert_eq!(m.dialog, None);
    // The quit question: n stays, y quits.
    update(&mut m, key('m'));
    update(&mut m, key('q'));
    update(&mut m, key('n'));
    assert_eq!(m.dialog, None);
    update(&mut m, key('q'));
    assert!(update(&mut m, key('x')).is_empty() && m.dialog == Some(Dialog::ConfirmQuit), "other keys wait");
}

/// A cached snapshot stays marked stale when the fresh load fails, and nothing is saved from it.
#[test]
fn a_failed_fresh_load_keeps_the_cached_snapshot_marked_stale_and_unsaveable() {
    let mut m = Model::new(false, FieldChoice::default());
    let Effect::Load { id } = groupmap::app::update::start_load(&mut m)[0] else { panic!() };
    update(&mut m, Msg::Cached { loaded: common::loaded(2, &[]), age_secs: 300 });
    update(&mut m, key('m'));
    update(&mut m, Msg::Loaded { id, result: Err("GET /groups: timed out".into()) });
    assert_eq!(m.stale, Some(300), "the mark stays");
    assert!(m.has_data() && !m.ready());
    assert!(m.status.as_ref().is_some_and(|(s, _)| s.contains("cached 5 min ago")), "{:?}", m.status);
    let effects = update(&mut m, key('S'));
    assert!(effects.is_empty() && m.dialog.is_none(), "no save from cached data");
    assert!(m.status.as_ref().is_some_and(|(s, e)| *e && s.contains("cached snapshot")), "{:?}", m.status);
    // The next fresh load lifts the mark.
    let Effect::Load { id } = update(&mut m, key('r'))[0] else { panic!() };
    update(&mut m, Msg::Loaded { id, result: Ok(common::loaded(3, &[])) });
    assert!(m.ready() && m.stale.is_none());
}

/// A reload that finds a group under a name the edits would create maps the rows to it and
/// says so, instead of sending `new:NAME` on every save.
#[test]
fn a_reload_adopts_a_new_group_that_now_exists_and_says_so() {
    let mut m = ready();
    select_value(&mut m, "sales emea");
    update(&mut m, key('n'));
    for c in "Ops".chars() {
        update(&mut m, key(c));
    }
    update(&mut m, code(KeyCode::Enter));
    assert_eq!(m.mapping.row("sales emea").unwrap().target, Target::New("Ops".into()));
    let Effect::Load { id } = update(&mut m, key('r'))[0] else { panic!() };
    let mut newer = (*loaded(3, &[("Engineering", "G2")])).clone();
    newer.directory.groups.push(groupmap::domain::Group { uri: g("G9"), name: "ops".into(), member_count: None });
    update(&mut m, Msg::Loaded { id, result: Ok(std::sync::Arc::new(newer)) });
    assert_eq!(m.mapping.row("sales emea").unwrap().target, Target::Group(g("G9")));
    assert!(m.plan.new_groups.is_empty());
    assert!(m.status.as_ref().is_some_and(|(s, _)| s.contains("\"Ops\" now exists")), "{:?}", m.status);
}

/// A restored draft replays only its own edits: a row a colleague saved meanwhile stays, and a
/// group renamed meanwhile is still that group (drafts name groups by URI).
#[test]
fn a_restored_draft_keeps_what_others_saved_and_follows_renamed_groups() {
    let mut m = ready();
    let text = draft_text(&m, B, |d| d.set("X", Target::Group(g("G3"))));
    // Meanwhile a colleague saved version 4 with a row of their own, and G3 was renamed.
    let Effect::Load { id } = update(&mut m, key('r'))[0] else { panic!() };
    let mut newer = (*loaded(4, &[("Engineering", "G2"), ("sales emea", "G1")])).clone();
    newer.directory.groups[2].name = "All staff".into();
    update(&mut m, Msg::Loaded { id, result: Ok(std::sync::Arc::new(newer)) });
    update(&mut m, found(&text));
    let Some(Dialog::RestoreDraft { offers, .. }) = &m.dialog else { panic!("offered: {:?}", m.dialog) };
    let edits = offers[0].draft.edits();
    assert_eq!((edits.added.len(), edits.removed.len(), edits.changed.len()), (1, 0, 0), "only its own edit");
    update(&mut m, key('y'));
    assert_eq!(m.mapping.row("sales emea").unwrap().target, Target::Group(g("G1")), "their row stays");
    assert_eq!(m.mapping.row("X").unwrap().target, Target::Group(g("G3")), "the renamed group itself");
    assert!(m.plan.new_groups.is_empty(), "no group is created for the old name");
    assert!(m.status.as_ref().is_some_and(|(s, _)| s.contains("made on 3")), "{:?}", m.status);
}

/// An unreadable draft is moved aside and named in a dialog that stays until dismissed; a
/// draft cut short offers the rows before the cut.
#[test]
fn unreadable_drafts_are_set_aside_and_named_and_cut_ones_offer_what_was_read() {
    let mut m = ready();
    let effects = update(&mut m, found("format = 1\norganization = [garbage"));
    assert!(matches!(&effects[..], [Effect::SetAsideDraft { .. }]), "{effects:?}");
    let Some(Dialog::Result { message, ok: false, .. }) = &m.dialog else { panic!("{:?}", m.dialog) };
    assert!(message.contains("moved aside to /state/groupmap/drafts/ORG-x/1-1.toml.unreadable"), "{message}");
    update(&mut m, key('x'));
    assert!(m.dialog.is_none(), "dismissed by a key");

    let mut m = ready();
    let text = draft_text(&m, B, |d| {
        d.set("X", Target::Group(g("G3")));
        d.set("Y", Target::Group(g("G1")));
    });
    let cut = &text[..text.rfind("idp_value = \"Y\"").unwrap() + 5];
    update(&mut m, found(cut));
    update(&mut m, key('y'));
    assert!(m.mapping.row("X").is_some() && m.mapping.row("Y").is_none());
    assert!(m.status.as_ref().is_some_and(|(s, _)| s.contains("cut short")), "{:?}", m.status);
}

/// When the draft cannot be written, the header says so and the quit dialog does not promise it.
#[test]
fn a_draft_that_cannot_be_written_is_a_lasting_mark_and_the_quit_dialog_tells_the_truth() {
    let mut m = ready();
    update(&mut m, key('m'));
    update(&mut m, Msg::DraftWritten(Err("could not write /ro/drafts/x.toml: Read-only file system".into())));
    update(&mut m, key('m'));
    update(&mut m, key('m'));
    assert!(matches!(m.draft_file, groupmap::app::model::DraftFile::Failed(_)), "the mark lasts across keys");
    assert!(m.edits_kept().contains("NOT in a draft file") && m.edits_kept().contains("Read-only"));
    update(&mut m, Msg::DraftWritten(Ok("/state/d.toml".into())));
    assert_eq!(m.edits_kept(), "They stay in the draft file /state/d.toml");
}

/// Pasted text is text for the focused input, never keys: a line break in it neither submits
/// nor runs what follows as commands.
#[test]
fn pasted_text_goes_into_the_focused_input_and_never_runs_as_keys() {
    let mut m = ready();
    let rows = m.mapping.rows.len();
    update(&mut m, key('/'));
    update(&mut m, Msg::Paste("Sales\rmx".into()));
    assert_eq!(m.values.filter, "Sales mx");
    assert!(m.values.editing && m.mapping.enabled, "m and x were not keys");
    update(&mut m, code(KeyCode::Esc));
    update(&mut m, Msg::Paste("Marketing\r\nsales emea\r\n".into()));
    assert_eq!(m.mapping.rows.len(), rows, "no suggestion accepted, nothing mapped");
    assert!(m.dialog.is_none() && m.values.filter.is_empty());
    assert!(m.status.as_ref().is_some_and(|(s, _)| s.contains("pasted text")), "{:?}", m.status);
    select_value(&mut m, "sales emea");
    update(&mut m, key('n'));
    update(&mut m, Msg::Paste("Sales\nOps\n".into()));
    assert_eq!(m.dialog, Some(Dialog::NewGroup { name: "Sales Ops".into() }), "the newline did not submit");
}

/// C-c during a save asks first; confirmed, it quits saying what the server was told.
#[test]
fn ctrl_c_during_a_save_asks_first_and_then_says_what_is_known() {
    let ctrl_c = || Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    let mut m = ready();
    update(&mut m, key('S'));
    update(&mut m, code(KeyCode::Tab));
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, Msg::SaveProgress(groupmap::service::SaveStage::Saving { version: 3 }));
    update(&mut m, Msg::SaveProgress(groupmap::service::SaveStage::Saved { version: 4, job: Some("j".into()) }));
    assert!(update(&mut m, ctrl_c()).is_empty(), "asks first");
    assert!(matches!(m.dialog, Some(Dialog::Saving { quit_asked: true, .. })));
    update(&mut m, key('n'));
    assert!(matches!(m.dialog, Some(Dialog::Saving { quit_asked: false, .. })), "n keeps waiting");
    update(&mut m, ctrl_c());
    let effects = update(&mut m, key('y'));
    let [Effect::Abandon { message }] = &effects[..] else { panic!("{effects:?}") };
    assert!(message.contains("the mapping was saved as version 4; its job moving users runs on"), "{message}");
    assert!(message.contains("groupmap plan"), "{message}");
}

/// A draft whose edits the table already holds (its session saved, then was killed) is not
/// offered as unsaved: it is removed, and the status says so.
#[test]
fn a_draft_whose_edits_are_already_saved_is_not_offered() {
    let mut m = ready();
    let text = draft_text(&m, B, |d| d.set("sales emea", Target::Group(g("G1"))));
    let Effect::Load { id } = update(&mut m, key('r'))[0] else { panic!() };
    update(&mut m, Msg::Loaded { id, result: Ok(loaded(4, &[("Engineering", "G2"), ("sales emea", "G1")])) });
    let effects = update(&mut m, found(&text));
    assert!(m.dialog.is_none(), "{:?}", m.dialog);
    assert!(matches!(&effects[..], [Effect::DeleteDraftFile { .. }]), "{effects:?}");
    assert!(m.status.as_ref().is_some_and(|(s, _)| s.contains("already has")), "{:?}", m.status);
}

/// A session killed during a save is told of at the next start: what it had done, and the
/// version the table is now.
#[test]
fn a_save_left_in_flight_by_an_ended_session_is_told_at_the_next_start() {
    let mut m = ready();
    let interrupted =
        vec![(60, "the mapping was saved as version 3; its job moving users runs on at the server".into())];
    update(&mut m, Msg::Drafts { drafts: Vec::new(), interrupted });
    let Some(Dialog::Result { message, .. }) = &m.dialog else { panic!("{:?}", m.dialog) };
    assert!(message.contains("ended during a save 60 s ago: the mapping was saved as version 3"), "{message}");
    assert!(message.contains("The table is now version 3."), "{message}");
}

/// Undo on the Fields screen takes back the column choice, not an earlier mapping edit.
#[test]
fn undo_takes_back_a_column_choice_before_an_earlier_edit() {
    let mut m = ready();
    select_value(&mut m, "Sales EMEA");
    select_group(&mut m, "Sales EMEA");
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, key('f'));
    m.columns.selected = m.column_rows().iter().position(|&(_, c)| c == 0).unwrap();
    update(&mut m, key('i'));
    assert_eq!(m.fields().idp_value.as_deref(), Some("Name"), "the Name column is the IdP value now");
    update(&mut m, key('u'));
    assert_eq!(m.fields().idp_value, None, "the column choice is undone");
    assert!(m.mapping.row("Sales EMEA").is_some(), "the earlier edit stays");
    update(&mut m, key('u'));
    assert!(m.mapping.row("Sales EMEA").is_none(), "then the edit");
    update(&mut m, Msg::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL)));
    update(&mut m, Msg::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL)));
    assert_eq!(m.fields().idp_value.as_deref(), Some("Name"), "redo brings the column back");
}

/// Every change says what it did: toggles, the default group, undo and redo.
#[test]
fn every_change_says_what_it_did() {
    let mut m = ready();
    let said = |m: &Model| m.status.as_ref().map(|(s, _)| s.clone()).unwrap_or_default();
    update(&mut m, key('m'));
    assert_eq!(said(&m), "group mapping OFF; u undoes");
    update(&mut m, key('e'));
    assert_eq!(said(&m), "apply to existing users OFF; u undoes");
    update(&mut m, code(KeyCode::Tab));
    select_group(&mut m, "Everyone");
    update(&mut m, key('d'));
    assert_eq!(said(&m), "default group \"Everyone\"; u undoes");
    update(&mut m, key('u'));
    assert_eq!(said(&m), "undid: default group \"Everyone\"");
    update(&mut m, Msg::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL)));
    assert_eq!(said(&m), "redid: default group \"Everyone\"");
    update(&mut m, code(KeyCode::Tab));
    select_value(&mut m, "Sales EMEA");
    update(&mut m, code(KeyCode::Tab));
    select_group(&mut m, "Sales EMEA");
    update(&mut m, code(KeyCode::Tab));
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, key('u'));
    assert_eq!(said(&m), "undid: map \"Sales EMEA\" → \"Sales EMEA\"");
}

// The hand-off (a read-only service: Calendly's API cannot save the table).

fn steps(m: &Model) -> Vec<String> {
    m.handoff.as_ref().unwrap().steps.iter().map(|s| s.text()).collect()
}

fn select_step(m: &mut Model, starts: &str) {
    let h = m.handoff.as_mut().unwrap();
    h.list.selected = h.steps.iter().position(|s| s.text().starts_with(starts)).unwrap();
}

fn said(m: &Model) -> String {
    m.status.as_ref().map(|(s, _)| s.clone()).unwrap_or_default()
}

#[test]
fn s_on_a_read_only_service_opens_the_hand_off_in_the_admin_centers_order() {
    let mut m = read_only_ready();
    let effects = update(&mut m, key('S'));
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(m.dialog, None, "no refusal, no save dialog");
    assert_eq!(m.screen, Screen::Handoff);
    assert_eq!(
        steps(&m),
        [
            "Create the group \"Marketing\" in Calendly first",
            "Go to Admin center → Login → User provisioning",
            "Select Step 2: Map to groups (Optional)",
            "Turn on Mapping attributes (opens the Group Mapping table)",
            "Sales EMEA  →  Sales EMEA",
            "Marketing␣  →  Marketing (new group)",
            "Ops\\u{a0}  →  Engineering",
            "Default group: Everyone",
            "Apply changes to existing users: yes (the choice made here)",
            "Select Preview changes and review them (5 user(s) should move)",
            "Select Save and continue",
        ]
    );
    // The screen's keys are the hand-off's: no filter, no edits while on it.
    update(&mut m, key('/'));
    assert!(said(&m).contains("no filter"), "{}", said(&m));
    update(&mut m, key('u'));
    assert!(said(&m).contains("leave the hand-off (Esc) to change the table"), "{}", said(&m));
}

#[test]
fn enter_ticks_steps_off_and_esc_keeps_them_until_the_table_changes() {
    let mut m = read_only_ready();
    update(&mut m, key('S'));
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, code(KeyCode::Enter));
    let h = m.handoff.as_ref().unwrap();
    assert_eq!(h.ticked[..3], [true, true, false]);
    assert_eq!(h.list.selected, 2, "a tick moves on to the next step");
    assert_eq!(said(&m), "ticked off: 2/11 entered");
    // Enter again on a ticked step unticks it.
    update(&mut m, key('k'));
    update(&mut m, code(KeyCode::Enter));
    assert_eq!(said(&m), "unticked: 1/11 entered");
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, code(KeyCode::Esc));
    assert_eq!(m.screen, Screen::Mapping);
    update(&mut m, key('S'));
    assert_eq!(m.handoff.as_ref().unwrap().entered(), 2, "Esc kept the ticks");
    assert_eq!(said(&m), "hand-off resumed: 2/11 entered");
    // A changed table resets them, and says so.
    update(&mut m, code(KeyCode::Esc));
    select_value(&mut m, "Ops\u{a0}");
    update(&mut m, key('x'));
    update(&mut m, key('S'));
    let h = m.handoff.as_ref().unwrap();
    assert_eq!((h.entered(), h.steps.len()), (0, 10));
    assert!(
        said(&m).contains("the table changed since the hand-off was started: its 2 tick(s) were reset"),
        "{}",
        said(&m)
    );
}

#[test]
fn c_copies_the_selected_value_exactly_with_osc52_and_says_what_it_copied() {
    let mut m = read_only_ready();
    update(&mut m, key('S'));
    select_step(&mut m, "Marketing");
    let effects = update(&mut m, key('c'));
    let [Effect::Clipboard { sequence }] = &effects[..] else { panic!("{effects:?}") };
    // ESC ] 52 ; c ; base64("Marketing ") BEL
    assert_eq!(sequence.as_bytes(), b"\x1b]52;c;TWFya2V0aW5nIA==\x07");
    assert!(
        said(&m).starts_with("copied value \"Marketing␣\" (10 characters) to the clipboard (OSC 52)"),
        "{}",
        said(&m)
    );
    let effects = update(&mut m, key('C'));
    assert!(matches!(&effects[..], [Effect::Clipboard { sequence }] if sequence == "\x1b]52;c;TWFya2V0aW5n\x07"));
    select_step(&mut m, "Ops");
    let effects = update(&mut m, key('c'));
    assert!(matches!(&effects[..], [Effect::Clipboard { sequence }] if sequence == "\x1b]52;c;T3BzwqA=\x07"));
    assert!(said(&m).contains("\"Ops\\u{a0}\" (4 characters)"), "{}", said(&m));
    // A step with nothing to copy says so.
    select_step(&mut m, "Select Save");
    assert!(update(&mut m, key('c')).is_empty());
    assert!(said(&m).contains("nothing") || said(&m).contains("no value"), "{}", said(&m));
}

#[test]
fn w_writes_the_mapping_file_and_the_csv_through_an_effect_and_shows_their_paths() {
    let mut m = read_only_ready();
    update(&mut m, key('S'));
    let effects = update(&mut m, key('w'));
    let [Effect::WriteHandoff { organization, toml, csv }] = &effects[..] else { panic!("{effects:?}") };
    assert_eq!(organization, &format!("{B}/organizations/ORG"));
    assert_eq!(toml, &groupmap::domain::mapping_file::to_toml(m.snap(), &m.mapping));
    assert!(toml.contains("idp_value = \"Marketing \"") && toml.contains("default_group = \"Everyone\""), "{toml}");
    assert_eq!(csv, &groupmap::domain::mapping_file::to_csv(m.snap(), &m.mapping));
    assert!(csv.starts_with("Value in Identity Provider,Calendly group\n"), "{csv}");
    // The file read back is the same table.
    let back = groupmap::domain::mapping_file::MappingFile::parse("h.toml", toml).unwrap().resolve(m.snap()).unwrap();
    assert_eq!(back, m.mapping);
    let dir = "/home/admin/.local/state/groupmap/handoff";
    let (t, c) = (
        format!("{dir}/ORG-0123456789abcdef-20261202T004105Z.toml"),
        format!("{dir}/ORG-0123456789abcdef-20261202T004105Z.csv"),
    );
    update(&mut m, Msg::HandoffWritten(Ok((t.clone().into(), c.clone().into()))));
    assert!(said(&m).contains(&t) && said(&m).contains(&c), "{}", said(&m));
    let lines = groupmap::app::handoff::info_lines(&m, 78);
    assert!(lines.iter().all(|l| l.chars().count() <= 78), "{lines:?}");
    let joined = lines.concat();
    assert!(joined.contains(&t) && joined.contains(&c), "each path in full: {lines:?}");
}

/// A table recorded as saved while a group it names is still missing in Calendly cannot have
/// been entered there: the verification says which group to create first, as a warning.
#[test]
fn verifying_a_table_whose_new_group_calendly_lacks_says_to_create_it() {
    let mut m = read_only_ready();
    update(&mut m, key('S'));
    update(&mut m, key('D'));
    update(&mut m, key('y'));
    let path = std::path::PathBuf::from("/state/groupmap/recorded/ORG-tag/2026-12-02T004105Z.toml");
    update(&mut m, Msg::TableRecorded(Ok(path)));
    let effects = update(&mut m, key('v'));
    let [Effect::Load { id }] = effects[..] else { panic!("{effects:?}") };
    update(&mut m, Msg::Loaded { id, result: Ok(read_only_loaded(false)) });
    let h = m.handoff.as_ref().unwrap();
    let groupmap::app::handoff::Verify::Done { missing, .. } = &h.verify else { panic!("{:?}", h.verify) };
    assert_eq!(missing, &["Marketing"]);
    let (status, warn) = m.status.clone().unwrap();
    assert!(
        warn && status.ends_with(
            "; the table names a group Calendly does not have yet: \"Marketing\" (create it in the admin center first)"
        ),
        "{status}"
    );
    let lines = groupmap::app::handoff::info_lines(&m, 400).concat();
    assert!(
        lines.contains(
            "Verified: the table names a group Calendly does not have yet: \"Marketing\" (create it in the admin \
             center first); 0 user(s) are where the table says"
        ),
        "{lines}"
    );
}

#[test]
fn d_asks_then_records_the_table_deletes_the_draft_and_v_verifies_on_a_reload() {
    let mut m = read_only_ready();
    update(&mut m, key('S'));
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, key('D'));
    assert_eq!(m.dialog, Some(Dialog::ConfirmRecord));
    assert!(update(&mut m, key('n')).is_empty(), "n records nothing");
    assert_eq!(m.dialog, None);
    assert!(update(&mut m, key('v')).is_empty(), "nothing to verify before recording");
    update(&mut m, key('D'));
    let effects = update(&mut m, key('y'));
    let [Effect::RecordTable { organization, toml }] = &effects[..] else { panic!("{effects:?}") };
    assert_eq!(organization, &format!("{B}/organizations/ORG"));
    assert_eq!(toml, &m.handoff.as_ref().unwrap().toml);
    assert!(m.modified(), "not recorded until the store says so");
    let path = std::path::PathBuf::from("/state/groupmap/recorded/ORG-tag/2026-12-02T004105Z.toml");
    let effects = update(&mut m, Msg::TableRecorded(Ok(path.clone())));
    assert!(
        matches!(&effects[..], [Effect::DeleteDraft { organization }] if organization.ends_with("/organizations/ORG"))
    );
    assert!(!m.modified(), "the recorded table is the one entered in Calendly: quitting does not ask");
    assert!(said(&m).contains("v reloads"), "{}", said(&m));
    // Verification: Calendly has placed u0, u1 and u2 (and Marketing was created there).
    let effects = update(&mut m, key('v'));
    let [Effect::Load { id }] = effects[..] else { panic!("{effects:?}") };
    update(&mut m, Msg::Loaded { id, result: Ok(read_only_loaded(true)) });
    let h = m.handoff.as_ref().unwrap();
    assert_eq!(h.verify, groupmap::app::handoff::Verify::Done { placed: 3, not_yet: 2, unmapped: 0, missing: vec![] });
    assert_eq!(h.entered(), 1, "the table is the same (its new group now exists): the ticks stay");
    assert!(said(&m).contains("verified: 3 where the table says, 2 not yet (p lists them)"), "{}", said(&m));
    assert!(!m.modified(), "the reloaded table (Marketing now exists) is still the recorded one");
    // The preview lists who is not yet there.
    update(&mut m, key('p'));
    let text: Vec<String> = m.preview_lines.iter().map(|l| l.text).collect();
    assert!(text.iter().any(|l| l.contains("u3@x.test")) && text.iter().any(|l| l.contains("u5@x.test")), "{text:#?}");
    assert!(!text.iter().any(|l| l.contains("u0@x.test")), "{text:#?}");
}

#[test]
fn a_failed_recording_keeps_everything_and_says_why() {
    let mut m = read_only_ready();
    update(&mut m, key('S'));
    update(&mut m, key('D'));
    update(&mut m, key('y'));
    let effects = update(&mut m, Msg::TableRecorded(Err("/state/groupmap/recorded: Permission denied".into())));
    assert!(effects.is_empty(), "the draft stays: {effects:?}");
    assert!(m.modified());
    assert!(m.status.as_ref().is_some_and(|(s, err)| *err && s.contains("Permission denied")));
}

fn selected_value(m: &Model) -> String {
    m.selected_value().unwrap().value.clone()
}

/// The findings list opens on its key, lists each finding, and Enter on one goes to its value
/// on the Mapping screen, in the values pane, whatever the filter hid.
#[test]
fn the_findings_list_walks_to_a_findings_row() {
    use groupmap::domain::lint::LintKind;
    let mut m = ready();
    // A filter that hides the value the finding is about.
    update(&mut m, key('/'));
    update(&mut m, key('E'));
    update(&mut m, key('n'));
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, code(KeyCode::Tab));
    update(&mut m, key('F'));
    assert_eq!(m.screen, Screen::Findings);
    let near = m.plan.lint.iter().position(|f| f.kind == LintKind::NearDuplicate).expect("Sales EMEA / sales emea");
    while m.findings.filtered.get(m.findings.selected) != Some(near) {
        let was = m.findings.selected;
        update(&mut m, key('j'));
        assert_ne!(m.findings.selected, was, "the near-duplicate is in the list");
    }
    update(&mut m, code(KeyCode::Enter));
    assert_eq!(m.screen, Screen::Mapping);
    assert_eq!(m.focus, Pane::Values);
    assert!(m.values.filter.is_empty(), "the filter that hid it is cleared");
    assert_eq!(selected_value(&m), "Sales EMEA");
    // `!` is the same key; again goes back.
    update(&mut m, key('!'));
    assert_eq!(m.screen, Screen::Findings);
    update(&mut m, key('!'));
    assert_eq!(m.screen, Screen::Mapping);
}

/// The list of every unmapped value opens the unmapped view on Enter.
#[test]
fn enter_on_the_unmapped_values_finding_opens_the_unmapped_view() {
    use groupmap::app::model::ValueView;
    use groupmap::domain::lint::LintKind;
    let mut m = ready();
    update(&mut m, key('F'));
    let i = m.plan.lint.iter().position(|f| f.kind == LintKind::UnmappedValue).unwrap();
    m.findings.selected = m.findings.filtered.position_of(i).unwrap();
    update(&mut m, code(KeyCode::Enter));
    assert_eq!((m.screen, m.value_view), (Screen::Mapping, ValueView::Unmapped));
    assert_eq!(selected_value(&m), "Sales EMEA");
}

/// `]` and `[` select the next and previous value a finding is about, round the list's end,
/// from either pane.
#[test]
fn brackets_step_through_the_values_with_findings() {
    let mut m = ready();
    select_value(&mut m, "Engineering");
    update(&mut m, code(KeyCode::Tab));
    update(&mut m, key(']'));
    assert_eq!((m.focus, selected_value(&m)), (Pane::Values, "Sales EMEA".to_owned()));
    update(&mut m, key(']'));
    assert_eq!(selected_value(&m), "sales emea");
    update(&mut m, key(']'));
    assert_eq!(selected_value(&m), "Sales EMEA", "round the end (Engineering has no finding)");
    update(&mut m, key('['));
    assert_eq!(selected_value(&m), "sales emea");
}

/// `v` cycles the values pane: all, only the unmapped, only those with findings; mapping in
/// the unmapped view moves on to the next unmapped value, not past it.
#[test]
fn the_values_pane_lists_all_unmapped_or_with_findings() {
    use groupmap::app::model::ValueView;
    let mut m = ready();
    let listed = |m: &Model| -> Vec<String> {
        (0..m.values.filtered.len(m.value_entries.len()))
            .map(|p| m.value_entries[m.values.filtered.get(p).unwrap()].value.clone())
            .collect()
    };
    assert_eq!(listed(&m), ["Engineering", "Sales EMEA", "sales emea"]);
    update(&mut m, key('v'));
    assert_eq!(m.value_view, ValueView::Unmapped);
    assert_eq!(listed(&m), ["Sales EMEA", "sales emea"]);
    // A filter applies within the view.
    update(&mut m, key('/'));
    update(&mut m, key('e'));
    assert_eq!(listed(&m).len(), 2);
    assert!(!listed(&m).contains(&"Engineering".to_owned()));
    update(&mut m, code(KeyCode::Esc));
    select_group(&mut m, "Sales EMEA");
    update(&mut m, code(KeyCode::Enter));
    assert_eq!(listed(&m), ["sales emea"]);
    assert_eq!(selected_value(&m), "sales emea", "the next unmapped value is selected, not skipped");
    update(&mut m, key('v'));
    assert_eq!(m.value_view, ValueView::WithFindings);
    assert_eq!(listed(&m), ["Sales EMEA", "sales emea"]);
    update(&mut m, key('v'));
    assert_eq!(m.value_view, ValueView::All);
    assert_eq!(listed(&m).len(), 3);
}

/// Both spellings mapped to one group: the near-duplicate is resolved (a note saying so, not a
/// warning), no longer counted in the footer, and its rows lose the `!` mark's warning.
#[test]
fn a_near_duplicate_mapped_to_one_group_is_resolved() {
    use groupmap::domain::lint::{LintKind, Severity};
    let mut m = ready();
    let before = groupmap::ui::summary(&m);
    let near = |m: &Model| m.plan.lint.iter().find(|f| f.kind == LintKind::NearDuplicate).unwrap().clone();
    assert!(!near(&m).resolved() && near(&m).severity == Severity::Warning);
    select_value(&mut m, "sales emea");
    assert!(
        groupmap::app::notes::marks_explained(&m).unwrap().contains("! differs from \"Sales EMEA\" only by case"),
        "{:?}",
        groupmap::app::notes::marks_explained(&m)
    );
    select_group(&mut m, "Sales EMEA");
    update(&mut m, code(KeyCode::Enter));
    assert!(!near(&m).resolved(), "one spelling mapped: still a warning");
    select_value(&mut m, "Sales EMEA");
    update(&mut m, code(KeyCode::Enter));
    let f = near(&m);
    assert!(f.resolved() && f.severity == Severity::Info, "{f:?}");
    assert!(f.message.ends_with("; resolved: both map to \"Sales EMEA\""), "{}", f.message);
    let count = |s: &str| s.split(" · ").find(|p| p.ends_with("finding(s)")).map(str::to_owned);
    assert_eq!(count(&before).as_deref(), Some("2 finding(s)"), "{before}");
    assert_eq!(count(&groupmap::ui::summary(&m)), None, "no finding left to act on: {}", groupmap::ui::summary(&m));
    select_value(&mut m, "sales emea");
    let note = groupmap::app::notes::marks_explained(&m).unwrap();
    assert!(note.contains("resolved: both map to \"Sales EMEA\"") && !note.starts_with('!'), "{note}");
    // Mapped apart again, it is a warning again.
    select_group(&mut m, "Everyone");
    update(&mut m, code(KeyCode::Enter));
    assert!(!near(&m).resolved());
}

/// On the bundled sandbox the status line says what it is and where its changes are kept,
/// until something else is said there; the selected row's marks come first.
#[test]
fn the_status_line_says_what_the_sandbox_is_and_where_changes_are_kept() {
    use groupmap::app::notes::status_note;
    let mut m = ready();
    assert_eq!(status_note(&m, 80), None, "no path known: nothing said");
    m.sandbox_kept = Some("~/.local/state/groupmap/sandbox-state.json".into());
    let narrow = status_note(&m, 80).unwrap();
    assert!(narrow.chars().count() <= 80 && narrow.contains("~/.local/state/groupmap/sandbox-state.json"), "{narrow}");
    assert!(narrow.starts_with("Sandbox changes are kept in"), "{narrow}");
    let wide = status_note(&m, 200).unwrap();
    assert!(wide.contains("nothing reaches Calendly") && wide.contains("delete it to start over"), "{wide}");
    select_value(&mut m, "sales emea");
    assert!(status_note(&m, 200).unwrap().starts_with("! differs"));
    m.sandbox = false;
    select_value(&mut m, "Engineering");
    assert_eq!(status_note(&m, 200), None, "not the bundled sandbox");
}

/// Clearing a filter (Esc while typing, or Esc after Enter kept it) keeps the selected row
/// selected in the whole list; typing selects the best match.
#[test]
fn clearing_the_filter_keeps_the_selected_row() {
    let mut m = ready();
    update(&mut m, key('/'));
    for c in "sales".chars() {
        update(&mut m, key(c));
    }
    assert_eq!(m.values.selected, 0, "typing selects the best match");
    update(&mut m, code(KeyCode::Down));
    let chosen = selected_value(&m);
    update(&mut m, code(KeyCode::Esc));
    assert!(m.values.filter.is_empty());
    assert_eq!(selected_value(&m), chosen);
    update(&mut m, key('/'));
    update(&mut m, key('s'));
    update(&mut m, code(KeyCode::Down));
    let chosen = selected_value(&m);
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, code(KeyCode::Esc));
    assert!(m.values.filter.is_empty());
    assert_eq!(selected_value(&m), chosen);
}

/// Mapping a value to the group it already maps to changes nothing and says so.
#[test]
fn mapping_to_the_same_group_says_nothing_changed() {
    let mut m = ready();
    select_value(&mut m, "Engineering");
    select_group(&mut m, "Engineering");
    let effects = update(&mut m, code(KeyCode::Enter));
    assert!(effects.is_empty() && m.undo.is_empty());
    assert_eq!(m.status, Some(("\"Engineering\" already maps to \"Engineering\": nothing changed".to_owned(), false)));
}
