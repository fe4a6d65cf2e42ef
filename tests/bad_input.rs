//! Bad input: CSV exports, mapping and config TOML, API JSON of the wrong shape, and hostile
//! text (terminal escapes, control characters, bidi overrides, zero-width and wide characters,
//! very long strings) in names, emails, IdP values and group names. Each is a clear error naming
//! where (file, line, column or key; endpoint and field), or handled; hostile text is shown
//! escaped to a person and exact to a program.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use groupmap::config::{Config, Flags};
use groupmap::domain::mapping_file::MappingFile;
use groupmap::domain::people::join;
use groupmap::domain::{Export, FieldChoice, Mapping, OwnerKind, Person, Snapshot, plan};
use groupmap::engine::{Engine, LoadOptions};
use groupmap::sandbox::{NewPerson, Options, Sandbox};
use groupmap::service::calendly::client::ClientOptions;
use groupmap::service::calendly::{Client, Secret};

const BIN: &str = env!("CARGO_BIN_EXE_groupmap");

fn parse(csv: &[u8]) -> Result<Export, String> {
    Export::parse("users.csv", csv).map_err(|e| e.to_string())
}

fn person(email: &str) -> Person {
    Person {
        kind: OwnerKind::Member,
        uri: format!("https://h/m/{email}").into(),
        name: email.into(),
        email: email.into(),
        group: None,
    }
}

// ---------------------------------------------------------------------------------------------
// CSV exports

#[test]
fn csv_with_bom_crlf_quoted_commas_and_newlines_is_read_with_the_right_lines() {
    let csv = "\u{feff}Name,Login email,Identity Provider Group\r\n\
               \"Lopez, Ana\",ana@x.test,\"Sales, EMEA\"\r\n\
               \"Bo\r\nSecond line\",bo@x.test,\"multi\nline \"\"value\"\"\"\r\n\
               Cy,cy@x.test,Ops\r\n";
    let e = parse(csv.as_bytes()).unwrap();
    assert_eq!(e.headers, ["Name", "Login email", "Identity Provider Group"], "the BOM is not part of the header");
    let rows: Vec<(u64, Vec<&str>)> = e.records.iter().map(|(l, r)| (*l, r.iter().collect())).collect();
    assert_eq!(
        rows,
        [
            (2, vec!["Lopez, Ana", "ana@x.test", "Sales, EMEA"]),
            (3, vec!["Bo\r\nSecond line", "bo@x.test", "multi\nline \"value\""]),
            (6, vec!["Cy", "cy@x.test", "Ops"]),
        ]
    );
    assert_eq!(e.columns(&FieldChoice::default()).unwrap(), (1, 2));
}

#[test]
fn csv_missing_columns_name_the_file_the_line_and_what_was_found() {
    let e = parse(b"Name,Email\nA,a@x\n").unwrap();
    let err = e.columns(&FieldChoice::default()).unwrap_err().to_string();
    assert_eq!(
        err,
        "users.csv: line 1: no Identity Provider Group column found among [Name, Email]; name it with --idp-column \
         HEADER, or --idp-column users.csv=HEADER for this file alone"
    );
    // A column asked for every file that no file has is misspelt: said once, with each file's columns.
    let asked = FieldChoice { email: Some("Mail".into()), ..FieldChoice::default() };
    let err = asked.check(std::slice::from_ref(&e)).unwrap_err().to_string();
    assert_eq!(
        err,
        "no export has the column \"Mail\" (--email-column): users.csv has [Name, Email]; check the spelling"
    );
    // One asked for this file alone is its error, never contradicting the columns it lists.
    let own = FieldChoice {
        by_file: vec![groupmap::domain::export::FileFields {
            file: "users.csv".into(),
            email: Some("Mail".into()),
            idp_value: None,
        }],
        ..FieldChoice::default()
    };
    let err = e.columns(&own).unwrap_err().to_string();
    assert_eq!(
        err,
        "users.csv: line 1: no column \"Mail\" (asked for as the login email column) among [Name, Email]; check the \
         spelling of `--email-column users.csv=Mail`"
    );
}

#[test]
fn csv_duplicated_header_columns_are_an_error_naming_both() {
    let err = parse(b"Name,Login email,login_email,Identity Provider Group\n").unwrap_err();
    assert_eq!(
        err,
        "users.csv: line 1: column \"login_email\" appears twice (columns 2 and 3); rename or remove one, \
         or export again from Calendly's admin center"
    );
}

