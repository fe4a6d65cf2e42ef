//! The normative semantics of a mapping (README: What a mapping does): who moves where, and the digest.

use sha2::{Digest, Sha256};

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
    ///
    /// Hashed without building the lines: each change gets a fixed-width key (32 bytes of its
    /// line after the prefix all lines share, which for URIs is the part that differs), read in
    /// owner order; the keys are sorted, lines with equal keys compared in full, and each line's
    /// parts are hashed where they are.
    pub fn digest(&self, snap: &Snapshot) -> String {
        let people = snap.people();
        let owner = |c: &Change| people[c.owner.0 as usize].uri.as_bytes();
        let parts = |c: &Change| -> [&[u8]; 7] {
            let from = c.from.map_or("-", |g| snap.group(g).uri.as_str());
            let to: &str = match c.to {
                Dest::Group(g) => &snap.group(g).uri,
                Dest::New(i) => &self.new_groups[i as usize],
            };
            let new = if matches!(c.to, Dest::New(_)) { "new:" } else { "" };
            [owner(c), b"\t", from.as_bytes(), b"\t", new.as_bytes(), to.as_bytes(), b"\n"]
        };
        // The prefix every owner URI shares: no line differs from another before it.
        let mut shared: &[u8] = self.changes.first().map_or(&[], owner);
        for c in &self.changes {
            shared = &shared[..common_prefix(shared, owner(c))];
        }
        let skip = shared.len();
        let mut order: Vec<([u128; 2], u32)> = self
            .changes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let uri = owner(c);
                let key = match uri.get(skip..skip + 32) {
                    // Nearly always: the key lies within the owner's URI.
                    Some(k) => [be(&k[..16]), be(&k[16..])],
                    None => {
                        let p = parts(c);
                        [key_at(&p, skip), key_at(&p, skip + 16)]
                    }
                };
                (key, i as u32)
            })
            .collect();
        order.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| cmp_concat(&parts(&self.changes[a.1 as usize]), &parts(&self.changes[b.1 as usize])))
        });
        // Lines are gathered into one buffer and hashed in large updates.
        let mut hasher = Sha256::new();
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
        for (_, i) in order {
            for p in parts(&self.changes[i as usize]) {
                match p {
                    [b] => buf.push(*b),
                    _ => buf.extend_from_slice(p),
                }
            }
            if buf.len() >= (1 << 16) - 1024 {
                hasher.update(&buf);
                buf.clear();
            }
        }
        hasher.update(&buf);
        hex(&hasher.finalize())
    }
}

/// 16 bytes, big-endian: keys order as the bytes do.
fn be(b: &[u8]) -> u128 {
    u128::from_be_bytes(b.try_into().expect("16 bytes"))
}

/// How many bytes `a` and `b` share from the start, compared 8 at a time.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n && a[i..i + 8] == b[i..i + 8] {
        i += 8;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

