//! The read-only path with the admin-center exports, as an admin runs it against real Calendly:
//! the sandbox in read-only mode (no export or mapping endpoint), the two exports downloaded
//! beforehand, the real binary. What one export alone leaves out is said; columns are found
//! and named per file; paths in the config file are read next to it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use groupmap::app::{Effect, Model, Msg, update};
use groupmap::domain::FieldChoice;
use groupmap::domain::finding::LintKind;
use groupmap::engine::{Engine, LoadOptions};
use groupmap::sandbox::{Options, Sandbox};
use groupmap::service::calendly::{Client, Secret};
use serde_json::Value;

#[path = "common/child.rs"]
mod child;
use child::LEAKY_ENV;

const BIN: &str = env!("CARGO_BIN_EXE_groupmap");
const MAPPING: &str = "enabled = true\n\n[[rows]]\nidp_value = \"Sales EMEA\"\ngroup = \"Sales EMEA\"\n\n\
                       [[rows]]\nidp_value = \"Engineering\"\ngroup = \"Engineering\"\n";

/// A read-only sandbox (as real Calendly: no export endpoint) and the two exports the admin
/// center would give, downloaded from a full sandbox of the same organization.
struct Setup {
    rt: tokio::runtime::Runtime,
    sandbox: Option<Sandbox>,
    dir: tempfile::TempDir,
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}", self.code, self.stdout, self.stderr)
    }
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }
}

