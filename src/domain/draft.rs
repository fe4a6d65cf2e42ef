//! A draft: one editor session's unsaved edits, kept as the table they were made on (`base`) and
//! the table as edited (`mine`), so that restoring them later is a three-way merge onto whatever
//! the organization holds by then, and never reverts what others saved meanwhile.
//!
//! Groups are recorded by URI (a rename meanwhile does not matter) with their name beside it
//! for a person reading the file; a group not created yet has only its name.

use serde::{Deserialize, Serialize};

use super::mapping::{Mapping, Row, TableDiff, Target, diff};
use super::mapping_file::{FileError, from_toml};
use super::snapshot::Snapshot;

pub const FORMAT: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    pub organization: String,
    pub base_url: String,
    /// The version of the saved table the edits were made on (None: the service shows none).
    pub base_version: Option<u64>,
    pub base: Mapping,
    pub mine: Mapping,
}

/// A draft as read back, and what could not be read of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovered {
    pub draft: Draft,
    /// Set when the file was cut short: the line from which nothing could be read.
    pub lost_from_line: Option<usize>,
}

impl Draft {
    /// The session's own edits: what restoring it changes relative to the table it was made on.
    pub fn edits(&self) -> TableDiff {
        diff(&self.base, &self.mine)
    }

    pub fn to_toml(&self, snap: &Snapshot) -> String {
        let doc = DraftDoc {
            format: FORMAT,
            organization: self.organization.clone(),
            base_url: self.base_url.clone(),
            base_version: self.base_version,
            base: TableDoc::of(&self.base, snap),
            mine: TableDoc::of(&self.mine, snap),
        };
        let body = toml::to_string(&doc).expect("a draft always serializes");
        format!(
            "# groupmap draft: unsaved edits of one editor session, offered back when this organization opens.\n{body}"
        )
    }

    /// Reads a draft. A file cut short (a crash mid-write by another tool, a full disk) gives
    /// back every row before the cut; anything else unreadable is an error naming file and line.
    pub fn parse(path: &str, text: &str) -> Result<Recovered, FileError> {
        match from_toml::<DraftDoc>(path, text) {
            Ok(doc) => Ok(Recovered { draft: doc.into_draft(), lost_from_line: None }),
            Err(e) => {
                let line = e.line.ok_or_else(|| e.clone())?;
                // Retry up to the last table header before the damage.
                let cut = text.lines().take(line.saturating_sub(1)).collect::<Vec<_>>();
                let header = cut.iter().rposition(|l| l.trim_start().starts_with('[')).ok_or_else(|| e.clone())?;
                let kept = cut[..header].join("\n");
                let doc = from_toml::<DraftDoc>(path, &kept).map_err(|_| e)?;
                Ok(Recovered { draft: doc.into_draft(), lost_from_line: Some(header + 1) })
            }
        }
    }

