//! One immutable picture of an organization: who is there, in which group, with which IdP value.

use std::sync::{Arc, OnceLock};

use super::FastMap as HashMap;
pub use super::coverage::{Coverage, MissingExport};
use super::export::{Export, FieldChoice};
use super::lookalike::Families;
use super::mapping::{Mapping, Target};
use super::people::join_values;
pub use super::people::{MembershipConflict, OwnerInput, OwnerKind, People, Person, StaleRow};
use super::text::fold_name;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueId(pub u32);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OwnerId(pub u32);

/// No value, or no group, in `Snapshot::placements`.
pub const NONE: u32 = u32::MAX;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub uri: String,
    pub name: String,
    /// As reported by the API (optional in Calendly's spec).
    pub member_count: Option<u32>,
}

/// A person as the snapshot sees them: their strings where the load keeps them, with the value
/// and group interned here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Owner<'a> {
    pub kind: OwnerKind,
    pub uri: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    /// None when the user has no (or an empty) IdP value: out of scope.
    pub value: Option<ValueId>,
    pub group: Option<GroupId>,
}

/// The table plans and edits are compared with: the one the service holds or, where the service
/// cannot show its own (Calendly's admin center), the table of record the admin recorded.
/// Absent when there is neither.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedMapping {
    pub mapping: Mapping,
    /// The service's version (0 for a table of record).
    pub version: u64,
    pub updated_at: Option<String>,
    pub updated_by: Option<String>,
    pub origin: TableOrigin,
}

/// Where the table compared with comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableOrigin {
    /// Saved in the service, at `SavedMapping::version`.
    Service,
    /// Recorded by the admin as entered in the service's admin center (`groupmap mapping record`).
    Recorded { recorded_at: time::OffsetDateTime, path: std::path::PathBuf },
}

impl SavedMapping {
    /// A table of record, as recorded at `recorded_at` in the file `path`.
    pub fn recorded(mapping: Mapping, recorded_at: time::OffsetDateTime, path: std::path::PathBuf) -> SavedMapping {
        let origin = TableOrigin::Recorded { recorded_at, path };
        SavedMapping { mapping, version: 0, updated_at: None, updated_by: None, origin }
    }

    /// The footer's short label: `saved v3`, `recorded 2026-12-02`.
    pub fn label(&self) -> String {
        match &self.origin {
            TableOrigin::Service => format!("saved v{}", self.version),
            TableOrigin::Recorded { recorded_at, .. } => format!("recorded {}", day(*recorded_at)),
        }
    }

    /// The table in words, for sentences: `the saved table`, `the table recorded 2026-12-02 14:05 UTC`.
    pub fn described(&self) -> String {
        match &self.origin {
            TableOrigin::Service => "the saved table".to_owned(),
            TableOrigin::Recorded { recorded_at, .. } => format!("the table recorded {}", when(*recorded_at)),
        }
    }
}

/// `2026-12-02` (UTC).
pub fn day(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// `2026-12-02 14:05 UTC`.
pub fn when(t: time::OffsetDateTime) -> String {
    let u = t.to_offset(time::UtcOffset::UTC);
    format!("{} {:02}:{:02} UTC", day(t), u.hour(), u.minute())
}

#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub base_url: String,
    pub organization: String,
    pub groups: Vec<Group>,
    /// The people, shared with what was loaded (never copied): the snapshot adds only each
    /// one's interned value and group (`placement`).
    people: People,
    /// Distinct non-empty IdP values, sorted by byte value.
    pub values: Vec<String>,
    /// Users holding each value (indexed by ValueId).
    pub value_users: Vec<u32>,
    pub saved: Option<SavedMapping>,
    /// Export rows that match no member or invitee.
    pub stale_rows: Vec<StaleRow>,
    /// Export rows naming an email already seen with another value: the first was kept.
    pub conflicting_rows: Vec<StaleRow>,
    /// Owners the service lists in several member groups (`owners` has the one taken).
    pub membership_conflicts: Vec<MembershipConflict>,
    /// Which people the exports cover (empty when the snapshot was not joined with exports).
    pub coverage: Coverage,
    /// With values read from an identity provider: who it has that Calendly lacks, and where the
    /// two differ (see `domain::sync`).
    pub idp: Option<super::sync::IdpView>,
    /// Each owner's value and group (`NONE` for none), apart from the owners' strings: the plan's
    /// pass over every user reads 8 bytes a user instead of the whole record.
    placement: Vec<[u32; 2]>,
    group_by_uri: HashMap<String, GroupId>,
    group_by_name: HashMap<String, GroupId>,
    value_by_str: HashMap<String, ValueId>,
    /// The look-alike families among `values`, worked out on the first plan (values are fixed
    /// for a snapshot; a clone keeps them, as it keeps the values).
    value_families: OnceLock<Families>,
}