impl Setup {
    fn new() -> Setup {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        rt.block_on(async {
            let full = Sandbox::start(Options::default()).await.unwrap();
            let uuid = full.organization().rsplit('/').next().unwrap().to_owned();
            let http = reqwest::Client::new();
            for status in ["active", "pending"] {
                let url = format!("{}/organizations/{uuid}/user_export?status={status}", full.base_url());
                let resp = http.get(url).bearer_auth(full.token()).send().await.unwrap();
                assert_eq!(resp.status(), 200);
                std::fs::write(dir.path().join(format!("{status}.csv")), resp.bytes().await.unwrap()).unwrap();
            }
            full.shutdown().await;
        });
        std::fs::write(dir.path().join("m.toml"), MAPPING).unwrap();
        let sandbox = rt.block_on(Sandbox::start(Options { read_only: true, ..Options::default() })).unwrap();
        Setup { rt, sandbox: Some(sandbox), dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn sandbox(&self) -> &Sandbox {
        self.sandbox.as_ref().unwrap()
    }

    /// The pending invitations the export lists (its rows after the header).
    fn pending_rows(&self) -> usize {
        std::fs::read_to_string(self.path("pending.csv")).unwrap().lines().count() - 1
    }

    /// `groupmap ARGS` in `cwd` (the setup's folder when None), against the read-only sandbox.
    fn run_in(&self, cwd: Option<&Path>, args: &[&str]) -> Out {
        let mut c = Command::new(BIN);
        c.args(args)
            .current_dir(cwd.unwrap_or(self.dir.path()))
            .env("XDG_STATE_HOME", self.path("state"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_CACHE_HOME", self.path("cache"))
            .stdin(Stdio::null());
        for k in LEAKY_ENV {
            c.env_remove(k);
        }
        c.env("GROUPMAP_BASE_URL", self.sandbox().base_url()).env("CALENDLY_TOKEN", self.sandbox().token());
        let out = c.output().expect("run groupmap");
        Out {
            code: out.status.code().expect("not killed"),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }

    fn run(&self, args: &[&str]) -> Out {
        self.run_in(None, args)
    }

    fn expect(&self, code: i32, args: &[&str]) -> Out {
        let out = self.run(args);
        assert_eq!(out.code, code, "groupmap {args:?}: {out:?}");
        out
    }

    /// Rewrites one header of an export (the admin's own spreadsheet renamed a column).
    fn rename_column(&self, file: &str, from: &str, to: &str) {
        let text = std::fs::read_to_string(self.path(file)).unwrap();
        let (head, rest) = text.split_once('\n').unwrap();
        assert!(head.contains(from), "{head}");
        std::fs::write(self.path(file), format!("{}\n{rest}", head.replace(from, to))).unwrap();
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        if let Some(sb) = self.sandbox.take() {
            self.rt.block_on(sb.shutdown());
        }
    }
}

fn lint_of(j: &Value, kind: &str) -> Vec<String> {
    j["lint"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == kind)
        .map(|l| l["message"].as_str().unwrap().to_owned())
        .collect()
}

/// The reported defect: with only the Active export, pending invitees dropped out of the plan
/// without a word (12 in scope became 10). Now `plan` (text and JSON) and `mapping check` say
/// how many pending invitations are left out, and how the file was recognised.
#[test]
fn only_the_active_export_says_which_pending_invitations_are_left_out() {
    let s = Setup::new();
    let both = s.expect(
        0,
        &["plan", "--json", "--users-csv", "active.csv", "--users-csv", "pending.csv", "--mapping", "m.toml"],
    );
    let both = both.json();
    assert_eq!(lint_of(&both, "missing_export"), Vec::<String>::new(), "both exports: nothing is missing");

    let pending = s.pending_rows();
    let said = format!(
        "the {pending} pending invitations Calendly lists have no IdP value here and are left out of the plan; pass \
         the Pending users export too with --users-csv"
    );
    let active_only = s.expect(0, &["plan", "--json", "--users-csv", "active.csv", "--mapping", "m.toml"]).json();
    let found = lint_of(&active_only, "missing_export");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with("only the Active users export was given (active.csv: its "), "{found:?}");
    assert!(found[0].contains(" row(s) match members; none matches a pending invitation): "), "{found:?}");
    assert!(found[0].ends_with(&said), "{found:?}");
    let in_scope = |j: &Value| j["summary"]["in_scope"].as_u64().unwrap();
    assert!(in_scope(&active_only) < in_scope(&both), "the invitees are what is missing");

    let human = s.expect(0, &["plan", "--users-csv", "active.csv", "--mapping", "m.toml"]);
    assert!(human.stdout.contains("  warning: only the Active users export was given (active.csv"), "{human:?}");
    assert!(human.stdout.contains(&said), "{human:?}");

    let check = s.run(&["mapping", "check", "m.toml", "--users-csv", "active.csv"]);
    assert_eq!(check.code, 0, "a warning, not an error: {check:?}");
    assert!(check.stderr.contains("warning: m.toml: only the Active users export was given"), "{check:?}");
    let strict = s.run(&["mapping", "check", "--strict", "m.toml", "--users-csv", "active.csv"]);
    assert_eq!(strict.code, 1, "{strict:?}");

    let pending_only = s.expect(0, &["plan", "--json", "--users-csv", "pending.csv", "--mapping", "m.toml"]).json();
    let found = lint_of(&pending_only, "missing_export");
    assert!(found[0].starts_with("only the Pending users export was given (pending.csv: its "), "{found:?}");
    assert!(found[0].contains("members Calendly lists have no IdP value here"), "{found:?}");
    assert!(found[0].ends_with("pass the Active users export too with --users-csv"), "{found:?}");
}

/// The editor shows it too: the finding is in the plan the editor keeps and in its preview.
#[test]
fn the_editor_says_which_export_is_missing() {
    let s = Setup::new();
    let client = Client::new(s.sandbox().base_url(), Secret::new(s.sandbox().token())).unwrap();
    let load = LoadOptions {
        organization: None,
        users_csv: vec![s.path("active.csv")],
        fields: FieldChoice::default(),
        idp: None,
    };
    let org = s.rt.block_on(Engine::calendly(client, &load).load(None)).unwrap();
    let mut m = Model::new(false, FieldChoice::default());
    let effects = groupmap::app::update::start_load(&mut m);
    let Effect::Load { id } = effects[0] else { panic!("load first: {effects:?}") };
    update(&mut m, Msg::Loaded { id, result: Ok(Arc::new(org)) });
    let finding = m.plan.lint.iter().find(|f| f.kind == LintKind::MissingExport).expect("a missing-export finding");
    assert!(finding.message.contains(&format!("the {} pending invitations", s.pending_rows())), "{finding:?}");
    update(&mut m, Msg::Key(crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('p'))));
    assert!(
        m.preview_lines.iter().any(|l| l.text.contains("only the Active users export was given")),
        "the preview lists it with the other findings"
    );
}

/// The reported defect: `--idp-column` applied to every file, and its error contradicted
/// itself. Now a header for every file applies where it exists, `FILE=HEADER` names one file's
/// column, and an error names the file and the columns it has.
#[test]
fn columns_are_found_and_named_per_file() {
    let s = Setup::new();
    let both = ["plan", "--json", "--users-csv", "active.csv", "--users-csv", "pending.csv", "--mapping", "m.toml"];
    let baseline = s.expect(0, &both).json()["summary"].clone();
    // The Pending export's column is called otherwise, and its header shows no IdP group.
    s.rename_column("pending.csv", "Identity Provider Group", "SCIM Team");

    let out = s.run(&both);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(
            "pending.csv: line 1: no Identity Provider Group column found among [Name, Login email, Role, Calendly \
             link, SCIM Team, Group]; name it with --idp-column HEADER, or --idp-column pending.csv=HEADER for this \
             file alone"
        ),
        "{out:?}"
    );

    // Named for every file: the Active export has no such column and keeps its own.
    let mut args = both.to_vec();
    args.extend(["--idp-column", "SCIM Team"]);
    assert_eq!(s.expect(0, &args).json()["summary"], baseline);
    // Named for the one file.
    let mut args = both.to_vec();
    args.extend(["--idp-column", "pending.csv=SCIM Team"]);
    assert_eq!(s.expect(0, &args).json()["summary"], baseline);

    // Misspelt for the one file: its error names it and the columns it has, nothing else.
    let mut args = both.to_vec();
    args.extend(["--idp-column", "pending.csv=SCIM Teem"]);
    let out = s.run(&args);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(
            "pending.csv: line 1: no column \"SCIM Teem\" (asked for as the Identity Provider Group column) among \
             [Name, Login email, Role, Calendly link, SCIM Team, Group]; check the spelling of `--idp-column \
             pending.csv=SCIM Teem`"
        ),
        "{out:?}"
    );
    assert!(!out.stderr.contains("active.csv"), "the Active export is fine: {out:?}");
    // Misspelt for every file: in none of them, each file's columns listed.
    let mut args = both.to_vec();
    args.extend(["--idp-column", "SCIM Teem"]);
    let out = s.run(&args);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("no export has the column \"SCIM Teem\" (--idp-column): active.csv has [Name,"),
        "{out:?}"
    );
    // A file that is not one of the exports.
    let mut args = both.to_vec();
    args.extend(["--idp-column", "pending2.csv=SCIM Team"]);
    let out = s.run(&args);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains(
            "--idp-column \"pending2.csv=SCIM Team\": \"pending2.csv\" is not one of the exports (they are active.csv, \
             pending.csv)"
        ),
        "{out:?}"
    );
}

