//! The real `groupmap` binary, run as a person would: isolated XDG directories, no token in the
//! environment, stdin not a terminal.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

#[path = "common/child.rs"]
mod child;

/// No command in these tests should take anywhere near this long; a hang fails instead of blocking.
const SANDBOX_NOTICE: &str = "No CALENDLY_TOKEN configured: using the bundled SANDBOX organization";

/// One test's private home: XDG state and config directories and a working directory.
struct Home {
    dir: tempfile::TempDir,
}

struct Out {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Out {
    fn code(&self) -> i32 {
        self.status.code().unwrap_or_else(|| panic!("killed by a signal: {self:?}"))
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not one JSON value ({e}): {self:?}"))
    }
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\n--- stdout ---\n{}\n--- stderr ---\n{}", self.status, self.stdout, self.stderr)
    }
}

impl Home {
    fn new() -> Home {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("state")).unwrap();
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        Home { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn state_file(&self) -> PathBuf {
        self.path("state/groupmap/sandbox-state.json")
    }

    fn command(&self, args: &[&str]) -> Command {
        child::command(self.dir.path(), args)
    }

    /// Runs `groupmap ARGS` with extra environment variables, to completion (or [`TIMEOUT`]).
    fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Out {
        let mut c = self.command(args);
        for (k, v) in env {
            c.env(k, v);
        }
        let (status, stdout, stderr) = child::run_to_end(c, &format!("groupmap {args:?}"));
        Out { status, stdout, stderr }
    }

    fn run(&self, args: &[&str]) -> Out {
        self.run_with(args, &[])
    }

    /// Runs and insists on exit code `code`.
    fn expect(&self, code: i32, args: &[&str]) -> Out {
        let out = self.run(args);
        assert_eq!(out.code(), code, "groupmap {args:?}: {out:?}");
        out
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

/// A `groupmap sandbox` child process, killed when dropped (also when the test panics).
struct SandboxChild {
    child: Child,
    base: String,
    token: String,
    organization: String,
}

impl SandboxChild {
    fn start(home: &Home, extra: &[&str]) -> SandboxChild {
        let mut args = vec!["sandbox", "--listen", "127.0.0.1:0", "--job-step-ms", "1"];
        args.extend_from_slice(extra);
        let mut cmd = home.command(&args);
        cmd.stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("spawn groupmap sandbox");
        let stdout = child.stdout.take().unwrap();
        // The guard exists before the first read, so a failed read still kills the child.
        let mut me = SandboxChild { child, base: String::new(), token: String::new(), organization: String::new() };
        let mut lines = BufReader::new(stdout).lines();
        let mut seen = Vec::new();
        while me.base.is_empty() || me.organization.is_empty() {
            let line = match lines.next() {
                Some(l) => l.unwrap(),
                None => panic!("the sandbox exited before printing its base URL and token: {seen:?}"),
            };
            if let Some(org) = line.strip_prefix("organization: ") {
                me.organization = org.trim().to_owned();
            }
            if let Some(rest) = line.trim().strip_prefix("export ") {
                for pair in rest.split_whitespace() {
                    match pair.split_once('=') {
                        Some(("GROUPMAP_BASE_URL", v)) => me.base = v.to_owned(),
                        Some(("CALENDLY_TOKEN", v)) => me.token = v.to_owned(),
                        _ => panic!("unexpected word {pair:?} in {line:?}"),
                    }
                }
            }
            seen.push(line);
        }
        // Keep reading so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        assert!(me.base.starts_with("http://127.0.0.1:"), "{seen:?}");
        assert!(me.token.starts_with("sandbox-"), "{seen:?}");
        assert!(me.organization.starts_with(&format!("{}/organizations/", me.base)), "{seen:?}");
        me
    }

    fn env(&self) -> [(&'static str, &str); 2] {
        [("GROUPMAP_BASE_URL", self.base.as_str()), ("CALENDLY_TOKEN", self.token.as_str())]
    }

    /// GET with the bearer token, over a plain HTTP/1.0 connection (the body ends at close).
    fn get(&self, path_and_query: &str) -> (u16, String) {
        use std::io::Write;
        let authority = self.base.strip_prefix("http://").unwrap();
        let mut s = std::net::TcpStream::connect(authority).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            s,
            "GET {path_and_query} HTTP/1.0\r\nHost: {authority}\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
            self.token
        )
        .unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no HTTP head: {raw:?}"));
        let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap();
        (status, body.to_owned())
    }
}

impl Drop for SandboxChild {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// A TOML basic string (JSON string escapes are valid TOML escapes).
fn toml_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// The `(idp_value, group)` rows of a mapping file, in order.
fn file_rows(text: &str) -> Vec<(String, String)> {
    let doc: toml::Table = toml::from_str(text).unwrap_or_else(|e| panic!("not TOML ({e}):\n{text}"));
    doc.get("rows")
        .and_then(|r| r.as_array())
        .map(|rows| {
            rows.iter()
                .map(|r| (r["idp_value"].as_str().unwrap().to_owned(), r["group"].as_str().unwrap().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn last_line(text: &str) -> &str {
    text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("")
}

fn count(v: &Value) -> usize {
    usize::try_from(v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))).unwrap()
}

/// Checks the `plan --json` object against the README's description; returns it.
fn check_plan_json(j: &Value) -> &Value {
    let keys: BTreeSet<&str> = j.as_object().expect("one JSON object").keys().map(String::as_str).collect();
    for k in [
        "organization",
        "sandbox",
        "read_only",
        "compared_with",
        "saved_table",
        "enabled",
        "apply_to_existing",
        "digest",
        "summary",
        "new_groups",
        "changes",
        "unmapped",
        "lint",
    ] {
        assert!(keys.contains(k), "missing key {k}: {keys:?}");
    }
    assert!(j["organization"].as_str().unwrap().contains("/organizations/"), "{}", j["organization"]);
    assert!(j["enabled"].is_boolean() && j["apply_to_existing"].is_boolean());
    let digest = j["digest"].as_str().unwrap();
    assert!(
        digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "digest is not 64 lowercase hex: {digest}"
    );
    let s = &j["summary"];
    let summary_keys: BTreeSet<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(summary_keys, BTreeSet::from(["in_scope", "changes", "unchanged", "to_default", "unmapped"]));
    let changes = j["changes"].as_array().unwrap();
    let unmapped = j["unmapped"].as_array().unwrap();
    assert_eq!(count(&s["in_scope"]), count(&s["changes"]) + count(&s["unchanged"]) + count(&s["unmapped"]));
    assert_eq!(count(&s["changes"]), changes.len());
    assert_eq!(count(&s["unmapped"]), unmapped.len());
    assert!(count(&s["to_default"]) <= changes.len());
    for c in changes {
        let keys: BTreeSet<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["owner", "email", "idp_value", "from", "to"]), "{c}");
        assert!(c["owner"].is_string() && c["email"].is_string() && c["idp_value"].is_string(), "{c}");
        assert!(c["from"].is_string() || c["from"].is_null(), "{c}");
        assert_ne!(c["from"], c["to"], "a change moves someone: {c}");
    }
    for u in unmapped {
        assert!(u["owner"].is_string() && u["email"].is_string() && u["idp_value"].is_string(), "{u}");
    }
    for l in j["lint"].as_array().unwrap() {
        assert!(l["kind"].is_string() && l["message"].is_string(), "{l}");
    }
    j
}

/// The digest as api-contract.md defines it, recomputed from the JSON's changes.
fn digest_of(changes: &[Value]) -> String {
    let mut lines: Vec<String> = changes
        .iter()
        .map(|c| {
            format!(
                "{}\t{}\t{}\n",
                c["owner"].as_str().unwrap(),
                c["from"].as_str().unwrap_or("-"),
                c["to"].as_str().unwrap()
            )
        })
        .collect();
    lines.sort();
    Sha256::digest(lines.concat().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn expected_summary_line(j: &Value) -> String {
    let s = &j["summary"];
    format!(
        "Plan: {} to move ({} to the default group), {} unmapped, {} unchanged.",
        s["changes"], s["to_default"], s["unmapped"], s["unchanged"]
    )
}

/// The exported table plus a row for every unmapped value (spread over existing groups), and the
/// first unmapped value sent to a brand-new group instead.
fn full_mapping_file(export: &str, plan: &Value, new_group: &str) -> (String, usize) {
    let existing: Vec<String> = {
        let mut g: Vec<String> = file_rows(export).into_iter().map(|(_, g)| g).collect();
        g.dedup();
        g
    };
    assert!(existing.len() >= 3, "the demo table maps to several groups: {existing:?}");
    let values: BTreeSet<&str> =
        plan["unmapped"].as_array().unwrap().iter().map(|u| u["idp_value"].as_str().unwrap()).collect();
    assert!(values.len() >= 2, "the demo has unmapped values: {values:?}");
    let mut text = export.to_owned();
    for (i, v) in values.iter().enumerate() {
        let group = if i == 0 { new_group } else { &existing[i % existing.len()] };
        text.push_str(&format!("\n[[rows]]\nidp_value = {}\ngroup = {}\n", toml_str(v), toml_str(group)));
    }
    (text, values.len())
}

// ---------------------------------------------------------------------------------------------

#[test]
fn plan_json_without_a_token_runs_against_the_in_process_sandbox() {
    let home = Home::new();
    let out = home.expect(0, &["plan", "--json"]);
    assert!(out.stderr.contains(SANDBOX_NOTICE), "{out:?}");
    assert!(out.stderr.contains("SANDBOX"), "{out:?}");
    let j = out.json();
    check_plan_json(&j);
    assert_eq!(j["sandbox"], true);
    assert_eq!(j["read_only"], false);
    assert_eq!(j["enabled"], true);
    assert_eq!(j["apply_to_existing"], true);
    // Compared with the service's own table (a read-only service's record: tests/read_only.rs).
    assert_eq!(j["compared_with"]["kind"], "saved", "{}", j["compared_with"]);
    assert!(j["compared_with"]["version"].as_u64().is_some(), "{}", j["compared_with"]);
    assert_eq!(j["saved_table"], j["compared_with"]);
    let changes = j["changes"].as_array().unwrap();
    assert!(!changes.is_empty(), "the demo organization has changes");
    assert_eq!(j["digest"].as_str().unwrap(), digest_of(changes), "digest per api-contract.md");
    let owners: Vec<&str> = changes.iter().map(|c| c["owner"].as_str().unwrap()).collect();
    assert!(owners.windows(2).all(|w| w[0] < w[1]), "changes sorted by owner, one per owner");
    assert!(
        j["lint"].as_array().unwrap().iter().any(|l| l["kind"] == "near_duplicate"),
        "the demo has values differing by case/whitespace: {}",
        j["lint"]
    );
    // The state is kept where the README says.
    assert!(home.state_file().is_file(), "no {}", home.state_file().display());

    // Same state, human view: ends with the terraform-style summary, with the same numbers.
    let human = home.expect(0, &["plan"]);
    assert!(human.stdout.starts_with("Organization: "), "{human:?}");
    assert!(human.stdout.lines().next().unwrap().ends_with("[SANDBOX]"), "{human:?}");
    assert_eq!(last_line(&human.stdout), expected_summary_line(&j), "{human:?}");
    assert!(human.stderr.contains(SANDBOX_NOTICE));

    let detailed = home.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(detailed.code(), 2, "changes → exit 2: {detailed:?}");
    assert_eq!(last_line(&detailed.stdout), expected_summary_line(&j));

    // --no-apply-existing: same would-be changes, labelled as not applied.
    let off = home.run(&["plan", "--json", "--no-apply-existing"]);
    assert_eq!(off.code(), 0, "{off:?}");
    let jo = off.json();
    assert_eq!(jo["apply_to_existing"], false);
    assert_eq!(jo["summary"], j["summary"]);
    let text = home.expect(0, &["plan", "--no-apply-existing"]);
    assert!(last_line(&text.stdout).starts_with("Not applied to existing users"), "{text:?}");
}

#[test]
fn plan_against_a_sandbox_server_in_another_process() {
    let home = Home::new();
    let sb = SandboxChild::start(&home, &[]);
    let out = home.run_with(&["plan", "--json"], &sb.env());
    assert_eq!(out.code(), 0, "{out:?}");
    assert!(!out.stderr.contains(SANDBOX_NOTICE), "a configured server is not the bundled sandbox: {out:?}");
    let j = out.json();
    check_plan_json(&j);
    assert_eq!(j["organization"].as_str().unwrap(), sb.organization);
    assert_eq!(j["sandbox"], false, "the CLI did not start this sandbox");
    assert!(count(&j["summary"]["changes"]) > 0);
    for c in j["changes"].as_array().unwrap() {
        assert!(c["owner"].as_str().unwrap().starts_with(&sb.base), "URIs are on the server's base: {c}");
    }
    // The in-process sandbox of another run is the same demo organization: same counts.
    let local = Home::new().expect(0, &["plan", "--json"]).json();
    assert_eq!(local["summary"], j["summary"]);

    let detailed = home.run_with(&["plan", "--detailed-exitcode"], &sb.env());
    assert_eq!(detailed.code(), 2, "{detailed:?}");
    assert_eq!(last_line(&detailed.stdout), expected_summary_line(&j));

    // A wrong token is a clear 401, exit 1.
    let bad = home.run_with(&["plan"], &[("GROUPMAP_BASE_URL", &sb.base), ("CALENDLY_TOKEN", "wrong")]);
    assert_eq!(bad.code(), 1, "{bad:?}");
    assert!(bad.stdout.is_empty(), "{bad:?}");
    assert!(bad.stderr.starts_with("error: "), "{bad:?}");
    assert!(bad.stderr.contains("401") || bad.stderr.contains("Unauthenticated"), "{bad:?}");

    // A base URL with no token is an error, not a silent sandbox.
    let none = home.run_with(&["plan"], &[("GROUPMAP_BASE_URL", &sb.base)]);
    assert_eq!(none.code(), 1, "{none:?}");
    assert!(none.stderr.contains("no token"), "{none:?}");
    assert!(!none.stderr.contains(SANDBOX_NOTICE), "{none:?}");
}

#[test]
fn mapping_export_and_check_round_trip_as_toml_and_csv() {
    let home = Home::new();
    let out = home.expect(0, &["mapping", "export", "-o", "m.toml"]);
    assert!(out.stdout.is_empty(), "-o writes to the file, not stdout: {out:?}");
    let text = std::fs::read_to_string(home.path("m.toml")).unwrap();
    let rows = file_rows(&text);
    assert!(rows.len() >= 5, "the demo has a saved table: {text}");
    assert!(out.stderr.contains(&format!("Wrote {} rows to m.toml", rows.len())), "{out:?}");
    let doc: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(doc["enabled"].as_bool(), Some(true));
    assert!(doc["organization"].as_str().unwrap().contains("/organizations/"));

    // The file is read back by a later run (the in-process sandbox has a new port by then).
    let ok = home.expect(0, &["mapping", "check", "m.toml"]);
    assert!(ok.stdout.starts_with(&format!("m.toml: OK: {} rows, 0 new group(s),", rows.len())), "{ok:?}");
    assert!(ok.stdout.contains("[SANDBOX]"), "{ok:?}");
    // Planning the exported table is planning the saved one: same plan, and no table change.
    let saved = home.expect(0, &["plan", "--json"]).json();
    let from_file = home.expect(0, &["plan", "--json", "--mapping", "m.toml"]).json();
    assert_eq!(from_file["summary"], saved["summary"]);
    assert_eq!(from_file["changes"].as_array().unwrap().len(), saved["changes"].as_array().unwrap().len());
    let human = home.expect(0, &["plan", "--mapping", "m.toml"]);
    assert!(!human.stdout.contains("Mapping table changes"), "{human:?}");

    // The same table as the admin center's two-column CSV.
    let csv_out = home.expect(0, &["mapping", "export", "--format", "csv"]);
    assert_eq!(csv_out.stdout.lines().next(), Some("Value in Identity Provider,Calendly group"));
    let mut r = csv::Reader::from_reader(csv_out.stdout.as_bytes());
    let csv_rows: Vec<(String, String)> =
        r.records().map(|rec| rec.unwrap()).map(|rec| (rec[0].to_owned(), rec[1].to_owned())).collect();
    assert_eq!(csv_rows, rows);
    // And the TOML on stdout is the file's.
    let toml_out = home.expect(0, &["mapping", "export"]);
    assert_eq!(file_rows(&toml_out.stdout), rows);
}

#[test]
fn mapping_check_errors_name_file_line_and_key() {
    let home = Home::new();
    let cases: [(&str, &str, &str); 5] = [
        (
            "dup.toml",
            "enabled = true\n\n[[rows]]\nidp_value = \"Sales EMEA\"\ngroup = \"Sales EMEA\"\n\n\
             [[rows]]\nidp_value = \"Sales EMEA\"\ngroup = \"Engineering\"\n",
            "dup.toml:8: rows[1].idp_value: duplicate value \"Sales EMEA\" (first on line 4)",
        ),
        ("key.toml", "enabled = true\ncolour = \"red\"\n", "key.toml:2: colour: unknown field `colour`"),
        (
            "rowkey.toml",
            "enabled = true\n\n[[rows]]\nidp_value = \"Sales EMEA\"\ngruop = \"Sales EMEA\"\n",
            "rowkey.toml:",
        ),
        (
            "uri.toml",
            "enabled = true\n\n[[rows]]\nidp_value = \"Sales EMEA\"\ngroup = \"https://api.calendly.com/groups/NOPE\"\n",
            "uri.toml:5: rows[0].group: no group with URI https://api.calendly.com/groups/NOPE in this organization",
        ),
        (
            "empty.toml",
            "enabled = true\n[[rows]]\nidp_value = \"\"\ngroup = \"Sales EMEA\"\n",
            "empty.toml:3: rows[0].idp_value: must not be empty",
        ),
    ];
    for (name, text, expected) in cases {
        home.write(name, text);
        let out = home.run(&["mapping", "check", name]);
        assert_eq!(out.code(), 1, "{name}: {out:?}");
        assert!(out.stdout.is_empty(), "{name}: no OK on stdout: {out:?}");
        let first = out.stderr.lines().find(|l| l.starts_with("error: ")).unwrap_or_else(|| panic!("{out:?}"));
        assert!(first.starts_with(&format!("error: {expected}")), "{name}: expected {expected:?}, got {out:?}");
    }
    // An unknown key inside a row names the row's line and the key.
    let out = home.run(&["mapping", "check", "rowkey.toml"]);
    assert!(out.stderr.contains("rowkey.toml:5:") && out.stderr.contains("gruop"), "{out:?}");

    // Several problems in one file are all reported.
    home.write(
        "two.toml",
        "enabled = true\n[[rows]]\nidp_value = \"A\"\ngroup = \"X\"\n[[rows]]\nidp_value = \"A\"\ngroup = \"Y\"\n\
         [[rows]]\nidp_value = \"\"\ngroup = \"Z\"\n",
    );
    let out = home.run(&["mapping", "check", "two.toml"]);
    assert_eq!(out.code(), 1, "{out:?}");
    assert!(out.stderr.contains("two.toml:6: rows[1].idp_value: duplicate value"), "{out:?}");
    assert!(out.stderr.contains("two.toml:9: rows[2].idp_value: must not be empty"), "{out:?}");

    // A file for another organization is refused, naming the organization key's line.
    home.write(
        "org.toml",
        "# another org\norganization = \"https://api.calendly.com/organizations/OTHER\"\nenabled = true\n",
    );
    let out = home.run(&["mapping", "check", "org.toml"]);
    assert_eq!(out.code(), 1, "{out:?}");
    assert!(out.stderr.contains("error: org.toml:2: organization: the file is for"), "{out:?}");

    // A file that does not exist names the file.
    let out = home.run(&["mapping", "check", "missing.toml"]);
    assert_eq!(out.code(), 1, "{out:?}");
    assert!(out.stderr.contains("missing.toml"), "{out:?}");

    // A new group name is fine (created on save) and counted.
    home.write("new.toml", "enabled = true\n[[rows]]\nidp_value = \"Sales EMEA\"\ngroup = \"Brand New Team\"\n");
    let out = home.expect(0, &["mapping", "check", "new.toml"]);
    assert!(out.stdout.starts_with("new.toml: OK: 1 rows, 1 new group(s),"), "{out:?}");
}

/// A group name equal to an existing one but for case and spaces is that group; one a letter or
/// two off is a new group, and `mapping check` and the plan say which group it looks like.
#[test]
fn a_misspelled_group_name_is_a_warning_and_a_spacing_variant_is_the_group() {
    let home = Home::new();
    home.write(
        "ev.toml",
        "enabled = true\ndefault_group = \"Evryone\"\n\n[[rows]]\nidp_value = \"Sales EMEA\"\ngroup = \"Sales  EMEA\"\n\n\
         [[rows]]\nidp_value = \"Engineering\"\ngroup = \" engineering\"\n\n\
         [[rows]]\nidp_value = \"Finance\"\ngroup = \"Finanse\"\n\n\
         [[rows]]\nidp_value = \"Marketing\"\ngroup = \"Brand New Team\"\n",
    );
    let out = home.expect(0, &["mapping", "check", "ev.toml"]);
    let advice = |name: &str, existing: &str| {
        format!(
            "{name:?} is a new group, like the existing group {existing:?}: did you mean {existing:?}? use that name, \
             or keep this one to create a new group"
        )
    };
    let want = format!("warning: ev.toml:2: default_group: {}", advice("Evryone", "Everyone"));
    assert!(out.stderr.lines().any(|l| l == want), "{want}\n{out:?}");
    let want = format!("warning: ev.toml:14: rows[2].group: {}", advice("Finanse", "Finance"));
    assert!(out.stderr.lines().any(|l| l == want), "{want}\n{out:?}");
    assert!(!out.stderr.contains("Brand New Team"), "a name like no group is no warning: {out:?}");
    assert!(out.stdout.starts_with("ev.toml: OK with "), "not a bare OK: {out:?}");
    assert!(out.stdout.contains("2 about a new group's name (see above): 4 rows, 3 new group(s) against"), "{out:?}");

    let j = home.expect(0, &["plan", "--json", "--mapping", "ev.toml"]).json();
    check_plan_json(&j);
    assert_eq!(j["new_groups"], serde_json::json!(["Finanse", "Brand New Team", "Evryone"]), "{}", j["new_groups"]);
    let likes: Vec<&str> = j["lint"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == "new_group_like_existing")
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert_eq!(likes.len(), 2, "{likes:?}");
    assert!(likes[0].starts_with("default_group: \"Evryone\" is a new group"), "{likes:?}");
    assert!(likes[1].starts_with("rows[2] (\"Finance\"): \"Finanse\" is a new group"), "{likes:?}");
    // Nobody is sent to a group spelled with extra spaces or another case.
    let to: BTreeSet<&str> = j["changes"].as_array().unwrap().iter().map(|c| c["to"].as_str().unwrap()).collect();
    assert!(
        to.iter().all(|t| !t.starts_with("new:") || ["new:Evryone", "new:Finanse", "new:Brand New Team"].contains(t)),
        "{to:?}"
    );
    let human = home.expect(0, &["plan", "--mapping", "ev.toml"]).stdout;
    assert!(human.contains(&format!("warning: default_group: {}", advice("Evryone", "Everyone"))), "{human}");
}

/// A stale export row's place reads as a line of the export, not as `…?status=active:302` (an
/// HTTP status to the eye).
#[test]
fn stale_export_rows_name_the_line_of_the_export_unambiguously() {
    let home = Home::new();
    let j = home.expect(0, &["plan", "--json"]).json();
    let stale: Vec<&str> = j["lint"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == "stale_export_row")
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert!(!stale.is_empty(), "the demo export has rows for people who left: {}", j["lint"]);
    for m in &stale {
        let (place, rest) = m.split_once("): ").unwrap_or_else(|| panic!("{m}"));
        let line =
            place.strip_prefix("line ").and_then(|p| p.split_once(" of the active-user export (GET /organizations/"));
        assert!(line.is_some_and(|(n, _)| n.parse::<u64>().is_ok()), "{m}");
        assert!(place.ends_with("/user_export?status=active") && rest.contains('@'), "{m}");
    }
}

/// One run of `mapping check` reports every problem of the file, from its keys and types to
/// what the organization says (an unknown group URI, another organization), each labelled and
/// naming file, line and key; only text that is not TOML stops at its one error.
#[test]
fn mapping_check_reports_every_problem_in_one_run() {
    let home = Home::new();
    home.write(
        "three.toml",
        "enabled = \"yes\"\n\
         organization = \"https://api.calendly.com/organizations/OTHER\"\n\
         [[rows]]\nidp_value = \"Sales EMEA\"\ngruop = \"Sales EMEA\"\n\
         [[rows]]\nidp_value = \"Engineering\"\n\
         [[rows]]\nidp_value = \"Sales EMEA\"\ngroup = \"https://api.calendly.com/groups/NOPE\"\n",
    );
    let out = home.run(&["mapping", "check", "three.toml"]);
    assert_eq!(out.code(), 1, "{out:?}");
    assert!(out.stdout.is_empty(), "no OK: {out:?}");
    let errors: Vec<&str> =
        out.stderr.lines().filter(|l| l.starts_with("error: three.toml:") && !l.ends_with("problem(s)")).collect();
    let want = [
        "error: three.toml:1: enabled: invalid type: string \"yes\", expected a boolean",
        "error: three.toml:2: organization: the file is for https://api.calendly.com/organizations/OTHER, but the \
         loaded organization is ",
        "error: three.toml:5: rows[0].gruop: unknown field `gruop`, expected `idp_value` or `group`",
        "error: three.toml:6: rows[1].group: missing field `group`",
        "error: three.toml:9: rows[2].idp_value: duplicate value \"Sales EMEA\" (first on line 4)",
        "error: three.toml:10: rows[2].group: no group with URI https://api.calendly.com/groups/NOPE in this \
         organization",
    ];
    assert_eq!(errors.len(), want.len(), "{out:?}");
    for (got, want) in errors.iter().zip(want) {
        assert!(got.starts_with(want), "got {got:?}, want {want:?}: {out:?}");
    }
    assert!(out.stderr.lines().last().unwrap().ends_with("three.toml: 6 problem(s)"), "{out:?}");
    // One label, lowercase, everywhere.
    assert!(!out.stderr.contains("Warning:") && !out.stderr.contains("Error:"), "{out:?}");

    // Not TOML: the one error, before anything is loaded.
    home.write("syntax.toml", "enabled = 1\ncolour = 1\n[[rows]\n");
    let out = home.run(&["mapping", "check", "syntax.toml"]);
    assert_eq!(out.code(), 1, "{out:?}");
    assert!(out.stderr.starts_with("error: syntax.toml:3: unclosed array table"), "{out:?}");
    assert!(!out.stderr.contains("colour") && !out.stderr.contains(SANDBOX_NOTICE), "{out:?}");

    // A good file's warnings use the same labels as the plan's findings.
    home.write("ok.toml", "enabled = true\n[[rows]]\nidp_value = \"Sales EMEA\"\ngroup = \"Sales EMEA\"\n");
    let out = home.expect(0, &["mapping", "check", "ok.toml"]);
    let findings: Vec<&str> = out.stderr.lines().filter(|l| l.contains("ok.toml: ")).collect();
    assert!(!findings.is_empty(), "{out:?}");
    assert!(findings.iter().all(|l| ["error: ", "warning: ", "note: "].iter().any(|p| l.starts_with(p))), "{out:?}");
}

#[test]
fn apply_a_full_mapping_file_then_the_plan_is_empty() {
    let home = Home::new();
    let export = home.expect(0, &["mapping", "export"]).stdout;
    let before = home.expect(0, &["plan", "--json"]).json();
    let (text, added) = full_mapping_file(&export, &before, "Brand New Team");
    let file = home.write("full.toml", &text);
    let file = file.to_str().unwrap();

    let preview = home.expect(0, &["plan", "--json", "--mapping", file]).json();
    check_plan_json(&preview);
    assert_eq!(preview["summary"]["unmapped"], 0, "every value is mapped: {}", preview["unmapped"]);
    assert_eq!(preview["new_groups"], serde_json::json!(["Brand New Team"]));
    let to_new = preview["changes"].as_array().unwrap().iter().filter(|c| c["to"] == "new:Brand New Team").count();
    assert!(to_new > 0, "someone moves to the new group: {}", preview["changes"]);
    let moves = count(&preview["summary"]["changes"]);
    assert!(moves > count(&before["summary"]["changes"]), "mapping more values moves more people");
    let check = home.expect(0, &["mapping", "check", file]);
    assert!(check.stdout.contains(&format!("{} rows, 1 new group(s)", file_rows(&export).len() + added)), "{check:?}");

    let applied = home.run(&["apply", "--mapping", file, "--yes"]);
    assert_eq!(applied.code(), 0, "{applied:?}");
    assert!(applied.stdout.contains("Apply complete"), "{applied:?}");
    assert!(applied.stdout.contains("Verified"), "{applied:?}");
    assert!(applied.stdout.contains(&format!("{moves} user(s) moved, 1 group(s) created")), "{applied:?}");
    assert!(applied.stderr.contains("Creating group 1/1: \"Brand New Team\""), "{applied:?}");
    assert!(!home.path("state/groupmap/attempted").exists(), "nothing failed, nothing kept");

    // A later run (a new in-process sandbox on the persisted state) sees it all saved.
    let again = home.run(&["plan", "--mapping", file, "--detailed-exitcode"]);
    assert_eq!(again.code(), 0, "nothing left to change: {again:?}");
    assert!(again.stdout.contains("No changes to users."), "{again:?}");
    let after = home.expect(0, &["plan", "--json"]).json();
    assert_eq!(after["summary"]["changes"], 0, "{}", after["changes"]);
    assert_eq!(after["summary"]["unmapped"], 0);
    assert_eq!(after["summary"]["in_scope"], before["summary"]["in_scope"]);
    assert_eq!(home.run(&["plan", "--detailed-exitcode"]).code(), 0);

    let saved = home.expect(0, &["mapping", "export"]).stdout;
    assert_eq!(file_rows(&saved), file_rows(&text), "the saved table is the file's");
    assert!(saved.contains("group = \"Brand New Team\""), "{saved}");
    let csv = home.expect(0, &["mapping", "export", "--format", "csv"]).stdout;
    assert!(csv.lines().any(|l| l.ends_with(",Brand New Team")), "{csv}");

    // Applying again has nothing to do.
    let twice = home.run(&["apply", "--mapping", file, "--yes"]);
    assert_eq!(twice.code(), 0, "{twice:?}");
    assert!(twice.stdout.contains("Nothing to save."), "{twice:?}");
}

#[test]
fn apply_without_yes_and_no_terminal_refuses_and_saves_nothing() {
    let home = Home::new();
    home.write("new.toml", "enabled = true\n[[rows]]\nidp_value = \"Sales EMEA\"\ngroup = \"Brand New Team\"\n");
    let export_before = home.expect(0, &["mapping", "export"]).stdout;
    let state_before = std::fs::read(home.state_file()).unwrap();

    for args in [&["apply", "--mapping", "new.toml"][..], &["apply"][..]] {
        let out = home.run(args);
        assert_eq!(out.code(), 1, "{args:?}: {out:?}");
        assert!(out.stderr.contains("--yes"), "{args:?}: {out:?}");
        assert!(out.stderr.contains("not a terminal"), "{args:?}: {out:?}");
        assert!(!out.stdout.contains("Apply complete"), "{args:?}: {out:?}");
        assert!(last_line(&out.stdout).starts_with("Plan: "), "the plan is shown first: {out:?}");
    }
    assert_eq!(std::fs::read(home.state_file()).unwrap(), state_before, "the sandbox state is untouched");
    assert_eq!(file_rows(&home.expect(0, &["mapping", "export"]).stdout), file_rows(&export_before));
    assert!(!home.expect(0, &["plan"]).stdout.contains("Brand New Team"));
    assert_eq!(home.run(&["plan", "--detailed-exitcode"]).code(), 2, "the changes are still pending");
}

#[test]
fn read_only_server_needs_exports_and_a_mapping_file_and_cannot_save() {
    let home = Home::new();
    // The user exports, downloaded from a server that has the endpoint (like the admin center).
    let full = SandboxChild::start(&home, &[]);
    let org_uuid = full.organization.rsplit('/').next().unwrap().to_owned();
    let mut csvs = Vec::new();
    for status in ["active", "pending"] {
        let (code, body) = full.get(&format!("/organizations/{org_uuid}/user_export?status={status}"));
        assert_eq!(code, 200, "{body}");
        assert!(body.lines().next().unwrap().contains("Identity Provider Group"), "{body}");
        assert!(body.lines().count() > 1, "{status} export has rows");
        csvs.push(home.write(&format!("{status}.csv"), &body));
    }
    // A table kept as code, with no organization (it is read against two servers here).
    let mapping = home.write(
        "m.toml",
        "enabled = true\n\n[[rows]]\nidp_value = \"Sales EMEA\"\ngroup = \"Sales EMEA\"\n\n\
         [[rows]]\nidp_value = \"Engineering\"\ngroup = \"Engineering\"\n\n\
         [[rows]]\nidp_value = \"Marketing\"\ngroup = \"Platform Guild\"\n",
    );
    let via_api = home.run_with(&["plan", "--json", "--mapping", "m.toml"], &full.env());
    drop(full);

    let ro = SandboxChild::start(&home, &["--read-only"]);
    assert_eq!(ro.get(&format!("/organizations/{org_uuid}/user_export?status=active")).0, 404);

    let out = home.run_with(&["plan"], &ro.env());
    assert_eq!(out.code(), 1, "{out:?}");
    assert!(out.stderr.contains("--users-csv"), "tells the admin what to pass: {out:?}");
    assert!(out.stderr.contains("no user-export endpoint"), "{out:?}");
    let (active, pending) = (csvs[0].to_str().unwrap(), csvs[1].to_str().unwrap());
    let m = mapping.to_str().unwrap();

    // Without a mapping file there is no saved table to read.
    let out = home.run_with(&["plan", "--users-csv", active, "--users-csv", pending], &ro.env());
    assert_eq!(out.code(), 1, "{out:?}");
    assert!(out.stderr.contains("--mapping FILE"), "{out:?}");

    let args = ["plan", "--json", "--users-csv", active, "--users-csv", pending, "--mapping", m];
    let out = home.run_with(&args, &ro.env());
    assert_eq!(out.code(), 0, "{out:?}");
    let j = out.json();
    check_plan_json(&j);
    assert_eq!(j["read_only"], true);
    assert_eq!(j["sandbox"], false);
    assert_eq!(j["organization"].as_str().unwrap(), ro.organization);
    assert_eq!(j["new_groups"], serde_json::json!(["Platform Guild"]));
    assert!(count(&j["summary"]["changes"]) > 0, "{}", j["summary"]);
    // The same file against the full server (exports from its endpoint) plans the same moves.
    assert_eq!(via_api.code(), 0, "{via_api:?}");
    assert_eq!(via_api.json()["summary"], j["summary"]);

    let human = home.run_with(&["plan", "--users-csv", active, "--users-csv", pending, "--mapping", m], &ro.env());
    assert_eq!(human.code(), 0, "{human:?}");
    assert!(human.stdout.contains("[READ-ONLY: no mapping endpoint]"), "{human:?}");
    assert!(last_line(&human.stdout).starts_with("Plan: "), "{human:?}");
    // No saved table can be read here: nothing claims to compare with one.
    assert!(!human.stdout.contains("against the saved table"), "{human:?}");
    assert!(human.stdout.contains("Mapping table: not compared with a saved one"), "{human:?}");
    assert!(!last_line(&human.stdout).contains("The mapping table changes"), "{human:?}");
    let detailed = home.run_with(
        &["plan", "--detailed-exitcode", "--users-csv", active, "--users-csv", pending, "--mapping", m],
        &ro.env(),
    );
    assert_eq!(detailed.code(), 2, "{detailed:?}");

    let apply =
        home.run_with(&["apply", "--yes", "--users-csv", active, "--users-csv", pending, "--mapping", m], &ro.env());
    assert_eq!(apply.code(), 1, "{apply:?}");
    assert!(apply.stderr.contains("no group-mapping endpoint"), "{apply:?}");
    assert!(apply.stderr.contains("mapping export --mapping FILE --format csv"), "says what to do instead: {apply:?}");
    assert!(!apply.stdout.contains("Apply complete"), "{apply:?}");

    let csv = home.run_with(
        &["mapping", "export", "--format", "csv", "--users-csv", active, "--users-csv", pending, "--mapping", m],
        &ro.env(),
    );
    assert_eq!(csv.code(), 0, "{csv:?}");
    assert_eq!(
        csv.stdout,
        "Value in Identity Provider,Calendly group\nSales EMEA,Sales EMEA\nEngineering,Engineering\nMarketing,Platform Guild\n"
    );
}

/// Rows of a user export CSV, by header.
fn export_rows(csv_text: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| headers.iter().zip(rec.unwrap().iter()).map(|(h, v)| (h.into(), v.into())).collect())
        .collect()
}

#[test]
fn mapping_infer_writes_the_table_users_already_agree_with_against_a_read_only_server() {
    let home = Home::new();
    // Where everyone is, from a server that has the export endpoint (its `Group` column).
    let full = SandboxChild::start(&home, &[]);
    let org_uuid = full.organization.rsplit('/').next().unwrap().to_owned();
    let export = |status: &str| {
        let (code, body) = full.get(&format!("/organizations/{org_uuid}/user_export?status={status}"));
        assert_eq!(code, 200, "{body}");
        export_rows(&body)
    };
    // Rows with no scheduling link in the active export match no member (stale rows): left out.
    let active: Vec<_> = export("active").into_iter().filter(|r| !r["Calendly link"].is_empty()).collect();
    let pending = export("pending");
    drop(full);
    let in_group =
        |rows: &[std::collections::HashMap<String, String>], g: &str| rows.iter().filter(|r| r["Group"] == g).count();
    let mut groups: Vec<String> = active.iter().map(|r| r["Group"].clone()).filter(|g| !g.is_empty()).collect();
    groups.sort();
    groups.dedup();
    // The team: the largest group with a pending invitee in it (invitees count like members).
    let team = groups
        .iter()
        .filter(|g| in_group(&pending, g) > 0)
        .max_by_key(|g| in_group(&active, g))
        .expect("a group with a pending invitee")
        .clone();
    let other = groups.iter().find(|g| **g != team && in_group(&active, g) >= 2).expect("another group").clone();
    let loose: Vec<_> = active.iter().filter(|r| r["Group"].is_empty()).take(3).collect();
    assert_eq!(loose.len(), 3, "three active users in no group");

    // Small exports shaped like the admin center's: every user of the team holds "Team"; two of
    // another group and one in no group hold "Mixed"; two in no group hold "Floaters".
    let header = "Name,Login email,Role,Calendly link,Identity Provider Group,Group\n";
    let line = |r: &std::collections::HashMap<String, String>, value: &str| {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([&r["Name"], &r["Login email"], &r["Role"], &r["Calendly link"], value, &r["Group"]]).unwrap();
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    };
    let mut active_csv = header.to_owned();
    let mut pending_csv = header.to_owned();
    active.iter().filter(|r| r["Group"] == team).for_each(|r| active_csv.push_str(&line(r, "Team")));
    pending.iter().filter(|r| r["Group"] == team).for_each(|r| pending_csv.push_str(&line(r, "Team")));
    active.iter().filter(|r| r["Group"] == other).take(2).for_each(|r| active_csv.push_str(&line(r, "Mixed")));
    active_csv.push_str(&line(loose[0], "Mixed"));
    loose[1..].iter().for_each(|r| active_csv.push_str(&line(r, "Floaters")));
    let team_users = in_group(&active, &team) + in_group(&pending, &team);
    let (a, p) = (home.write("active.csv", &active_csv), home.write("pending.csv", &pending_csv));
    let (a, p) = (a.to_str().unwrap(), p.to_str().unwrap());

    let ro = SandboxChild::start(&home, &["--read-only"]);
    let out =
        home.run_with(&["mapping", "infer", "-o", "inferred.toml", "--users-csv", a, "--users-csv", p], &ro.env());
    assert_eq!(out.code(), 0, "{out:?}");
    assert!(out.stderr.contains("Inferred 1 row(s)"), "{out:?}");
    assert!(out.stderr.contains("groupmap mapping check "), "says to check it: {out:?}");
    assert!(!out.stderr.contains("saved table"), "a read-only server has none: {out:?}");
    let text = std::fs::read_to_string(home.path("inferred.toml")).unwrap();
    assert!(text.starts_with("# groupmap mapping file INFERRED from where users already are: check it"), "{text}");
    assert_eq!(file_rows(&text), vec![("Team".to_owned(), team.clone())], "{text}");
    let doc: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!((doc["enabled"].as_bool(), doc.get("default_group")), (Some(true), None), "{text}");
    assert_eq!(doc["organization"].as_str(), Some(ro.organization.as_str()), "{text}");
    assert!(text.contains(&format!("group = {}  # {team_users}/{team_users} in {team}\n", toml_str(&team))), "{text}");
    assert!(text.contains(&format!("# \"Mixed\": 2 in {other}, 1 in no group\n")), "{text}");
    assert!(text.contains("# \"Floaters\": 2 in no group\n"), "{text}");

    // `mapping check` accepts it, and planning it moves nobody.
    let csvs = ["--users-csv", a, "--users-csv", p];
    let check = home.run_with(&[&["mapping", "check", "inferred.toml"][..], &csvs].concat(), &ro.env());
    assert_eq!(check.code(), 0, "{check:?}");
    assert!(check.stdout.contains("inferred.toml: OK: 1 rows, 0 new group(s)"), "{check:?}");
    let plan = home.run_with(&[&["plan", "--json", "--mapping", "inferred.toml"][..], &csvs].concat(), &ro.env());
    assert_eq!(plan.code(), 0, "{plan:?}");
    let summary = &plan.json()["summary"];
    assert_eq!((count(&summary["changes"]), count(&summary["unchanged"])), (0, team_users), "{summary}");
    assert_eq!(count(&summary["unmapped"]), 5, "{summary}");

    // Without -o the file goes to stdout.
    let out = home.run_with(&[&["mapping", "infer"][..], &csvs].concat(), &ro.env());
    assert_eq!((out.code(), out.stdout.as_str()), (0, text.as_str()), "{out:?}");

    // On a service with a saved table it is just a command, and says the table is not its start.
    let out = home.run(&["mapping", "infer"]);
    assert_eq!(out.code(), 0, "{out:?}");
    assert!(out.stderr.contains("note: this organization has a saved table (version"), "{out:?}");
    assert!(!file_rows(&out.stdout).is_empty(), "{out:?}");
}

#[cfg(unix)]
#[test]
fn token_file_readable_by_others_is_refused_without_showing_the_token() {
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new();
    let sb = SandboxChild::start(&home, &[]);
    let tf = home.write("token", &format!("{}\n", sb.token));
    std::fs::set_permissions(&tf, std::fs::Permissions::from_mode(0o644)).unwrap();
    let tfs = tf.to_str().unwrap();

    let out = home.run_with(&["plan", "--token-file", tfs], &[("GROUPMAP_BASE_URL", &sb.base)]);
    assert_eq!(out.code(), 1, "{out:?}");
    assert!(out.stderr.contains(&format!("chmod 600 {tfs}")), "{out:?}");
    assert!(!out.stderr.contains(&sb.token) && !out.stdout.contains(&sb.token), "the token leaked: {out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert!(!out.stderr.contains(SANDBOX_NOTICE), "{out:?}");
    // Also refused when named by GROUPMAP_TOKEN_FILE, and with no base URL (not a silent sandbox).
    let out = home.run_with(&["plan"], &[("GROUPMAP_TOKEN_FILE", tfs)]);
    assert_eq!(out.code(), 1, "{out:?}");
    assert!(out.stderr.contains("chmod 600") && !out.stderr.contains(&sb.token), "{out:?}");

    // After `chmod 600` the same file works.
    std::fs::set_permissions(&tf, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = home.run_with(&["plan", "--json", "--token-file", tfs], &[("GROUPMAP_BASE_URL", &sb.base)]);
    assert_eq!(out.code(), 0, "{out:?}");
    assert_eq!(out.json()["organization"].as_str().unwrap(), sb.organization);
    assert!(!out.stderr.contains(&sb.token), "{out:?}");
}

#[test]
fn help_lists_the_commands_and_there_is_no_token_flag() {
    let home = Home::new();
    let out = home.expect(0, &["--help"]);
    let commands: Vec<&str> = out
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    for c in ["tui", "demo", "plan", "apply", "mapping", "sandbox"] {
        assert!(commands.contains(&c), "{c} missing from {commands:?}: {out:?}");
    }
    assert!(out.stdout.contains("--token-file"), "{out:?}");
    let mentions_token_flag =
        |text: &str| text.match_indices("--token").any(|(i, _)| !text[i..].starts_with("--token-file"));
    assert!(!mentions_token_flag(&out.stdout), "{out:?}");
    for sub in [&["plan", "--help"][..], &["apply", "--help"], &["mapping", "export", "--help"]] {
        let h = home.expect(0, sub);
        assert!(!mentions_token_flag(&h.stdout), "{sub:?}: {h:?}");
    }
    // Passing a token on the command line is a usage error (clap: exit 2), and it is not echoed.
    let out = home.run(&["plan", "--token", "s3cret-value"]);
    assert_eq!(out.code(), 2, "{out:?}");
    assert!(out.stderr.contains("unexpected argument '--token'"), "{out:?}");
    assert!(!out.stderr.contains(SANDBOX_NOTICE), "nothing ran: {out:?}");
}

/// The editor is the default command, so its options work without naming it; without a
/// terminal it says what is missing and what to use instead, not a bare system error.
#[test]
fn the_editor_options_work_without_a_command_and_no_terminal_is_explained() {
    let home = Home::new();
    std::fs::write(home.path("m.toml"), "enabled = true\n").unwrap();
    for args in [&["--mouse", "--mapping", "m.toml"][..], &["demo", "--mouse"], &["tui", "--mapping", "m.toml"]] {
        let out = home.run(args);
        assert_eq!(out.code(), 1, "{args:?}: {out:?}");
        assert!(!out.stderr.contains("unexpected argument"), "{args:?}: {out:?}");
        assert!(out.stderr.contains("the editor needs a terminal, and standard input"), "{args:?}: {out:?}");
        assert!(out.stderr.contains("groupmap plan"), "says what works without one: {out:?}");
        assert!(!out.stderr.contains("os error"), "{out:?}");
    }
    // A subcommand's own --mapping is still its own, and global options go before a command.
    let plan = home.run(&["plan", "--mapping", "m.toml"]);
    assert!(!plan.stderr.contains("unexpected argument"), "{plan:?}");
    let global_first = home.run(&["--config", "/dev/null", "demo", "--mouse"]);
    assert!(global_first.stderr.contains("the editor needs a terminal"), "{global_first:?}");
    let misplaced = home.run(&["--mapping", "m.toml", "plan"]);
    assert_eq!(misplaced.code(), 1);
    assert!(misplaced.stderr.contains("put it after the command (`groupmap plan --mapping m.toml`)"), "{misplaced:?}");
}

/// The global options may come before the command (`groupmap --config F tui`, as the terminal
/// tests run it); the editor's options before another command are refused, not ignored.
#[test]
fn global_options_come_before_a_command_and_editor_options_before_another_are_refused() {
    let home = Home::new();
    home.write("cfg.toml", "# nothing configured\n");
    home.write("m.toml", "enabled = true\n");
    let out = home.expect(0, &["--config", "cfg.toml", "plan", "--json"]);
    check_plan_json(&out.json());
    for args in [&["--config", "cfg.toml", "tui"][..], &["--mouse", "demo"], &["--mapping", "m.toml", "tui", "--mouse"]]
    {
        let out = home.run(args);
        assert_eq!(out.code(), 1, "{args:?}: {out:?}");
        assert!(out.stderr.contains("the editor needs a terminal"), "{args:?}: {out:?}");
        assert!(!out.stderr.contains("cannot be used with"), "{args:?}: {out:?}");
    }
    let out = home.run(&["--mapping", "m.toml", "plan"]);
    assert_eq!(out.code(), 1, "{out:?}");
    assert!(out.stderr.contains("--mapping before the command is the editor's option; put it after"), "{out:?}");
    assert!(out.stdout.is_empty(), "nothing planned without the file: {out:?}");
}

#[test]
fn every_option_and_argument_is_described_in_help() {
    let home = Home::new();
    // `-h` prints each option with its description on one line.
    for cmd in [&["-h"][..], &["demo", "-h"], &["tui", "-h"], &["apply", "-h"], &["mapping", "check", "-h"]] {
        let out = home.run(cmd);
        assert_eq!(out.code(), 0, "{out:?}");
        // clap prints an option with no description as a bare line: `  --name <V>` and nothing after.
        for line in out.stdout.lines().filter(|l| l.trim_start().starts_with('-') || l.trim_start().starts_with('<')) {
            let described = line.trim().split("  ").filter(|p| !p.trim().is_empty()).count() > 1;
            assert!(described, "{cmd:?}: no description for `{}`", line.trim());
        }
    }
}

/// Ctrl-C during `apply` says what is known (saved as version N, the job running on), keeps
/// the attempted mapping and exits 130, instead of dying silently.
#[test]
fn ctrl_c_during_apply_says_what_the_server_holds_and_keeps_the_mapping() {
    use groupmap::sandbox::{Options, Sandbox};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sb =
        rt.block_on(Sandbox::start(Options { job_step: Duration::from_millis(400), ..Options::default() })).unwrap();
    let home = Home::new();
    let mut cmd = home.command(&["apply", "--yes"]);
    cmd.env("GROUPMAP_BASE_URL", sb.base_url()).env("CALENDLY_TOKEN", sb.token());
    let mut child = cmd.spawn().unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(err.read_line(&mut line).unwrap() > 0, "apply ended before saving: {seen}");
        seen.push_str(&line);
        if line.starts_with("Saved as version") {
            break;
        }
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let mut rest = String::new();
    err.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen}{rest}");
    assert!(
        rest.contains("Interrupted: the mapping was saved as version 4; its job moving users runs on at the server"),
        "{rest}"
    );
    assert!(rest.contains("The mapping you tried to save is in "), "{rest}");
    assert_eq!(std::fs::read_dir(home.path("state/groupmap/attempted")).unwrap().count(), 1);
    rt.block_on(sb.shutdown());
}

/// `mapping check --strict` fails on warnings too (for CI); without it warnings pass.
#[test]
fn mapping_check_strict_fails_on_warnings() {
    let home = Home::new();
    let file = home.write("typo.toml", "enabled = true\ndefault_group = \"Evryone\"\n");
    let file = file.to_str().unwrap();
    let lax = home.run(&["mapping", "check", file]);
    assert_eq!(lax.code(), 0, "{lax:?}");
    let strict = home.run(&["mapping", "check", "--strict", file]);
    assert_eq!(strict.code(), 1, "{strict:?}");
    assert!(strict.stderr.contains("--strict fails on warnings"), "{strict:?}");
}

/// Completions and the manual page come from the parser's own definitions: every command shows.
#[test]
fn completions_and_the_manual_page_cover_every_command() {
    let home = Home::new();
    for shell in ["bash", "zsh", "fish"] {
        let out = home.expect(0, &["completions", shell]);
        for cmd in ["plan", "apply", "mapping", "sandbox", "demo"] {
            assert!(out.stdout.contains(cmd), "{shell} completion lacks {cmd}");
        }
        assert!(out.stdout.contains("users-csv"), "{shell}: options too");
    }
    let man = home.expect(0, &["man"]);
    assert!(man.stdout.starts_with(".ie") && man.stdout.contains(".TH groupmap 1"), "{}", &man.stdout[..80]);
    assert!(man.stdout.contains("CALENDLY_TOKEN"), "the token's place is documented");
}

// ---------------------------------------------------------------------------------------------
// progress and the request log

/// What the sandbox itself tells of an organization: the export's rows (active and pending) and
/// the groups' member counts added up, the totals the progress lines must show.
fn told_totals(sb: &SandboxChild) -> (usize, usize) {
    let uuid = sb.organization.rsplit('/').next().unwrap();
    let mut users = 0;
    for status in ["active", "pending"] {
        let (code, csv) = sb.get(&format!("/organizations/{uuid}/user_export?status={status}"));
        assert_eq!(code, 200, "{csv}");
        users += groupmap::domain::Export::parse(status, csv.as_bytes()).unwrap().records.len();
    }
    let org: String = url_encode(&sb.organization);
    let (code, body) = sb.get(&format!("/groups?organization={org}&count=100"));
    assert_eq!(code, 200, "{body}");
    let groups: Value = serde_json::from_str(&body).unwrap();
    assert!(groups["pagination"]["next_page_token"].is_null(), "one page of groups");
    let members = groups["collection"].as_array().unwrap().iter().map(|g| count(&g["member_count"])).sum();
    (users, members)
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn thousands(n: usize) -> String {
    groupmap::service::loading::thousands(n)
}

#[test]
fn a_load_tells_its_progress_in_plain_lines_with_the_totals_when_stderr_is_not_a_terminal() {
    let home = Home::new();
    let sb = SandboxChild::start(&home, &["--users", "3000"]);
    let (users, relationships) = told_totals(&sb);
    let out = home.run_with(&["plan", "--json"], &sb.env());
    assert_eq!(out.code(), 0, "{out:?}");
    check_plan_json(&out.json());
    assert!(!out.stderr.contains('\r') && !out.stderr.contains('\x1b'), "no bar drawn on a pipe: {out:?}");

    let last = out.stderr.lines().find(|l| l.starts_with("loaded: ")).unwrap_or_else(|| panic!("{out:?}"));
    assert!(last.starts_with("loaded: 3,000 users ("), "{last}");
    let requests: usize =
        last.split("; ").nth(1).and_then(|t| t.split(' ').next()).unwrap().replace(',', "").parse().unwrap();
    assert!(requests > 50, "{last}");
    assert!(last.contains(&format!("; {requests} pages in ")), "{last}");

    let lines: Vec<&str> = out.stderr.lines().filter(|l| l.starts_with("loading: ")).collect();
    // A line every tenth of the load (or every few seconds), not one a page.
    assert!(!lines.is_empty() && lines.len() * 4 < requests, "{} lines for {requests} pages: {out:?}", lines.len());
    let total = format!(" of {} rows (", thousands(users + relationships));
    let measured: Vec<&&str> = lines.iter().filter(|l| l.contains(&total)).collect();
    assert!(!measured.is_empty(), "the export's rows and the groups' member counts make the total {total}: {out:?}");
    for l in &measured {
        assert!(l.contains(&format!("/{} · groups ", thousands(users))), "{l}");
        assert!(l.contains("; rate limit: ") && l.contains(" of 500 left, resets in "), "{l}");
    }
    assert!(measured.iter().any(|l| l.contains("; about ") && l.contains(" left; rate limit: ")), "{out:?}");
    let rels = format!("/{}; ", thousands(relationships));
    assert!(measured.iter().any(|l| l.contains(" · group relationships ") && l.contains(&rels)), "{rels}: {out:?}");
    let percents: Vec<u32> = measured
        .iter()
        .map(|l| l.split(" rows (").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap())
        .collect();
    // A new tenth each line, or the same one again after a few seconds (a slow machine).
    assert!(percents.windows(2).all(|w| w[0] <= w[1]), "{percents:?}");
    assert!(percents.len() == 1 || percents.first() < percents.last(), "{percents:?}");
}

#[test]
fn verbose_logs_each_request_with_its_rate_limit_and_retries_and_never_the_token() {
    let home = Home::new();
    let sb = SandboxChild::start(&home, &["--storm-429", "2", "--storm-retry-after", "0"]);
    for (args, env) in [(vec!["-v", "plan"], vec![]), (vec!["plan"], vec![("GROUPMAP_LOG", "debug")])] {
        let mut env: Vec<(&str, &str)> = env;
        env.extend(sb.env());
        let out = home.run_with(&args, &env);
        assert_eq!(out.code(), 0, "{out:?}");
        let answers: Vec<&str> = out.stderr.lines().filter(|l| l.contains(" groupmap::http: answer ")).collect();
        assert!(answers.len() >= 7, "a line per request: {out:?}");
        for l in &answers {
            assert!(l.contains(" method=GET url=\"/"), "{l}");
            assert!(l.contains(" ms=") && l.contains(" waited_ms=") && l.contains(" attempt="), "{l}");
            assert!(l.contains(" rate_limit=500 rate_remaining=") && l.contains(" rate_reset="), "{l}");
        }
        assert!(answers.iter().any(|l| l.contains("url=\"/users/me\" status=200")), "{out:?}");
        assert!(answers.iter().any(|l| l.contains("&page_token=")), "page tokens are shown: {out:?}");
        // The storm (two 429s, once per run of the sandbox) is waited out, and the log says so.
        if args[0] == "-v" {
            assert!(answers.iter().filter(|l| l.contains(" status=429 ")).count() == 2, "{out:?}");
            assert!(out.stderr.contains("429: waiting as the server asks"), "{out:?}");
            assert!(answers.iter().any(|l| l.contains("attempt=3")), "{out:?}");
        }
        assert!(!out.stderr.contains(&sb.token), "the token is never logged: {out:?}");
        assert!(!out.stderr.to_ascii_lowercase().contains("bearer"), "nor its header: {out:?}");
    }
    let bad = home.run_with(&["plan"], &[("GROUPMAP_LOG", "loud")]);
    assert_eq!(bad.code(), 1, "{bad:?}");
    assert!(bad.stderr.starts_with("error: GROUPMAP_LOG=loud: not a log level"), "{bad:?}");
}
