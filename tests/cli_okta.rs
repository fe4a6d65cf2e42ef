//! `groupmap plan --idp okta` as a person runs it: isolated XDG directories, no Calendly token
//! (so the bundled sandbox and its fake Okta org), stdin not a terminal.

use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_groupmap");

fn run(dir: &std::path::Path, args: &[&str], extra: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args).current_dir(dir).stdin(Stdio::null());
    for k in [
        "CALENDLY_TOKEN",
        "GROUPMAP_BASE_URL",
        "GROUPMAP_ORG",
        "GROUPMAP_CONFIG",
        "GROUPMAP_TOKEN_FILE",
        "OKTA_API_TOKEN",
        "OKTA_ACCESS_TOKEN",
    ] {
        c.env_remove(k);
    }
    c.env("XDG_STATE_HOME", dir.join("state"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_CACHE_HOME", dir.join("cache"));
    for (k, v) in extra {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn plan_json_lists_not_provisioned_and_pending_sync_with_both_values() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["plan", "--idp", "okta", "--json"], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["values_source"]["attribute"], "department");
    assert_eq!(v["values_source"]["values_from"], "calendly");
    let pending = v["pending_sync"].as_array().unwrap();
    assert_eq!(pending.len(), 4, "{pending:?}");
    let case = pending.iter().find(|p| p["idp_value"] == "partners").expect("a case-only change");
    assert_eq!((&case["calendly_value"], &case["plan_uses"]), (&"Partners".into(), &"Partners".into()));
    assert!(
        case["email"].as_str().unwrap().contains('@')
            && case["owner"].as_str().unwrap().contains("/organization_memberships/")
    );
    let np = v["not_provisioned"].as_array().unwrap();
    assert!(
        np.iter().any(|n| n["email"] == "hiroshi.sato@northwind.example" && n["idp_value"] == "Ventes Île-de-France"),
        "{np:?}"
    );

    let out = run(dir.path(), &["plan", "--idp", "okta", "--values", "idp", "--json"], &[]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let case = v["pending_sync"].as_array().unwrap().iter().find(|p| p["idp_value"] == "partners").cloned().unwrap();
    assert_eq!(case["plan_uses"], "partners");

    let out = run(dir.path(), &["plan", "--idp", "okta"], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Values: Okta 127.0.0.1:")
            && text.contains("Pending sync: 4")
            && text.contains("Not provisioned yet: 4"),
        "{text}"
    );
}

#[test]
fn a_missing_token_is_a_clean_error() {
    let dir = tempfile::tempdir().unwrap();
    // A real Okta org with no token configured: refused before anything is sent.
    let out = run(dir.path(), &["plan", "--idp", "okta", "--idp-url", "https://acme.okta.com"], &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("--idp okta needs a token: set OKTA_API_TOKEN"), "{err}");
}
