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
        .owners()
        .filter(|o| o.value.is_some_and(|v| snap.value(v) == "eng-platform"))
        .map(|o| o.email.to_owned())
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

/// A whole hand-off at 80×24 against a read-only server (as Calendly's API: no mapping endpoint)
/// with hand-written admin-center exports: open it, copy a value (OSC 52 into tmux's buffer),
/// tick every step, write the files, record the table, and verify after Calendly applied it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_hand_off_to_the_admin_center_at_80x24() {
    use groupmap::domain::OwnerKind;
    let sb = Sandbox::start(Options { read_only: true, job_step: Duration::from_millis(1), ..Options::default() })
        .await
        .unwrap();
    let snap = sb.snapshot();
    let members: Vec<String> =
        snap.owners().filter(|o| o.kind == OwnerKind::Member).take(4).map(|o| o.email.to_owned()).collect();
    let invitee = snap.owners().find(|o| o.kind == OwnerKind::Invitee).map(|o| o.email.to_owned()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let head = "Name,Login email,Role,Calendly link,Identity Provider Group,Group\r\n";
    let row = |email: &str, value: &str| format!("Someone,{email},user,https://calendly.com/x,{value},\r\n");
    let active = dir.path().join("active.csv");
    let values = ["Sales EMEA", "Sales EMEA", "Marketing ", "Ops\u{a0}"];
    let body: String = members.iter().zip(values).map(|(e, v)| row(e, v)).collect();
    std::fs::write(&active, format!("{head}{body}")).unwrap();
    let pending = dir.path().join("pending.csv");
    std::fs::write(&pending, format!("{head}{}", row(&invitee, ""))).unwrap();
    let mapping = dir.path().join("m.toml");
    std::fs::write(
        &mapping,
        "enabled = true\n\n[[rows]]\nidp_value = \"Sales EMEA\"\ngroup = \"Sales EMEA\"\n\n[[rows]]\n\
         idp_value = \"Marketing \"\ngroup = \"Marketing\"\n\n[[rows]]\nidp_value = \"Ops\u{a0}\"\ngroup = \"Platform Guild\"\n",
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_groupmap");
    let cmd = format!(
        "{bin} --users-csv {} --users-csv {} tui --mapping {}",
        active.display(),
        pending.display(),
        mapping.display()
    );
    let t = Tmux::start_sized("handoff", &cmd, &env(&sb, dir.path(), &[]), (80, 24));
    // OSC 52 from a program reaches tmux's buffers (and the outer terminal) only with this.
    t.tmux(&["set", "-g", "set-clipboard", "on"]);
    let state = dir.path().join("state").join("groupmap");
    let t = tokio::task::spawn_blocking(move || {
        let s = t.wait_for("[READ-ONLY]");
        assert!(s.contains("started from"), "{s}");
        t.literal("S");
        let s = t.wait_for("Hand-off to Calendly's admin center: 0/11 entered");
        assert!(s.contains("Create the group \"Platform Guild\" in Calendly first"), "{s}");
        assert!(s.contains("Go to Admin center → Login → User provisioning"), "{s}");
        assert!(s.contains("Select Step 2: Map to groups (Optional)"), "{s}");
        assert!(s.contains("Marketing␣  →  Marketing"), "the trailing space is shown: {s}");
        assert!(s.contains("Ops\\u{a0}  →  Platform Guild (new group)"), "the NBSP is shown: {s}");
        // Copy the value with the trailing space: it lands exactly, space included.
        t.literal("jjjjj");
        t.literal("c");
        t.wait_for("copied value \"Marketing␣\" (10 characters) to the clipboard (OSC 52)");
        let start = std::time::Instant::now();
        while t.tmux(&["show-buffer"]) != "Marketing " {
            assert!(start.elapsed() < Duration::from_secs(10), "buffer: {:?}", t.tmux(&["show-buffer"]));
            std::thread::sleep(Duration::from_millis(100));
        }
        // Tick every step off.
        t.literal("g");
        for _ in 0..11 {
            t.keys(&["Enter"]);
        }
        t.wait_for("11/11 entered");
        // The files, written owner-only, named in full on screen.
        t.literal("w");
        let s = t.wait_for("Written (owner-only):");
        let files: Vec<std::path::PathBuf> =
            std::fs::read_dir(state.join("handoff")).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(files.len(), 2, "{files:?}");
        let toml = files.iter().find(|p| p.extension().unwrap() == "toml").unwrap();
        let csv = files.iter().find(|p| p.extension().unwrap() == "csv").unwrap();
        let unwrapped: String =
            s.lines().map(|l| l.trim_end().trim_start_matches('│').trim_end_matches('│')).collect::<Vec<_>>().concat();
        for p in [toml, csv] {
            assert!(unwrapped.contains(&p.display().to_string()), "{} in full on screen:\n{s}", p.display());
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(p).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let text = std::fs::read_to_string(toml).unwrap();
        for line in [
            "idp_value = \"Sales EMEA\"",
            "idp_value = \"Marketing \"",
            "idp_value = \"Ops\u{a0}\"",
            "group = \"Platform Guild\"",
        ] {
            assert!(text.contains(line), "{line} in\n{text}");
        }
        let rows: Vec<Vec<String>> = csv::Reader::from_path(csv)
            .unwrap()
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        assert_eq!(
            rows,
            [["Sales EMEA", "Sales EMEA"], ["Marketing ", "Marketing"], ["Ops\u{a0}", "Platform Guild"]],
            "the admin-center CSV, values exact"
        );
        let drafts = state.join("drafts");
        let count = |d: &std::path::Path| {
            std::fs::read_dir(d).map_or(0, |r| r.flat_map(|o| std::fs::read_dir(o.unwrap().path()).unwrap()).count())
        };
        assert_eq!(count(&drafts), 1, "the edits from the file are in this session's draft");
        // Saved in Calendly: record it.
        t.literal("D");
        t.wait_for("Saved in Calendly?");
        t.literal("y");
        t.wait_for("Recorded as the table of record:");
        let recorded: Vec<_> = std::fs::read_dir(state.join("recorded")).unwrap().collect();
        assert_eq!(recorded.len(), 1);
        let of_org = recorded.into_iter().next().unwrap().unwrap().path();
        let file = std::fs::read_dir(of_org).unwrap().next().unwrap().unwrap().path();
        let recorded = std::fs::read_to_string(file).unwrap();
        assert!(recorded.starts_with("# groupmap table of record, recorded "), "{recorded}");
        assert!(recorded.contains("idp_value = \"Marketing \""), "{recorded}");
        assert_eq!(count(&drafts), 0, "recording deletes this session's draft, as a save would");
        t
    })
    .await
    .unwrap();
    // Calendly applies the table: the group is created and three of the four are placed.
    sb.add_group("Platform Guild");
    sb.move_member(&members[0], "Sales EMEA");
    sb.move_member(&members[1], "Sales EMEA");
    sb.move_member(&members[2], "Marketing");
    tokio::task::spawn_blocking(move || {
        t.literal("v");
        let s = t.wait_for("verified: 3 where the table says, 1 not yet");
        assert!(s.contains("Verified: 3 user(s) are where the table says; 1 not yet"), "{s}");
        t.literal("p");
        t.literal(&format!("/{}", members[3]));
        let s = t.wait_for("(1/1 lines)");
        assert!(s.contains(&members[3]) && s.contains("→ Platform Gui"), "the one not yet placed is listed:\n{s}");
        t.keys(&["Escape", "Escape"]);
        t.literal("q");
    })
    .await
    .unwrap();
    sb.shutdown().await;
}

/// With `GROUPMAP_LOG=debug` the editor logs each request to an owner-only file, never to the
/// screen, and names the file on exit; a load under a tight rate limit shows its gauge meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_editor_logs_requests_to_a_private_file_and_shows_the_load_s_gauge() {
    let opts = Options {
        users: Some(1500),
        rate_limit: 10,
        rate_window: Duration::from_secs(2),
        job_step: Duration::from_millis(1),
        ..Options::default()
    };
    let sb = Sandbox::start(opts).await.unwrap();
    let token = sb.token().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_groupmap");
    let e = env(&sb, dir.path(), &[("GROUPMAP_LOG", "debug")]);
    let t = Tmux::start("log", &format!("{bin} tui; echo EXITED; sleep 60"), &e);
    let logs = dir.path().join("state").join("groupmap").join("log");
    let screen = tokio::task::spawn_blocking(move || {
        let gauge = t.wait_for(" rows  ");
        assert!(gauge.contains("Loading the organization"), "{gauge}");
        t.wait_for("IdP values");
        t.literal("q");
        let s = t.wait_for("EXITED");
        assert!(!s.contains("groupmap::http"), "the log never reaches the screen: {s}");
        (gauge, s)
    })
    .await
    .unwrap();
    let (gauge, exit) = screen;
    assert!(gauge.contains(" % · ") && gauge.contains(" of ") && gauge.contains("group relationships "), "{gauge}");
    assert!(gauge.contains(" pages in ") && gauge.contains("rate limit: "), "{gauge}");
    let files: Vec<_> = std::fs::read_dir(&logs).unwrap().map(|f| f.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let path = &files[0];
    assert!(exit.replace('\n', "").contains(&format!("The request log is in {}", path.display())), "{exit}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(path).unwrap().permissions().mode() & 0o777, 0o600);
    let log = std::fs::read_to_string(path).unwrap();
    let answers = log.lines().filter(|l| l.contains(" groupmap::http: answer method=GET ")).count();
    assert!(answers as u64 >= sb.requests() - 1 && answers > 20, "{answers} of {} requests: {log}", sb.requests());
    assert!(log.contains(" rate_limit=10 rate_remaining="), "{log}");
    assert!(!log.contains(&token), "the token is never logged");
    assert!(!log.to_ascii_lowercase().contains("bearer"), "nor its header: {log}");
    assert_eq!(sb.rate_limited(), 0, "paced: no 429");
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
