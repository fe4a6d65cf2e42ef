//! `groupmap demo --idp okta` in a real terminal (tmux): the values come from the sandbox's fake
//! Okta org, the header names the source, and the preview shows a value pending sync.

mod common;
use common::tmux::Tmux;

#[test]
fn the_demo_with_okta_names_the_source_and_shows_pending_sync() {
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
    let t = Tmux::start("okta", &format!("{bin} demo --idp okta"), &env);
    let s = t.wait_for("values: Okta 127.0.0.1:");
    let header = s.lines().next().unwrap_or_default();
    assert!(header.starts_with("groupmap [SANDBOX]") && header.ends_with("· department"), "{s}");
    t.literal("p");
    let s = t.wait_for("Pending sync: 4");
    assert!(s.contains("Calendly \"Partners\" → IdP \"partners\""), "{s}");
    assert!(s.contains("Not provisioned yet: 4"), "{s}");
    t.keys(&["Escape"]);
    t.literal("f");
    let s = t.wait_for("attributes, which is which");
    assert!(s.contains("userName") && s.contains("login email") && s.contains("IdP group"), "{s}");
    t.keys(&["Escape"]);
    t.literal("q");
}
