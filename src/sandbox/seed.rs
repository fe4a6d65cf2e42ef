//! The organizations a sandbox starts with: the bundled demo (assets/demo) or a generated one.
//! Both are deterministic, so tests and screenshots see the same data every run.

use std::collections::HashMap;

use super::state::{
    GroupRec, InviteRec, MappingRec, MemberRec, OrgState, OwnerRef, RelRec, RelRole, RowRec, StaleRec, UserRec,
    fmt_micros, uuid_from,
};
use crate::domain::mapping_file::MappingFile;
use crate::domain::snapshot::Group as SnapGroup;
use crate::domain::{Snapshot, Target};

const DEMO_GROUPS: &str = include_str!("../../assets/demo/groups.csv");
const DEMO_PEOPLE: &str = include_str!("../../assets/demo/people.csv");
const DEMO_MAPPING: &str = include_str!("../../assets/demo/mapping.toml");
const DEMO_ORG: &str = "6f1c2a9e-3b7d-4e8a-9c41-0d2b7e5f8a13";
const DEMO_MAPPING_VERSION: u64 = 3;

/// 2024-03-01T09:00:00Z: seeded records are created from here on, well before any real "now".
const EPOCH_MICROS: i64 = 1_709_283_600_000_000;
const MINUTE: i64 = 60_000_000;

const TIMEZONES: [&str; 8] = [
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "America/Sao_Paulo",
    "Europe/Oslo",
    "Australia/Sydney",
];

/// Hands out strictly increasing seeded timestamps, so each list is created in order.
struct Clock(i64);

impl Clock {
    fn tick(&mut self, step: i64) -> String {
        self.0 += step;
        fmt_micros(self.0)
    }
}

/// A stable UUID derived from a name (for records the demo files do not list).
fn derived_uuid(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    uuid_from(u128::from_be_bytes(d[..16].try_into().expect("16 bytes")))
}

fn slug_of(email: &str) -> String {
    email.split('@').next().unwrap_or(email).replace('.', "-")
}

fn user(uuid: String, name: &str, email: &str, n: usize, at: &str) -> UserRec {
    UserRec {
        uuid,
        name: name.to_owned(),
        slug: slug_of(email),
        email: email.to_owned(),
        timezone: TIMEZONES[n % TIMEZONES.len()].to_owned(),
        locale: "en".to_owned(),
        avatar_url: None,
        created_at: at.to_owned(),
        updated_at: at.to_owned(),
    }
}

fn rel(uuid: String, role: RelRole, group: &str, owner: OwnerRef, at: &str) -> RelRec {
    RelRec { uuid, role, group: group.to_owned(), owner, created_at: at.to_owned(), updated_at: at.to_owned() }
}

