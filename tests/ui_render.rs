//! Render snapshots of every screen at 80×24 and 160×48, and style checks.

mod common;

use crossterm::event::KeyCode;
use groupmap::app::Model;
use groupmap::app::model::{Dialog, Phase};
use groupmap::app::update;
use groupmap::ui::theme::Theme;
use groupmap::ui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier};

use common::{code, key, read_only_loaded, read_only_ready, ready};

const COLOR: Theme = Theme { color: true };

fn render(m: &mut Model, w: u16, h: u16, theme: &Theme) -> Terminal<TestBackend> {
    update(m, groupmap::app::Msg::Resize(w, h));
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view(m, f, theme)).unwrap();
    t
}

fn both_sizes(name: &str, m: &mut Model) {
    insta::assert_snapshot!(format!("{name}_80x24"), render(m, 80, 24, &COLOR).backend());
    insta::assert_snapshot!(format!("{name}_160x48"), render(m, 160, 48, &COLOR).backend());
}

#[test]
fn mapping_screen() {
    let mut m = ready();
    both_sizes("mapping", &mut m);
}

#[test]
fn mapping_screen_filtered_with_a_new_group() {
    let mut m = ready();
    update(&mut m, key('/'));
    update(&mut m, key('s'));
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, key('n'));
    for c in "Sales Ops".chars() {
        update(&mut m, key(c));
    }
    update(&mut m, code(KeyCode::Enter));
    both_sizes("mapping_filtered_new_group", &mut m);
}

#[test]
fn mapping_screen_starting_from_the_inferred_table() {
    let (mut m, _) = common::inferred::ready_read_only();
    both_sizes("inferred", &mut m);
    // The selected unmapped value's split, on the status line.
    for _ in 0..3 {
        update(&mut m, key('j'));
    }
    assert_eq!(m.selected_value().map(|v| v.value.as_str()), Some("Sales NA"));
    insta::assert_snapshot!("inferred_split_80x24", render(&mut m, 80, 24, &COLOR).backend());
}

#[test]
fn preview_screen() {
    let mut m = ready();
    update(&mut m, key('p'));
    both_sizes("preview", &mut m);
}

/// On a read-only service the table compared with is the table of record: the footer, the status
/// and the preview say so (never "saved").
#[test]
fn read_only_with_a_table_of_record() {
    let mut m = common::ready_with(common::loaded_recorded());
    insta::assert_snapshot!("read_only_recorded_mapping_80x24", render(&mut m, 80, 24, &COLOR).backend());
    update(&mut m, key('m'));
    update(&mut m, key('p'));
    insta::assert_snapshot!("read_only_recorded_preview_160x48", render(&mut m, 160, 48, &COLOR).backend());
}

/// Without a table of record the footer says there is nothing to compare with.
#[test]
fn read_only_without_a_table_of_record() {
    let mut org = groupmap::engine::Organization::clone(&common::loaded_recorded());
    org.recorded = None;
    let mut m = common::ready_with(std::sync::Arc::new(org));
    let t = render(&mut m, 80, 24, &COLOR);
    let footer: String = (0..80).map(|x| t.backend().buffer()[(x, 22)].symbol().to_owned()).collect();
    assert!(footer.starts_with("no table of record mapping OFF"), "{footer:?}");
    update(&mut m, key('p'));
    let t = render(&mut m, 160, 48, &COLOR);
    let screen: String = t.backend().buffer().content().iter().map(|c| c.symbol()).collect();
    assert!(screen.contains("Mapping table: not compared with a saved one"), "{screen}");
    assert!(!screen.contains("saved v") && !screen.contains("against the saved table"), "{screen}");
}

#[test]
fn help_overlay() {
    let mut m = ready();
    update(&mut m, key('?'));
    both_sizes("help", &mut m);
}

#[test]
fn confirm_save_dialog() {
    let mut m = ready();
    update(&mut m, key('S'));
    both_sizes("confirm", &mut m);
}

#[test]
fn save_progress_dialog() {
    let mut m = ready();
    m.dialog = Some(Dialog::Saving {
        stages: vec![
            groupmap::service::SaveStage::Saving { version: 3 },
            groupmap::service::SaveStage::Saved { version: 4, job: Some("job".into()) },
        ],
        job: Some((120, 1, 300)),
        elapsed_ms: 2300,
        quit_asked: false,
    });
    both_sizes("progress", &mut m);
}