#[test]
fn csv_duplicate_emails_keep_the_first_row_and_report_a_conflicting_one() {
    let e = parse(
        b"Login email,Identity Provider Group\nana@x.test,Sales\nANA@x.test,Sales\nbo@x.test,Ops\nBO@X.TEST,Eng\n",
    )
    .unwrap();
    let people = [person("ana@x.test"), person("bo@x.test")];
    let j = join(&people, &[e], &FieldChoice::default());
    assert_eq!(j.owners[0].value.as_deref(), Some("Sales"), "the same value twice is no conflict");
    assert_eq!(j.owners[1].value.as_deref(), Some("Ops"), "the first row wins");
    assert_eq!(j.conflicting.len(), 1);
    assert_eq!((j.conflicting[0].line, j.conflicting[0].value.as_str()), (5, "Eng"));
    // And the admin is told, with file and line.
    let snap = Snapshot::from_parts(
        "https://h",
        "https://h/organizations/O",
        vec![],
        &std::sync::Arc::new(people.to_vec()),
        &[parse(b"Login email,Identity Provider Group\nbo@x.test,Ops\nBO@X.TEST,Eng\n").unwrap()],
        &FieldChoice::default(),
        None,
    );
    let p = plan(&snap, &Mapping::default());
    let msgs: Vec<&str> = p.lint.iter().map(|f| f.message.as_str()).collect();
    assert!(
        msgs.iter().any(|m| m.starts_with("users.csv, line 3: BO@X.TEST appears again with value \"Eng\"")),
        "{msgs:?}"
    );
}

#[test]
fn csv_empty_blank_and_header_only_files() {
    let empty = "users.csv: the file is empty (expected a header row such as `Name,Login email,...`)";
    assert_eq!(parse(b"").unwrap_err(), empty);
    assert_eq!(parse(b"\r\n\r\n\n").unwrap_err(), empty);
    assert_eq!(parse(b",,\n,,\n").unwrap_err(), empty, "only empty fields");
    assert_eq!(parse(b"\xEF\xBB\xBF").unwrap_err(), empty, "a BOM alone");
    let e = parse(b"Login email,Identity Provider Group\r\n").unwrap();
    assert!(e.records.is_empty(), "a header alone is an export of nobody");
}

#[test]
fn csv_invalid_utf8_names_line_column_header_and_byte() {
    let err = parse(b"Login email,Identity Provider Group\nana@x.test,Vertrieb\nbo@x.test,Verk\xe4ufer\n").unwrap_err();
    assert_eq!(
        err,
        "users.csv: line 3: column 2 (\"Identity Provider Group\"): byte 5 of the field is not valid UTF-8; \
         save the export as UTF-8 CSV"
    );
    // Excel's "Unicode text" (UTF-16 with a BOM) fails on the first byte, with the same advice.
    let utf16: Vec<u8> = "\u{feff}Login email\tGroup\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
    let err = parse(&utf16).unwrap_err();
    assert!(err.starts_with("users.csv: line 1: column 1: byte 1 of the field is not valid UTF-8"), "{err}");
}

#[test]
fn csv_extra_fields_and_unbalanced_quotes_are_handled() {
    let err = parse(b"Login email,Identity Provider Group\nana@x.test,Sales, EMEA\n").unwrap_err();
    assert_eq!(err, "users.csv: line 2: column 3: 3 fields but the header has 2 (a field with a comma needs quotes)");
    // Fewer fields than the header: the missing ones read as empty.
    let e = parse(b"Login email,Identity Provider Group,Name\nana@x.test\n").unwrap();
    let j = join(&[person("ana@x.test")], &[e], &FieldChoice::default());
    assert_eq!(j.owners[0].value.as_deref(), Some(""));
    // A quote never closed swallows the rest of the file into one field: no panic, no row lost
    // silently (the record is there, with its line).
    let e = parse(b"Login email,Identity Provider Group\nana@x.test,\"Sales\nbo@x.test,Ops\n").unwrap();
    assert_eq!(e.records.len(), 1);
    assert_eq!((e.records[0].0, &e.records[0].1[1]), (2, "Sales\nbo@x.test,Ops\n"));
}

