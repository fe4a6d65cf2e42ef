//! Fuzzing the mapping-file parser with proptest: arbitrary text, line-level mutations of a valid
//! file, and generated mappings (any Unicode in values and group names) that must survive
//! `to_toml` → `parse` → `resolve` unchanged. Errors never panic and always name the file and a
//! line inside it. `PROPTEST_CASES=100000 cargo test --test fuzz_mapping` for a long run.

use groupmap::domain::mapping_file::{MappingFile, to_toml};
use groupmap::domain::snapshot::Group;
use groupmap::domain::{Mapping, Row, Snapshot, Target};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var("PROPTEST_CASES").is_err() {
        c.cases = 128;
    }
    c
}

const B: &str = "https://api.example.test";
const GROUPS: [&str; 3] = ["Sales EMEA", "Engineering", "Everyone"];

fn snap() -> Snapshot {
    let groups = GROUPS
        .iter()
        .enumerate()
        .map(|(i, n)| Group { uri: format!("{B}/groups/G{i}"), name: (*n).into(), member_count: None })
        .collect();
    Snapshot::new(B, &format!("{B}/organizations/ORG"), groups, vec![], None)
}

fn check(text: &str) {
    let lines = text.split('\n').count();
    match MappingFile::parse("m.toml", text) {
        Ok(f) => {
            let _ = f.resolve(&snap());
        }
        Err(errs) => {
            assert!(!errs.0.is_empty());
            for e in &errs.0 {
                assert_eq!(e.path, "m.toml");
                if let Some(l) = e.line {
                    assert!(l >= 1 && l <= lines + 1, "line {l} of {lines}: {e}");
                }
                assert!(!e.to_string().chars().any(|c| c.is_control() && c != '\n'), "{e:?}");
            }
        }
    }
}

const VALID: &str = r#"# groupmap mapping file
organization = "https://api.example.test/organizations/ORG"
enabled = true
default_group = "Everyone"
apply_to_existing = true

[[rows]]
idp_value = "Sales EMEA "
group = "Sales EMEA"

[[rows]]
idp_value = "eng-platform"
group = "https://api.example.test/groups/G1"

[[rows]]
idp_value = "Ops"
group = "Operations"
"#;

fn text_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[ -~]{1,12}",
        2 => any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
        1 => prop::collection::vec(prop::sample::select(vec!['"', '\\', '\n', '\r', '\t', '\u{0}', '\u{1b}', '\u{202e}', '\'', '#', '=', '[', ' ']), 1..8)
            .prop_map(|v| v.into_iter().collect()),
    ]
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        (0..GROUPS.len()).prop_map(|i| Target::Group(format!("{B}/groups/G{i}"))),
        text_value().prop_map(|s| Target::New(format!("new {s}"))),
    ]
}

fn mapping() -> impl Strategy<Value = Mapping> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::option::of(target()),
        prop::collection::btree_map(text_value(), target(), 0..8),
    )
        .prop_map(|(enabled, apply_to_existing, default_group, rows)| Mapping {
            enabled,
            apply_to_existing,
            default_group,
            rows: rows.into_iter().map(|(idp_value, target)| Row { idp_value, target }).collect(),
        })
        // A new group's name must be a name: not blank, and not one of the existing groups'.
        .prop_filter("new group names are names", |m| {
            m.rows.iter().map(|r| &r.target).chain(&m.default_group).all(|t| match t {
                Target::New(n) => !n.trim().is_empty() && !GROUPS.iter().any(|g| g.eq_ignore_ascii_case(n.trim())),
                Target::Group(_) => true,
            })
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check(&text);
    }

    #[test]
    fn toml_like_text_never_panics(parts in prop::collection::vec(prop::sample::select(vec![
        "enabled", " = ", "true", "\"x\"", "\n", "[[rows]]", "[rows]", "idp_value", "group", "default_group", "'", "\"\"\"",
        "organization", "1", "{", "}", ",", "#", "\\", "apply_to_existing", "[", "]", "rows = [", "gruop",
    ]), 0..40)) {
        check(&parts.concat());
    }

    #[test]
    fn line_mutations_of_a_valid_file_never_panic(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), 0u8..4, "[ -~]{0,20}"), 1..4)) {
        let mut lines: Vec<String> = VALID.lines().map(str::to_owned).collect();
        for (a, b, op, junk) in edits {
            if lines.is_empty() {
                lines.push(junk);
                continue;
            }
            let (i, j) = (a.index(lines.len()), b.index(lines.len()));
            match op {
                0 => { lines.remove(i); }
                1 => { let l = lines[i].clone(); lines.insert(j, l); }
                2 => lines.swap(i, j),
                _ => lines.insert(i, junk),
            }
        }
        check(&lines.join("\n"));
    }

    /// What `mapping export` writes, `--mapping FILE` reads back as the same mapping.
    #[test]
    fn exported_mappings_read_back_unchanged(m in mapping()) {
        let s = snap();
        let text = to_toml(&s, &m);
        let back = MappingFile::parse("m.toml", &text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let back = back.resolve(&s).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(back, m);
    }
}
