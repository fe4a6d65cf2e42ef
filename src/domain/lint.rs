//! Findings about a mapping that Calendly would accept silently (the field is case-sensitive).

pub use super::finding::{Finding, LintKind, Severity};
use super::lookalike;
use super::mapping::{Mapping, Target};
use super::plan::Plan;
use super::snapshot::Snapshot;
use super::text::{quoted, sanitize};

fn finding(kind: LintKind, severity: Severity, message: String, value: Option<&str>) -> Finding {
    Finding { kind, severity, message, values: value.into_iter().map(str::to_owned).collect() }
}

/// Export rows listed one by one before the rest are counted.
pub const ROWS_LISTED: usize = 20;

pub fn lint(snap: &Snapshot, mapping: &Mapping, plan: &Plan) -> Vec<Finding> {
    use LintKind::*;
    use Severity::*;
    // First: people the exports leave out are not in anything below.
    let mut out = super::coverage::findings(&snap.coverage);
    for p in mapping.problems() {
        out.push(finding(InvalidRow, Error, format!("{}: {}", p.parameter, p.message), None));
    }
    for (i, row) in mapping.rows.iter().enumerate().filter(|(i, _)| plan.row_dest[*i].is_none()) {
        out.push(finding(
            UnknownGroup,
            Error,
            format!(
                "rows[{i}] ({}) maps to {}, which is not a group of this organization",
                quoted(&row.idp_value),
                row.target.wire()
            ),
            Some(&row.idp_value),
        ));
    }
    if let (Some(Target::Group(uri)), None) = (&mapping.default_group, plan.default_dest) {
        out.push(finding(
            UnknownGroup,
            Error,
            format!("default_group {uri} is not a group of this organization"),
            None,
        ));
    }
    out.extend(super::group_names::lint(snap, mapping));

    // Near-duplicates among the values users have and the values rows name. The families among
    // the values users have are the snapshot's, worked out once (this runs on every edit, over
    // thousands of values); per plan only the values rows name that no user has are keyed.
    let families = snap.value_families();
    // Rows whose value no user has, looked up once for this and the unused-row findings.
    let unused: Vec<&str> =
        mapping.rows.iter().map(|r| r.idp_value.as_str()).filter(|v| snap.value_id(v).is_none()).collect();
    let mut extra: super::FastMap<String, Vec<&str>> = super::FastMap::default();
    for &v in &unused {
        let fam = extra.entry(lookalike::family_key(v)).or_default();
        if !fam.contains(&v) {
            fam.push(v);
        }
    }
    let near =
        |values: Vec<String>, message: String| Finding { kind: NearDuplicate, severity: Warning, message, values };
    let owned = |ids: &[u32]| -> Vec<String> { ids.iter().map(|&i| snap.values[i as usize].clone()).collect() };
    if extra.is_empty() {
        out.extend(families.multi().iter().map(|f| near(owned(&f.values), f.message.clone())));
    } else {
        let mut found: Vec<(&str, Finding)> = families
            .multi()
            .iter()
            .filter(|f| !extra.contains_key(&f.key))
            .map(|f| (f.key.as_str(), near(owned(&f.values), f.message.clone())))
            .collect();
        for (key, rows) in &extra {
            let ids = families.with_key(key);
            if ids.len() + rows.len() < 2 {
                continue;
            }
            let fam: Vec<&str> =
                ids.iter().map(|&i| snap.values[i as usize].as_str()).chain(rows.iter().copied()).collect();
            let message = lookalike::describe(&fam);
            found.push((key.as_str(), near(fam.iter().map(|v| (*v).to_owned()).collect(), message)));
        }
        found.sort_unstable_by(|a, b| a.0.cmp(b.0));
        out.extend(found.into_iter().map(|(_, f)| f));
    }

    resolve_near_duplicates(snap, mapping, &mut out);

    for v in unused {
        out.push(finding(
            UnusedRow,
            Warning,
            format!("row {} matches no user (typo or stale value?)", quoted(v)),
            Some(v),
        ));
    }
    if mapping.default_group.is_none() {
        let with_row: super::FastSet<&str> = mapping.rows.iter().map(|r| r.idp_value.as_str()).collect();
        let unmapped: Vec<(usize, &String)> =
            snap.values.iter().enumerate().filter(|(_, v)| !with_row.contains(v.as_str())).collect();
        if !unmapped.is_empty() {
            let users: u32 = unmapped.iter().map(|(i, _)| snap.value_users[*i]).sum();
            let mut names: Vec<String> = unmapped.iter().take(5).map(|(_, v)| quoted(v)).collect();
            if unmapped.len() > 5 {
                names.push(format!("and {} more", unmapped.len() - 5));
            }
            out.push(Finding {
                kind: UnmappedValue,
                severity: Warning,
                message: format!(
                    "{} value(s) held by {users} user(s) have no row and there is no default group: {}",
                    unmapped.len(),
                    names.join(", ")
                ),
                values: unmapped.iter().map(|(_, v)| (*v).clone()).collect(),
            });
        }
    }
    if plan.enabled {
        for (i, g) in snap.groups.iter().enumerate() {
            if plan.group_now[i] > 0 && plan.group_after[i] == 0 {
                out.push(finding(
                    GroupEmptied,
                    Warning,
                    format!("group {} would have no members left ({} now)", quoted(&g.name), plan.group_now[i]),
                    None,
                ));
            }
        }
    }
    if let Some(d) = plan.default_dest
        && plan.row_dest.contains(&Some(d))
    {
        out.push(finding(
            DefaultIsRowTarget,
            Info,
            format!("the default group {} is also the target of a row", quoted(plan.dest_name(snap, d))),
            None,
        ));
    }
    // Each row is listed up to a cap: an export that matches nobody must not cost a finding per
    // row on every re-plan.
    for r in snap.stale_rows.iter().take(ROWS_LISTED) {
        out.push(finding(
            StaleExportRow,
            Warning,
            format!("{}: {} matches no member or pending invitee (stale export?)", r.place(), sanitize(&r.email)),
            None,
        ));
    }
    if let Some(more) = snap.stale_rows.len().checked_sub(ROWS_LISTED).filter(|n| *n > 0) {
        out.push(finding(
            StaleExportRow,
            Warning,
            format!("… and {more} more export rows match no member or invitee"),
            None,
        ));
    }
    for r in snap.conflicting_rows.iter().take(ROWS_LISTED) {
        out.push(finding(
            ConflictingExportRow,
            Warning,
            format!(
                "{}: {} appears again with value {}; the first row was kept",
                r.place(),
                sanitize(&r.email),
                quoted(&r.value)
            ),
            None,
        ));
    }
    if let Some(more) = snap.conflicting_rows.len().checked_sub(ROWS_LISTED).filter(|n| *n > 0) {
        out.push(finding(
            ConflictingExportRow,
            Warning,
            format!("… and {more} more export rows repeat an email"),
            None,
        ));
    }
    for c in snap.membership_conflicts.iter().take(ROWS_LISTED) {
        let name = |uri: &str| quoted(snap.group_by_uri(uri).map_or(uri, |g| snap.group(g).name.as_str()));
        let groups: Vec<String> = c.groups.iter().map(|g| name(g)).collect();
        out.push(finding(
            ConflictingMembership,
            Warning,
            format!(
                "{} is a member of {} groups ({}), where Calendly allows one; the plan takes them as in {}",
                sanitize(&c.email),
                c.groups.len(),
                groups.join(", "),
                groups.first().map_or("none", String::as_str)
            ),
            None,
        ));
    }
    if let Some(more) = snap.membership_conflicts.len().checked_sub(ROWS_LISTED).filter(|n| *n > 0) {
        out.push(finding(
            ConflictingMembership,
            Warning,
            format!("… and {more} more users are members of several groups"),
            None,
        ));
    }
    out.sort_by_key(|f| f.severity);
    out
}

