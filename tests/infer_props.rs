//! Properties of the table inferred from where users already are, over random organizations.

use std::collections::BTreeSet;

use groupmap::domain::infer::{Inference, to_toml};
use groupmap::domain::mapping_file::MappingFile;
use groupmap::domain::snapshot::OwnerInput;
use groupmap::domain::{Group, OwnerKind, Snapshot, Target, plan};
use proptest::prelude::*;

const BASE: &str = "https://api.example.test";

#[derive(Debug, Clone)]
struct Org {
    /// Group names, some alike (`Sales`, `sales`, `Sales` twice).
    groups: Vec<&'static str>,
    values: Vec<&'static str>,
    /// (value, group) of each owner, and whether a pending invitee.
    owners: Vec<(Option<usize>, Option<usize>, bool)>,
}

/// Each value has a home group (or none) most of its users are in; some users stray, so that
/// values whose users all agree and values whose users are split both come up.
fn org() -> impl Strategy<Value = Org> {
    let names = prop::sample::select(vec!["Sales", "sales", "Sales ", "Ops", "Support", "Ünï"]);
    let values = prop::sample::subsequence(vec!["A", "a", "A ", "B", "Ünï", "c d", "x", "Sales"], 1..8);
    (prop::collection::vec(names, 1..6), values).prop_flat_map(|(groups, values)| {
        let (ng, nv) = (groups.len(), values.len());
        let homes = prop::collection::vec(prop::option::of(0..ng), nv);
        let owner = (prop::option::of(0..nv), prop::bool::weighted(0.15), prop::option::of(0..ng), any::<bool>());
        (Just(groups), Just(values), homes, prop::collection::vec(owner, 0..60)).prop_map(
            |(groups, values, homes, owners)| {
                let owners = owners
                    .into_iter()
                    .map(|(v, stray, elsewhere, invitee)| {
                        let group = match v {
                            Some(v) if !stray => homes[v],
                            _ => elsewhere,
                        };
                        (v, group, invitee)
                    })
                    .collect();
                Org { groups, values, owners }
            },
        )
    })
}

fn group_uri(i: usize) -> String {
    format!("{BASE}/groups/G{i}")
}

fn build(org: &Org) -> Snapshot {
    let groups = org
        .groups
        .iter()
        .enumerate()
        .map(|(i, n)| Group { uri: group_uri(i), name: (*n).into(), member_count: None })
        .collect();
    let owners = org
        .owners
        .iter()
        .enumerate()
        .map(|(i, (v, g, invitee))| OwnerInput {
            kind: if *invitee { OwnerKind::Invitee } else { OwnerKind::Member },
            uri: format!("{BASE}/organization_memberships/M{i}"),
            name: format!("User {i}"),
            email: format!("u{i}@example.test"),
            value: v.map(|v| org.values[v].to_owned()),
            group: g.map(group_uri),
        })
        .collect();
    Snapshot::new(BASE, &format!("{BASE}/organizations/O"), groups, owners, None)
}

proptest! {
    #[test]
    fn planning_the_inferred_table_moves_nobody_and_maps_exactly_the_values_that_agree(org in org()) {
        let snap = build(&org);
        let inference = Inference::new(&snap);
        let m = inference.mapping(&snap);
        let p = plan(&snap, &m);
        prop_assert!(p.changes.is_empty(), "the inferred table moves {:?}", p.changes);
        prop_assert!(m.enabled && m.default_group.is_none());

        // A value has a row exactly when all its users are members of one group, and it is that group.
        for (i, value) in snap.values.iter().enumerate() {
            let places: BTreeSet<Option<String>> = snap
                .owners()
                .filter(|o| o.value.is_some_and(|v| v.0 as usize == i))
                .map(|o| o.group.map(|g| snap.group(g).uri.clone()))
                .collect();
            let want = match places.iter().collect::<Vec<_>>()[..] {
                [Some(uri)] => Some(Target::Group(uri.clone())),
                _ => None,
            };
            prop_assert_eq!(m.row(value).map(|r| r.target.clone()), want, "value {:?}: {:?}", value, places);
        }
        let agreed: u32 = inference.values.iter().filter(|v| v.agreed().is_some()).map(|v| v.users).sum();
        let undecided: u32 = inference.undecided().map(|v| v.users).sum();
        prop_assert_eq!(p.unchanged, agreed as usize);
        prop_assert_eq!(p.unmapped.len(), undecided as usize);

        // The file written from it is a mapping file that reads back as the same table.
        let text = to_toml(&snap, &inference);
        let file = MappingFile::parse("inferred.toml", &text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let read = file.resolve(&snap).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&read, &m);
        prop_assert!(plan(&snap, &read).changes.is_empty());
    }
}