#[test]
fn load_error_screen() {
    let mut m = Model::new(false, Default::default());
    m.phase = Phase::Failed {
        message: "GET /groups: 403 Permission Denied: You do not have permission\n  (the token's user must be an admin or owner of the organization)".into(),
    };
    both_sizes("error", &mut m);
}

#[test]
fn loading_screen() {
    use groupmap::service::LoadStatus;
    use groupmap::service::loading::{RateWindow, Read};
    use std::time::Duration;
    let mut m = Model::new(true, Default::default());
    // Before the totals are known: counts only.
    let counting = LoadStatus {
        members: Read { rows: 300, done: false },
        groups: Read { rows: 13, done: true },
        pages: 4,
        elapsed: Duration::from_secs(1),
        ..LoadStatus::default()
    };
    m.phase = Phase::Loading { id: 1, status: counting };
    insta::assert_snapshot!("loading_80x24", render(&mut m, 80, 24, &COLOR).backend());
    // A long load under the rate limit: the gauge, the counts against the totals, the time left.
    let long = LoadStatus {
        members: Read { rows: 20_000, done: false },
        invitations: Read { rows: 0, done: false },
        groups: Read { rows: 500, done: true },
        relationships: Read { rows: 10_000, done: false },
        idp_users: Read::default(),
        users_total: Some(100_000),
        relationships_total: Some(100_000),
        pages: 305,
        elapsed: Duration::from_secs(40),
        rate: Some(RateWindow {
            limit: 500,
            remaining: 0,
            reset_in: Duration::from_secs(20),
            window: Duration::from_secs(60),
        }),
    };
    m.phase = Phase::Loading { id: 1, status: long };
    insta::assert_snapshot!("loading_gauge_80x24", render(&mut m, 80, 24, &COLOR).backend());
}

#[test]
fn too_small_screen() {
    let mut m = ready();
    insta::assert_snapshot!("too_small_79x23", render(&mut m, 79, 23, &COLOR).backend());
}

#[test]
fn selection_is_reverse_video_not_colour_alone() {
    let mut m = ready();
    let t = render(&mut m, 80, 24, &COLOR);
    let buf = t.backend().buffer();
    // Row 4 is the first value row of the left pane; the selected row is reversed and marked.
    assert_eq!(buf[(1, 4)].symbol(), "›");
    assert!(buf[(3, 4)].modifier.contains(Modifier::REVERSED));
    assert!(!buf[(3, 5)].modifier.contains(Modifier::REVERSED));
}

#[test]
fn no_color_theme_uses_no_colours() {
    let mut m = ready();
    update(&mut m, key('p'));
    let t = render(&mut m, 160, 48, &Theme { color: false });
    let buf = t.backend().buffer();
    for cell in buf.content() {
        assert!(cell.fg == Color::Reset && cell.bg == Color::Reset, "colour at {:?}", cell);
    }
}

#[test]
fn hostile_text_is_shown_escaped() {
    let mut m = ready();
    let mut org = (**m.org().unwrap()).clone();
    org.directory.groups[0].name = "Evil\u{1b}[2J\u{202e}Group".into();
    let fields = m.fields().clone();
    m.set_loaded(std::sync::Arc::new(org), fields).unwrap();
    groupmap::app::update::recompute(&mut m);
    let t = render(&mut m, 160, 48, &COLOR);
    let text: String = t.backend().buffer().content().iter().map(|c| c.symbol()).collect();
    assert!(text.contains("Evil\\u{1b}[2J\\u{202e}Group"), "escaped name shown");
    assert!(!text.contains('\u{1b}') && !text.contains('\u{202e}'));
}

#[test]
fn help_lists_every_binding() {
    let mut m = ready();
    update(&mut m, key('?'));
    let t = render(&mut m, 160, 130, &COLOR);
    let text: String = t.backend().buffer().content().iter().map(|c| c.symbol()).collect();
    for b in groupmap::app::keymap::BINDINGS {
        assert!(text.contains(b.help), "help lacks {:?}", b.help);
    }
}