/// The reported defect: relative `users_csv` paths in the config file were read from the
/// current directory, and the error did not mention the config file.
#[test]
fn paths_in_the_config_file_are_read_next_to_it() {
    let s = Setup::new();
    let both = ["plan", "--json", "--users-csv", "active.csv", "--users-csv", "pending.csv", "--mapping", "m.toml"];
    let baseline = s.expect(0, &both).json()["summary"].clone();
    let cfg_dir = s.path("cfg");
    std::fs::create_dir(&cfg_dir).unwrap();
    for f in ["active.csv", "pending.csv"] {
        std::fs::rename(s.path(f), cfg_dir.join(f)).unwrap();
    }
    s.rename_column("cfg/pending.csv", "Identity Provider Group", "SCIM Team");
    let config = cfg_dir.join("config.toml");
    std::fs::write(
        &config,
        "users_csv = [\"active.csv\", \"pending.csv\"]\nidp_column = [\"pending.csv=SCIM Team\"]\n",
    )
    .unwrap();
    let elsewhere = s.path("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let mapping = s.path("m.toml");
    let args = ["plan", "--json", "--config", config.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()];
    let out = s.run_in(Some(&elsewhere), &args);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["summary"], baseline, "the same plan, run from another folder");

    std::fs::write(&config, "users_csv = [\"active.csv\", \"pendng.csv\"]\n").unwrap();
    let out = s.run_in(Some(&elsewhere), &args);
    assert_eq!(out.code, 1, "{out:?}");
    let missing = cfg_dir.join("pendng.csv");
    assert!(
        out.stderr.contains(&format!(
            "{}: users_csv: {} (read next to the config file): No such file",
            config.display(),
            missing.display()
        )),
        "{out:?}"
    );
}
