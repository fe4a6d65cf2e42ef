//! The mapping file (mapping as code): TOML read with file/line/key errors, written back.

use std::fmt;

use serde::{Deserialize, Serialize};
use toml::Spanned;
use toml::de::DeValue;

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

/// The keys of a mapping file and of each of its rows, in the order errors list them.
const TOP_KEYS: &[&str] = &["organization", "enabled", "default_group", "apply_to_existing", "rows"];
const ROW_KEYS: &[&str] = &["idp_value", "group"];

/// What a row that is not a table is told it should be.
#[derive(Deserialize)]
#[serde(expecting = "a table with `idp_value` and `group`")]
struct RowShape {}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileRow {
    /// Which of the file's rows it is (`rows[index]`).
    pub index: usize,
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

/// The problems found so far in one file.
struct Problems<'a> {
    path: &'a str,
    text: &'a str,
    list: Vec<FileError>,
}

impl Problems<'_> {
    fn error(&self, line: Option<usize>, key: Option<&str>, message: String) -> FileError {
        FileError { path: self.path.to_owned(), line, key: key.map(str::to_owned), message }
    }

    fn push(&mut self, line: usize, key: &str, message: String) {
        self.list.push(self.error(Some(line), Some(key), message));
    }

    /// A value that is not a `T`, as serde says it (`invalid type: integer `5`, expected a string`).
    fn not_a<T: serde::de::DeserializeOwned>(&mut self, value: Spanned<DeValue<'_>>, key: &str) -> Option<T> {
        let span = value.span();
        T::deserialize(toml::de::ValueDeserializer::from(value))
            .map_err(|e| {
                let line = line_of(self.text, e.span().unwrap_or(span).start);
                self.push(line, key, e.message().trim().to_owned());
            })
            .ok()
    }

    /// The `rows` value as its tables (None for an element that is not one, reported).
    fn rows<'i>(&mut self, rows: Option<Spanned<DeValue<'i>>>) -> Vec<Option<Keys<'i>>> {
        let Some(rows) = rows else { return Vec::new() };
        let span = rows.span();
        let items = match rows.into_inner() {
            DeValue::Array(items) => items,
            other => {
                self.not_a::<Vec<RowShape>>(Spanned::new(span, other), "rows");
                return Vec::new();
            }
        };
        items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let span = item.span();
                match item.into_inner() {
                    DeValue::Table(table) => {
                        Some(Keys { table, span, prefix: format!("rows[{i}]."), missing: Vec::new() })
                    }
                    other => {
                        self.not_a::<RowShape>(Spanned::new(span, other), &format!("rows[{i}]"));
                        None
                    }
                }
            })
            .collect()
    }
}

/// One table's keys, taken one at a time so that each problem is reported, not only the first.
struct Keys<'i> {
    table: toml::de::DeTable<'i>,
    span: std::ops::Range<usize>,
    /// `rows[2].` for a row, empty at the top.
    prefix: String,
    /// Required keys found absent.
    missing: Vec<&'static str>,
}

impl Keys<'_> {
    /// The value of `key` with its line, when present and a `T`.
    fn take<T: serde::de::DeserializeOwned>(&mut self, key: &'static str, p: &mut Problems<'_>) -> Option<(T, usize)> {
        let value = self.table.remove(key)?;
        let line = line_of(p.text, value.span().start);
        p.not_a::<T>(value, &format!("{}{key}", self.prefix)).map(|v| (v, line))
    }

    /// Like `take`, and a missing key is a problem (said by `finish`, on the table's line).
    fn require<T: serde::de::DeserializeOwned>(
        &mut self,
        key: &'static str,
        p: &mut Problems<'_>,
    ) -> Option<(T, usize)> {
        if !self.table.contains_key(key) {
            self.missing.push(key);
            return None;
        }
        self.take(key, p)
    }

    /// Every key left over is unknown, each a problem on its own line; then the missing keys,
    /// but for one an unknown key is a slip for (`gruop` is the missing `group`: said once).
    fn finish(self, expected: &'static [&'static str], p: &mut Problems<'_>) {
        use serde::de::Error as _;
        let mut unknown = Vec::new();
        for (key, _) in self.table {
            let message = serde::de::value::Error::unknown_field(key.get_ref(), expected).to_string();
            p.push(line_of(p.text, key.span().start), &format!("{}{}", self.prefix, key.get_ref()), message);
            unknown.push(key.into_inner().to_lowercase());
        }
        let line = line_of(p.text, self.span.start);
        for key in self.missing {
            if !unknown.iter().any(|u| super::group_names::edit_distance(u, key) <= 2) {
                p.push(line, &format!("{}{key}", self.prefix), serde::de::value::Error::missing_field(key).to_string());
            }
        }
    }
}

impl MappingFile {
    /// Reads and parses a mapping file.
    pub fn read(path: &std::path::Path) -> Result<MappingFile, FileErrors> {
        let text = read_text(path).map_err(|e| FileErrors(vec![e]))?;
        MappingFile::parse(&path.display().to_string(), &text)
    }