fn nonempty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// The bundled demo organization (assets/demo), with its saved mapping at version 3.
pub fn demo() -> OrgState {
    let mut clock = Clock(EPOCH_MICROS);
    let mut groups: Vec<GroupRec> = Vec::new();
    let mut rdr = csv::Reader::from_reader(DEMO_GROUPS.as_bytes());
    for rec in rdr.records() {
        let rec = rec.expect("assets/demo/groups.csv is valid CSV");
        let at = clock.tick(MINUTE);
        groups.push(GroupRec {
            uuid: rec[0].to_owned(),
            name: rec[1].to_owned(),
            created_at: at.clone(),
            updated_at: at,
        });
    }
    let group_uuid: HashMap<String, String> = groups.iter().map(|g| (g.name.clone(), g.uuid.clone())).collect();
    let gid = |name: &str| -> String {
        group_uuid.get(name).cloned().unwrap_or_else(|| panic!("assets/demo/people.csv: unknown group {name:?}"))
    };

    let mut me = None;
    let mut members = Vec::new();
    let mut invitations = Vec::new();
    let mut stale = Vec::new();
    let mut rels = Vec::new();
    let mut rdr = csv::Reader::from_reader(DEMO_PEOPLE.as_bytes());
    for (n, rec) in rdr.records().enumerate() {
        let rec = rec.expect("assets/demo/people.csv is valid CSV");
        let (kind, uuid, name, email, role, value, group, admin_of) =
            (&rec[0], &rec[1], &rec[2], &rec[3], &rec[4], &rec[5], &rec[6], &rec[7]);
        let at = clock.tick(7 * 60 * MINUTE + (n as i64 % 13) * MINUTE);
        let owner = match kind {
            "member" => {
                let m = derived_uuid(&["membership", uuid]);
                if role == "owner" {
                    me = Some(uuid.to_owned());
                }
                members.push(MemberRec {
                    uuid: m.clone(),
                    role: role.to_owned(),
                    created_at: at.clone(),
                    updated_at: at.clone(),
                    user: user(uuid.to_owned(), name, email, n, &at),
                    idp_value: nonempty(value),
                });
                // Every 20th member joined through an invitation that is now accepted.
                if n % 20 == 1 {
                    invitations.push(InviteRec {
                        uuid: derived_uuid(&["accepted", uuid]),
                        email: email.to_owned(),
                        status: "accepted".into(),
                        created_at: at.clone(),
                        updated_at: at.clone(),
                        last_sent_at: Some(at.clone()),
                        user: Some(uuid.to_owned()),
                        idp_value: None,
                    });
                }
                OwnerRef::Membership(m)
            }
            "invitee" => {
                invitations.push(InviteRec {
                    uuid: uuid.to_owned(),
                    email: email.to_owned(),
                    status: "pending".into(),
                    created_at: at.clone(),
                    updated_at: at.clone(),
                    last_sent_at: Some(at.clone()),
                    user: None,
                    idp_value: nonempty(value),
                });
                OwnerRef::Invitation(uuid.to_owned())
            }
            "stale" => {
                stale.push(StaleRec {
                    name: name.to_owned(),
                    email: email.to_owned(),
                    role: role.to_owned(),
                    idp_value: value.to_owned(),
                    group: group.to_owned(),
                });
                continue;
            }
            other => panic!("assets/demo/people.csv: unknown kind {other:?}"),
        };
        if !group.is_empty() {
            let g = gid(group);
            rels.push(rel(derived_uuid(&["member", uuid, &g]), RelRole::Member, &g, owner.clone(), &at));
        }
        for name in admin_of.split(';').filter(|s| !s.is_empty()) {
            let g = gid(name);
            rels.push(rel(derived_uuid(&["admin", uuid, &g]), RelRole::Admin, &g, owner.clone(), &at));
        }
    }
    let me = me.expect("assets/demo/people.csv has an owner");
    let updated_by = members.iter().find(|m| m.role == "admin").map_or_else(|| me.clone(), |m| m.user.uuid.clone());
    let mut state = OrgState::empty(0, DEMO_ORG.to_owned(), fmt_micros(EPOCH_MICROS), me);
    state.members = members;
    state.invitations = invitations;
    state.groups = groups;
    state.relationships = rels;
    state.stale = stale;
    state.mapping = demo_mapping(&state.groups, updated_by);
    state.last_micros = clock.0;
    state.finish();
    state
}

/// assets/demo/mapping.toml resolved against the demo groups (names → UUIDs).
fn demo_mapping(groups: &[GroupRec], updated_by: String) -> MappingRec {
    const BASE: &str = "http://sandbox";
    let snap = Snapshot::new(
        BASE,
        &format!("{BASE}/organizations/{DEMO_ORG}"),
        groups
            .iter()
            .map(|g| SnapGroup { uri: format!("{BASE}/groups/{}", g.uuid), name: g.name.clone(), member_count: None })
            .collect(),
        Vec::new(),
        None,
    );
    let file = MappingFile::parse("assets/demo/mapping.toml", DEMO_MAPPING).unwrap_or_else(|e| panic!("{e}"));
    let mapping = file.resolve(&snap).unwrap_or_else(|e| panic!("{e}"));
    let uuid = |t: &Target| match t {
        Target::Group(uri) => crate::service::calendly::wire::uuid_of(uri).to_owned(),
        Target::New(name) => {
            panic!("assets/demo/mapping.toml names a group the demo lacks: {name}")
        }
    };
    MappingRec {
        enabled: mapping.enabled,
        rows: mapping.rows.iter().map(|r| RowRec { idp_value: r.idp_value.clone(), group: uuid(&r.target) }).collect(),
        default_group: mapping.default_group.as_ref().map(uuid),
        version: DEMO_MAPPING_VERSION,
        updated_at: Some("2026-10-02T14:31:07.000000Z".into()),
        updated_by: Some(updated_by),
    }
}

