//! README's "Using it with your Calendly", step by step, against `groupmap sandbox --read-only`
//! (a server like Calendly's public API: people, groups and placements, no table, no export):
//! the admin-center exports written by hand, planning a file, the CSV for the admin center, the
//! table of record, and the drift check's exit codes. Also: a reload picks up a new recording.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

#[path = "common/child.rs"]
mod child;
use child::LEAKY_ENV;

const BIN: &str = env!("CARGO_BIN_EXE_groupmap");
/// The header of Calendly's admin-center user export (Admin center → Users → Export).
const EXPORT_HEADER: &str = "Name,Login email,Role,Calendly link,Identity Provider Group,Groups";

#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }
}

/// One admin's machine: XDG directories of its own, the server's address and token in the
/// environment as the README says to set them.
struct Admin {
    dir: tempfile::TempDir,
    env: Vec<(&'static str, String)>,
}

impl Admin {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> String {
        std::fs::write(self.path(name), text).unwrap();
        name.to_owned()
    }

    fn run(&self, args: &[&str]) -> Out {
        let mut c = child::command(self.dir.path(), args);
        for (k, v) in &self.env {
            c.env(k, v);
        }
        let (status, stdout, stderr) = child::run_to_end(c, &format!("groupmap {args:?}"));
        Out { code: status.code().expect("exited"), stdout, stderr }
    }

    fn expect(&self, code: i32, args: &[&str]) -> Out {
        let out = self.run(args);
        assert_eq!(out.code, code, "groupmap {args:?}: {out:?}");
        out
    }
}

/// A `groupmap sandbox` child process, killed when dropped.
struct Server {
    child: Child,
    base: String,
    token: String,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let mut args = vec!["sandbox", "--listen", "127.0.0.1:0", "--users", "12"];
        args.extend_from_slice(extra);
        let mut cmd = Command::new(BIN);
        cmd.args(&args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
        for k in LEAKY_ENV {
            cmd.env_remove(k);
        }
        let mut child = cmd.spawn().expect("spawn groupmap sandbox");
        let stdout = child.stdout.take().unwrap();
        let mut me = Server { child, base: String::new(), token: String::new() };
        let mut lines = BufReader::new(stdout).lines();
        while me.base.is_empty() {
            let line = lines.next().expect("the sandbox prints its address").unwrap();
            if let Some(rest) = line.trim().strip_prefix("export ") {
                for pair in rest.split_whitespace() {
                    match pair.split_once('=') {
                        Some(("GROUPMAP_BASE_URL", v)) => me.base = v.to_owned(),
                        Some(("CALENDLY_TOKEN", v)) => me.token = v.to_owned(),
                        _ => panic!("unexpected {pair:?}"),
                    }
                }
            }
        }
        std::thread::spawn(move || for _ in lines {});
        me
    }

    fn admin(&self) -> Admin {
        let dir = tempfile::tempdir().unwrap();
        let env = vec![("GROUPMAP_BASE_URL", self.base.clone()), ("CALENDLY_TOKEN", self.token.clone())];
        Admin { dir, env }
    }