/// The 16 bytes of the concatenated `parts` from byte `skip` on, big-endian, zero-padded: keys
/// order as the strings do, except that equal keys need a full comparison.
fn key_at(parts: &[&[u8]], mut skip: usize) -> u128 {
    let mut key = [0u8; 16];
    let mut n = 0;
    for p in parts {
        if skip >= p.len() {
            skip -= p.len();
            continue;
        }
        let take = (p.len() - skip).min(16 - n);
        key[n..n + take].copy_from_slice(&p[skip..skip + take]);
        n += take;
        skip = 0;
        if n == 16 {
            break;
        }
    }
    u128::from_be_bytes(key)
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Compares two byte strings given as concatenations of parts, by byte value, without
/// concatenating them.
fn cmp_concat(a: &[&[u8]], b: &[&[u8]]) -> std::cmp::Ordering {
    let mut a = a.iter().copied().filter(|p| !p.is_empty());
    let mut b = b.iter().copied().filter(|p| !p.is_empty());
    let (mut x, mut y): (&[u8], &[u8]) = (&[], &[]);
    loop {
        if x.is_empty() {
            x = a.next().unwrap_or(&[]);
        }
        if y.is_empty() {
            y = b.next().unwrap_or(&[]);
        }
        match (x.is_empty(), y.is_empty()) {
            (true, true) => return std::cmp::Ordering::Equal,
            (true, false) => return std::cmp::Ordering::Less,
            (false, true) => return std::cmp::Ordering::Greater,
            _ => {}
        }
        let n = x.len().min(y.len());
        match x[..n].cmp(&y[..n]) {
            std::cmp::Ordering::Equal => {
                x = &x[n..];
                y = &y[n..];
            }
            other => return other,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concatenations_compare_like_the_joined_strings() {
        let cases: &[(&[&str], &[&str])] = &[
            (&["ab", "\t", "c"], &["a", "b\tc"]),
            (&["abc", "\t", "x"], &["abc1", "\t", "x"]),
            (&["abc", "\t"], &["abc\u{1}", "\t"]),
            (&["", "a"], &["a", ""]),
            (&["b"], &["a", "zz"]),
            (&[], &["", ""]),
            (&["x", "y"], &["xy", "z"]),
        ];
        for (a, b) in cases {
            let join = |p: &[&str]| p.concat();
            let pa: Vec<&[u8]> = a.iter().map(|s| s.as_bytes()).collect();
            let pb: Vec<&[u8]> = b.iter().map(|s| s.as_bytes()).collect();
            assert_eq!(cmp_concat(&pa, &pb), join(a).as_bytes().cmp(join(b).as_bytes()), "{a:?} vs {b:?}");
            assert_eq!(cmp_concat(&pb, &pa), join(b).as_bytes().cmp(join(a).as_bytes()), "{b:?} vs {a:?}");
        }
    }

    #[test]
    fn the_digest_hashes_the_lines_sorted_as_strings_whatever_the_uris_share() {
        use crate::domain::mapping::Row;
        use crate::domain::snapshot::{OwnerInput, OwnerKind};
        // URIs that are prefixes of others, alike for more than the key's 16 bytes after the
        // shared part, with bytes below a tab, and owners appearing twice.
        let long = "x".repeat(40);
        let uris = [
            format!("u/{long}"),
            format!("u/{long}1"),
            format!("u/{long}\u{1}"),
            format!("u/{long}\t"),
            "u/".to_owned(),
            "u/a".to_owned(),
            "u/a".to_owned(),
            format!("u/{long}"),
        ];
        let owners = uris
            .iter()
            .enumerate()
            .map(|(i, uri)| OwnerInput {
                kind: OwnerKind::Member,
                uri: uri.clone(),
                name: String::new(),
                email: format!("{i}@x"),
                value: Some(["A", "B"][i % 2].to_owned()),
                group: (i % 3 == 0).then(|| format!("g/{}", i % 2)),
            })
            .collect();
        let snap = Snapshot::new("b", "o", Vec::new(), owners, None);
        let mapping = Mapping {
            enabled: true,
            rows: vec![
                Row { idp_value: "A".into(), target: Target::New("New".into()) },
                Row { idp_value: "B".into(), target: Target::Group("g/0".into()) },
            ],
            default_group: None,
            apply_to_existing: true,
        };
        let p = impact(&snap, &mapping);
        assert!(p.changes.len() >= 6, "{:?}", p.changes);
        let mut lines: Vec<String> = p
            .changes
            .iter()
            .map(|c| {
                let from = c.from.map_or("-", |g| snap.group(g).uri.as_str());
                format!("{}\t{}\t{}\n", snap.owner(c.owner).uri, from, p.dest_wire(&snap, c.to))
            })
            .collect();
        lines.sort_unstable();
        assert_eq!(p.digest(&snap), hex(&Sha256::digest(lines.concat().as_bytes())));
        assert_eq!(Plan::default().digest(&snap), hex(&Sha256::digest(b"")));
    }

    #[test]
    fn hex_is_lowercase_two_digits_a_byte() {
        assert_eq!(hex(&[0, 9, 10, 255]), "00090aff");
    }
}
