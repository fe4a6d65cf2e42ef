//! The organization the sandbox serves: its records, the changes it allows, the server's own
//! `Snapshot`, and persistence. Records hold bare UUIDs; URIs are made per request from the base
//! URL, so a state file survives a restart on another port.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::domain::snapshot::{Group as SnapGroup, OwnerInput};
use crate::domain::{Mapping, OwnerKind, Row, SavedMapping, Snapshot, Target};

use super::clock::now_micros;
pub use super::clock::{fmt_micros, uuid_from};
pub use super::uris::{OwnerRef, Uris};

/// Bumped when the state file's shape changes incompatibly.
const FORMAT: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelRole {
    Member,
    Admin,
}

impl RelRole {
    pub fn as_str(self) -> &'static str {
        match self {
            RelRole::Member => "member",
            RelRole::Admin => "admin",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserRec {
    pub uuid: String,
    pub name: String,
    pub slug: String,
    pub email: String,
    pub timezone: String,
    pub locale: String,
    pub avatar_url: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MemberRec {
    pub uuid: String,
    /// `owner`, `admin` or `user`.
    pub role: String,
    pub created_at: String,
    pub updated_at: String,
    pub user: UserRec,
    /// What the IdP sent (only visible in the user export).
    pub idp_value: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InviteRec {
    pub uuid: String,
    pub email: String,
    /// `pending`, `accepted` or `declined`.
    pub status: String,
    pub created_at: String,
    pub updated_at: String,
    pub last_sent_at: Option<String>,
    /// User UUID, once accepted.
    pub user: Option<String>,
    pub idp_value: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GroupRec {
    pub uuid: String,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RelRec {
    pub uuid: String,
    pub role: RelRole,
    pub group: String,
    pub owner: OwnerRef,
    pub created_at: String,
    pub updated_at: String,
}

/// A user-export row that matches no member or invitee (someone who left).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StaleRec {
    pub name: String,
    pub email: String,
    pub role: String,
    pub idp_value: String,
    pub group: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowRec {
    pub idp_value: String,
    pub group: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingRec {
    pub enabled: bool,
    pub rows: Vec<RowRec>,
    pub default_group: Option<String>,
    pub version: u64,
    pub updated_at: Option<String>,
    /// User UUID.
    pub updated_by: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobRec {
    pub uuid: String,
    pub status: String,
    pub total: u64,
    pub completed: u64,
    pub failed: u64,
    pub errors: Vec<(OwnerRef, String)>,
    pub created_at: String,
    pub updated_at: String,
    /// Changes not applied yet: owner → target group UUID.
    pub todo: Vec<(OwnerRef, String)>,
}

impl JobRec {
    pub fn finished(&self) -> bool {
        matches!(self.status.as_str(), "succeeded" | "failed")
    }
}

/// Lookups rebuilt after loading; positions are stable because records are only appended
/// (relationships, which are removed, are not indexed).
#[derive(Clone, Debug, Default)]
pub struct Index {
    member: HashMap<String, usize>,
    member_by_user: HashMap<String, usize>,
    invite: HashMap<String, usize>,
    group: HashMap<String, usize>,
    job: HashMap<String, usize>,
}

/// Every list is kept sorted by (created_at, uuid): new records get strictly increasing stamps.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrgState {
    pub format: u32,
    pub seed: u64,
    pub org_uuid: String,
    pub org_created_at: String,
    /// User UUID of the token's owner (`/users/me`).
    pub me: String,
    pub members: Vec<MemberRec>,
    pub invitations: Vec<InviteRec>,
    pub groups: Vec<GroupRec>,
    pub relationships: Vec<RelRec>,
    pub stale: Vec<StaleRec>,
    pub mapping: MappingRec,
    pub jobs: Vec<JobRec>,
    pub next_id: u64,
    pub last_micros: i64,
    #[serde(skip)]
    pub index: Index,
}

impl OrgState {
    /// An empty organization; seeding fills it.
    pub fn empty(seed: u64, org_uuid: String, org_created_at: String, me: String) -> OrgState {
        OrgState {
            format: FORMAT,
            seed,
            org_uuid,
            org_created_at,
            me,
            members: Vec::new(),
            invitations: Vec::new(),
            groups: Vec::new(),
            relationships: Vec::new(),
            stale: Vec::new(),
            mapping: MappingRec {
                enabled: false,
                rows: Vec::new(),
                default_group: None,
                version: 0,
                updated_at: None,
                updated_by: None,
            },
            jobs: Vec::new(),
            next_id: 0,
            last_micros: 0,
            index: Index::default(),
        }
    }

    pub fn uris<'a>(&'a self, base: &'a str) -> Uris<'a> {
        Uris { base, org: &self.org_uuid }
    }

    /// Sorts every list by (created_at, uuid) and rebuilds the lookups. Called after seeding
    /// and loading.
    pub fn finish(&mut self) {
        self.members.sort_by(|a, b| (&a.created_at, &a.uuid).cmp(&(&b.created_at, &b.uuid)));
        self.invitations.sort_by(|a, b| (&a.created_at, &a.uuid).cmp(&(&b.created_at, &b.uuid)));
        self.groups.sort_by(|a, b| (&a.created_at, &a.uuid).cmp(&(&b.created_at, &b.uuid)));
        self.relationships.sort_by(|a, b| (&a.created_at, &a.uuid).cmp(&(&b.created_at, &b.uuid)));
        let pos = |it: &mut dyn Iterator<Item = String>| it.enumerate().map(|(i, u)| (u, i)).collect::<HashMap<_, _>>();
        self.index = Index {
            member: pos(&mut self.members.iter().map(|m| m.uuid.clone())),
            member_by_user: pos(&mut self.members.iter().map(|m| m.user.uuid.clone())),
            invite: pos(&mut self.invitations.iter().map(|i| i.uuid.clone())),
            group: pos(&mut self.groups.iter().map(|g| g.uuid.clone())),
            job: pos(&mut self.jobs.iter().map(|j| j.uuid.clone())),
        };
    }

    /// A strictly increasing timestamp, so appended records keep every list sorted.
    pub fn stamp(&mut self) -> String {
        self.last_micros = now_micros().max(self.last_micros + 1);
        fmt_micros(self.last_micros)
    }

    /// A fresh deterministic UUID (from the seed and a counter).
    pub fn new_uuid(&mut self) -> String {
        self.next_id += 1;
        let mut rng = fastrand::Rng::with_seed(
            self.seed ^ 0x5bd1_e995_u64.wrapping_mul(self.next_id).rotate_left(17) ^ self.next_id,
        );
        uuid_from(rng.u128(..))
    }

    pub fn member(&self, uuid: &str) -> Option<&MemberRec> {
        self.index.member.get(uuid).map(|&i| &self.members[i])
    }
    pub fn member_by_user(&self, user_uuid: &str) -> Option<&MemberRec> {
        self.index.member_by_user.get(user_uuid).map(|&i| &self.members[i])
    }
    pub fn invitation(&self, uuid: &str) -> Option<&InviteRec> {
        self.index.invite.get(uuid).map(|&i| &self.invitations[i])
    }
    pub fn group(&self, uuid: &str) -> Option<&GroupRec> {
        self.index.group.get(uuid).map(|&i| &self.groups[i])
    }
    pub fn job(&self, uuid: &str) -> Option<&JobRec> {
        self.index.job.get(uuid).map(|&i| &self.jobs[i])
    }
    pub fn job_mut(&mut self, uuid: &str) -> Option<&mut JobRec> {
        self.index.job.get(uuid).map(|&i| &mut self.jobs[i])
    }
    pub fn me(&self) -> &MemberRec {
        self.member_by_user(&self.me).expect("the token's user is a member")
    }

    pub fn group_by_name(&self, name: &str) -> Option<&GroupRec> {
        let folded = crate::domain::text::fold_name(name);
        self.groups.iter().find(|g| crate::domain::text::fold_name(&g.name) == folded)
    }

    /// The owner (membership or pending invitation) with this email, ASCII case-insensitively.
    pub fn owner_by_email(&self, email: &str) -> Option<OwnerRef> {
        let m = self.members.iter().find(|m| m.user.email.eq_ignore_ascii_case(email));
        if let Some(m) = m {
            return Some(OwnerRef::Membership(m.uuid.clone()));
        }
        self.invitations
            .iter()
            .find(|i| i.status == "pending" && i.email.eq_ignore_ascii_case(email))
            .map(|i| OwnerRef::Invitation(i.uuid.clone()))
    }

    /// Each owner's current member group UUID. An owner with several (only the test control
    /// `Sandbox::add_member_relationship` makes them) is in the one whose URI sorts first, as the
    /// client takes it (`domain::people::MembershipConflict`), so both plan alike.
    pub fn member_groups(&self) -> HashMap<&OwnerRef, &str> {
        let mut out: HashMap<&OwnerRef, &str> = HashMap::with_capacity(self.relationships.len());
        for r in self.relationships.iter().filter(|r| r.role == RelRole::Member) {
            let g = out.entry(&r.owner).or_insert(r.group.as_str());
            // Group URIs differ only by UUID, so the UUIDs sort as the URIs do.
            if r.group.as_str() < *g {
                *g = r.group.as_str();
            }
        }
        out
    }

    /// Adds a `member` relationship beside the owner's others (a test control: see
    /// `Sandbox::add_member_relationship`).
    pub fn add_member_relationship(&mut self, owner: OwnerRef, group: String) {
        let uuid = self.new_uuid();
        let at = self.stamp();
        self.relationships.push(RelRec {
            uuid,
            role: RelRole::Member,
            group,
            owner,
            created_at: at.clone(),
            updated_at: at,
        });
    }

    /// Member relationships per group UUID.
    pub fn member_counts(&self) -> HashMap<&str, u32> {
        let mut counts: HashMap<&str, u32> = HashMap::new();
        for r in self.relationships.iter().filter(|r| r.role == RelRole::Member) {
            *counts.entry(r.group.as_str()).or_default() += 1;
        }
        counts
    }

    pub fn add_group(&mut self, name: &str) -> &GroupRec {
        let uuid = self.new_uuid();
        let at = self.stamp();
        self.groups.push(GroupRec {
            uuid: uuid.clone(),
            name: name.to_owned(),
            created_at: at.clone(),
            updated_at: at,
        });
        self.index.group.insert(uuid, self.groups.len() - 1);
        self.groups.last().expect("just pushed")
    }

    /// Adds a member or pending invitee (a test control: see `Sandbox::add_person`).
    pub fn add_person(&mut self, p: &super::NewPerson<'_>) {
        let uuid = self.new_uuid();
        let at = self.stamp();
        let owner = if p.invitee {
            self.invitations.push(InviteRec {
                uuid: uuid.clone(),
                email: p.email.to_owned(),
                status: "pending".into(),
                created_at: at.clone(),
                updated_at: at.clone(),
                last_sent_at: Some(at),
                user: None,
                idp_value: p.idp_value.map(str::to_owned),
            });
            self.index.invite.insert(uuid.clone(), self.invitations.len() - 1);
            OwnerRef::Invitation(uuid)
        } else {
            let user_uuid = self.new_uuid();
            self.members.push(MemberRec {
                uuid: uuid.clone(),
                role: "user".into(),
                created_at: at.clone(),
                updated_at: at.clone(),
                user: UserRec {
                    uuid: user_uuid.clone(),
                    name: p.name.to_owned(),
                    slug: format!("user-{user_uuid}"),
                    email: p.email.to_owned(),
                    timezone: "Europe/London".into(),
                    locale: "en".into(),
                    avatar_url: None,
                    created_at: at.clone(),
                    updated_at: at,
                },
                idp_value: p.idp_value.map(str::to_owned),
            });
            self.index.member.insert(uuid.clone(), self.members.len() - 1);
            self.index.member_by_user.insert(user_uuid, self.members.len() - 1);
            OwnerRef::Membership(uuid)
        };
        if let Some(name) = p.group {
            let group =
                self.group_by_name(name).unwrap_or_else(|| panic!("sandbox: no group named {name:?}")).uuid.clone();
            self.move_members(&[(owner, group)]);
        }
    }

    /// Moves each owner to a group: removes their `member` relationship (if any) and creates one
    /// to the target. `admin` relationships stay. One pass over the relationships per call.
    pub fn move_members(&mut self, moves: &[(OwnerRef, String)]) {
        let owners: HashSet<&OwnerRef> = moves.iter().map(|(o, _)| o).collect();
        self.relationships.retain(|r| r.role != RelRole::Member || !owners.contains(&r.owner));
        for (owner, group) in moves {
            self.add_member_relationship(owner.clone(), group.clone());
        }
    }

    pub fn add_job(&mut self, todo: Vec<(OwnerRef, String)>) -> String {
        let uuid = self.new_uuid();
        let at = self.stamp();
        self.jobs.push(JobRec {
            uuid: uuid.clone(),
            status: "queued".into(),
            total: todo.len() as u64,
            completed: 0,
            failed: 0,
            errors: Vec::new(),
            created_at: at.clone(),
            updated_at: at,
            todo,
        });
        self.index.job.insert(uuid.clone(), self.jobs.len() - 1);
        uuid
    }

    /// The saved mapping as the domain sees it (group URIs on `base`).
    pub fn domain_mapping(&self, base: &str) -> Mapping {
        let u = self.uris(base);
        Mapping {
            enabled: self.mapping.enabled,
            rows: self
                .mapping
                .rows
                .iter()
                .map(|r| Row { idp_value: r.idp_value.clone(), target: Target::Group(u.group(&r.group)) })
                .collect(),
            default_group: self.mapping.default_group.as_ref().map(|g| Target::Group(u.group(g))),
            apply_to_existing: true,
        }
    }

    /// The server's own view, built as a client would from what the API serves: members and
    /// pending invitees with their export value and member group. Also returns each owner's
    /// reference, in `Snapshot::owners` order.
    pub fn snapshot(&self, base: &str, with_saved: bool) -> (Snapshot, Vec<OwnerRef>) {
        let u = self.uris(base);
        let counts = self.member_counts();
        let groups = self
            .groups
            .iter()
            .map(|g| SnapGroup {
                uri: u.group(&g.uuid),
                name: g.name.clone(),
                member_count: Some(counts.get(g.uuid.as_str()).copied().unwrap_or(0)),
            })
            .collect();
        let current = self.member_groups();
        let mut owners = Vec::with_capacity(self.members.len() + self.invitations.len());
        let mut refs = Vec::with_capacity(owners.capacity());
        let mut push = |r: OwnerRef, kind, name: &str, email: &str, value: &Option<String>| {
            owners.push(OwnerInput {
                kind,
                uri: u.owner(&r),
                name: name.to_owned(),
                email: email.to_owned(),
                value: value.clone(),
                group: current.get(&r).map(|g| u.group(g)),
            });
            refs.push(r);
        };
        for m in &self.members {
            let r = OwnerRef::Membership(m.uuid.clone());
            push(r, OwnerKind::Member, &m.user.name, &m.user.email, &m.idp_value);
        }
        for i in self.invitations.iter().filter(|i| i.status == "pending") {
            let r = OwnerRef::Invitation(i.uuid.clone());
            push(r, OwnerKind::Invitee, "", &i.email, &i.idp_value);
        }
        let saved = with_saved.then(|| SavedMapping {
            mapping: self.domain_mapping(base),
            version: self.mapping.version,
            updated_at: self.mapping.updated_at.clone(),
            updated_by: self.mapping.updated_by.as_ref().map(|m| u.user(m)),
            origin: crate::domain::TableOrigin::Service,
        });
        (Snapshot::new(base, &u.org(), groups, owners, saved), refs)
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("the state always serializes")
    }

    pub fn load(path: &Path) -> anyhow::Result<Option<OrgState>> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(e).with_context(|| format!("reading sandbox state {}", path.display()));
            }
        };
        let mut state: OrgState =
            serde_json::from_slice(&bytes).with_context(|| format!("parsing sandbox state {}", path.display()))?;
        anyhow::ensure!(
            state.format == FORMAT,
            "{}: state format {} is not supported (expected {FORMAT}); delete the file to start afresh",
            path.display(),
            state.format
        );
        state.finish();
        Ok(Some(state))
    }
}
