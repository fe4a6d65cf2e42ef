//! `groupmap demo --idp entra` and `--idp onelogin` in a real terminal (tmux): the values come
//! from the sandbox's fakes, the header names the source, and the preview shows pending sync.

mod common;
use common::tmux::Tmux;

fn demo_names_the_source(idp: &str, shown: &str) {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_groupmap");
    let d = dir.path();
    let env = vec![
        ("XDG_STATE_HOME", d.join("state").display().to_string()),
        ("XDG_CONFIG_HOME", d.join("config").display().to_string()),
        ("XDG_CACHE_HOME", d.join("cache").display().to_string()),
        ("RUST_BACKTRACE", "0".to_owned()),
        ("TERM", "xterm-256color".to_owned()),
    ];
    let t = Tmux::start(idp, &format!("{bin} demo --idp {idp}"), &env);
    let s = t.wait_for(&format!("values: {shown}"));
    let header = s.lines().next().unwrap_or_default();
    assert!(header.starts_with("groupmap [SANDBOX]"), "{s}");
    t.literal("p");
    let s = t.wait_for("Pending sync: 4");
    assert!(s.contains("Calendly \"Partners\" → IdP \"partners\""), "{s}");
    assert!(s.contains("Not provisioned yet: 4"), "{s}");
    t.keys(&["Escape"]);
    t.literal("f");
    let s = t.wait_for("attributes, which is which");
    assert!(s.contains("userName") && s.contains("department"), "{s}");
    t.keys(&["Escape"]);
    t.literal("q");
}

#[test]
fn the_demo_with_entra_names_the_source_and_shows_pending_sync() {
    demo_names_the_source("entra", "Entra ID 5f1c0a9e");
}

#[test]
fn the_demo_with_onelogin_names_the_source_and_shows_pending_sync() {
    demo_names_the_source("onelogin", "OneLogin 127.0.0.1:");
}
