//! The real binary in a real terminal (tmux): keys in, screen out, against the sandbox.

use std::time::Duration;

use groupmap::sandbox::{Options, Sandbox};

mod common;
use common::tmux::{Tmux, env};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_map_preview_and_save_moves_users_on_the_server() {
    let sb = Sandbox::start(Options { job_step: Duration::from_millis(1), ..Options::default() }).await.unwrap();
    let snap = sb.snapshot();
    let movers: Vec<String> = snap
        .owners
        .iter()
        .filter(|o| o.value.is_some_and(|v| snap.value(v) == "eng-platform"))
        .map(|o| o.email.clone())
        .collect();
    assert!(!movers.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_groupmap");
    let t = Tmux::start("save", &format!("{bin} tui"), &env(&sb, dir.path(), &[]));
    tokio::task::spawn_blocking(move || {
        t.wait_for("IdP values");
        t.map("eng-platform", "Engineering");
        t.literal("p");
        t.wait_for("Preview");
        t.literal("/eng-platform");
        let s = t.wait_for("→ Engineering");
        assert!(s.contains("\"eng-platform\""), "{s}");
        t.keys(&["Escape", "Escape"]);
        t.literal("S");
        t.wait_for("[ Cancel ]");
        t.keys(&["Tab", "Enter"]);
        let s = t.wait_for("Saved");
        assert!(s.contains("Verified"), "{s}");
        t.literal("x");
        t.literal("q");
    })
    .await
    .unwrap();
    for email in &movers {
        assert_eq!(sb.member_group_of(email).as_deref(), Some("Engineering"), "{email} moved");
    }
    sb.shutdown().await;
}

/// Two editors on one organization each keep their own draft: one saving does not delete the
/// other's, and a later session is offered the killed editor's draft listing only its own edit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_editors_keep_their_own_drafts_and_a_save_deletes_only_its_own() {
    let sb = Sandbox::start(Options { job_step: Duration::from_millis(1), ..Options::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_groupmap");
    let marker = dir.path().join("b-marker.toml");
    std::fs::write(&marker, "").unwrap();
    let marker = marker.display().to_string();
    let e = env(&sb, dir.path(), &[]);
    let a = Tmux::start("editor-a", &format!("{bin} tui"), &e);
    let b = Tmux::start("editor-b", &format!("{bin} --config {marker} tui; sleep 60"), &e);
    let drafts = dir.path().join("state").join("groupmap").join("drafts");
    tokio::task::spawn_blocking(move || {
        a.wait_for("IdP values");
        b.wait_for("IdP values");
        a.map("eng-platform", "Engineering");
        b.map("Interns", "Recruiting");
        let files = |dir: &std::path::Path| -> Vec<String> {
            let mut out = Vec::new();
            for org in std::fs::read_dir(dir).unwrap() {
                for f in std::fs::read_dir(org.unwrap().path()).unwrap() {
                    out.push(std::fs::read_to_string(f.unwrap().path()).unwrap());
                }
            }
            out
        };
        let both = files(&drafts);
        assert_eq!(both.len(), 2, "one draft per editor");
        assert!(both.iter().any(|d| d.contains("eng-platform")) && both.iter().any(|d| d.contains("Interns")));
        a.literal("S");
        a.wait_for("[ Cancel ]");
        a.keys(&["Tab", "Enter"]);
        a.wait_for("Verified");
        let left = files(&drafts);
        assert_eq!(left.len(), 1, "A's save deleted A's draft only");
        assert!(left[0].contains("Interns") && !left[0].contains("eng-platform"), "{left:?}");
        let pid = common::tmux::find_pid(&marker).expect("editor B");
        assert!(std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap().success());
        a.literal("x");
        a.literal("q");
        // A new session is offered B's draft, with B's edit only (A's saved row is not "B's edit").
        let c = Tmux::start("editor-c", &format!("{bin} tui"), &e);
        let s = c.wait_for("Unsaved draft");
        assert!(s.contains("+ Interns → Recruiting"), "{s}");
        assert!(!s.contains("+ eng-platform"), "A's saved row is not listed as B's edit:\n{s}");
        c.literal("y");
        let s = c.wait_for("restored the draft");
        assert!(s.contains("made on 3"), "B's draft was made before A saved version 4:\n{s}");
        drop(c);
        drop(b);
    })
    .await
    .unwrap();
    sb.shutdown().await;
}

/// Through a real terminal: bracketed paste delivers text to the filter, not keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paste_in_the_terminal_is_text_for_the_filter() {
    let sb = Sandbox::start(Options { job_step: Duration::from_millis(1), ..Options::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_groupmap");
    let t = Tmux::start("paste", &format!("{bin} tui"), &env(&sb, dir.path(), &[]));
    tokio::task::spawn_blocking(move || {
        t.wait_for("IdP values");
        t.literal("/");
        t.paste("Sales\rmx");
        let s = t.wait_for("Sales mx");
        assert!(s.contains("mapping ON"), "m did not turn mapping off:\n{s}");
        t.keys(&["Escape"]);
        t.literal("q");
    })
    .await
    .unwrap();
    sb.shutdown().await;
}

/// An editor killed during a save: the next start says what that save had done, instead of
/// offering its edits as an unsaved draft.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_killed_during_a_save_is_told_of_at_the_next_start() {
    let sb = Sandbox::start(Options { job_step: Duration::from_millis(500), ..Options::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_groupmap");
    let marker = dir.path().join("k-marker.toml");
    std::fs::write(&marker, "").unwrap();
    let marker = marker.display().to_string();
    let e = env(&sb, dir.path(), &[]);
    let a = Tmux::start("killed-save", &format!("{bin} --config {marker} tui; sleep 60"), &e);
    tokio::task::spawn_blocking(move || {
        a.wait_for("IdP values");
        a.map("eng-platform", "Engineering");
        a.literal("S");
        a.wait_for("[ Cancel ]");
        a.keys(&["Tab", "Enter"]);
        a.wait_for("saved as version 4");
        let pid = common::tmux::find_pid(&marker).expect("the editor");
        assert!(std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap().success());
        let b = Tmux::start("after-kill", &format!("{bin} tui"), &e);
        let s = b.wait_for("ended during a save");
        assert!(s.contains("the mapping was saved as") && s.contains("version 4; its job moving users"), "{s}");
        assert!(!s.contains("Unsaved draft"), "its edits are in the table, not offered again:\n{s}");
        drop(b);
        drop(a);
    })
    .await
    .unwrap();
    sb.shutdown().await;
}

/// At 80×24 as a new user: the findings list opens on its key, moves, and Enter goes to the
/// finding's row with the mark explained; `v` lists only the unmapped values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_findings_list_and_the_unmapped_view_at_80x24() {
    let sb = Sandbox::start(Options { job_step: Duration::from_millis(1), ..Options::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_groupmap");
    let t = Tmux::start_sized("findings", &format!("{bin} tui"), &env(&sb, dir.path(), &[]), (80, 24));
    tokio::task::spawn_blocking(move || {
        t.wait_for("IdP values");
        t.literal("F");
        let s = t.wait_for("Findings:");
        let selected = |s: &str| s.lines().find(|l| l.starts_with("│› ")).unwrap_or_default().to_owned();
        // Moving changes the finding shown in full below the list.
        let first = selected(&s);
        // The screen is redrawn after the key is read: wait for it as `wait_for` does.
        let until = |f: &dyn Fn(&str) -> bool, what: &str| {
            let start = std::time::Instant::now();
            while !f(&t.screen()) {
                assert!(start.elapsed() < Duration::from_secs(30), "{what}:\n{}", t.screen());
                std::thread::sleep(Duration::from_millis(100));
            }
        };
        t.literal("j");
        until(&|s| selected(s) != first, "j moves in the list");
        t.literal("g");
        until(&|s| selected(s) == first, "g goes back to the top");
        let mut moves = 0;
        loop {
            let s = t.screen();
            if selected(&s).contains("\"Marketing\", \"Marketing \"") {
                assert!(s.contains("What to do: "), "the selected finding in full:\n{s}");
                break;
            }
            assert!(moves < 30, "the Marketing near-duplicate is in the list:\n{s}");
            t.literal("j");
            moves += 1;
        }
        t.keys(&["Enter"]);
        let s = t.wait_for("▶ IdP values");
        let row = selected(&s.replace("│›!", "│› !"));
        assert!(row.starts_with("│› ! Marketing"), "Enter went to the finding's value:\n{s}");
        assert!(s.contains("! differs from \"Marketing"), "the status line explains the mark:\n{s}");
        t.literal("v");
        let s = t.wait_for("IdP values · unmapped (");
        let rows: Vec<&str> =
            s.lines().skip(4).take(17).filter(|l| l.starts_with('│') && l.contains("unmapped")).collect();
        assert!(!rows.is_empty(), "{s}");
        assert!(!s.contains("→ Engineering  "), "a mapped value is not listed:\n{s}");
        t.literal("q");
    })
    .await
    .unwrap();
    sb.shutdown().await;
}
