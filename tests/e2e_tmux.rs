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
