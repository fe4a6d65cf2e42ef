//! The normative semantics of a mapping (README: What a mapping does): who moves where, and the digest.

use super::finding::Finding;
use super::mapping::{Mapping, Target};
use super::snapshot::{GroupId, NONE, OwnerId, Snapshot};
use super::text::fold_name;

/// A resolved destination: an existing group, or the n-th group of `Plan::new_groups`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dest {
    Group(GroupId),
    New(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    pub owner: OwnerId,
    pub from: Option<GroupId>,
    pub to: Dest,
    /// The target is the default group because no row matched.
    pub via_default: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub enabled: bool,
    pub apply_to_existing: bool,
    /// Groups the mapping names that do not exist yet.
    pub new_groups: Vec<String>,
    /// In owner order.
    pub changes: Vec<Change>,
    /// In-scope users with no row and no default group.
    pub unmapped: Vec<OwnerId>,
    /// In-scope users already in their target group.
    pub unchanged: usize,
    /// Where each value (by ValueId) sends users, and whether via the default group.
    pub value_dest: Vec<Option<(Dest, bool)>>,
    /// Users matched by each mapping row, and where each row and the default resolve to
    /// (None: a group URI the organization does not have).
    pub row_users: Vec<u32>,
    pub row_dest: Vec<Option<Dest>>,
    pub default_dest: Option<Dest>,
    /// Members per group now and after the plan (by GroupId), and per new group after.
    pub group_now: Vec<u32>,
    pub group_after: Vec<u32>,
    pub new_group_after: Vec<u32>,
    pub lint: Vec<Finding>,
}

impl Plan {
    pub fn in_scope(&self) -> usize {
        self.changes.len() + self.unchanged + self.unmapped.len()
    }

    pub fn to_default(&self) -> usize {
        self.changes.iter().filter(|c| c.via_default).count()
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Whether saving would actually move these users.
    pub fn applies(&self) -> bool {
        self.enabled && self.apply_to_existing && !self.changes.is_empty()
    }

    pub fn dest_wire(&self, snap: &Snapshot, dest: Dest) -> String {
        match dest {
            Dest::Group(g) => snap.group(g).uri.clone(),
            Dest::New(i) => format!("new:{}", self.new_groups[i as usize]),
        }
    }

    pub fn dest_name<'a>(&'a self, snap: &'a Snapshot, dest: Dest) -> &'a str {
        match dest {
            Dest::Group(g) => &snap.group(g).name,
            Dest::New(i) => &self.new_groups[i as usize],
        }
    }

    /// SHA-256 (lowercase hex) of the sorted change lines; the empty plan hashes "".
    pub fn digest(&self, snap: &Snapshot) -> String {
        super::digest::of(self, snap)
    }
}

/// Resolves a target against the snapshot. A new group whose name now exists resolves to it.
fn resolve(snap: &Snapshot, target: &Target, new_groups: &mut Vec<String>) -> Option<Dest> {
    match target {
        Target::Group(uri) => snap.group_by_uri(uri).map(Dest::Group),
        Target::New(name) => {
            if let Some(g) = snap.group_by_name(name) {
                return Some(Dest::Group(g));
            }
            let folded = fold_name(name);
            let i = match new_groups.iter().position(|n| fold_name(n) == folded) {
                Some(i) => i,
                None => {
                    new_groups.push(name.clone());
                    new_groups.len() - 1
                }
            };
            Some(Dest::New(i as u32))
        }
    }
}

/// Who moves where, without the findings (`domain::plan` adds them).
pub fn impact(snap: &Snapshot, mapping: &Mapping) -> Plan {
    let mut new_groups = Vec::new();
    let mut value_dest: Vec<Option<(Dest, bool)>> = vec![None; snap.values.len()];
    let mut has_row = vec![false; snap.values.len()];
    let mut row_users = vec![0u32; mapping.rows.len()];
    let mut row_dest = Vec::with_capacity(mapping.rows.len());
    for (i, row) in mapping.rows.iter().enumerate() {
        let dest = resolve(snap, &row.target, &mut new_groups);
        row_dest.push(dest);
        if let Some(v) = snap.value_id(&row.idp_value) {
            let v = v.0 as usize;
            row_users[i] = snap.value_users[v];
            // A duplicate row is invalid; the first one is what the preview shows.
            if !has_row[v] {
                has_row[v] = true;
                value_dest[v] = dest.map(|d| (d, false));
            }
        }
    }
    let default = mapping.default_group.as_ref().and_then(|t| resolve(snap, t, &mut new_groups));
    if let Some(d) = default {
        for (slot, has) in value_dest.iter_mut().zip(&has_row) {
            if !has {
                *slot = Some((d, true));
            }
        }
    }

    let mut group_now = vec![0u32; snap.groups.len()];
    let mut group_after = vec![0u32; snap.groups.len()];
    let mut new_group_after = vec![0u32; new_groups.len()];
    let mut changes = Vec::new();
    let mut unmapped = Vec::new();
    let mut unchanged = 0;
    // One pass over the owners (the only per-user work): counts now and after, and the changes.
    for (i, &[value, group]) in snap.placements().iter().enumerate() {
        let group = (group != NONE).then_some(GroupId(group));
        if let Some(g) = group {
            group_now[g.0 as usize] += 1;
        }
        let dest = match value {
            v if v != NONE && mapping.enabled => value_dest[v as usize],
            // Out of scope, or mapping off: stays where they are.
            _ => {
                if let Some(g) = group {
                    group_after[g.0 as usize] += 1;
                }
                continue;
            }
        };
        match dest {
            None => {
                unmapped.push(OwnerId(i as u32));
                if let Some(g) = group {
                    group_after[g.0 as usize] += 1;
                }
            }
            Some((Dest::Group(g), _)) if group == Some(g) => {
                unchanged += 1;
                group_after[g.0 as usize] += 1;
            }
            Some((to, via_default)) => {
                if changes.capacity() == 0 {
                    changes.reserve(snap.owner_count() - i);
                }
                changes.push(Change { owner: OwnerId(i as u32), from: group, to, via_default });
                match to {
                    Dest::Group(g) => group_after[g.0 as usize] += 1,
                    Dest::New(n) => new_group_after[n as usize] += 1,
                }
            }
        }
    }
    changes.shrink_to_fit();
    Plan {
        enabled: mapping.enabled,
        apply_to_existing: mapping.apply_to_existing,
        new_groups,
        changes,
        unmapped,
        unchanged,
        value_dest,
        row_users,
        row_dest,
        default_dest: default,
        group_now,
        group_after,
        new_group_after,
        lint: Vec::new(),
    }
}