/// Writes a 100 MB export (about 950,000 rows) and parses it in a child process of this test
/// binary, so that the peak memory measured is the parse's alone.
#[test]
fn csv_of_100_mb_parses_in_bounded_time_and_memory() {
    const CHILD: &str = "GROUPMAP_BIG_CSV_CHILD";
    if let Ok(path) = std::env::var(CHILD) {
        let started = Instant::now();
        let bytes = std::fs::read(&path).unwrap();
        let e = Export::parse(&path, &bytes).unwrap();
        let (email, idp) = e.columns(&FieldChoice::default()).unwrap();
        assert_eq!(e.samples(idp, 3), ["Sales EMEA 0", "Sales EMEA 1", "Sales EMEA 2"]);
        assert_eq!(&e.records[7].1[email], "person7@example.com");
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let hwm: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .unwrap()
            .trim()
            .trim_end_matches(" kB")
            .parse()
            .unwrap();
        println!("BIG-CSV records={} peak_kb={hwm} secs={:.1}", e.records.len(), started.elapsed().as_secs_f64());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    w.write_all(b"\xEF\xBB\xBFName,Login email,Role,Calendly link,Identity Provider Group,Group\r\n").unwrap();
    let (mut size, mut n) = (0usize, 0usize);
    while size < 100 * 1024 * 1024 {
        let line = format!(
            "\"Person {n}, Jr.\",person{n}@example.com,user,https://calendly.com/person-{n},Sales EMEA {},Group {}\r\n",
            n % 500,
            n % 50
        );
        w.write_all(line.as_bytes()).unwrap();
        size += line.len();
        n += 1;
    }
    w.flush().unwrap();
    drop(w);
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args(["--exact", "csv_of_100_mb_parses_in_bounded_time_and_memory", "--nocapture", "--test-threads=1"])
        .env(CHILD, &path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let line = stdout.split("BIG-CSV").nth(1).and_then(|l| l.lines().next()).expect("the child's report");
    let field =
        |k: &str| -> f64 { line.split(' ').find_map(|f| f.strip_prefix(k)).and_then(|v| v.parse().ok()).unwrap() };
    assert_eq!(field("records=") as usize, n);
    // The file itself is 100 MB and stays in memory while it is parsed; the parsed rows take
    // about as much again (measured: ~270 MB peak). A String per field took ~480 MB.
    assert!(field("peak_kb=") < 400.0 * 1024.0, "{line}");
    assert!(field("secs=") < 60.0, "{line}");
}

// ---------------------------------------------------------------------------------------------
// TOML: the mapping file and the config file

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn mapping_file_errors_name_the_file_the_line_and_the_full_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str)] = &[
        (
            "enabled = true\n[[rows]]\nidp_value = \"A\"\ngruop = \"X\"\n",
            "m.toml:4: rows[0].gruop: unknown field `gruop`, expected `idp_value` or `group`",
        ),
        ("enabled = true\n[[rows]]\nidp_value = \"A\"\n", "m.toml:2: rows[0].group: missing field `group`"),
        (
            "enabled = true\n[[rows]]\nidp_value = \"A\"\ngroup = \"X\"\n[[rows]]\nidp_value = 5\ngroup = \"Y\"\n",
            "m.toml:6: rows[1].idp_value: invalid type: integer `5`, expected a string",
        ),
        (
            "enabled = true\nrows = [{idp_value = \"A\", group = \"B\"}, {idp_value = \"C\"}]\n",
            "m.toml:2: rows[1].group: missing field `group`",
        ),
        ("[[rows]]\nidp_value = \"A\"\ngroup = \"X\"\n", "m.toml:1: enabled: missing field `enabled`"),
        ("enabled = \"yes\"\n", "m.toml:1: enabled: invalid type: string \"yes\", expected a boolean"),
        (
            "enabled = true\ndefault_group = 3\n",
            "m.toml:2: default_group: invalid type: integer `3`, expected a string",
        ),
        ("enabled = true\n[[rows]\n", "m.toml:2: unclosed array table, expected `]`"),
        ("", "m.toml:1: enabled: missing field `enabled`"),
        (
            "enabled = true\n[[rows]]\nidp_value = \"\"\ngroup = \"X\"\n",
            "m.toml:3: rows[0].idp_value: must not be empty",
        ),
    ];
    for (text, want) in cases {
        let path = write(dir.path(), "m.toml", text.as_bytes());
        let got = MappingFile::read(&path).unwrap_err().to_string();
        assert_eq!(got, want.replace("m.toml", &path.display().to_string()), "for {text:?}");
    }
    let path = write(dir.path(), "m.toml", b"enabled = true\n[[rows]]\nidp_value = \"Verk\xe4ufer\"\n");
    let got = MappingFile::read(&path).unwrap_err().to_string();
    assert_eq!(got, format!("{}:3: column 18: the file is not valid UTF-8 (save it as UTF-8)", path.display()));
}

