//! The table inferred from where users already are, for an organization with no table to start
//! from: a value maps to a group when every in-scope user holding it is a member of that group,
//! so planning the inferred table moves nobody. Every other value is left for the admin to
//! decide, with where its users are.
//!
//! Only the member group counts (admin relationships are not placements), and pending invitees
//! count like members. Values are taken exactly as they are: near-duplicates (`Sales`, `sales `)
//! are inferred each on its own, as the service matches them.

use std::collections::HashMap;

use serde::Serialize;

use super::mapping::{Mapping, Row, Target};
use super::snapshot::{GroupId, Snapshot, ValueId};
use super::text::{quoted, sanitize};

/// Users of one value in one place (a group, or no group).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    pub group: Option<GroupId>,
    pub users: u32,
}

/// Where the users holding one value are now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placements {
    pub value: ValueId,
    pub users: u32,
    /// Most users first; ties by group name, no group last.
    pub places: Vec<Place>,
}

impl Placements {
    /// The group every one of the value's users is a member of.
    pub fn agreed(&self) -> Option<GroupId> {
        match self.places[..] {
            [Place { group: Some(g), .. }] => Some(g),
            _ => None,
        }
    }
}

/// Every value's placements (by `ValueId`) and the table they imply.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inference {
    pub values: Vec<Placements>,
}

impl Inference {
    pub fn new(snap: &Snapshot) -> Inference {
        let mut counts: HashMap<(ValueId, Option<GroupId>), u32> = HashMap::new();
        for o in snap.owners() {
            if let Some(v) = o.value {
                *counts.entry((v, o.group)).or_default() += 1;
            }
        }
        let mut values: Vec<Placements> = (0..snap.values.len())
            .map(|i| Placements { value: ValueId(i as u32), users: 0, places: Vec::new() })
            .collect();
        for ((v, group), users) in counts {
            let p = &mut values[v.0 as usize];
            p.users += users;
            p.places.push(Place { group, users });
        }
        for p in &mut values {
            p.places.sort_by(|a, b| {
                b.users.cmp(&a.users).then_with(|| match (a.group, b.group) {
                    (Some(x), Some(y)) => snap.group(x).name.cmp(&snap.group(y).name).then(x.cmp(&y)),
                    (x, y) => x.is_none().cmp(&y.is_none()),
                })
            });
        }
        Inference { values }
    }

    pub fn of(&self, v: ValueId) -> &Placements {
        &self.values[v.0 as usize]
    }

    /// The inferred table: one row per agreed value (in value order), mapping on, no default
    /// group (a default would move the users of every value left unmapped).
    pub fn mapping(&self, snap: &Snapshot) -> Mapping {
        let rows = self
            .values
            .iter()
            .filter_map(|p| {
                let g = p.agreed()?;
                Some(Row {
                    idp_value: snap.value(p.value).to_owned(),
                    target: Target::Group(snap.group(g).uri.clone()),
                })
            })
            .collect();
        Mapping { enabled: true, rows, default_group: None, apply_to_existing: true }
    }

    /// The values not inferred: their users are in several groups, or in none.
    pub fn undecided(&self) -> impl Iterator<Item = &Placements> {
        self.values.iter().filter(|p| p.agreed().is_none())
    }
}

/// `29/29 in Sales EMEA`: how many of the value's users the group already holds.
pub fn agreement(snap: &Snapshot, p: &Placements, g: GroupId) -> String {
    let there = p.places.iter().find(|x| x.group == Some(g)).map_or(0, |x| x.users);
    format!("{there}/{} in {}", p.users, sanitize(&snap.group(g).name))
}

/// `28 in Sales NA, 1 in no group`: where the value's users are, the `most` largest places
/// named and the rest summed.
pub fn split(snap: &Snapshot, p: &Placements, most: usize) -> String {
    let name = |pl: &Place| pl.group.map_or_else(|| "no group".to_owned(), |g| sanitize(&snap.group(g).name).into());
    let mut parts: Vec<String> = p.places.iter().take(most).map(|pl| format!("{} in {}", pl.users, name(pl))).collect();
    let rest = &p.places[p.places.len().min(most)..];
    if !rest.is_empty() {
        let users: u32 = rest.iter().map(|pl| pl.users).sum();
        parts.push(format!("{users} in {} more place(s)", rest.len()));
    }
    parts.join(", ")
}