const DEPTS: [&str; 25] = [
    "Sales",
    "Customer Success",
    "Engineering",
    "Support",
    "Marketing",
    "Recruiting",
    "Finance",
    "Partners",
    "Legal",
    "Operations",
    "Product",
    "Design",
    "Data",
    "Security",
    "IT",
    "People",
    "Facilities",
    "Research",
    "Solutions",
    "Training",
    "Procurement",
    "Compliance",
    "Communications",
    "Analytics",
    "Platform",
];
const REGIONS: [&str; 20] = [
    "EMEA",
    "NA",
    "APAC",
    "LATAM",
    "DACH",
    "Nordics",
    "UK",
    "France",
    "Iberia",
    "Benelux",
    "Japan",
    "ANZ",
    "India",
    "Canada",
    "US East",
    "US West",
    "US Central",
    "Brazil",
    "Mexico",
    "MEA",
];
/// (display, ASCII for the email address)
const FIRST: [(&str, &str); 20] = [
    ("Ana", "ana"),
    ("Ben", "ben"),
    ("Chloé", "chloe"),
    ("David", "david"),
    ("Elif", "elif"),
    ("Farah", "farah"),
    ("Gabriel", "gabriel"),
    ("Hana", "hana"),
    ("Ivan", "ivan"),
    ("José", "jose"),
    ("Kofi", "kofi"),
    ("Lena", "lena"),
    ("Mateo", "mateo"),
    ("Nadia", "nadia"),
    ("Ørjan", "orjan"),
    ("Priya", "priya"),
    ("Siobhán", "siobhan"),
    ("Tariq", "tariq"),
    ("Zoë", "zoe"),
    ("Wen", "wen"),
];
const LAST: [(&str, &str); 16] = [
    ("Andersen", "andersen"),
    ("Brown", "brown"),
    ("Dubois", "dubois"),
    ("García", "garcia"),
    ("Håland", "haland"),
    ("Jensen", "jensen"),
    ("Kowalski", "kowalski"),
    ("Müller", "muller"),
    ("Nakamura", "nakamura"),
    ("O'Brien", "obrien"),
    ("Patel", "patel"),
    ("Rossi", "rossi"),
    ("Tanaka", "tanaka"),
    ("Yilmaz", "yilmaz"),
    ("Zhang", "zhang"),
    ("Okafor", "okafor"),
];

/// Group `k` of a generated org: "Everyone", then "<dept> <region>" combinations.
fn group_name(k: usize) -> String {
    if k == 0 {
        return "Everyone".into();
    }
    format!("{} {}", DEPTS[(k - 1) % DEPTS.len()], REGIONS[((k - 1) / DEPTS.len()) % REGIONS.len()])
}

/// Value `j` for `groups` groups: first each group's exact name, then variants of it (the traps
/// an IdP produces: case, trailing space, other spellings).
fn value_name(j: usize, groups: usize) -> (String, usize) {
    let span = groups - 1;
    let g = j % span + 1;
    let name = group_name(g);
    let dept = DEPTS[(g - 1) % DEPTS.len()];
    let region = REGIONS[((g - 1) / DEPTS.len()) % REGIONS.len()];
    let v = match j / span {
        0 => name,
        1 if g % 7 == 3 => format!("{name} "),
        1 => name.to_lowercase(),
        2 => format!("{name} Team"),
        3 => format!("ou={dept},l={region}"),
        4 => format!("{dept}-{region}").replace(' ', "-"),
        r => format!("{name} {r}"),
    };
    (v, g)
}