/// While a name is typed, the new-group dialog says what Enter will do with it.
#[test]
fn new_group_dialog_says_whether_the_name_is_an_existing_group() {
    let screen_of = |mut m: Model, name: &str| {
        update(&mut m, key('n'));
        for c in name.chars() {
            update(&mut m, key(c));
        }
        let t = render(&mut m, 160, 48, &COLOR);
        let buf = t.backend().buffer();
        (0..48).map(|y| (0..160).map(|x| buf[(x, y)].symbol()).collect::<String>()).collect::<Vec<_>>().join("\n")
    };
    let screen = |name: &str| screen_of(ready(), name);
    assert!(screen("engineering ").contains("That is the existing group \"Engineering\"."));
    assert!(screen("Evryone").contains("A new group (created on save); like the existing group \"Everyone\"."));
    assert!(screen("Sales Ops").contains("A new group: created on save."));
    // A read-only service (Calendly's API) creates nothing: the admin does, in the admin center.
    let read_only = screen_of(read_only_ready(), "Sales Ops");
    assert!(read_only.contains("A new group: create it in Calendly's admin center first."), "{read_only}");
    assert!(!read_only.contains("save"), "{read_only}");
}

/// While a filter is typed, the footer names the keys that work then, not the screen's letters
/// (which are typed as text).
#[test]
fn the_footer_fits_the_moment_while_typing_a_filter() {
    let mut m = ready();
    update(&mut m, key('/'));
    let t = render(&mut m, 80, 24, &COLOR);
    let last: String = (0..80).map(|x| t.backend().buffer()[(x, 23)].symbol().to_owned()).collect();
    assert!(last.contains("Enter keeps the filter") && last.contains("Esc clears it"), "{last}");
    assert!(!last.contains("q quit") && !last.contains("x unmap"), "{last}");
}

/// Focus is told by a mark in the title, not by colour alone, and moves with Tab.
#[test]
fn the_focused_pane_is_marked_in_its_title() {
    let mut m = ready();
    let screen = |m: &mut Model| -> String {
        let t = render(m, 160, 48, &Theme { color: false });
        t.backend().buffer().content().iter().map(|c| c.symbol()).collect()
    };
    let s = screen(&mut m);
    assert!(s.contains("▶ IdP values") && !s.contains("▶ Calendly groups"));
    update(&mut m, code(crossterm::event::KeyCode::Tab));
    let s = screen(&mut m);
    assert!(s.contains("▶ Calendly groups") && !s.contains("▶ IdP values"));
}

/// The hand-off at 80×24: the steps with ticks, values with their hidden spaces shown, the
/// files' paths in full (wrapped, never cut), then the record and its verification.
#[test]
fn hand_off_screen() {
    let mut m = read_only_ready();
    update(&mut m, key('S'));
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, code(KeyCode::Enter));
    insta::assert_snapshot!("handoff_80x24", render(&mut m, 80, 24, &COLOR).backend());
    let dir = "/home/admin/.local/state/groupmap/handoff/ORG-0123456789abcdef-20261202T004105Z";
    update(&mut m, groupmap::app::Msg::HandoffWritten(Ok((format!("{dir}.toml").into(), format!("{dir}.csv").into()))));
    update(&mut m, key('j'));
    update(&mut m, key('c'));
    insta::assert_snapshot!("handoff_written_80x24", render(&mut m, 80, 24, &COLOR).backend());
    update(&mut m, key('D'));
    insta::assert_snapshot!("handoff_record_80x24", render(&mut m, 80, 24, &COLOR).backend());
    update(&mut m, key('y'));
    let path = "/home/admin/.local/state/groupmap/recorded/ORG-0123456789abcdef/2026-12-02T004105Z.toml";
    update(&mut m, groupmap::app::Msg::TableRecorded(Ok(path.into())));
    let effects = update(&mut m, key('v'));
    let [groupmap::app::Effect::Load { id }] = effects[..] else { panic!("{effects:?}") };
    // The engine's reload brings the table just recorded, as the table of record.
    let mut reloaded = (*read_only_loaded(true)).clone();
    let at = time::macros::datetime!(2026-12-02 00:41:05 UTC);
    let groups_now = reloaded.snapshot(m.fields()).unwrap();
    let (as_resolved, _) = groups_now.adopt_new_groups(&m.mapping);
    reloaded.recorded = Some(groupmap::domain::SavedMapping::recorded(as_resolved, at, path.into()));
    update(&mut m, groupmap::app::Msg::Loaded { id, result: Ok(std::sync::Arc::new(reloaded)) });
    assert!(!m.modified(), "the recorded table is what the edits are compared with now");
    insta::assert_snapshot!("handoff_verified_80x24", render(&mut m, 80, 24, &COLOR).backend());
}

