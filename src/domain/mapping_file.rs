//! The mapping file (mapping as code): TOML read with file/line/key errors, written back.

use std::fmt;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::mapping::{Mapping, Row, Target};
use super::snapshot::Snapshot;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    pub path: String,
    pub line: Option<usize>,
    pub key: Option<String>,
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use super::text::sanitize;
        write!(f, "{}", sanitize(&self.path))?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": {}", sanitize(key))?;
        }
        write!(f, ": {}", sanitize(&self.message))
    }
}

/// Several problems found in one file, shown together.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct FileErrors(pub Vec<FileError>);

impl fmt::Display for FileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    organization: Option<Spanned<String>>,
    enabled: bool,
    default_group: Option<Spanned<String>>,
    apply_to_existing: Option<bool>,
    #[serde(default)]
    rows: Vec<Spanned<DocRow>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DocRow {
    idp_value: Spanned<String>,
    group: Spanned<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRow {
    pub idp_value: String,
    pub group: String,
    /// Lines of the row's table and of its `group` key.
    pub line: usize,
    pub group_line: usize,
}

/// A parsed mapping file, before its group names are resolved against an organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappingFile {
    pub path: String,
    pub organization: Option<(String, usize)>,
    pub enabled: bool,
    pub default_group: Option<(String, usize)>,
    pub apply_to_existing: Option<bool>,
    pub rows: Vec<FileRow>,
}

/// Reads TOML into `T`; an error names the file, the line and the key by its full path
/// (`rows[2].gruop`, also for a missing key: `rows[0].group`).
pub fn from_toml<T: serde::de::DeserializeOwned>(path: &str, text: &str) -> Result<T, FileError> {
    let error = |e: &toml::de::Error, key: Option<String>| FileError {
        path: path.to_owned(),
        line: e.span().map(|s| line_of(text, s.start)),
        key,
        message: e.message().trim().to_owned(),
    };
    let de = toml::Deserializer::parse(text).map_err(|e| error(&e, None))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        use serde_path_to_error::Segment;
        let mut parts: Vec<String> = Vec::new();
        for seg in e.path().iter() {
            match seg {
                // toml's `Spanned` wrapper shows up as a key of its own.
                Segment::Map { key } if key.starts_with("$__serde_spanned") => {}
                Segment::Map { key } | Segment::Enum { variant: key } => parts.push(format!(".{key}")),
                Segment::Seq { index } => parts.push(format!("[{index}]")),
                Segment::Unknown => parts.push(".?".to_owned()),
            }
        }
        let message = e.inner().message();
        // serde reports a missing key at the table holding it: name the key itself.
        let field = ["unknown field `", "missing field `"]
            .iter()
            .find_map(|p| message.trim().strip_prefix(p))
            .and_then(|m| m.split('`').next());
        if let Some(f) = field
            && parts.last().map(String::as_str) != Some(&format!(".{f}"))
        {
            parts.push(format!(".{f}"));
        }
        let key = parts.concat().trim_start_matches('.').to_owned();
        error(e.inner(), (!key.is_empty()).then_some(key))
    })
}

/// A file's text; invalid UTF-8 is an error naming the line and column of the first bad byte.
pub fn read_text(path: &std::path::Path) -> Result<String, FileError> {
    let shown = path.display().to_string();
    let fail = |line, message: String| FileError { path: shown.clone(), line, key: None, message };
    let bytes = std::fs::read(path).map_err(|e| fail(None, e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|b| **b == b'\n').count() + 1;
        let column = good.len() - good.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1) + 1;
        fail(Some(line), format!("column {column}: the file is not valid UTF-8 (save it as UTF-8)"))
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1
}

fn is_uri(s: &str) -> bool {
    s.starts_with("https://") || s.starts_with("http://")
}

impl MappingFile {
    /// Reads and parses a mapping file.
    pub fn read(path: &std::path::Path) -> Result<MappingFile, FileErrors> {
        let text = read_text(path).map_err(|e| FileErrors(vec![e]))?;
        MappingFile::parse(&path.display().to_string(), &text)
    }