/// A generated organization of `users` people (members and ~5% pending invitees), deterministic
/// from `seed`.
pub fn generated(users: usize, seed: u64) -> OrgState {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut id = || uuid_from(rng.u128(..));
    let org = id();
    let n_groups = (users / 200).clamp(5, 500);
    let n_values = (users / 50).max(3);
    let n_invitees = users * 5 / 100;
    let n_members = users.saturating_sub(n_invitees).max(1);

    let mut clock = Clock(EPOCH_MICROS);
    let groups: Vec<GroupRec> = (0..n_groups)
        .map(|k| {
            let at = clock.tick(MINUTE);
            GroupRec { uuid: id(), name: group_name(k), created_at: at.clone(), updated_at: at }
        })
        .collect();
    let values: Vec<(String, usize)> = (0..n_values).map(|j| value_name(j, n_groups)).collect();

    let mut rng = fastrand::Rng::with_seed(seed.wrapping_add(1));
    let mut members = Vec::with_capacity(n_members);
    let mut invitations = Vec::with_capacity(n_invitees + n_members / 25);
    let mut rels = Vec::with_capacity(users + users / 25);
    for i in 0..n_members + n_invitees {
        let at = clock.tick(5 * MINUTE + rng.i64(0..MINUTE));
        let (first, first_ascii) = FIRST[rng.usize(..FIRST.len())];
        let (last, last_ascii) = LAST[rng.usize(..LAST.len())];
        let uuid = uuid_from(rng.u128(..));
        let value = (rng.f32() >= 0.03).then(|| rng.usize(..values.len()));
        let invitee = i >= n_members;
        let email = if invitee {
            format!("{first_ascii}.{last_ascii}.{i}@invite.example.com")
        } else {
            format!("{first_ascii}.{last_ascii}.{i}@example.com")
        };
        let owner = if invitee {
            invitations.push(InviteRec {
                uuid: uuid.clone(),
                email,
                status: "pending".into(),
                created_at: at.clone(),
                updated_at: at.clone(),
                last_sent_at: Some(at.clone()),
                user: None,
                idp_value: value.map(|v| values[v].0.clone()),
            });
            OwnerRef::Invitation(uuid)
        } else {
            let m = uuid_from(rng.u128(..));
            let role = match i {
                0 => "owner",
                _ if rng.f32() < 0.02 => "admin",
                _ => "user",
            };
            if i % 25 == 7 {
                invitations.push(InviteRec {
                    uuid: uuid_from(rng.u128(..)),
                    email: email.clone(),
                    status: "accepted".into(),
                    created_at: at.clone(),
                    updated_at: at.clone(),
                    last_sent_at: Some(at.clone()),
                    user: Some(uuid.clone()),
                    idp_value: None,
                });
            }
            let name = format!("{first} {last}");
            members.push(MemberRec {
                uuid: m.clone(),
                role: role.into(),
                created_at: at.clone(),
                updated_at: at.clone(),
                user: user(uuid, &name, &email, i, &at),
                idp_value: value.map(|v| values[v].0.clone()),
            });
            if role == "admin" {
                for _ in 0..rng.usize(1..=3) {
                    let g = &groups[rng.usize(..n_groups)].uuid;
                    rels.push(rel(uuid_from(rng.u128(..)), RelRole::Admin, g, OwnerRef::Membership(m.clone()), &at));
                }
            }
            OwnerRef::Membership(m)
        };
        // Most members are already in a group, often the one their value points at.
        let in_group = if invitee { rng.f32() < 0.2 } else { rng.f32() < 0.85 };
        if in_group {
            let g = match value {
                Some(v) if rng.f32() < 0.6 => values[v].1,
                _ => rng.usize(..n_groups),
            };
            rels.push(rel(uuid_from(rng.u128(..)), RelRole::Member, &groups[g].uuid, owner, &at));
        }
    }
    let me = members[0].user.uuid.clone();
    let mut state = OrgState::empty(seed, org, fmt_micros(EPOCH_MICROS - MINUTE), me);
    state.members = members;
    state.invitations = invitations;
    state.groups = groups;
    state.relationships = rels;
    state.stale = (0..=users / 1000)
        .map(|k| StaleRec {
            name: format!("Former Employee {k}"),
            email: format!("former.{k}@example.com"),
            role: "user".into(),
            idp_value: values[k % values.len()].0.clone(),
            group: String::new(),
        })
        .collect();
    state.last_micros = clock.0;
    state.finish();
    state
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::plan;

    #[test]
    fn demo_has_the_promised_traps_and_a_plannable_saved_mapping() {
        let s = demo();
        assert!(s.members.len() >= 250 && s.members.iter().filter(|m| m.role == "owner").count() == 1);
        let pending = s.invitations.iter().filter(|i| i.status == "pending").count();
        assert!((20..=30).contains(&pending), "{pending}");
        assert!(!s.stale.is_empty());
        assert_eq!(s.mapping.version, 3);
        let (snap, _) = s.snapshot("http://x", true);
        assert!(snap.values.iter().any(|v| v == "Marketing ") && snap.values.iter().any(|v| v == "sales emea"));
        assert!((25..=40).contains(&snap.values.len()), "{}", snap.values.len());
        let p = plan(&snap, &snap.saved_mapping());
        assert!(!p.changes.is_empty() && !p.unmapped.is_empty() && p.unchanged > 0);
        // A pending invitee already sits in a group.
        let (_, refs) = s.snapshot("http://x", true);
        let current = s.member_groups();
        assert!(refs.iter().any(|r| matches!(r, OwnerRef::Invitation(_)) && current.contains_key(r)));
    }

    #[test]
    fn generated_orgs_are_deterministic_and_shaped_as_asked() {
        let a = generated(10_000, 7);
        let b = generated(10_000, 7);
        assert_eq!(a.to_json(), b.to_json());
        assert_eq!(a.groups.len(), 50);
        let (snap, _) = a.snapshot("http://x", true);
        assert_eq!(snap.values.len(), 200);
        assert_eq!(snap.owner_count(), 10_000);
        let no_value = snap.owners().filter(|o| o.value.is_none()).count();
        assert!((150..=450).contains(&no_value), "{no_value}");
        let grouped = snap.owners().filter(|o| o.group.is_some()).count();
        assert!(grouped > 7_000, "{grouped}");
        assert!(!a.mapping.enabled && a.mapping.rows.is_empty() && a.mapping.version == 0);
        assert_ne!(generated(100, 1).org_uuid, generated(100, 2).org_uuid);
    }

    #[test]
    fn big_orgs_have_500_groups_and_2000_values() {
        let s = generated(100_000, 1);
        assert_eq!(s.groups.len(), 500);
        let (snap, _) = s.snapshot("http://x", false);
        assert_eq!(snap.values.len(), 2000);
    }
}