    /// Parses a mapping file; any problem is an error, and every problem is listed.
    pub fn parse(path: &str, text: &str) -> Result<MappingFile, FileErrors> {
        match MappingFile::parse_all(path, text) {
            (Some(file), problems) if problems.is_empty() => Ok(file),
            (_, problems) => Err(FileErrors(problems)),
        }
    }

    /// Reads a file as [`MappingFile::parse_all`] parses it (`None` also when it cannot be read).
    pub fn read_all(path: &std::path::Path) -> (Option<MappingFile>, Vec<FileError>) {
        match read_text(path) {
            Ok(text) => MappingFile::parse_all(&path.display().to_string(), &text),
            Err(e) => (None, vec![e]),
        }
    }

    /// Every problem in the file, in line order, and what parsed despite them: `None` only when
    /// the text is not TOML (one error: parsing stops there). Otherwise every key and type problem
    /// of the top level and of every row is listed, with the empty and duplicate values, and the
    /// file holds the keys and rows that parsed (a bad `enabled` reads as false).
    pub fn parse_all(path: &str, text: &str) -> (Option<MappingFile>, Vec<FileError>) {
        let mut p = Problems { path, text, list: Vec::new() };
        let root = match toml::de::DeTable::parse(text) {
            Ok(root) => root,
            Err(e) => {
                let line = e.span().map(|s| line_of(text, s.start));
                return (None, vec![p.error(line, None, e.message().trim().to_owned())]);
            }
        };
        let span = root.span();
        let mut top = Keys { table: root.into_inner(), span, prefix: String::new(), missing: Vec::new() };
        let organization = top.take::<String>("organization", &mut p);
        let enabled = top.require::<bool>("enabled", &mut p);
        let default_group = top.take::<String>("default_group", &mut p);
        let apply_to_existing = top.take::<bool>("apply_to_existing", &mut p).map(|(v, _)| v);
        let rows_value = top.table.remove("rows");
        top.finish(TOP_KEYS, &mut p);

        let mut rows = Vec::new();
        let mut count = 0;
        let mut seen: std::collections::HashMap<String, usize> = Default::default();
        for (index, row) in p.rows(rows_value).into_iter().enumerate() {
            count += 1;
            let Some(mut row) = row else { continue };
            let line = line_of(text, row.span.start);
            let idp_value = row.require::<String>("idp_value", &mut p);
            let group = row.require::<String>("group", &mut p);
            row.finish(ROW_KEYS, &mut p);
            if let Some((value, value_line)) = &idp_value {
                let key = format!("rows[{index}].idp_value");
                if value.is_empty() {
                    p.push(*value_line, &key, "must not be empty".into());
                } else if let Some(first) = seen.insert(value.clone(), *value_line) {
                    p.push(
                        *value_line,
                        &key,
                        format!("duplicate value {value:?} (first on line {first}); each value maps to one group"),
                    );
                }
            }
            if let Some((group, group_line)) = &group
                && group.trim().is_empty()
            {
                p.push(*group_line, &format!("rows[{index}].group"), "must name a group".into());
            }
            if let (Some((idp_value, _)), Some((group, group_line))) = (idp_value, group) {
                rows.push(FileRow { index, idp_value, group, line, group_line });
            }
        }
        if count > super::mapping::MAX_ROWS {
            p.list.push(p.error(
                None,
                Some("rows"),
                format!("{count} rows; at most {} are allowed", super::mapping::MAX_ROWS),
            ));
        }
        let file = MappingFile {
            path: path.to_owned(),
            organization,
            enabled: enabled.is_some_and(|(v, _)| v),
            default_group,
            apply_to_existing,
            rows,
        };
        let mut problems = p.list;
        problems.sort_by_key(|e| e.line.unwrap_or(usize::MAX));
        (Some(file), problems)
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
            && !super::text::same_resource(org, &snap.organization)
        {
            problems.push(err(
                *line,
                "organization",
                format!("the file is for {org}, but the loaded organization is {}", snap.organization),
            ));
        }
        let mut target = |group: &str, line: usize, key: &str| -> Option<Target> {
            if is_uri(group) {
                match snap.local_group(group) {
                    Some(g) => Some(Target::Group(snap.group(g).uri.clone())),
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
            .filter_map(|r| {
                target(&r.group, r.group_line, &format!("rows[{}].group", r.index))
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
        use crate::domain::text::same_resource;
        assert!(same_resource("http://127.0.0.1:46303/organizations/X", "http://127.0.0.1:8787/organizations/X"));
        assert!(same_resource("http://localhost:1/organizations/X/", "http://127.0.0.1:2/organizations/X"));
        assert!(!same_resource("http://127.0.0.1:46303/organizations/X", "http://127.0.0.1:8787/organizations/Y"));
        assert!(!same_resource("http://127.0.0.1:1/organizations/X", "https://api.calendly.com/organizations/X"));
        assert!(!same_resource("http://127.0.0.1.evil:1/organizations/X", "http://127.0.0.1:2/organizations/X"));
    }
}