    pub fn parse(path: &str, text: &str) -> Result<MappingFile, FileErrors> {
        let err = |line, key: Option<&str>, message: String| FileError {
            path: path.to_owned(),
            line,
            key: key.map(str::to_owned),
            message,
        };
        let doc: Doc = from_toml(path, text).map_err(|e| FileErrors(vec![e]))?;
        let mut problems = Vec::new();
        let mut rows = Vec::with_capacity(doc.rows.len());
        let mut seen: std::collections::HashMap<String, usize> = Default::default();
        for (i, row) in doc.rows.into_iter().enumerate() {
            let line = line_of(text, row.span().start);
            let row = row.into_inner();
            let value_line = line_of(text, row.idp_value.span().start);
            let value = row.idp_value.into_inner();
            let key = format!("rows[{i}].idp_value");
            if value.is_empty() {
                problems.push(err(Some(value_line), Some(&key), "must not be empty".into()));
            } else if let Some(first) = seen.insert(value.clone(), value_line) {
                problems.push(err(
                    Some(value_line),
                    Some(&key),
                    format!("duplicate value {value:?} (first on line {first}); each value maps to one group"),
                ));
            }
            let group_line = line_of(text, row.group.span().start);
            let group = row.group.into_inner();
            if group.trim().is_empty() {
                problems.push(err(Some(group_line), Some(&format!("rows[{i}].group")), "must name a group".into()));
            }
            rows.push(FileRow { idp_value: value, group, line, group_line });
        }
        if rows.len() > super::mapping::MAX_ROWS {
            problems.push(err(
                None,
                Some("rows"),
                format!("{} rows; at most {} are allowed", rows.len(), super::mapping::MAX_ROWS),
            ));
        }
        if !problems.is_empty() {
            return Err(FileErrors(problems));
        }
        let spanned = |s: Spanned<String>| {
            let line = line_of(text, s.span().start);
            (s.into_inner(), line)
        };
        Ok(MappingFile {
            path: path.to_owned(),
            organization: doc.organization.map(spanned),
            enabled: doc.enabled,
            default_group: doc.default_group.map(spanned),
            apply_to_existing: doc.apply_to_existing,
            rows,
        })
    }

    /// Resolves group names and URIs against the organization. Unknown names become new groups;
    /// unknown URIs and a different organization are errors.
    pub fn resolve(&self, snap: &Snapshot) -> Result<Mapping, FileErrors> {
        let mut problems = Vec::new();
        let err = |line, key: &str, message: String| FileError {
            path: self.path.clone(),
            line: Some(line),
            key: Some(key.to_owned()),
            message,
        };
        if let Some((org, line)) = &self.organization
            && !same_resource(org, &snap.organization)
        {
            problems.push(err(
                *line,
                "organization",
                format!("the file is for {org}, but the loaded organization is {}", snap.organization),
            ));
        }
        let mut target = |group: &str, line: usize, key: &str| -> Option<Target> {
            if is_uri(group) {
                match snap.group_by_uri(group) {
                    Some(_) => Some(Target::Group(group.to_owned())),
                    None => {
                        problems.push(err(line, key, format!("no group with URI {group} in this organization")));
                        None
                    }
                }
            } else {
                Some(match snap.group_by_name(group) {
                    Some(g) => Target::Group(snap.group(g).uri.clone()),
                    None => Target::New(group.to_owned()),
                })
            }
        };
        let default_group = self.default_group.as_ref().and_then(|(g, line)| target(g, *line, "default_group"));
        let rows: Vec<Row> = self
            .rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                target(&r.group, r.group_line, &format!("rows[{i}].group"))
                    .map(|t| Row { idp_value: r.idp_value.clone(), target: t })
            })
            .collect();
        if !problems.is_empty() {
            return Err(FileErrors(problems));
        }
        Ok(Mapping {
            enabled: self.enabled,
            rows,
            default_group,
            apply_to_existing: self.apply_to_existing.unwrap_or(true),
        })
    }
}

/// Resource URIs name the same resource when equal, or when both are on this machine's
/// loopback (sandboxes, which listen on a new port each run) with the same path.
pub fn same_resource(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim_end_matches('/'), b.trim_end_matches('/'));
    a == b || matches!((loopback_path(a), loopback_path(b)), (Some(x), Some(y)) if x == y)
}

/// The path of an `http://127.0.0.1:PORT/...` or `http://localhost:PORT/...` URI.
fn loopback_path(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix("http://127.0.0.1").or_else(|| uri.strip_prefix("http://localhost"))?;
    let rest = rest.strip_prefix(':').map_or(rest, |r| r.trim_start_matches(|c: char| c.is_ascii_digit()));
    rest.starts_with('/').then_some(rest)
}

#[derive(Serialize)]
struct OutDoc<'a> {
    organization: &'a str,
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_group: Option<String>,
    apply_to_existing: bool,
    rows: Vec<OutRow>,
}

#[derive(Serialize)]
struct OutRow {
    idp_value: String,
    group: String,
}