/// A file with many problems lists them all at once, each with its line and key, in line order;
/// only text that is not TOML stops at its first error.
#[test]
fn mapping_file_lists_every_problem_of_every_row_and_of_the_top_level() {
    let text = "enabled = \"yes\"\ncolour = \"red\"\ndefault_group = 3\n\
                [[rows]]\nidp_value = \"A\"\ngruop = \"X\"\n\
                [[rows]]\nidp_value = \"B\"\n\
                [[rows]]\nidp_value = 5\ngroup = \"Y\"\nextra = true\n\
                [[rows]]\nidp_value = \"A\"\ngroup = \" \"\n\
                [[rows]]\nidp_value = \"C\"\ngroup = \"Z\"\n";
    let e = MappingFile::parse("m.toml", text).unwrap_err().to_string();
    assert_eq!(
        e.lines().collect::<Vec<_>>(),
        [
            "m.toml:1: enabled: invalid type: string \"yes\", expected a boolean",
            "m.toml:2: colour: unknown field `colour`, expected one of `organization`, `enabled`, `default_group`, \
             `apply_to_existing`, `rows`",
            "m.toml:3: default_group: invalid type: integer `3`, expected a string",
            "m.toml:6: rows[0].gruop: unknown field `gruop`, expected `idp_value` or `group`",
            "m.toml:7: rows[1].group: missing field `group`",
            "m.toml:10: rows[2].idp_value: invalid type: integer `5`, expected a string",
            "m.toml:12: rows[2].extra: unknown field `extra`, expected `idp_value` or `group`",
            "m.toml:14: rows[3].idp_value: duplicate value \"A\" (first on line 5); each value maps to one group",
            "m.toml:15: rows[3].group: must name a group",
        ]
    );
    // What parsed is kept for resolving: the well-formed rows, each with its index in the file.
    let (file, problems) = MappingFile::parse_all("m.toml", text);
    let file = file.unwrap();
    assert_eq!(problems.len(), 9);
    let rows: Vec<(usize, &str, &str)> =
        file.rows.iter().map(|r| (r.index, r.idp_value.as_str(), r.group.as_str())).collect();
    assert_eq!(rows, [(3, "A", " "), (4, "C", "Z")]);
    assert!(!file.enabled, "a bad `enabled` reads as off");

    // Rows that are not tables, and `rows` that is not a list of them.
    let e = MappingFile::parse("m.toml", "enabled = true\nrows = [1, {idp_value = \"A\", group = \"B\"}]\n")
        .unwrap_err()
        .to_string();
    assert_eq!(e, "m.toml:2: rows[0]: invalid type: integer `1`, expected a table with `idp_value` and `group`");
    let e = MappingFile::parse("m.toml", "enabled = true\nrows = \"A\"\n").unwrap_err().to_string();
    assert_eq!(e, "m.toml:2: rows: invalid type: string \"A\", expected a sequence");
    // Not TOML: one error, where parsing stopped.
    let e = MappingFile::parse("m.toml", "enabled = 1\ncolour = 1\n[[rows]\n").unwrap_err().to_string();
    assert_eq!(e, "m.toml:3: unclosed array table, expected `]`");
}

#[test]
fn config_file_errors_name_the_file_the_line_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[u8], &str)] = &[
        (b"base_url = \"https://x\"\ntoken = \"abc\"\n", ":2: token: unknown field `token`"),
        (b"base_url = 5\n", ":1: base_url: invalid type: integer `5`, expected a string"),
        (b"users_csv = \"a.csv\"\n", ":1: users_csv: invalid type: string \"a.csv\", expected a sequence"),
        (b"base_url = \"https://x\n", ":1: invalid basic string"),
        (b"# ok\nemail_column = \"Mail\xff\"\n", ":2: column 21: the file is not valid UTF-8"),
    ];
    for (text, want) in cases {
        let path = write(dir.path(), "config.toml", text);
        let flags = Flags { config: Some(path.clone()), ..Flags::default() };
        let got = Config::resolve(&flags, &|_| None).unwrap_err().to_string();
        let want = format!("{}{want}", path.display());
        assert!(got.starts_with(&want), "got {got:?}, want {want:?}");
        assert!(!got.contains("abc"), "a value never appears: {got}");
    }
}

// ---------------------------------------------------------------------------------------------
// API JSON of the wrong shape: a proxy in front of the sandbox breaks one endpoint's answer

type Mutate = fn(&mut serde_json::Value);

