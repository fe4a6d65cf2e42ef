//! `groupmap plan --idp entra|onelogin` as a person runs it: isolated XDG directories, no
//! Calendly token (so the bundled sandbox and its fake tenant or account), stdin not a terminal.

use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_groupmap");

fn run(dir: &std::path::Path, args: &[&str]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args).current_dir(dir).stdin(Stdio::null());
    for k in [
        "CALENDLY_TOKEN",
        "GROUPMAP_BASE_URL",
        "GROUPMAP_ORG",
        "GROUPMAP_CONFIG",
        "GROUPMAP_TOKEN_FILE",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_ACCESS_TOKEN",
        "ONELOGIN_CLIENT_ID",
        "ONELOGIN_CLIENT_SECRET",
        "ONELOGIN_ACCESS_TOKEN",
    ] {
        c.env_remove(k);
    }
    c.env("XDG_STATE_HOME", dir.join("state"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_CACHE_HOME", dir.join("cache"));
    c.output().unwrap()
}

fn plan_json_lists_both(idp: &str, provider: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["plan", "--idp", idp, "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["values_source"]["provider"].as_str().unwrap().starts_with(provider), "{v}");
    assert_eq!(v["values_source"]["attribute"], "department");
    let pending = v["pending_sync"].as_array().unwrap();
    assert_eq!(pending.len(), 4, "{pending:?}");
    let case = pending.iter().find(|p| p["idp_value"] == "partners").expect("a case-only change");
    assert_eq!((&case["calendly_value"], &case["plan_uses"]), (&"Partners".into(), &"Partners".into()));
    let np = v["not_provisioned"].as_array().unwrap();
    assert_eq!(np.len(), 4, "{np:?}");
    assert!(np.iter().any(|n| n["email"] == "zoe.okonkwo@northwind.example" && n["idp_value"] == "Marketing"));

    let out = run(dir.path(), &["plan", "--idp", idp, "--values", "idp", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let case = v["pending_sync"].as_array().unwrap().iter().find(|p| p["idp_value"] == "partners").cloned().unwrap();
    assert_eq!(case["plan_uses"], "partners");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Reading the IdP values from the sandbox's fake"), "{err}");
}

#[test]
fn plan_with_entra_lists_not_provisioned_and_pending_sync() {
    plan_json_lists_both("entra", "Entra ID ");
}

#[test]
fn plan_with_onelogin_lists_not_provisioned_and_pending_sync() {
    plan_json_lists_both("onelogin", "OneLogin 127.0.0.1:");
}

#[test]
fn a_real_provider_without_credentials_is_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["plan", "--idp", "entra", "--idp-url", "https://graph.microsoft.com"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("--idp entra needs credentials: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET"),
        "{err}"
    );
    let out = run(dir.path(), &["plan", "--idp", "onelogin", "--idp-url", "acme"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("--idp onelogin needs credentials: set ONELOGIN_CLIENT_ID and ONELOGIN_CLIENT_SECRET"),
        "{err}"
    );
}