pub fn to_toml(snap: &Snapshot, mapping: &Mapping) -> String {
    let doc = OutDoc {
        organization: &snap.organization,
        enabled: mapping.enabled,
        default_group: mapping.default_group.as_ref().map(|t| snap.target_name(t).to_owned()),
        apply_to_existing: mapping.apply_to_existing,
        rows: mapping
            .rows
            .iter()
            .map(|r| OutRow { idp_value: r.idp_value.clone(), group: snap.target_name(&r.target).to_owned() })
            .collect(),
    };
    let body = toml::to_string(&doc).expect("a mapping always serializes");
    format!(
        "# groupmap mapping file: IdP value (exact, case-sensitive) -> Calendly group (name or URI).\n\
         # Check with `groupmap mapping check FILE`, apply with `groupmap apply --mapping FILE`.\n{body}"
    )
}

/// The two-column table Calendly's admin center takes.
pub fn to_csv(snap: &Snapshot, mapping: &Mapping) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["Value in Identity Provider", "Calendly group"]).expect("in memory");
    for r in &mapping.rows {
        w.write_record([r.idp_value.as_str(), snap.target_name(&r.target)]).expect("in memory");
    }
    String::from_utf8(w.into_inner().expect("in memory")).expect("written from strings")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::snapshot::Group;

    fn snap() -> Snapshot {
        let g = |u: &str, n: &str| Group { uri: u.into(), name: n.into(), member_count: None };
        Snapshot::new(
            "https://api.calendly.com",
            "https://api.calendly.com/organizations/ORG",
            vec![
                g("https://api.calendly.com/groups/G1", "Sales EMEA"),
                g("https://api.calendly.com/groups/G9", "Everyone"),
            ],
            vec![],
            None,
        )
    }

    #[test]
    fn round_trips_names_uris_and_new_groups() {
        let text = r#"
organization = "https://api.calendly.com/organizations/ORG"
enabled = true
default_group = "everyone"

[[rows]]
idp_value = "Sales EMEA "
group = "https://api.calendly.com/groups/G1"

[[rows]]
idp_value = "Ops"
group = "Operations"
"#;
        let file = MappingFile::parse("m.toml", text).unwrap();
        let m = file.resolve(&snap()).unwrap();
        assert_eq!(m.default_group, Some(Target::Group("https://api.calendly.com/groups/G9".into())));
        assert_eq!(m.rows[0].idp_value, "Sales EMEA ");
        assert_eq!(m.rows[1].target, Target::New("Operations".into()));
        let again = MappingFile::parse("out.toml", &to_toml(&snap(), &m)).unwrap().resolve(&snap()).unwrap();
        assert_eq!(again, m);
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let text =
            "enabled = true\n[[rows]]\nidp_value = \"A\"\ngroup = \"X\"\n[[rows]]\nidp_value = \"A\"\ngroup = \"Y\"\n";
        let e = MappingFile::parse("m.toml", text).unwrap_err().to_string();
        assert_eq!(
            e,
            "m.toml:6: rows[1].idp_value: duplicate value \"A\" (first on line 3); each value maps to one group"
        );

        let e = MappingFile::parse("m.toml", "enabled = true\ncolour = 1\n").unwrap_err();
        assert_eq!((e.0[0].line, e.0[0].key.as_deref()), (Some(2), Some("colour")));

        let e = MappingFile::parse("m.toml", "enabled = true\n[[rows]]\nidp_value = \"\"\ngroup = \"X\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "m.toml:3: rows[0].idp_value: must not be empty");

        let text = "enabled = true\n[[rows]]\nidp_value = \"A\"\ngroup = \"https://api.calendly.com/groups/NOPE\"\n";
        let e = MappingFile::parse("m.toml", text).unwrap().resolve(&snap()).unwrap_err().to_string();
        assert_eq!(
            e,
            "m.toml:4: rows[0].group: no group with URI https://api.calendly.com/groups/NOPE in this organization"
        );
    }

    #[test]
    fn a_file_from_a_sandbox_on_another_port_is_for_the_same_resource() {
        assert!(same_resource("http://127.0.0.1:46303/organizations/X", "http://127.0.0.1:8787/organizations/X"));
        assert!(same_resource("http://localhost:1/organizations/X/", "http://127.0.0.1:2/organizations/X"));
        assert!(!same_resource("http://127.0.0.1:46303/organizations/X", "http://127.0.0.1:8787/organizations/Y"));
        assert!(!same_resource("http://127.0.0.1:1/organizations/X", "https://api.calendly.com/organizations/X"));
        assert!(!same_resource("http://127.0.0.1.evil:1/organizations/X", "http://127.0.0.1:2/organizations/X"));
    }
}
