//! The group mapping table: IdP value → group, plus a default group.

use std::collections::HashSet;

/// Where a row sends users: an existing group (by URI) or a group to be created on save.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Group(String),
    New(String),
}

impl Target {
    /// The URI, or `new:<name>` for a group not created yet (as plans show it).
    pub fn wire(&self) -> String {
        match self {
            Target::Group(uri) => uri.clone(),
            Target::New(name) => format!("new:{name}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Exact and case-sensitive; surrounding whitespace is kept.
    pub idp_value: String,
    pub target: Target,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub enabled: bool,
    pub rows: Vec<Row>,
    pub default_group: Option<Target>,
    /// Whether saving moves existing users too (not part of the saved table).
    pub apply_to_existing: bool,
}

impl Default for Mapping {
    fn default() -> Self {
        Mapping { enabled: false, rows: Vec::new(), default_group: None, apply_to_existing: true }
    }
}

pub const MAX_ROWS: usize = 5000;

/// A problem that makes a mapping unsaveable, with the body path the API would name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub parameter: String,
    pub message: String,
}

impl Mapping {
    pub fn row(&self, value: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.idp_value == value)
    }

    /// Maps `value` to `target`, replacing the row for that value if there is one.
    pub fn set(&mut self, value: &str, target: Target) {
        match self.rows.iter_mut().find(|r| r.idp_value == value) {
            Some(row) => row.target = target,
            None => self.rows.push(Row { idp_value: value.to_owned(), target }),
        }
    }

    /// Removes the row for `value`; returns whether there was one.
    pub fn unset(&mut self, value: &str) -> bool {
        let before = self.rows.len();
        self.rows.retain(|r| r.idp_value != value);
        before != self.rows.len()
    }

    /// Names of groups to be created on save, each once, in first-use order.
    pub fn new_groups(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        self.rows
            .iter()
            .map(|r| &r.target)
            .chain(self.default_group.as_ref())
            .filter_map(|t| match t {
                Target::New(name) if seen.insert(super::snapshot::fold_name(name)) => {
                    Some(name.clone())
                }
                _ => None,
            })
            .collect()
    }

    /// What the API would refuse in this table (group existence is checked against a snapshot).
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        if self.rows.len() > MAX_ROWS {
            out.push(Problem {
                parameter: "rows".into(),
                message: format!("{} rows; at most {MAX_ROWS} are allowed", self.rows.len()),
            });
        }
        let mut seen: std::collections::HashMap<&str, usize> = Default::default();
        for (i, row) in self.rows.iter().enumerate() {
            if row.idp_value.is_empty() {
                out.push(Problem {
                    parameter: format!("rows[{i}].idp_value"),
                    message: "must not be empty".into(),
                });
            } else if let Some(first) = seen.insert(&row.idp_value, i) {
                out.push(Problem {
                    parameter: format!("rows[{i}].idp_value"),
                    message: format!("duplicate of rows[{first}] ({:?})", row.idp_value),
                });
            }
        }
        out
    }
}