    /// GET with the token: what Calendly's public API shows (people, groups, placements).
    fn get(&self, path_and_query: &str) -> Value {
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
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"), "{head}\n{body}");
        serde_json::from_str(body).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// A member as the API shows them: name, email, role and current group's name.
type Member = (String, String, String, Option<String>);

/// The organization's URI and its members.
fn people(server: &Server) -> (String, Vec<Member>) {
    let me = server.get("/users/me");
    let org = me["resource"]["current_organization"].as_str().unwrap().to_owned();
    let groups: BTreeMap<String, String> = server.get(&format!("/groups?organization={org}&count=100"))["collection"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["uri"].as_str().unwrap().to_owned(), g["name"].as_str().unwrap().to_owned()))
        .collect();
    let placed: BTreeMap<String, String> =
        server.get(&format!("/group_relationships?organization={org}&count=100"))["collection"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["role"] == "member")
            .map(|r| (r["owner"]["uri"].as_str().unwrap().to_owned(), groups[r["group"].as_str().unwrap()].clone()))
            .collect();
    let members = server.get(&format!("/organization_memberships?organization={org}&count=100"));
    assert!(members["pagination"]["next_page"].is_null(), "one page of members");
    let people = members["collection"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let u = &m["user"];
            (
                u["name"].as_str().unwrap().to_owned(),
                u["email"].as_str().unwrap().to_owned(),
                m["role"].as_str().unwrap().to_owned(),
                placed.get(m["uri"].as_str().unwrap()).cloned(),
            )
        })
        .collect();
    (org, people)
}

/// The Active users export as the admin center writes it: the IdP sends each user's current
/// group's name, except `moved` (email → value) that the IdP now sends differently.
fn active_export(people: &[Member], moved: &[(&str, &str)]) -> String {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    w.write_record(EXPORT_HEADER.split(',')).unwrap();
    for (name, email, role, group) in people {
        let value = moved.iter().find(|(e, _)| e == email).map_or(group.as_deref().unwrap_or(""), |(_, v)| v);
        let link = format!("https://calendly.com/{}", email.split('@').next().unwrap());
        w.write_record([name.as_str(), email, role, &link, value, group.as_deref().unwrap_or("")]).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

#[test]
fn the_readme_walkthrough_against_a_read_only_server() {
    let server = Server::start(&["--read-only"]);
    let admin = server.admin();
    let (org, people) = people(&server);
    let groups: Vec<String> = {
        let mut g: Vec<String> = people.iter().filter_map(|p| p.3.clone()).collect();
        g.sort();
        g.dedup();
        g
    };
    assert!(groups.len() >= 2, "people in several groups: {people:?}");
    let placed: Vec<&Member> = people.iter().filter(|p| p.3.is_some()).collect();

    // 2. The two exports from the admin center (Users → Export: Active, then Pending).
    let active = admin.write("active.csv", &active_export(&people, &[]));
    let pending = admin.write("pending.csv", &format!("{EXPORT_HEADER}\r\n"));
    let csvs = ["--users-csv", active.as_str(), "--users-csv", pending.as_str()];
    let with = |args: &[&str]| -> Vec<String> { args.iter().chain(&csvs).map(|s| (*s).to_owned()).collect() };
    let run = |code: i32, args: &[&str]| {
        let all = with(args);
        admin.expect(code, &all.iter().map(String::as_str).collect::<Vec<_>>())
    };

    // With no table of record and no file, the plan says the three ways forward (exit 1).
    for args in [&["plan"][..], &["plan", "--detailed-exitcode"]] {
        let out = run(1, args);
        for way in ["--mapping FILE", "groupmap mapping record FILE", "groupmap mapping infer -o FILE"] {
            assert!(out.stderr.contains(way), "names {way}: {out:?}");
        }
        assert!(out.stdout.is_empty(), "{out:?}");
    }

    // 3. The table as a file: each group's name as the value the IdP sends, a default group,
    // a group the admin center does not have yet, and a value with a trailing space.
    let mut table = format!("enabled = true\ndefault_group = {:?}\n", groups[0]);
    for g in &groups {
        table.push_str(&format!("\n[[rows]]\nidp_value = {g:?}\ngroup = {g:?}\n"));
    }
    table.push_str("\n[[rows]]\nidp_value = \"Contractors \"\ngroup = \"Contractors\"\n");
    let file = admin.write("mapping.toml", &table);

    let out = run(0, &["plan", "--detailed-exitcode", "--mapping", &file]);
    assert!(out.stdout.contains("Mapping file: mapping.toml"), "{out:?}");
    assert!(out.stdout.contains("Mapping table: not compared with a saved one"), "{out:?}");
    assert!(!out.stdout.contains("against the saved table"), "{out:?}");
    let j = run(0, &["plan", "--json", "--mapping", &file]).json();
    assert_eq!(j["compared_with"], serde_json::json!({"kind": "file", "path": "mapping.toml"}));
    assert_eq!(j["saved_table"], Value::Null);
    assert_eq!(j["summary"]["changes"], 0, "everyone is where the file puts them: {j}");
    assert_eq!(j["summary"]["unchanged"], placed.len(), "{j}");

    // 4. The CSV for the admin center, without the exports.
    let csv = admin.expect(0, &["mapping", "export", "--mapping", &file, "--format", "csv", "-o", "table.csv"]);
    let written = std::fs::read_to_string(admin.path("table.csv")).unwrap();
    let mut expected = String::from("Value in Identity Provider,Calendly group\n");
    for g in &groups {
        expected.push_str(&format!("{g},{g}\n"));
    }
    expected.push_str("Contractors ,Contractors\n");
    assert_eq!(written, expected);
    assert!(!csv.stderr.contains("user-export"), "no export asked for: {csv:?}");
    let note = &csv.stderr;
    assert!(note.contains(&format!("default group: \"{}\"", groups[0])), "{note}");
    assert!(
        note.contains("create these groups in the admin center first") && note.contains("\"Contractors\""),
        "{note}"
    );
    assert!(note.contains("apply to existing users: yes"), "{note}");
    assert!(note.contains("rows[") && note.contains("\"Contractors \" has a leading or trailing space"), "{note}");
    let toml = admin.expect(0, &["mapping", "export", "--mapping", &file]);
    assert!(toml.stdout.contains("idp_value = \"Contractors \""), "{toml:?}");

    // 6. Recording: a file with errors is refused with its problems, and nothing is recorded.
    let bad = admin.write(
        "bad.toml",
        &format!(
            "enabled = true\n[[rows]]\nidp_value = \"A\"\ngroup = \"{}/groups/no-such-group\"\n[[rows]]\nidp_value = \"A\"\ngroup = \"B\"\n",
            server.base
        ),
    );
    let out = admin.expect(1, &["mapping", "record", &bad]);
    assert!(out.stderr.contains("bad.toml:4: rows[0].group: no group with URI"), "{out:?}");
    assert!(out.stderr.contains("bad.toml:6: rows[1].idp_value: duplicate value"), "{out:?}");
    assert!(out.stderr.contains("nothing was recorded"), "{out:?}");
    assert!(!admin.path("state/groupmap/recorded").exists(), "nothing recorded");

    // The table entered in the admin center, recorded (no export needed).
    let out = admin.expect(0, &["mapping", "record", &file]);
    let kept = out.stdout.lines().find_map(|l| l.trim().strip_prefix("kept in ")).expect("says where").to_owned();
    assert!(kept.starts_with(admin.path("state/groupmap/recorded").to_str().unwrap()), "{out:?}");
    assert!(out.stdout.contains(&org), "names the organization: {out:?}");
    let when = out.stdout.lines().find_map(|l| l.split_once(", recorded ").map(|(_, w)| w.to_owned())).unwrap();
    assert!(when.ends_with(" UTC") && when.len() == "2026-12-02 14:05 UTC".len(), "{when}");
    assert!(out.stdout.contains(&format!("{} rows", groups.len() + 1)), "{out:?}");
    assert!(out.stderr.contains("\"Contractors\""), "warns of the group Calendly lacks: {out:?}");
    let recorded = std::fs::read_to_string(&kept).unwrap();
    assert!(recorded.starts_with("# groupmap table of record, recorded "), "{recorded}");

    // 7. The plan now compares with the table of record, and the drift check passes (exit 0).
    let out = run(0, &["plan", "--detailed-exitcode"]);
    assert!(
        out.stdout.contains(&format!("Mapping table: compared with the table of record, recorded {when}")),
        "{out:?}"
    );
    assert!(out.stdout.contains(&kept), "{out:?}");
    assert!(!out.stdout.contains("saved"), "nothing here is 'saved': {out:?}");
    let j = run(0, &["plan", "--json"]).json();
    assert_eq!(j["compared_with"]["kind"], "recorded", "{j}");
    assert_eq!(j["compared_with"]["path"], kept.as_str());
    let at = j["compared_with"]["recorded_at"].as_str().unwrap();
    assert_eq!(format!("{} {} UTC", &at[..10], &at[11..16]), when, "{at}");
    assert_eq!(j["saved_table"], j["compared_with"]);
    assert_eq!(j["summary"]["changes"], 0);

    // Someone's IdP value changed, so the table puts them in another group: drift (exit 2).
    let who = placed[0];
    let elsewhere = groups.iter().find(|g| Some(*g) != who.3.as_ref()).unwrap();
    admin.write("active.csv", &active_export(&people, &[(&who.1, elsewhere)]));
    let out = run(2, &["plan", "--detailed-exitcode"]);
    assert!(out.stderr.contains(&format!("1 user(s) are not where the table recorded {when} puts them")), "{out:?}");
    assert!(out.stdout.contains(&who.1), "{out:?}");
    let j = run(0, &["plan", "--json"]).json();
    assert_eq!(j["changes"].as_array().unwrap().len(), 1, "{j}");
    assert_eq!(j["changes"][0]["email"], who.1.as_str());
    // A table naming a group Calendly lacks cannot be the one entered there: the drift says so.
    let missing =
        admin.write("missing.toml", &table.replace(&format!("group = {:?}", groups[1]), "group = \"Contractors\""));
    let out = run(2, &["plan", "--detailed-exitcode", "--mapping", &missing]);
    assert!(
        out.stderr.contains(
            "; it names a group Calendly does not have yet: \"Contractors\" (create it in the admin center first)"
        ),
        "{out:?}"
    );
    // Without --detailed-exitcode the plan itself succeeds.
    run(0, &["plan"]);
    // An error is 1, not 0 or 2: an export that is not there.
    let out = admin.expect(1, &["plan", "--detailed-exitcode", "--users-csv", "gone.csv"]);
    assert!(out.stderr.contains("gone.csv"), "{out:?}");

    // The table of record is exported as the table, with no file and no export.
    let out = admin.expect(0, &["mapping", "export", "--format", "csv"]);
    assert_eq!(out.stdout, expected);

    // A file planned against the record: the table's changes are against the recorded one.
    let changed = admin.write("changed.toml", &table.replace("enabled = true", "enabled = false"));
    let out = run(0, &["plan", "--detailed-exitcode", "--mapping", &changed]);
    assert!(out.stdout.contains(&format!("Mapping table changes (against the table recorded {when}):")), "{out:?}");
    assert!(out.stdout.contains("~ group mapping ON → OFF"), "{out:?}");

    // Nothing can be saved here; the refusal says how the table gets to Calendly and back here.
    let out = run(1, &["apply", "--yes"]);
    assert!(out.stderr.contains("groupmap mapping record FILE"), "{out:?}");
}

#[test]
fn a_service_that_saves_its_own_table_has_nothing_to_record() {
    let server = Server::start(&[]);
    let admin = server.admin();
    let file = admin.write("m.toml", "enabled = true\n");
    let out = admin.expect(1, &["mapping", "record", &file]);
    assert!(
        out.stderr.contains("saves its own group-mapping table") && out.stderr.contains("apply --mapping"),
        "{out:?}"
    );
    assert!(!admin.path("state/groupmap/recorded").exists());
}

/// A load reads the table of record afresh: one recorded after a load is there on the next
/// (the editor's reload after recording), and a service with its own table ignores it.
#[tokio::test]
async fn a_reload_picks_up_a_table_recorded_since() {
    use groupmap::domain::{FieldChoice, TableOrigin};
    use groupmap::engine::{Engine, LoadOptions};
    use groupmap::sandbox::{Options, Sandbox};
    use groupmap::service::calendly::{Client, Secret};
    use groupmap::store::Store;

    let dir = tempfile::tempdir().unwrap();
    let sb = Sandbox::start(Options { read_only: true, users: Some(12), ..Options::default() }).await.unwrap();
    let export = dir.path().join("active.csv");
    std::fs::write(&export, format!("{EXPORT_HEADER}\n")).unwrap();
    let store = Store::at(dir.path().join("state"), None, sb.base_url());
    let client = Client::new(sb.base_url(), Secret::new(sb.token())).unwrap();
    let opts = LoadOptions { users_csv: vec![export], ..LoadOptions::default() };
    let engine = Engine::calendly(client, &opts).with_records(store.clone());

    let first = engine.load(None).await.unwrap();
    assert_eq!(first.recorded, None);
    assert_eq!(first.snapshot(&FieldChoice::default()).unwrap().saved, None);

    let group = &first.directory.groups[0];
    let text = format!("enabled = true\n[[rows]]\nidp_value = \"X\"\ngroup = {:?}\n", group.name);
    let at = time::macros::datetime!(2026-12-02 14:05:00 UTC);
    let path = store.record_table(first.uri(), &text, at).unwrap();

    let again = engine.load(None).await.unwrap();
    let snap = again.snapshot(&FieldChoice::default()).unwrap();
    let saved = snap.saved.expect("the new recording");
    assert_eq!(saved.origin, TableOrigin::Recorded { recorded_at: at, path });
    assert_eq!(saved.mapping.rows[0].target, groupmap::domain::Target::Group(group.uri.clone()));
    assert_eq!(saved.label(), "recorded 2026-12-02");
    // The directory-only load (for exports) has it too.
    assert!(engine.load_directory(None).await.unwrap().recorded.is_some());

    // A recording that no longer resolves is an error naming its file, not silently dropped.
    let bad = store.record_table(first.uri(), "enabled = true\n[[rows]]\nidp_value = \"X\"\n", at).unwrap();
    let err = engine.load(None).await.unwrap_err().to_string();
    assert!(err.contains(&bad.display().to_string()) && err.contains("groupmap mapping record"), "{err}");
    sb.shutdown().await;

    // Where the service holds its own table, that is the one compared with.
    let full = Sandbox::start(Options { users: Some(12), ..Options::default() }).await.unwrap();
    let store = Store::at(dir.path().join("state"), None, full.base_url());
    let org = full.organization();
    store.record_table(&org, "enabled = false\n", at).unwrap();
    let client = Client::new(full.base_url(), Secret::new(full.token())).unwrap();
    let engine = Engine::calendly(client, &LoadOptions::default()).with_records(store);
    let loaded = engine.load(None).await.unwrap();
    assert_eq!(loaded.recorded, None);
    assert_eq!(loaded.snapshot(&FieldChoice::default()).unwrap().saved.unwrap().origin, TableOrigin::Service);
    full.shutdown().await;
}
