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
        let mut seen = super::FastSet::default();
        self.rows
            .iter()
            .map(|r| &r.target)
            .chain(self.default_group.as_ref())
            .filter_map(|t| match t {
                Target::New(name) if seen.insert(super::text::fold_name(name)) => Some(name.clone()),
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
        let mut seen: super::FastMap<&str, usize> =
            super::FastMap::with_capacity_and_hasher(self.rows.len(), Default::default());
        for (i, row) in self.rows.iter().enumerate() {
            if row.idp_value.is_empty() {
                out.push(Problem { parameter: format!("rows[{i}].idp_value"), message: "must not be empty".into() });
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

/// How one table differs from another (the saved one), for the top of a plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableDiff {
    pub enabled: Option<(bool, bool)>,
    pub default_group: Option<(Option<Target>, Option<Target>)>,
    pub added: Vec<Row>,
    pub removed: Vec<Row>,
    /// (value, old target, new target)
    pub changed: Vec<(String, Target, Target)>,
}

impl TableDiff {
    pub fn is_empty(&self) -> bool {
        self.enabled.is_none()
            && self.default_group.is_none()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
    }
}

pub fn diff(old: &Mapping, new: &Mapping) -> TableDiff {
    let mut d = TableDiff::default();
    if old.enabled != new.enabled {
        d.enabled = Some((old.enabled, new.enabled));
    }
    if old.default_group != new.default_group {
        d.default_group = Some((old.default_group.clone(), new.default_group.clone()));
    }
    for r in &new.rows {
        match old.row(&r.idp_value) {
            None => d.added.push(r.clone()),
            Some(o) if o.target != r.target => {
                d.changed.push((r.idp_value.clone(), o.target.clone(), r.target.clone()))
            }
            Some(_) => {}
        }
    }
    d.removed = old.rows.iter().filter(|r| new.row(&r.idp_value).is_none()).cloned().collect();
    d
}

/// A row both the admin and someone else changed since the admin's base, differently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    pub value: String,
    /// None: the row is removed on that side.
    pub mine: Option<Target>,
    pub theirs: Option<Target>,
}

/// Replays the admin's edits (base → draft) on a newer saved table. Where both sides changed
/// the same row differently, the admin's version is kept and the conflict returned to choose.
pub fn rebase(base: &Mapping, draft: &Mapping, newer: &Mapping) -> (Mapping, Vec<Conflict>) {
    let mut out = newer.clone();
    out.apply_to_existing = draft.apply_to_existing;
    if draft.enabled != base.enabled {
        out.enabled = draft.enabled;
    }
    if draft.default_group != base.default_group {
        out.default_group = draft.default_group.clone();
    }
    let mut conflicts = Vec::new();
    let target = |m: &Mapping, v: &str| m.row(v).map(|r| r.target.clone());
    let values = draft.rows.iter().chain(&base.rows).map(|r| r.idp_value.as_str());
    let mut seen = HashSet::new();
    for v in values {
        if !seen.insert(v) {
            continue;
        }
        let (b, mine, theirs) = (target(base, v), target(draft, v), target(newer, v));
        if mine == b {
            continue;
        }
        if theirs != b && theirs != mine {
            conflicts.push(Conflict { value: v.to_owned(), mine: mine.clone(), theirs });
        }
        match mine {
            Some(t) => out.set(v, t),
            None => {
                out.unset(v);
            }
        }
    }
    (out, conflicts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(rows: &[(&str, &str)]) -> Mapping {
        let mut m = Mapping { enabled: true, ..Mapping::default() };
        for (v, g) in rows {
            m.set(v, Target::Group((*g).into()));
        }
        m
    }

    #[test]
    fn rebase_keeps_both_sides_and_reports_same_row_conflicts() {
        let base = m(&[("A", "g1"), ("B", "g1")]);
        let draft = m(&[("A", "g2"), ("B", "g1"), ("C", "g3")]);
        let newer = m(&[("A", "g9"), ("B", "g1"), ("D", "g4")]);
        let (out, conflicts) = rebase(&base, &draft, &newer);
        assert_eq!(out.row("A").unwrap().target, Target::Group("g2".into()));
        assert_eq!(out.row("C").unwrap().target, Target::Group("g3".into()));
        assert_eq!(out.row("D").unwrap().target, Target::Group("g4".into()));
        assert_eq!(
            conflicts,
            vec![Conflict {
                value: "A".into(),
                mine: Some(Target::Group("g2".into())),
                theirs: Some(Target::Group("g9".into()))
            }]
        );
        let d = diff(&newer, &out);
        assert_eq!((d.added.len(), d.changed.len(), d.removed.len()), (1, 1, 0));
    }
}
