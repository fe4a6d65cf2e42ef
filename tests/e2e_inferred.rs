//! The real binary in a real terminal (tmux) against a read-only sandbox (like Calendly's API):
//! with no table to start from, the editor starts from the table inferred from where users are.

use std::time::Duration;

use groupmap::domain::OwnerKind;
use groupmap::sandbox::{Options, Sandbox};

mod common;
use common::tmux::{Tmux, env};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_service_starts_the_editor_from_the_inferred_table() {
    let sb = Sandbox::start(Options { read_only: true, job_step: Duration::from_millis(1), ..Options::default() })
        .await
        .unwrap();
    // The admin center's exports, written from what the organization holds.
    let snap = sb.snapshot();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (kind, name) in [(OwnerKind::Member, "active.csv"), (OwnerKind::Invitee, "pending.csv")] {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["Name", "Login email", "Role", "Calendly link", "Identity Provider Group", "Group"]).unwrap();
        for o in snap.owners().filter(|o| o.kind == kind) {
            let value = o.value.map_or("", |v| snap.value(v));
            let group = o.group.map_or("", |g| snap.group(g).name.as_str());
            w.write_record([o.name, o.email, "user", "", value, group]).unwrap();
        }
        let path = dir.path().join(name);
        std::fs::write(&path, w.into_inner().unwrap()).unwrap();
        files.push(path.display().to_string());
    }
    let bin = env!("CARGO_BIN_EXE_groupmap");
    let cmd = format!("{bin} tui --users-csv {} --users-csv {}", files[0], files[1]);
    let t = Tmux::start("inferred", &cmd, &env(&sb, dir.path(), &[]));
    tokio::task::spawn_blocking(move || {
        let s = t.wait_for("[INFERRED: check before you enter it]");
        assert!(s.contains("[READ-ONLY]"), "{s}");
        // In the demo organization the one Channel Partners user is in Partners.
        assert!(s.contains("Channel Partners          1/1 → Partners"), "{s}");
        assert!(s.contains(" 0 move · 0 to default"), "planning it moves nobody: {s}");
        // The first value's split is shown once the selection moves onto it.
        t.keys(&["j"]);
        let s = t.wait_for("\"Contractors\": ");
        assert!(s.contains("in no group"), "{s}");
        // The admin's change ends the mark; quitting then asks (their edit would be lost).
        t.keys(&["k", "x"]);
        let s = t.wait_for("unmapped \"Channel Partners\"");
        assert!(!s.contains("[INFERRED"), "{s}");
        t.literal("q");
        t.wait_for("Quit?");
        t.literal("y");
    })
    .await
    .unwrap();
    sb.shutdown().await;
}