impl Snapshot {
    /// Joins the people with the exports (by email, case-insensitively) and interns the result.
    /// Nothing of a person is copied: the snapshot shares `people`, and values are looked up
    /// where the exports hold them.
    pub fn from_parts(
        base_url: &str,
        organization: &str,
        groups: Vec<Group>,
        people: &People,
        exports: &[Export],
        fields: &FieldChoice,
        saved: Option<SavedMapping>,
    ) -> Snapshot {
        let joined = join_values(people, exports, fields);
        let mut snap =
            Snapshot::with_values(base_url, organization, groups, people.clone(), |i| joined.values[i], saved);
        snap.stale_rows = joined.stale;
        snap.conflicting_rows = joined.conflicting;
        snap.coverage = joined.coverage;
        snap
    }

    pub fn new(
        base_url: &str,
        organization: &str,
        groups: Vec<Group>,
        owners: Vec<OwnerInput>,
        saved: Option<SavedMapping>,
    ) -> Snapshot {
        let mut values = Vec::with_capacity(owners.len());
        let mut people = Vec::with_capacity(owners.len());
        for o in owners {
            values.push(o.value);
            people.push(Person {
                kind: o.kind,
                uri: o.uri.into(),
                name: o.name.into(),
                email: o.email.into(),
                group: o.group.map(Arc::from),
            });
        }
        Snapshot::with_values(base_url, organization, groups, Arc::new(people), |i| values[i].as_deref(), saved)
    }