/// Where a value's users are, in a line: the agreement when all are in one group, else the split.
pub fn where_users_are(snap: &Snapshot, p: &Placements) -> String {
    match p.agreed() {
        Some(g) => agreement(snap, p, g),
        None => split(snap, p, 4),
    }
}

/// How a mapping file names a group: by name when the name leads back to it, else by URI (two
/// groups named alike, an empty name, a name that reads as a URI).
fn group_ref(snap: &Snapshot, g: GroupId) -> String {
    let group = snap.group(g);
    let name = &group.name;
    let by_name = !name.trim().is_empty() && !name.contains("://") && snap.group_by_name(name) == Some(g);
    if by_name { name.clone() } else { group.uri.clone() }
}

#[derive(Serialize)]
struct Head<'a> {
    organization: &'a str,
    enabled: bool,
    apply_to_existing: bool,
}

#[derive(Serialize)]
struct FileRow<'a> {
    idp_value: &'a str,
    group: String,
}

/// The inferred table as a mapping file: a header saying it is inferred and must be checked,
/// each row with its agreement beside it, and the values left unmapped with their splits.
pub fn to_toml(snap: &Snapshot, inference: &Inference) -> String {
    let mapping = inference.mapping(snap);
    let undecided: Vec<&Placements> = inference.undecided().collect();
    let mut out = String::from(
        "# groupmap mapping file INFERRED from where users already are: check it before you enter it.\n\
         # Each row maps a value to the group every user with that value is already a member of, so\n\
         # planning it moves nobody. Values whose users are in several groups, or in none, are not\n\
         # mapped: they are listed at the end with where their users are, for you to decide.\n\
         # Check with `groupmap mapping check FILE`; the CSV for Calendly's admin center:\n\
         # `groupmap mapping export --mapping FILE --format csv`.\n",
    );
    out.push_str(&format!("# {} value(s) inferred, {} left unmapped.\n", mapping.rows.len(), undecided.len()));
    let head = Head { organization: &snap.organization, enabled: mapping.enabled, apply_to_existing: true };
    out.push_str(&toml::to_string(&head).expect("a header always serializes"));
    for p in inference.values.iter() {
        let Some(g) = p.agreed() else { continue };
        let row = FileRow { idp_value: snap.value(p.value), group: group_ref(snap, g) };
        let text = toml::to_string(&row).expect("a row always serializes");
        // The group is the last key: a comment after it ends the row's text, however it is quoted.
        out.push_str(&format!("\n[[rows]]\n{}  # {}\n", text.trim_end(), agreement(snap, p, g)));
    }
    if !undecided.is_empty() {
        out.push_str("\n# Not mapped (their users are in several groups, or in none): map each yourself.\n");
        for p in undecided {
            out.push_str(&format!("# {}: {}\n", quoted(snap.value(p.value)), split(snap, p, usize::MAX)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mapping_file::MappingFile;
    use crate::domain::plan;
    use crate::domain::snapshot::{Group, OwnerInput, OwnerKind};

    const ORG: &str = "https://api.example.test/organizations/O";

    fn uri(g: &str) -> String {
        format!("https://api.example.test/groups/{g}")
    }

    /// Owners as (value, member group, invitee).
    fn snap(groups: &[(&str, &str)], owners: &[(&str, Option<&str>, bool)]) -> Snapshot {
        let groups =
            groups.iter().map(|(id, n)| Group { uri: uri(id), name: (*n).into(), member_count: None }).collect();
        let owners = owners
            .iter()
            .enumerate()
            .map(|(i, (v, g, invitee))| OwnerInput {
                kind: if *invitee { OwnerKind::Invitee } else { OwnerKind::Member },
                uri: format!("https://api.example.test/organization_memberships/M{i}"),
                name: format!("User {i}"),
                email: format!("u{i}@x.test"),
                value: Some((*v).into()),
                group: g.map(uri),
            })
            .collect();
        Snapshot::new("https://api.example.test", ORG, groups, owners, None)
    }

    const GROUPS: &[(&str, &str)] = &[("G1", "Sales EMEA"), ("G2", "Sales NA"), ("G3", "Support")];

    fn placements<'a>(s: &Snapshot, inf: &'a Inference, value: &str) -> &'a Placements {
        inf.of(s.value_id(value).unwrap())
    }

    #[test]
    fn a_value_whose_users_are_all_in_one_group_maps_to_it_and_moves_nobody() {
        let s = snap(
            GROUPS,
            &[
                ("Sales EMEA", Some("G1"), false),
                ("Sales EMEA", Some("G1"), false),
                // A pending invitee counts like a member.
                ("Sales EMEA", Some("G1"), true),
                ("Sales NA", Some("G2"), false),
                ("Sales NA", Some("G2"), false),
                ("Sales NA", None, true),
            ],
        );
        let inf = Inference::new(&s);
        let m = inf.mapping(&s);
        assert_eq!(m.rows, vec![Row { idp_value: "Sales EMEA".into(), target: Target::Group(uri("G1")) }]);
        assert!(m.enabled && m.default_group.is_none() && m.apply_to_existing);
        let p = plan(&s, &m);
        assert!(p.changes.is_empty(), "{:?}", p.changes);
        assert_eq!((p.unchanged, p.unmapped.len()), (3, 3));
        let emea = placements(&s, &inf, "Sales EMEA");
        assert_eq!(where_users_are(&s, emea), "3/3 in Sales EMEA");
        let na = placements(&s, &inf, "Sales NA");
        assert_eq!(na.agreed(), None);
        assert_eq!(where_users_are(&s, na), "2 in Sales NA, 1 in no group");
    }

    #[test]
    fn users_all_in_no_group_are_not_mapped_but_listed_with_their_split() {
        let s = snap(GROUPS, &[("Contractors", None, false), ("Contractors", None, true)]);
        let inf = Inference::new(&s);
        assert!(inf.mapping(&s).rows.is_empty());
        let c = placements(&s, &inf, "Contractors");
        assert_eq!(c.agreed(), None);
        assert_eq!(where_users_are(&s, c), "2 in no group");
        assert_eq!(inf.undecided().count(), 1);
    }

    #[test]
    fn near_duplicates_are_inferred_each_on_its_own() {
        let s = snap(
            GROUPS,
            &[("Support", Some("G3"), false), ("Support ", Some("G3"), false), ("support", Some("G1"), false)],
        );
        let m = Inference::new(&s).mapping(&s);
        let rows: Vec<(&str, &Target)> = m.rows.iter().map(|r| (r.idp_value.as_str(), &r.target)).collect();
        assert_eq!(
            rows,
            vec![
                ("Support", &Target::Group(uri("G3"))),
                ("Support ", &Target::Group(uri("G3"))),
                ("support", &Target::Group(uri("G1")))
            ]
        );
    }

    #[test]
    fn a_split_names_the_largest_places_first_no_group_last_and_sums_the_rest() {
        let mut owners = vec![("Mixed", Some("G2"), false); 3];
        owners.extend([("Mixed", None, false), ("Mixed", Some("G3"), false), ("Mixed", Some("G1"), false)]);
        let s = snap(GROUPS, &owners);
        let inf = Inference::new(&s);
        let p = placements(&s, &inf, "Mixed");
        assert_eq!(split(&s, p, usize::MAX), "3 in Sales NA, 1 in Sales EMEA, 1 in Support, 1 in no group");
        assert_eq!(split(&s, p, 2), "3 in Sales NA, 1 in Sales EMEA, 2 in 2 more place(s)");
    }

    #[test]
    fn the_file_is_a_mapping_file_that_resolves_to_the_inferred_table_with_its_comments() {
        let s = snap(
            &[("G1", "Sales EMEA"), ("G2", "Sales NA"), ("G3", "Sales NA")],
            &[
                ("Sales EMEA", Some("G1"), false),
                ("Sales EMEA", Some("G1"), false),
                // Two groups of one name: the second is named by URI so that the file leads back to it.
                ("Night\nShift", Some("G3"), false),
                ("Split \"x\"", Some("G2"), false),
                ("Split \"x\"", None, false),
            ],
        );
        let inf = Inference::new(&s);
        let text = to_toml(&s, &inf);
        let file = MappingFile::parse("inferred.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(file.resolve(&s).unwrap(), inf.mapping(&s));
        assert!(text.starts_with("# groupmap mapping file INFERRED from where users already are: check it"));
        assert!(text.contains("group = \"Sales EMEA\"  # 2/2 in Sales EMEA\n"), "{text}");
        assert!(text.contains(&format!("group = \"{}\"  # 1/1 in Sales NA\n", uri("G3"))), "{text}");
        assert!(text.contains("# \"Split \"x\"\": 1 in Sales NA, 1 in no group\n"), "{text}");
        assert!(text.contains("# 2 value(s) inferred, 1 left unmapped.\n"), "{text}");
    }
}