fn screen_text(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    let (w, h) = (buf.area.width, buf.area.height);
    (0..h).map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>()).collect::<Vec<_>>().join("\n")
}

#[test]
fn findings_screen() {
    let mut m = ready();
    update(&mut m, key('F'));
    both_sizes("findings", &mut m);
}

/// A near-duplicate mapped to one group is listed as resolved, and the footer stops counting it.
#[test]
fn findings_screen_with_a_resolved_near_duplicate() {
    let mut m = ready();
    for v in ["Sales EMEA", "sales emea"] {
        let pos = m.value_entries.iter().position(|e| e.value == v).unwrap();
        m.values.selected = m.values.filtered.position_of(pos).unwrap();
        let g = m.group_entries.iter().position(|e| m.group_entry_name(e) == "Sales EMEA").unwrap();
        m.groups.selected = m.groups.filtered.position_of(g).unwrap();
        update(&mut m, code(KeyCode::Enter));
    }
    update(&mut m, key('F'));
    let t = render(&mut m, 160, 48, &COLOR);
    let s = screen_text(&t);
    assert!(s.contains("resolved") && s.contains("resolved: both map to \"Sales EMEA\""), "{s}");
    assert!(!s.contains("finding(s)"), "the footer counts none:\n{s}");
    insta::assert_snapshot!("findings_resolved_160x48", t.backend());
}

/// `v`: the pane's title says which values it lists and how many of all.
#[test]
fn mapping_screen_unmapped_view() {
    let mut m = ready();
    update(&mut m, key('v'));
    let t = render(&mut m, 80, 24, &COLOR);
    assert!(screen_text(&t).contains("▶ IdP values · unmapped (2 of 3)"), "{}", screen_text(&t));
    both_sizes("mapping_unmapped", &mut m);
}

/// The selected row's marks are explained on the status line; on the sandbox, with nothing
/// else to say, the status line says what it is.
#[test]
fn the_status_line_explains_marks_and_the_sandbox() {
    let mut m = ready();
    m.status = None;
    m.sandbox_kept = Some("~/.local/state/groupmap/sandbox-state.json".into());
    let t = render(&mut m, 80, 24, &COLOR);
    let status: String = (0..80).map(|x| t.backend().buffer()[(x, 21)].symbol().to_owned()).collect();
    assert!(status.contains("Sandbox") && status.contains("~/.local/state/groupmap/sandbox-state.json"), "{status}");
    insta::assert_snapshot!("mapping_sandbox_note_80x24", t.backend());
    update(&mut m, key('j'));
    update(&mut m, key('j'));
    let t = render(&mut m, 80, 24, &COLOR);
    let status: String = (0..80).map(|x| t.backend().buffer()[(x, 21)].symbol().to_owned()).collect();
    assert!(status.starts_with("! differs from \"Sales EMEA\" only by case"), "{status}");
}

/// Filter matches are bold and underlined, also without colour; weak matches are left out.
#[test]
fn filter_matches_are_marked_without_colour() {
    let mut m = ready();
    update(&mut m, code(KeyCode::Tab));
    update(&mut m, key('/'));
    for c in "eng".chars() {
        update(&mut m, key(c));
    }
    let t = render(&mut m, 80, 24, &Theme { color: false });
    let buf = t.backend().buffer();
    let s = screen_text(&t);
    assert!(s.contains("Calendly groups (1 of 3)"), "{s}");
    // The right pane's first row: "Engineering", its first three letters marked.
    let row = 4;
    let x = (0..80).find(|&x| buf[(x, row)].symbol() == "E" && x > 44).expect("Engineering in the right pane");
    for dx in 0..3 {
        let cell = &buf[(x + dx, row)];
        assert!(cell.modifier.contains(Modifier::BOLD | Modifier::UNDERLINED), "{cell:?}");
        assert_eq!(cell.fg, Color::Reset);
    }
    assert!(!buf[(x + 3, row)].modifier.contains(Modifier::UNDERLINED));
}
