//! The optimized `plan` and `digest` against obvious reference versions, over generated
//! organizations and random mappings (rows to existing and new groups, duplicates, unknown
//! groups, a default group or none, mapping on or off).

use groupmap::domain::mapping::{Mapping, Row, Target};
use groupmap::domain::plan;
use groupmap::domain::plan::{Change, Dest, Plan};
use groupmap::domain::{OwnerId, Snapshot};
use groupmap::sandbox::{Options, Sandbox};

/// The plan as api-contract.md words it, one owner at a time, no shortcuts.
fn reference_changes(snap: &Snapshot, p: &Plan, m: &Mapping) -> (Vec<Change>, Vec<OwnerId>, usize, Vec<u32>) {
    let mut changes = Vec::new();
    let mut unmapped = Vec::new();
    let mut unchanged = 0;
    let mut after: Vec<u32> = vec![0; snap.groups.len()];
    for o in snap.owners() {
        if let Some(g) = o.group {
            after[g.0 as usize] += 1;
        }
    }
    if !m.enabled {
        return (changes, unmapped, unchanged, after);
    }
    for (i, o) in snap.owners().enumerate() {
        let Some(v) = o.value else { continue };
        let value = snap.value(v);
        let row = m.rows.iter().position(|r| r.idp_value == value);
        let target = match row {
            Some(r) => p.row_dest[r].map(|d| (d, false)),
            None => p.default_dest.map(|d| (d, true)),
        };
        match target {
            None => unmapped.push(OwnerId(i as u32)),
            Some((Dest::Group(g), _)) if o.group == Some(g) => unchanged += 1,
            Some((to, via_default)) => {
                if let Some(f) = o.group {
                    after[f.0 as usize] -= 1;
                }
                if let Dest::Group(g) = to {
                    after[g.0 as usize] += 1;
                }
                changes.push(Change { owner: OwnerId(i as u32), from: o.group, to, via_default });
            }
        }
    }
    (changes, unmapped, unchanged, after)
}

fn random_mapping(snap: &Snapshot, rng: &mut fastrand::Rng) -> Mapping {
    let mut rows = Vec::new();
    for v in &snap.values {
        if rng.f32() < 0.6 {
            let target = match rng.u8(..20) {
                0 => Target::New(format!("New team {}", rng.u8(..3))),
                1 => Target::Group("https://elsewhere.test/groups/NOPE".into()),
                _ => Target::Group(snap.groups[rng.usize(..snap.groups.len())].uri.clone()),
            };
            rows.push(Row { idp_value: v.clone(), target });
        }
    }
    // A duplicate row and a row no user has.
    if let Some(r) = rows.first().cloned() {
        rows.push(Row { idp_value: r.idp_value, target: Target::Group(snap.groups[0].uri.clone()) });
    }
    rows.push(Row { idp_value: "Nobody has this".into(), target: Target::New("new team 0".into()) });
    rng.shuffle(&mut rows);
    let default_group = match rng.u8(..3) {
        0 => None,
        1 => Some(Target::Group(snap.groups[rng.usize(..snap.groups.len())].uri.clone())),
        _ => Some(Target::New("Catch-all".into())),
    };
    Mapping { enabled: rng.u8(..6) != 0, rows, default_group, apply_to_existing: rng.bool() }
}

#[tokio::test]
async fn plan_and_digest_match_the_reference_versions() {
    for (users, seed) in [(40, 1), (333, 2), (1200, 3), (2500, 4)] {
        let sb = Sandbox::start(Options { users: Some(users), seed, ..Options::default() }).await.unwrap();
        let snap = sb.snapshot();
        sb.shutdown().await;
        let mut rng = fastrand::Rng::with_seed(seed);
        for _ in 0..8 {
            let m = random_mapping(&snap, &mut rng);
            let p = plan(&snap, &m);
            let (changes, unmapped, unchanged, after) = reference_changes(&snap, &p, &m);
            assert_eq!(p.changes, changes);
            assert_eq!(p.unmapped, unmapped);
            assert_eq!(p.unchanged, unchanged);
            assert_eq!(p.group_after, after);
            let new_after: Vec<u32> = (0..p.new_groups.len() as u32)
                .map(|n| changes.iter().filter(|c| c.to == Dest::New(n)).count() as u32)
                .collect();
            assert_eq!(p.new_group_after, new_after);
            assert_eq!(p.digest(&snap), digest_lines(&change_lines(&p, &snap)));
            // Deterministic.
            assert_eq!(plan(&snap, &m), p);
        }
    }
}

/// The change lines of the contract, built and sorted as strings: the reference the digest's
/// line-free hashing is checked against.
fn change_lines(p: &Plan, snap: &groupmap::domain::Snapshot) -> Vec<String> {
    let mut lines: Vec<String> = p
        .changes
        .iter()
        .map(|c| {
            let from = c.from.map_or("-", |g| snap.group(g).uri.as_str());
            format!("{}\t{}\t{}\n", snap.owner(c.owner).uri, from, p.dest_wire(snap, c.to))
        })
        .collect();
    lines.sort_unstable();
    lines
}

fn digest_lines(sorted: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for line in sorted {
        hasher.update(line.as_bytes());
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
