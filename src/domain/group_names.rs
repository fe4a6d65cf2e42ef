//! New group names that look like a slip for an existing group's name (`Evryone` for
//! `Everyone`): a mapping may create groups, and a typo must not create one silently.
//!
//! Names equal ignoring case and spaces are the same group (`text::fold_name`); this module is
//! about names that are not equal but close.

use super::finding::{Finding, LintKind, Severity};
use super::mapping::{Mapping, Target};
use super::snapshot::{GroupId, Snapshot};
use super::text::{fold_name, quoted};

/// The optimal-string-alignment distance (Damerau-Levenshtein, each substring edited once)
/// between two strings, in characters: insertions, deletions, substitutions and swaps of two
/// neighbouring characters each count one.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // Three rows of the table: two back, one back, this one.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(before[j - 2] + 1);
            }
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// How many edits still look like a slip between two folded names: 2 when the shorter has 5
/// characters or more, else 1, and never the whole name (`a` is not a slip for `b`).
fn close_enough(a: &str, b: &str) -> Option<usize> {
    let (la, lb) = (a.chars().count(), b.chars().count());
    let shorter = la.min(lb);
    let allowed = (if shorter >= 5 { 2 } else { 1 }).min(shorter.saturating_sub(1));
    if la.abs_diff(lb) > allowed {
        return None;
    }
    let d = edit_distance(a, b);
    (d <= allowed).then_some(d)
}

/// The existing group that `name` looks like a slip for, when `name` names no group: the
/// closest one, the first of those as close.
pub fn like_existing(snap: &Snapshot, name: &str) -> Option<GroupId> {
    if snap.group_by_name(name).is_some() {
        return None;
    }
    let folded = fold_name(name);
    snap.groups
        .iter()
        .enumerate()
        .filter_map(|(i, g)| close_enough(&folded, &fold_name(&g.name)).map(|d| (d, i)))
        .min()
        .map(|(_, i)| GroupId(i as u32))
}

/// Where a mapping names a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    DefaultGroup,
    /// The index of the row in `Mapping::rows` (and in the mapping file's `rows`).
    Row(usize),
}

/// A place that names a new group whose name looks like an existing group's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LikeExisting {
    pub place: Place,
    pub name: String,
    pub existing: GroupId,
}

impl LikeExisting {
    /// What it is and what to do, without where: for a message that says where first.
    pub fn advice(&self, snap: &Snapshot) -> String {
        advice(&self.name, &snap.group(self.existing).name)
    }
}

/// `"Evryone" is a new group, like the existing group "Everyone": did you mean …`
pub fn advice(name: &str, existing: &str) -> String {
    let existing = quoted(existing);
    format!(
        "{} is a new group, like the existing group {existing}: did you mean {existing}? use that name, \
         or keep this one to create a new group",
        quoted(name)
    )
}

/// Every place (default group first, then rows in order) that names a new group looking like
/// an existing one.
pub fn new_names_like_existing(snap: &Snapshot, mapping: &Mapping) -> Vec<LikeExisting> {
    let places = mapping
        .default_group
        .iter()
        .map(|t| (Place::DefaultGroup, t))
        .chain(mapping.rows.iter().enumerate().map(|(i, r)| (Place::Row(i), &r.target)));
    // Rows often share a new group: each name is compared with the groups once.
    let mut seen: super::FastMap<String, Option<GroupId>> = super::FastMap::default();
    let mut out = Vec::new();
    for (place, target) in places {
        let Target::New(name) = target else { continue };
        let like = *seen.entry(fold_name(name)).or_insert_with(|| like_existing(snap, name));
        if let Some(existing) = like {
            out.push(LikeExisting { place, name: name.clone(), existing });
        }
    }
    out
}