async fn breaking_proxy(sb: &Sandbox, path: &'static str, mutate: Mutate) -> String {
    let upstream = sb.base_url().to_owned();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let upstream = upstream.clone();
        async move {
            let pq = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
            let auth = req.headers().get("authorization").cloned();
            let mut r = reqwest::Client::new().get(format!("{upstream}{pq}"));
            if let Some(a) = auth {
                r = r.header("authorization", a);
            }
            let resp = r.send().await.unwrap();
            let status = resp.status().as_u16();
            let ct = resp.headers().get("content-type").cloned();
            let etag = resp.headers().get("etag").cloned();
            let mut body = resp.bytes().await.unwrap().to_vec();
            if req.uri().path() == path {
                let mut v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                mutate(&mut v);
                body = serde_json::to_vec(&v).unwrap();
            }
            let mut res = axum::response::Response::new(axum::body::Body::from(body));
            *res.status_mut() = axum::http::StatusCode::from_u16(status).unwrap();
            if let Some(ct) = ct {
                res.headers_mut().insert("content-type", ct);
            }
            if let Some(e) = etag {
                res.headers_mut().insert("etag", e);
            }
            res
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    base
}

#[tokio::test]
async fn api_json_with_wrong_types_or_missing_fields_names_the_endpoint_and_the_field() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    let org = groupmap::service::calendly::wire::uuid_of(&sb.organization()).to_owned();
    let mapping_path: &'static str = Box::leak(format!("/organizations/{org}/group_mapping").into_boxed_str());
    let cases: Vec<(&'static str, Mutate, String)> = vec![
        (
            "/groups",
            |v| v["collection"][1]["name"] = 5.into(),
            "GET /groups: unexpected answer: field `collection[1].name`: invalid type: integer `5`, expected a string"
                .into(),
        ),
        (
            "/organization_memberships",
            |v| {
                v["collection"][0].as_object_mut().unwrap().remove("uri");
            },
            "GET /organization_memberships: unexpected answer: field `collection[0].uri`: missing field `uri`".into(),
        ),
        (
            "/organization_memberships",
            |v| {
                v["collection"][2]["user"].as_object_mut().unwrap().remove("email");
            },
            "GET /organization_memberships: unexpected answer: field `collection[2].user.email`: missing field `email`"
                .into(),
        ),
        (
            "/users/me",
            |v| v["resource"]["current_organization"] = serde_json::json!(["not", "a", "uri"]),
            "GET /users/me: unexpected answer: field `resource.current_organization`: invalid type: sequence".into(),
        ),
        (
            "/groups",
            |v| v["pagination"]["next_page_token"] = 7.into(),
            "GET /groups: unexpected answer: field `pagination.next_page_token`: invalid type: integer `7`".into(),
        ),
        (
            mapping_path,
            |v| {
                v["resource"].as_object_mut().unwrap().remove("version");
            },
            format!("GET {mapping_path}: unexpected answer: field `resource.version`: missing field `version`"),
        ),
        (
            "/groups",
            |v| *v = serde_json::json!({"collection": "none"}),
            "GET /groups: unexpected answer: field `collection`: invalid type: string \"none\", expected a sequence"
                .into(),
        ),
    ];
    for (path, mutate, want) in cases {
        let base = breaking_proxy(&sb, path, mutate).await;
        let opts = ClientOptions { backoff_base: Duration::from_millis(1), ..ClientOptions::default() };
        let c = Client::with_options(&base, Secret::new(sb.token()), opts).unwrap();
        let err = Engine::calendly(c.clone(), &LoadOptions::default()).load(None).await.unwrap_err().to_string();
        assert!(err.starts_with(&want), "got {err:?}\nwant {want:?}");
        assert!(
            err.ends_with("(check that the base URL points at the Calendly API, and report it if it does)"),
            "{err}"
        );
    }
    sb.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// a server that breaks Calendly's rules

#[tokio::test]
async fn an_owner_in_two_member_groups_is_a_finding_and_the_plan_takes_the_group_sorting_first() {
    let sb = Sandbox::start(Options { job_step: Duration::from_millis(1), rate_limit: 100_000, ..Options::default() })
        .await
        .unwrap();
    let before = sb.snapshot();
    let mut by_uri: Vec<&groupmap::domain::Group> = before.groups.iter().collect();
    by_uri.sort_by(|a, b| a.uri.cmp(&b.uri));
    let (first, last) = (by_uri[0], by_uri[by_uri.len() - 1]);
    // One owner gets a second group sorting before theirs, another one sorting after: the list
    // order (by creation) is the other way round for one of them.
    let in_group = |not: &str| {
        before.owners().filter(|o| o.value.is_some()).find(|o| o.group.is_some_and(|g| before.group(g).uri != not))
    };
    let a = in_group(&first.uri).unwrap();
    let b = before
        .owners()
        .filter(|o| o.value.is_some() && o.email != a.email)
        .find(|o| o.group.is_some_and(|g| before.group(g).uri != last.uri))
        .unwrap();
    sb.add_member_relationship(a.email, &first.name);
    sb.add_member_relationship(b.email, &last.name);
    let expected = |o: &groupmap::domain::Owner, added: &groupmap::domain::Group| {
        let mut two = [before.group(o.group.unwrap()).clone(), added.clone()];
        two.sort_by(|x, y| x.uri.cmp(&y.uri));
        two
    };
    let (ea, eb) = (expected(&a, first), expected(&b, last));

    let c = Client::new(sb.base_url(), Secret::new(sb.token())).unwrap();
    let engine = Engine::calendly(c, &LoadOptions::default());
    let loaded = engine.load(None).await.unwrap();
    let snap = loaded.snapshot(&FieldChoice::default()).unwrap();
    let group_of = |email: &str| {
        let o = snap.owners().find(|o| o.email == email).unwrap();
        snap.group(o.group.unwrap()).uri.clone()
    };
    assert_eq!(group_of(a.email), ea[0].uri, "the group sorting first is taken");
    assert_eq!(group_of(b.email), eb[0].uri, "the group sorting first is taken");

    let mut m = snap.saved_mapping();
    m.enabled = true;
    for (i, v) in snap.values.iter().enumerate() {
        if m.row(v).is_none() {
            m.set(v, groupmap::domain::Target::Group(snap.groups[i % snap.groups.len()].uri.clone()));
        }
    }
    let p = plan(&snap, &m);
    let found: Vec<&str> = p
        .lint
        .iter()
        .filter(|f| f.kind == groupmap::domain::lint::LintKind::ConflictingMembership)
        .map(|f| f.message.as_str())
        .collect();
    let says = |o: &groupmap::domain::Owner, two: &[groupmap::domain::Group; 2]| {
        format!(
            "{} is a member of 2 groups (\"{}\", \"{}\"), where Calendly allows one; the plan takes them as in \"{}\"",
            o.email, two[0].name, two[1].name, two[0].name
        )
    };
    let mut wanted = vec![says(&a, &ea), says(&b, &eb)];
    wanted.sort();
    assert_eq!(found, wanted);
    // The same plan as the server's own (which the save's digest checks), load after load.
    let again = engine.load(None).await.unwrap().snapshot(&FieldChoice::default()).unwrap();
    assert_eq!(plan(&again, &m).digest(&again), p.digest(&snap));
    let server = sb.snapshot();
    assert_eq!(plan(&server, &m).digest(&server), p.digest(&snap));
    let progress: groupmap::service::SaveProgress = std::sync::Arc::new(|_| {});
    let outcome = engine.apply(&loaded, &snap, &FieldChoice::default(), &m, progress).await;
    assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
    sb.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// hostile text

const ESC_NAME: &str = "Eve \u{1b}[2J\u{1b}]0;pwned\u{7}Mallory\u{9b}31m";
const BIDI_EMAIL: &str = "eve\u{202e}moc.elpmaxe@x.test";
const ZW_VALUE: &str = "Sales\u{200b}EMEA\u{2066}";
const CTRL_VALUE: &str = "Ops\r\n\tNight\u{0}\u{7f}";
const WIDE_NAME: &str = "営業部 東京 👩‍💻";
const HOSTILE_GROUP: &str = "Grp \u{1b}[1mBOLD\u{200f}";

fn long_value() -> String {
    format!("{}{}", "x".repeat(5000), "\u{1b}[0m")
}

/// Characters that must never reach a terminal raw.
fn unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

async fn hostile_sandbox() -> Sandbox {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    sb.add_group(HOSTILE_GROUP);
    let long = long_value();
    let people = [
        NewPerson {
            name: ESC_NAME,
            email: "eve1@x.test",
            idp_value: Some(ZW_VALUE),
            group: Some("Finance"),
            ..Default::default()
        },
        NewPerson { name: "Bidi", email: BIDI_EMAIL, idp_value: Some(CTRL_VALUE), group: None, ..Default::default() },
        NewPerson {
            name: WIDE_NAME,
            email: "wide@x.test",
            idp_value: Some(&long),
            group: Some("Finance"),
            ..Default::default()
        },
        NewPerson { invitee: true, email: "inv\u{1b}[5m@x.test", idp_value: Some(ZW_VALUE), ..Default::default() },
    ];
    for p in people {
        sb.add_person(p);
    }
    sb
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_is_escaped_in_human_output_and_exact_in_json() {
    let sb = hostile_sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let long = long_value();
    // A mapping that moves the hostile people into the hostile group (and so names them).
    let file = dir.path().join("m.toml");
    let text = format!(
        "enabled = true\n[[rows]]\nidp_value = {}\ngroup = {}\n[[rows]]\nidp_value = {}\ngroup = {}\n[[rows]]\nidp_value = {}\ngroup = {}\n",
        toml_str(ZW_VALUE),
        toml_str(HOSTILE_GROUP),
        toml_str(CTRL_VALUE),
        toml_str(HOSTILE_GROUP),
        toml_str(&long),
        toml_str("Brand \u{202e}New\u{1b}[7m"),
    );
    std::fs::write(&file, text).unwrap();
    let (base, token) = (sb.base_url().to_owned(), sb.token().to_owned());
    let run = move |args: &[&str]| {
        let out = Command::new(BIN)
            .args(args)
            .env("GROUPMAP_BASE_URL", &base)
            .env("CALENDLY_TOKEN", &token)
            .env("XDG_STATE_HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path())
            .output()
            .unwrap();
        assert!(out.status.code().is_some_and(|c| c == 0 || c == 2), "{}", String::from_utf8_lossy(&out.stderr));
        (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
    };
    let f = file.display().to_string();
    let (human, human_err, json) = tokio::task::spawn_blocking(move || {
        let (human, err) = run(&["plan", "--mapping", &f]);
        let (json, _) = run(&["plan", "--json", "--mapping", &f]);
        (human, err, json)
    })
    .await
    .unwrap();

    for (what, text) in [("stdout", &human), ("stderr", &human_err)] {
        let bad: Vec<String> = text.chars().filter(|c| unsafe_char(*c)).map(|c| format!("{:?}", c)).collect();
        assert!(bad.is_empty(), "{what} has raw {bad:?}:\n{text}");
    }
    // Shown escaped, recognisably.
    assert!(human.contains("Eve \\u{1b}[2J\\u{1b}]0;pwned\\u{7}Mallory\\u{9b}31m"), "{human}");
    assert!(human.contains("\"Sales\\u{200b}EMEA\\u{2066}\""), "{human}");
    assert!(human.contains("\"Ops\\r\\n\\tNight\\u{0}\\u{7f}\""), "{human}");
    assert!(human.contains("eve\\u{202e}moc.elpmaxe@x.test"), "{human}");
    assert!(human.contains("\"Grp \\u{1b}[1mBOLD\\u{200f}\""), "{human}");
    assert!(human.contains("\"Brand \\u{202e}New\\u{1b}[7m\" (new)"), "{human}");
    // Wide characters are kept; the zero-width joiner inside the emoji is shown, like any other.
    assert!(human.contains("営業部 東京 👩\\u{200d}💻 <wide@x.test>"), "wide characters are kept as they are");
    assert!(human.contains(&long[..4990]), "long values are shown whole");

    // JSON: exact.
    let j: serde_json::Value = serde_json::from_str(&json).unwrap();
    let changes = j["changes"].as_array().unwrap();
    let by_email = |e: &str| changes.iter().find(|c| c["email"] == e).unwrap_or_else(|| panic!("{e} in {json}"));
    assert_eq!(by_email("eve1@x.test")["idp_value"], ZW_VALUE);
    assert_eq!(by_email(BIDI_EMAIL)["idp_value"], CTRL_VALUE);
    assert_eq!(by_email("wide@x.test")["idp_value"], long.as_str());
    assert_eq!(by_email("inv\u{1b}[5m@x.test")["idp_value"], ZW_VALUE);
    assert!(j["new_groups"].as_array().unwrap().contains(&"Brand \u{202e}New\u{1b}[7m".into()), "{json}");
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_is_escaped_on_the_editor_screen() {
    use groupmap::app::{Effect, Model, Msg, update};
    let sb = hostile_sandbox().await;
    let c = Client::new(sb.base_url(), Secret::new(sb.token())).unwrap();
    let loaded = Engine::calendly(c.clone(), &LoadOptions::default()).load(None).await.unwrap();
    let mut m = Model::new(true, FieldChoice::default());
    let effects = groupmap::app::update::start_load(&mut m);
    let Effect::Load { id } = effects[0] else { panic!("load first") };
    update(&mut m, Msg::Loaded { id, result: Ok(std::sync::Arc::new(loaded)) });
    update(&mut m, Msg::Drafts { drafts: Vec::new(), interrupted: Vec::new() });
    let theme = groupmap::ui::theme::Theme { color: false };
    let mut screens = Vec::new();
    for keys in ["", "G", "p"] {
        for k in keys.chars() {
            update(&mut m, Msg::Key(crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(k))));
        }
        update(&mut m, Msg::Resize(160, 48));
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48)).unwrap();
        t.draw(|f| groupmap::ui::view(&m, f, &theme)).unwrap();
        let buf = t.backend().buffer().clone();
        let text: String = buf.content().iter().map(|cell| cell.symbol()).collect();
        let bad: Vec<String> = text.chars().filter(|c| unsafe_char(*c)).map(|c| format!("{c:?}")).collect();
        assert!(bad.is_empty(), "raw {bad:?} on screen after {keys:?}");
        screens.push(text);
    }
    let all = screens.concat();
    assert!(all.contains("Sales\\u{200b}EMEA\\u{2066}"), "the hostile value is listed, escaped");
    sb.shutdown().await;
}

#[test]
fn hostile_text_in_file_errors_is_escaped() {
    let text = format!(
        "enabled = true\n[[rows]]\nidp_value = {v}\ngroup = \"A\"\n[[rows]]\nidp_value = {v}\ngroup = \"B\"\n",
        v = toml_str(ESC_NAME)
    );
    let err = MappingFile::parse("m\u{1b}[2J.toml", &text).unwrap_err().to_string();
    assert!(!err.chars().any(unsafe_char), "{err:?}");
    assert!(err.starts_with("m\\u{1b}[2J.toml:6: rows[1].idp_value: duplicate value"), "{err}");
    let csv = "Name,E\u{1b}[31mmail\nx,y\n";
    let err = parse(csv.as_bytes()).unwrap().columns(&FieldChoice::default()).unwrap_err().to_string();
    assert!(!err.chars().any(unsafe_char) && err.contains("E\\u{1b}[31mmail"), "{err:?}");
}

#[test]
fn look_alike_values_are_near_duplicate_findings_and_still_match_exactly() {
    let (nfc, nfd, nbsp, cyrillic) = ("Caf\u{e9} Team", "Cafe\u{301} Team", "Marketing\u{a0}", "S\u{430}les");
    let csv = format!(
        "Login email,Identity Provider Group\na@x.test,{nfc}\nb@x.test,{nfd}\nc@x.test,Marketing\n\
         d@x.test,{nbsp}\ne@x.test,Sales\nf@x.test,{cyrillic}\n"
    );
    let people: Vec<Person> = ["a", "b", "c", "d", "e", "f"].iter().map(|p| person(&format!("{p}@x.test"))).collect();
    let group = groupmap::domain::Group { uri: "https://h/groups/G".into(), name: "G".into(), member_count: None };
    let snap = Snapshot::from_parts(
        "https://h",
        "https://h/organizations/O",
        vec![group],
        &std::sync::Arc::new(people.clone()),
        &[parse(csv.as_bytes()).unwrap()],
        &FieldChoice::default(),
        None,
    );
    assert_eq!(snap.values.len(), 6, "six values: nothing is merged");
    let mut m = Mapping { enabled: true, ..Mapping::default() };
    m.set(nfc, groupmap::domain::Target::Group("https://h/groups/G".into()));
    let p = plan(&snap, &m);
    let moved: Vec<&str> = p.changes.iter().map(|c| snap.owner(c.owner).email).collect();
    assert_eq!(moved, ["a@x.test"], "matching stays exact: the NFD spelling is not matched");

    let near: Vec<&groupmap::domain::lint::Finding> =
        p.lint.iter().filter(|f| f.kind == groupmap::domain::lint::LintKind::NearDuplicate).collect();
    let about = |v: &str| near.iter().find(|f| f.values.iter().any(|x| x == v)).map(|f| f.message.as_str());
    assert!(about(nfd).unwrap().ends_with("differ only by Unicode normalization (matching is exact)"), "{near:?}");
    assert_eq!(about(nfc), about(nfd));
    assert_eq!(
        about(nbsp).unwrap(),
        "\"Marketing\", \"Marketing\\u{a0}\" differ only by a non-breaking space (matching is exact)"
    );
    assert!(
        about(cyrillic).unwrap().contains(
            "look alike: U+0430 CYRILLIC SMALL LETTER A in \"S\u{430}les\" where \"Sales\" has U+0061 LATIN SMALL LETTER A"
        ),
        "{near:?}"
    );
    assert_eq!(near.len(), 3, "{near:?}");
    // On screen, a Unicode space is marked, so the two rows do not look the same.
    use groupmap::domain::text::visible;
    assert_ne!(visible(nbsp), visible("Marketing"));
    assert_eq!(visible(nbsp), "Marketing\\u{a0}");
}
