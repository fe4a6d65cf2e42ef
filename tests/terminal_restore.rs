//! The terminal is given back as it was, in a real terminal (tmux): after a normal exit, an error
//! exit, a panic, SIGHUP and SIGTERM, the shell that started groupmap is on the normal screen,
//! in cooked mode with echo, with the cursor shown and mouse reporting off. The error and panic
//! exits are provoked by the test hook `GROUPMAP_TEST_FAIL_AFTER_DRAW` (src/debug_seam.rs). And
//! SIGKILL, which nothing can catch, still leaves the draft with the edits on disk.

use std::process::Command;
use std::time::{Duration, Instant};

use groupmap::sandbox::{Options, Sandbox};

mod common;
use common::tmux::{Tmux, env, find_pid};

enum End {
    Quit,
    Signal(&'static str),
    Hook,
}

/// Runs the editor in tmux, ends it as told, and checks the terminal afterwards; returns the
/// screen after the exit.
fn run_and_end(
    sb: &Sandbox,
    name: &str,
    extra_env: &[(&'static str, &str)],
    args: &str,
    end: End,
    code: i32,
) -> String {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("marker.toml");
    std::fs::write(&marker, "").unwrap();
    let marker = marker.display().to_string();
    let bin = env!("CARGO_BIN_EXE_groupmap");
    let cmd = format!(
        "{bin} --config {marker} tui {args}; echo EXIT=$?; stty -a | tr ' ' '\\n' | grep -x -e icanon -e -icanon -e echo -e -echo; sleep 60"
    );
    let t = Tmux::start(name, &cmd, &env(sb, dir.path(), extra_env));
    match end {
        End::Quit => {
            t.wait_for("IdP values");
            t.literal("q");
        }
        End::Signal(sig) => {
            t.wait_for("IdP values");
            let pid = find_pid(&marker).expect("the groupmap process");
            assert!(Command::new("kill").args([&format!("-{sig}"), &pid.to_string()]).status().unwrap().success());
        }
        End::Hook => {}
    }
    let s = t.wait_for("EXIT=");
    assert!(s.contains(&format!("EXIT={code}")), "{name}: exit code {code} expected:\n{s}");
    assert!(!s.contains("IdP values"), "{name}: the editor's screen is left:\n{s}");
    let tail = t.wait_for("echo");
    let lines: Vec<&str> = tail.lines().map(str::trim).collect();
    assert!(lines.contains(&"icanon") && lines.contains(&"echo"), "{name}: cooked mode, echo:\n{tail}");
    assert!(!lines.contains(&"-icanon") && !lines.contains(&"-echo"), "{name}:\n{tail}");
    assert_eq!(t.modes(), "alt=0 cursor=1 mouse=0", "{name}: normal screen, cursor shown, no mouse reporting");
    tail
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_terminal_is_restored_after_quit_error_panic_and_signals() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    let sb = std::sync::Arc::new(sb);
    let s2 = sb.clone();
    tokio::task::spawn_blocking(move || {
        let sb = &*s2;
        run_and_end(sb, "quit", &[], "", End::Quit, 0);
        let s = run_and_end(sb, "error", &[("GROUPMAP_TEST_FAIL_AFTER_DRAW", "error")], "", End::Hook, 1);
        assert!(s.contains("error: test hook: GROUPMAP_TEST_FAIL_AFTER_DRAW=error"), "the error is shown:\n{s}");
        // With --mouse, so that mouse reporting has to be switched off again too.
        let s = run_and_end(sb, "panic", &[("GROUPMAP_TEST_FAIL_AFTER_DRAW", "panic")], "--mouse", End::Hook, 101);
        assert!(s.contains("panicked") && s.contains("test hook: GROUPMAP_TEST_FAIL_AFTER_DRAW=panic"), "{s}");
        run_and_end(sb, "hup", &[], "--mouse", End::Signal("HUP"), 0);
        run_and_end(sb, "term", &[], "", End::Signal("TERM"), 0);
        // In raw mode Ctrl-C and Ctrl-\ are keys, but the signals can still come from outside.
        run_and_end(sb, "int", &[], "", End::Signal("INT"), 0);
        run_and_end(sb, "quit-signal", &[], "--mouse", End::Signal("QUIT"), 0);
    })
    .await
    .unwrap();
}

/// SIGKILL cannot be caught, so the terminal is not restored; but every edit was already
/// written to the draft, which the next start offers back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_draft_survives_sigkill() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    let org = groupmap::service::calendly::wire::uuid_of(&sb.organization()).to_owned();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("marker.toml");
    std::fs::write(&marker, "").unwrap();
    let marker = marker.display().to_string();
    let bin = env!("CARGO_BIN_EXE_groupmap");
    let t = Tmux::start("kill9", &format!("{bin} --config {marker} tui; sleep 60"), &env(&sb, dir.path(), &[]));
    let drafts = dir.path().join("state").join("groupmap").join("drafts");
    tokio::task::spawn_blocking(move || {
        t.wait_for("IdP values");
        t.map("eng-platform", "Engineering");
        let pid = find_pid(&marker).expect("the groupmap process");
        assert!(Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap().success());
        let start = Instant::now();
        while find_pid(&marker).is_some() {
            assert!(start.elapsed() < Duration::from_secs(10), "killed");
            std::thread::sleep(Duration::from_millis(50));
        }
        // drafts/ORG-TAG/SESSION.toml: the session's own draft of the organization.
        let dir = std::fs::read_dir(&drafts)
            .expect("the drafts directory")
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with(&format!("{org}-")))
            .expect("the organization's drafts");
        let draft = std::fs::read_dir(&dir).unwrap().next().expect("a draft").unwrap().path();
        let text = std::fs::read_to_string(&draft).expect("the draft is on disk");
        assert!(text.contains("idp_value = \"eng-platform\""), "{text}");
        assert!(text.contains("group = \"Engineering\""), "{text}");
        drop(t);
    })
    .await
    .unwrap();
    sb.shutdown().await;
}