/// The findings (`new_group_like_existing`), one per place, saying where as the lint does.
pub fn lint(snap: &Snapshot, mapping: &Mapping) -> Vec<Finding> {
    new_names_like_existing(snap, mapping)
        .into_iter()
        .map(|l| {
            let (place, values) = match l.place {
                Place::DefaultGroup => ("default_group".to_owned(), Vec::new()),
                Place::Row(i) => {
                    let value = &mapping.rows[i].idp_value;
                    (format!("rows[{i}] ({})", quoted(value)), vec![value.clone()])
                }
            };
            Finding {
                kind: LintKind::NewGroupLikeExisting,
                severity: Severity::Warning,
                message: format!("{place}: {}", l.advice(snap)),
                values,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::snapshot::Group;

    fn snap(names: &[&str]) -> Snapshot {
        let groups = names.iter().enumerate().map(|(i, n)| Group {
            uri: format!("g{i}"),
            name: (*n).into(),
            member_count: None,
        });
        Snapshot::new("b", "o", groups.collect(), vec![], None)
    }

    #[test]
    fn distance_counts_swaps_as_one_edit() {
        assert_eq!(edit_distance("everyone", "evryone"), 1);
        assert_eq!(edit_distance("everyone", "eveyrone"), 1, "a swap");
        assert_eq!(edit_distance("engineering", "enginering"), 1);
        assert_eq!(edit_distance("sales emea", "sales ema"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("ca", "abc"), 3, "optimal string alignment: no edit inside a swap");
        assert_eq!(edit_distance("東京", "東京都"), 1, "characters, not bytes");
    }

    #[test]
    fn names_equal_but_for_case_and_spaces_are_the_group_itself() {
        let s = snap(&["Sales EMEA", "Everyone"]);
        for name in ["Sales  EMEA", " sales emea", "SALES\tEMEA ", "Sales EMEA"] {
            assert_eq!(s.group_by_name(name), Some(GroupId(0)), "{name:?}");
            assert_eq!(like_existing(&s, name), None, "{name:?} is the group, not like it");
        }
        assert_eq!(fold_name("  Sales \u{a0} EMEA  "), "sales emea");
    }

    #[test]
    fn two_groups_that_fold_alike_resolve_to_the_exact_spelling() {
        let s = snap(&["Sales EMEA", "Sales  EMEA"]);
        assert_eq!(s.group_by_name("Sales  EMEA"), Some(GroupId(1)));
        assert_eq!(s.group_by_name("Sales EMEA"), Some(GroupId(0)));
        assert_eq!(s.group_by_name("sales emea"), Some(GroupId(0)), "the first otherwise");
    }

    #[test]
    fn close_new_names_are_like_an_existing_group_and_far_ones_are_not() {
        let s = snap(&["Everyone", "Sales EMEA", "Sales NA", "IT", "Engineering"]);
        assert_eq!(like_existing(&s, "Evryone"), Some(GroupId(0)));
        assert_eq!(like_existing(&s, "Eveyrone"), Some(GroupId(0)));
        assert_eq!(like_existing(&s, "sales emae"), Some(GroupId(1)));
        assert_eq!(like_existing(&s, "Enginering Team"), None, "a longer name is another group");
        assert_eq!(like_existing(&s, "Sales Ops"), None);
        assert_eq!(like_existing(&s, "Sales NAM"), Some(GroupId(2)), "the closest of two");
        assert_eq!(like_existing(&s, "IS"), Some(GroupId(3)), "one edit for a short name");
        assert_eq!(like_existing(&s, "HR"), None, "two edits of two letters is another name");
        assert_eq!(like_existing(&snap(&["A"]), "B"), None, "never the whole name");
    }

    #[test]
    fn findings_say_where_what_and_what_to_do() {
        let s = snap(&["Everyone", "Sales EMEA"]);
        let mut m = Mapping { enabled: true, default_group: Some(Target::New("Evryone".into())), ..Mapping::default() };
        m.set("EMEA", Target::New("Sales EMA".into()));
        m.set("Ops", Target::New("Operations".into()));
        m.set("EU", Target::New("sales ema".into()));
        let f = lint(&s, &m);
        let msgs: Vec<&str> = f.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "default_group: \"Evryone\" is a new group, like the existing group \"Everyone\": did you mean \
                 \"Everyone\"? use that name, or keep this one to create a new group",
                "rows[0] (\"EMEA\"): \"Sales EMA\" is a new group, like the existing group \"Sales EMEA\": did you \
                 mean \"Sales EMEA\"? use that name, or keep this one to create a new group",
                "rows[2] (\"EU\"): \"sales ema\" is a new group, like the existing group \"Sales EMEA\": did you \
                 mean \"Sales EMEA\"? use that name, or keep this one to create a new group",
            ]
        );
        assert!(f.iter().all(|f| f.kind == LintKind::NewGroupLikeExisting && f.severity == Severity::Warning));
        assert_eq!(f[1].values, ["EMEA"]);
    }
}