    /// The draft with its groups named as `snap` names them: a URI on another loopback port (the
    /// bundled sandbox moves port each run) is the group with the same path here.
    pub fn localized(&self, snap: &Snapshot) -> Draft {
        let local = |m: &Mapping| {
            let fix = |t: &Target| match t {
                Target::Group(uri) => {
                    snap.local_group(uri).map_or_else(|| t.clone(), |g| Target::Group(snap.group(g).uri.clone()))
                }
                other => other.clone(),
            };
            Mapping {
                enabled: m.enabled,
                rows: m.rows.iter().map(|r| Row { idp_value: r.idp_value.clone(), target: fix(&r.target) }).collect(),
                default_group: m.default_group.as_ref().map(fix),
                apply_to_existing: m.apply_to_existing,
            }
        };
        Draft { base: local(&self.base), mine: local(&self.mine), ..self.clone() }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftDoc {
    format: u32,
    organization: String,
    base_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    base_version: Option<u64>,
    base: TableDoc,
    mine: TableDoc,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableDoc {
    enabled: bool,
    apply_to_existing: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_group: Option<GroupDoc>,
    #[serde(default)]
    rows: Vec<RowDoc>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RowDoc {
    idp_value: String,
    #[serde(flatten)]
    group: GroupDoc,
}

/// `group` is the name; `uri` is there for a group that exists.
#[derive(Serialize, Deserialize)]
struct GroupDoc {
    group: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uri: Option<String>,
}

impl GroupDoc {
    fn of(t: &Target, snap: &Snapshot) -> GroupDoc {
        match t {
            Target::Group(uri) => GroupDoc { group: snap.target_name(t).to_owned(), uri: Some(uri.clone()) },
            Target::New(name) => GroupDoc { group: name.clone(), uri: None },
        }
    }

    fn into_target(self) -> Target {
        match self.uri {
            Some(uri) => Target::Group(uri),
            None => Target::New(self.group),
        }
    }
}

impl TableDoc {
    fn of(m: &Mapping, snap: &Snapshot) -> TableDoc {
        TableDoc {
            enabled: m.enabled,
            apply_to_existing: m.apply_to_existing,
            default_group: m.default_group.as_ref().map(|t| GroupDoc::of(t, snap)),
            rows: m
                .rows
                .iter()
                .map(|r| RowDoc { idp_value: r.idp_value.clone(), group: GroupDoc::of(&r.target, snap) })
                .collect(),
        }
    }

    fn into_mapping(self) -> Mapping {
        Mapping {
            enabled: self.enabled,
            apply_to_existing: self.apply_to_existing,
            default_group: self.default_group.map(GroupDoc::into_target),
            rows: self
                .rows
                .into_iter()
                .map(|r| Row { idp_value: r.idp_value, target: r.group.into_target() })
                .collect(),
        }
    }
}

impl DraftDoc {
    fn into_draft(self) -> Draft {
        Draft {
            organization: self.organization,
            base_url: self.base_url,
            base_version: self.base_version,
            base: self.base.into_mapping(),
            mine: self.mine.into_mapping(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::snapshot::Group;

    fn snap(base: &str) -> Snapshot {
        let groups = vec![Group { uri: format!("{base}/groups/G1"), name: "Sales".into(), member_count: None }];
        Snapshot::new(base, &format!("{base}/organizations/O"), groups, vec![], None)
    }

    fn draft(base: &str) -> Draft {
        let mut mine = Mapping { enabled: true, ..Mapping::default() };
        mine.set("Sales EMEA", Target::Group(format!("{base}/groups/G1")));
        mine.set("Ops", Target::New("Ops Team".into()));
        Draft {
            organization: format!("{base}/organizations/O"),
            base_url: base.into(),
            base_version: Some(3),
            base: Mapping::default(),
            mine,
        }
    }

    #[test]
    fn a_draft_reads_back_as_written_with_names_beside_uris() {
        let s = snap("https://x");
        let d = draft("https://x");
        let text = d.to_toml(&s);
        assert!(text.contains("group = \"Sales\"") && text.contains("uri = \"https://x/groups/G1\""), "{text}");
        assert_eq!(Draft::parse("d.toml", &text).unwrap(), Recovered { draft: d, lost_from_line: None });
    }

    #[test]
    fn a_draft_cut_short_gives_back_the_rows_before_the_cut() {
        let s = snap("https://x");
        let text = draft("https://x").to_toml(&s);
        let cut = &text[..text.rfind("idp_value = \"Ops\"").unwrap() + 8];
        let r = Draft::parse("d.toml", cut).unwrap();
        assert!(r.lost_from_line.is_some());
        assert!(r.draft.mine.row("Sales EMEA").is_some() && r.draft.mine.row("Ops").is_none());
        assert!(Draft::parse("d.toml", "garbage = [").is_err());
    }

    #[test]
    fn groups_of_a_sandbox_on_another_port_are_this_ones() {
        let here = snap("http://127.0.0.1:2000");
        let d = draft("http://127.0.0.1:1000").localized(&here);
        assert_eq!(d.mine.row("Sales EMEA").unwrap().target, Target::Group("http://127.0.0.1:2000/groups/G1".into()));
    }
}