    /// Interns the people with the i-th one's value (`value_of(i)`); their current groups are
    /// their own.
    pub fn with_values<'a>(
        base_url: &str,
        organization: &str,
        mut groups: Vec<Group>,
        people: People,
        value_of: impl Fn(usize) -> Option<&'a str>,
        saved: Option<SavedMapping>,
    ) -> Snapshot {
        let n = people.len();
        let mut group_by_uri: HashMap<String, GroupId> =
            HashMap::with_capacity_and_hasher(groups.len(), Default::default());
        for (i, g) in groups.iter().enumerate() {
            group_by_uri.insert(g.uri.clone(), GroupId(i as u32));
        }
        let mut distinct: Vec<&str> = (0..n).filter_map(&value_of).filter(|v| !v.is_empty()).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let values: Vec<String> = distinct.into_iter().map(str::to_owned).collect();
        let mut value_by_str: HashMap<String, ValueId> =
            HashMap::with_capacity_and_hasher(values.len(), Default::default());
        for (i, v) in values.iter().enumerate() {
            value_by_str.insert(v.clone(), ValueId(i as u32));
        }
        let mut value_users = vec![0u32; values.len()];
        let mut placement = Vec::with_capacity(n);
        for (i, person) in people.iter().enumerate() {
            let value = value_of(i).filter(|v| !v.is_empty()).map(|v| value_by_str[v]);
            if let Some(v) = value {
                value_users[v.0 as usize] += 1;
            }
            let group = person.group.as_deref().map(|uri| match group_by_uri.get(uri) {
                Some(&g) => g,
                None => {
                    // A relationship to a group the list did not return still counts as a current group.
                    let g = GroupId(groups.len() as u32);
                    let name = uri.rsplit('/').next().unwrap_or(uri).to_owned();
                    groups.push(Group { uri: uri.to_owned(), name, member_count: None });
                    group_by_uri.insert(uri.to_owned(), g);
                    g
                }
            });
            placement.push([value.map_or(NONE, |v| v.0), group.map_or(NONE, |g| g.0)]);
        }
        let mut group_by_name: HashMap<String, GroupId> =
            HashMap::with_capacity_and_hasher(groups.len(), Default::default());
        for (i, g) in groups.iter().enumerate() {
            group_by_name.entry(fold_name(&g.name)).or_insert(GroupId(i as u32));
        }
        Snapshot {
            base_url: base_url.trim_end_matches('/').to_owned(),
            organization: organization.to_owned(),
            groups,
            people,
            values,
            value_users,
            saved,
            stale_rows: Vec::new(),
            conflicting_rows: Vec::new(),
            membership_conflicts: Vec::new(),
            coverage: Coverage::default(),
            idp: None,
            placement,
            group_by_uri,
            group_by_name,
            value_by_str,
            value_families: OnceLock::new(),
        }
    }

    /// Each owner's value and group id in owner order, `NONE` for none.
    pub fn placements(&self) -> &[[u32; 2]] {
        &self.placement
    }

    pub fn group(&self, id: GroupId) -> &Group {
        &self.groups[id.0 as usize]
    }

    pub fn owner(&self, id: OwnerId) -> Owner<'_> {
        self.owner_at(id.0 as usize)
    }

    fn owner_at(&self, i: usize) -> Owner<'_> {
        let p = &self.people[i];
        let [value, group] = self.placement[i];
        Owner {
            kind: p.kind,
            uri: &p.uri,
            name: &p.name,
            email: &p.email,
            value: (value != NONE).then_some(ValueId(value)),
            group: (group != NONE).then_some(GroupId(group)),
        }
    }

    /// Every owner, in owner order.
    pub fn owners(&self) -> impl ExactSizeIterator<Item = Owner<'_>> + DoubleEndedIterator + Clone + '_ {
        (0..self.people.len()).map(|i| self.owner_at(i))
    }

    /// The people as loaded, shared by every snapshot of them.
    pub fn people(&self) -> &People {
        &self.people
    }

    pub fn owner_count(&self) -> usize {
        self.people.len()
    }

    pub fn value(&self, id: ValueId) -> &str {
        &self.values[id.0 as usize]
    }

    pub fn group_by_uri(&self, uri: &str) -> Option<GroupId> {
        self.group_by_uri.get(uri).copied()
    }

    /// The group a URI names here: exactly, or a sandbox's group under another loopback port (a
    /// file or draft written while the sandbox listened elsewhere).
    pub fn local_group(&self, uri: &str) -> Option<GroupId> {
        self.group_by_uri(uri).or_else(|| {
            let found = self.groups.iter().position(|g| super::text::same_resource(&g.uri, uri))?;
            Some(GroupId(found as u32))
        })
    }

    /// The group a name names, compared as `fold_name` does (case and spaces do not count).
    /// Should two groups fold alike (`Sales EMEA` and `Sales  EMEA`), the one spelled exactly
    /// wins, else the first.
    pub fn group_by_name(&self, name: &str) -> Option<GroupId> {
        let id = self.group_by_name.get(&fold_name(name)).copied()?;
        if self.group(id).name == name {
            return Some(id);
        }
        Some(self.groups.iter().position(|g| g.name == name).map_or(id, |i| GroupId(i as u32)))
    }

    /// The near-duplicate families among the values, with what their findings say: worked out
    /// once per snapshot, not on every plan.
    pub fn value_families(&self) -> &Families {
        self.value_families.get_or_init(|| Families::new(&self.values))
    }

    pub fn value_id(&self, value: &str) -> Option<ValueId> {
        self.value_by_str.get(value).copied()
    }

    /// What a target is called: the group's name, a new group's name, or the URI of a group
    /// this organization does not have.
    pub fn target_name<'a>(&'a self, t: &'a Target) -> &'a str {
        match t {
            Target::Group(uri) => self.group_by_uri(uri).map_or(uri.as_str(), |g| &self.group(g).name),
            Target::New(name) => name,
        }
    }

    /// `mapping` with each new group that now exists (someone created it meanwhile) replaced by
    /// that group, and the names so replaced, for telling the admin.
    pub fn adopt_new_groups(&self, mapping: &Mapping) -> (Mapping, Vec<String>) {
        let mut adopted = Vec::new();
        let mut m = mapping.clone();
        let mut fix = |t: &mut Target| {
            if let Target::New(name) = t
                && let Some(g) = self.group_by_name(name)
            {
                if !adopted.contains(name) {
                    adopted.push(name.clone());
                }
                *t = Target::Group(self.group(g).uri.clone());
            }
        };
        for r in &mut m.rows {
            fix(&mut r.target);
        }
        if let Some(t) = &mut m.default_group {
            fix(t);
        }
        (m, adopted)
    }

    /// The mapping to start editing from: the saved one, or an empty one on a read-only server.
    pub fn saved_mapping(&self) -> Mapping {
        self.saved.as_ref().map(|s| s.mapping.clone()).unwrap_or_default()
    }

    /// Adds groups created since the snapshot was taken (after a save created them).
    pub fn with_groups(&self, created: &[Group]) -> Snapshot {
        let mut snap = self.clone();
        for g in created {
            if snap.group_by_uri.contains_key(&g.uri) {
                continue;
            }
            let id = GroupId(snap.groups.len() as u32);
            snap.group_by_uri.insert(g.uri.clone(), id);
            snap.group_by_name.entry(fold_name(&g.name)).or_insert(id);
            snap.groups.push(g.clone());
        }
        snap
    }
}
