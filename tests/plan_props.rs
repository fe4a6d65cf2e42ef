//! Properties of the plan over random organizations and mappings.

use groupmap::domain::snapshot::OwnerInput;
use groupmap::domain::{Dest, Group, Mapping, OwnerKind, Plan, Row, Snapshot, Target, plan};
use proptest::prelude::*;

const BASE: &str = "https://api.example.test";

#[derive(Debug, Clone)]
struct Org {
    groups: usize,
    /// (value index or none, current group or none, is invitee)
    owners: Vec<(Option<usize>, Option<usize>, bool)>,
    values: Vec<String>,
}

fn org() -> impl Strategy<Value = Org> {
    (1usize..6, prop::collection::vec(prop::sample::select(vec!["A", "a", "A ", "B", "Ünï", "c d", "x"]), 1..6))
        .prop_flat_map(|(groups, mut values)| {
            values.dedup();
            let nv = values.len();
            let owner = (prop::option::of(0..nv), prop::option::of(0..groups), any::<bool>());
            (
                Just(groups),
                prop::collection::vec(owner, 0..40),
                Just(values.into_iter().map(String::from).collect::<Vec<_>>()),
            )
        })
        .prop_map(|(groups, owners, values)| Org { groups, owners, values })
}

fn group_uri(i: usize) -> String {
    format!("{BASE}/groups/G{i}")
}

fn build(org: &Org, current: &[Option<String>]) -> Snapshot {
    let groups =
        (0..org.groups).map(|i| Group { uri: group_uri(i), name: format!("Group {i}"), member_count: None }).collect();
    let owners = org
        .owners
        .iter()
        .enumerate()
        .map(|(i, (v, _, invitee))| OwnerInput {
            kind: if *invitee { OwnerKind::Invitee } else { OwnerKind::Member },
            uri: if *invitee {
                format!("{BASE}/organizations/O/invitations/I{i}")
            } else {
                format!("{BASE}/organization_memberships/M{i}")
            },
            name: format!("User {i}"),
            email: format!("u{i}@example.test"),
            value: v.map(|v| org.values[v].clone()),
            group: current[i].clone(),
        })
        .collect();
    Snapshot::new(BASE, &format!("{BASE}/organizations/O"), groups, owners, None)
}

fn initial(org: &Org) -> Vec<Option<String>> {
    org.owners.iter().map(|(_, g, _)| g.map(group_uri)).collect()
}

fn mapping(org: &Org) -> impl Strategy<Value = Mapping> + use<> {
    let nv = org.values.len();
    let ng = org.groups;
    let values = org.values.clone();
    (any::<bool>(), prop::collection::btree_map(0..nv + 1, 0..ng, 0..nv + 2), prop::option::of(0..ng), any::<bool>())
        .prop_map(move |(enabled, rows, default, apply)| Mapping {
            enabled,
            rows: rows
                .into_iter()
                .map(|(v, g)| Row {
                    idp_value: values.get(v).cloned().unwrap_or_else(|| "nobody has this".into()),
                    target: Target::Group(group_uri(g)),
                })
                .collect(),
            default_group: default.map(|g| Target::Group(group_uri(g))),
            apply_to_existing: apply,
        })
}

/// Applies a plan the way the contract says the server does.
fn apply(org: &Org, snap: &Snapshot, p: &Plan) -> Vec<Option<String>> {
    let mut current = initial(org);
    for c in &p.changes {
        let Dest::Group(g) = c.to else { panic!("no new groups in these mappings") };
        current[c.owner.0 as usize] = Some(snap.group(g).uri.clone());
    }
    current
}

proptest! {
    #[test]
    fn plan_is_deterministic_and_replans_empty_after_apply((org, m) in org().prop_flat_map(|o| { let m = mapping(&o); (Just(o), m) })) {
        let snap = build(&org, &initial(&org));
        let p1 = plan(&snap, &m);
        let p2 = plan(&snap, &m);
        prop_assert_eq!(&p1, &p2);
        prop_assert_eq!(p1.digest(&snap), p2.digest(&snap));
        prop_assert_eq!(p1.in_scope(), p1.changes.len() + p1.unchanged + p1.unmapped.len());

        let after = build(&org, &apply(&org, &snap, &p1));
        let replan = plan(&after, &m);
        prop_assert!(replan.is_empty(), "re-plan after apply: {:?}", replan.changes);
        prop_assert_eq!(replan.digest(&after), SHA256_OF_NOTHING);
    }

    #[test]
    fn users_out_of_scope_or_unmapped_never_move((org, m) in org().prop_flat_map(|o| { let m = mapping(&o); (Just(o), m) })) {
        let snap = build(&org, &initial(&org));
        let p = plan(&snap, &m);
        for c in &p.changes {
            let o = snap.owner(c.owner);
            prop_assert!(o.value.is_some(), "an owner without a value moved");
            prop_assert!(!p.unmapped.contains(&c.owner));
            prop_assert_ne!(Some(c.to), o.group.map(Dest::Group));
        }
        if !m.enabled {
            prop_assert!(p.changes.is_empty() && p.unmapped.is_empty());
        }
        if m.default_group.is_some() {
            prop_assert!(p.unmapped.is_empty());
        }
    }
}

#[test]
fn digest_of_known_plan_matches_contract_formula() {
    let org = Org {
        groups: 2,
        owners: vec![(Some(0), Some(1), false), (Some(0), None, true), (None, Some(1), false)],
        values: vec!["Sales".into()],
    };
    let snap = build(&org, &initial(&org));
    let m = Mapping {
        enabled: true,
        rows: vec![Row { idp_value: "Sales".into(), target: Target::Group(group_uri(0)) }],
        default_group: None,
        apply_to_existing: true,
    };
    let p = plan(&snap, &m);
    assert_eq!(p.changes.len(), 2);
    let expected = format!(
        "{BASE}/organization_memberships/M0\t{BASE}/groups/G1\t{BASE}/groups/G0\n{BASE}/organizations/O/invitations/I1\t-\t{BASE}/groups/G0\n"
    );
    use sha2::Digest;
    let want: String = sha2::Sha256::digest(expected.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(p.digest(&snap), want);
    assert_eq!(plan(&snap, &Mapping { enabled: false, ..m }).digest(&snap), SHA256_OF_NOTHING);
}

#[test]
fn values_match_exactly_and_case_sensitively() {
    let org = Org {
        groups: 1,
        owners: vec![(Some(0), None, false), (Some(1), None, false), (Some(2), None, false)],
        values: vec!["Sales".into(), "sales".into(), "Sales ".into()],
    };
    let snap = build(&org, &initial(&org));
    let m = Mapping {
        enabled: true,
        rows: vec![Row { idp_value: "Sales".into(), target: Target::Group(group_uri(0)) }],
        default_group: None,
        apply_to_existing: true,
    };
    let p = plan(&snap, &m);
    assert_eq!(p.changes.len(), 1);
    assert_eq!(snap.owner(p.changes[0].owner).email, "u0@example.test");
    assert_eq!(p.unmapped.len(), 2);
    let kinds: Vec<_> = p.lint.iter().map(|f| f.kind).collect();
    assert!(kinds.contains(&groupmap::domain::lint::LintKind::NearDuplicate), "{kinds:?}");
}

/// The contract's digest of the empty plan: SHA-256 of the empty string.
const SHA256_OF_NOTHING: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