/// A near-duplicate whose every spelling has a row to the same group no longer misleads anyone:
/// it stays listed, as a note saying so (`Finding::resolved`), and is not a warning.
fn resolve_near_duplicates(snap: &Snapshot, mapping: &Mapping, found: &mut [Finding]) {
    if !found.iter().any(|f| f.kind == LintKind::NearDuplicate) {
        return;
    }
    // Each value's row (the first, as `Mapping::row`), looked up once: this runs on every plan,
    // over families of thousands of values.
    let mut row_of: super::FastMap<&str, &Target> =
        super::FastMap::with_capacity_and_hasher(mapping.rows.len(), Default::default());
    for r in &mapping.rows {
        row_of.entry(r.idp_value.as_str()).or_insert(&r.target);
    }
    for f in found.iter_mut().filter(|f| f.kind == LintKind::NearDuplicate) {
        let mut targets = f.values.iter().map(|v| row_of.get(v.as_str()).copied());
        let Some(Some(first)) = targets.next() else { continue };
        if targets.all(|t| t == Some(first)) {
            let every = if f.values.len() == 2 { "both" } else { "all" };
            f.severity = Severity::Info;
            f.message.push_str(&format!("; resolved: {every} map to {}", quoted(snap.target_name(first))));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::people::StaleRow;
    use std::collections::HashMap;

    /// The near-duplicate findings as worked out before the snapshot kept its families: every
    /// value keyed on every plan.
    fn near_duplicates_keyed_per_plan(snap: &Snapshot, mapping: &Mapping) -> Vec<(String, Vec<String>)> {
        let mut families: HashMap<String, Vec<&str>> = HashMap::new();
        let row_values = mapping.rows.iter().map(|r| r.idp_value.as_str()).filter(|v| snap.value_id(v).is_none());
        for v in snap.values.iter().map(String::as_str).chain(row_values) {
            let fam = families.entry(lookalike::family_key(v)).or_default();
            if !fam.contains(&v) {
                fam.push(v);
            }
        }
        let mut families: Vec<(String, Vec<&str>)> = families.into_iter().filter(|(_, f)| f.len() > 1).collect();
        families.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        families.iter().map(|(_, f)| (lookalike::describe(f), f.iter().map(|v| (*v).to_owned()).collect())).collect()
    }

    #[test]
    fn near_duplicates_from_the_snapshots_families_are_those_keyed_per_plan() {
        use crate::domain::people::{OwnerInput, OwnerKind};
        let held = ["Sales", "sales", "Sales ", "S\u{430}les", "Ops", "Marketing", "Caf\u{e9}", "Team I", "Solo"];
        let owners = held
            .iter()
            .enumerate()
            .map(|(i, v)| OwnerInput {
                kind: OwnerKind::Member,
                uri: format!("u{i}"),
                name: format!("U{i}"),
                email: format!("u{i}@x"),
                value: Some((*v).to_owned()),
                group: None,
            })
            .collect();
        let snap = Snapshot::new("b", "o", vec![], owners, None);
        let rows: &[&[&str]] = &[
            &[],
            &["Sales", "Ops"],
            // Rows no user has: joining a family of two, making one of a single value, alone,
            // among themselves, repeated.
            &["SALES", "ops", "Marketing\u{a0}", "Cafe\u{301}", "Team l", "Nobody", "x", "X", "x", "SALES"],
            &["nobody", "NOBODY "],
        ];
        for rows in rows {
            let mut m = Mapping::default();
            for v in *rows {
                m.rows.push(crate::domain::mapping::Row { idp_value: (*v).into(), target: Target::New("G".into()) });
            }
            let p = crate::domain::plan(&snap, &m);
            let got: Vec<(String, Vec<String>)> = p
                .lint
                .iter()
                .filter(|f| f.kind == LintKind::NearDuplicate)
                // Resolution is told after the family's description (tested in the editor's tests).
                .map(|f| (f.message.split("; resolved:").next().unwrap_or_default().to_owned(), f.values.clone()))
                .collect();
            // Resolved families are notes, listed after the warnings: compared in key order.
            let mut got = got;
            let mut want = near_duplicates_keyed_per_plan(&snap, &m);
            got.sort();
            want.sort();
            assert_eq!(got, want, "rows {rows:?}");
            assert!(!got.is_empty());
        }
    }

    #[test]
    fn stale_export_rows_are_listed_up_to_a_cap_then_counted() {
        let mut snap = Snapshot::new("b", "o", vec![], vec![], None);
        snap.stale_rows = (0..1000)
            .map(|i| StaleRow { file: "a.csv".into(), line: i + 2, email: format!("u{i}@x"), value: "V".into() })
            .collect();
        let m = Mapping::default();
        let p = crate::domain::plan(&snap, &m);
        let stale: Vec<_> = p.lint.iter().filter(|f| f.kind == LintKind::StaleExportRow).collect();
        assert_eq!(stale.len(), ROWS_LISTED + 1);
        assert_eq!(stale[0].message, "a.csv, line 2: u0@x matches no member or pending invitee (stale export?)");
        assert_eq!(stale[ROWS_LISTED].message, "… and 980 more export rows match no member or invitee");
    }
}
