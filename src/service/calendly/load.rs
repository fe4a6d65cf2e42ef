//! Loading an organization's directory: the lists fetched concurrently, joined into people.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use serde::Deserialize;

use super::client::{ApiError, Client, ListItem};
use super::wire::{self, GroupMapping, Resource};
use crate::domain::people::MembershipConflict;
use crate::domain::{Group, Mapping, OwnerKind, Person, SavedMapping, TableOrigin};
use crate::service::loading::List;
use crate::service::{Capabilities, Directory, LoadError, Progress};

pub fn mapping_from_wire(m: &GroupMapping) -> Mapping {
    wire::mapping_of(m.enabled, &m.rows, m.default_group.as_deref(), true)
}

pub fn saved_from_wire(m: &GroupMapping) -> SavedMapping {
    SavedMapping {
        mapping: mapping_from_wire(m),
        version: m.version,
        updated_at: m.updated_at.clone(),
        updated_by: m.updated_by.clone(),
        origin: TableOrigin::Service,
    }
}

/// The current mapping and its ETag; None when the endpoint does not exist (404).
pub async fn fetch_mapping(client: &Client, org: &str) -> Result<Option<(GroupMapping, String)>, ApiError> {
    let path = format!("/organizations/{}/group_mapping", wire::uuid_of(org));
    let resp = client.send(reqwest::Method::GET, &path, &[], &[], None, true).await?;
    if resp.status == 404 {
        return Ok(None);
    }
    let resp = client.check(&reqwest::Method::GET, &path, resp)?;
    let etag = resp.headers.get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let m: Resource<GroupMapping> = client.decode(&reqwest::Method::GET, &path, &resp.body)?;
    let etag = etag.unwrap_or_else(|| format!("\"{}\"", m.resource.version));
    Ok(Some((m.resource, etag)))
}

/// A membership as the load needs it: decoding skips every other field (no allocation for them).
#[derive(Debug, Deserialize)]
struct MemberRow {
    uri: Box<str>,
    user: MemberUser,
}

#[derive(Debug, Deserialize)]
struct MemberUser {
    #[serde(default, deserialize_with = "wire::null_default")]
    name: Box<str>,
    email: Box<str>,
}

#[derive(Debug, Deserialize)]
struct InviteeRow {
    uri: Box<str>,
    email: Box<str>,
    #[serde(default, deserialize_with = "wire::null_default")]
    status: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RelRole {
    Member,
    #[serde(other)]
    Other,
}

/// A group relationship: only the owner's URI is read from the embedded owner object.
#[derive(Debug, Deserialize)]
struct RelRow {
    uri: String,
    role: RelRole,
    group: String,
    owner: RelOwner,
}

#[derive(Debug, Deserialize)]
struct RelOwner {
    uri: String,
}

impl ListItem for MemberRow {
    fn uri(&self) -> &str {
        &self.uri
    }
}
impl ListItem for InviteeRow {
    fn uri(&self) -> &str {
        &self.uri
    }
}
impl ListItem for RelRow {
    fn uri(&self) -> &str {
        &self.uri
    }
}

/// The token's user, as the load needs it: only its organization (a null name or email there
/// must not stop a load that never reads them).
#[derive(Debug, Deserialize)]
struct Me {
    #[serde(default)]
    current_organization: Option<String>,
}

/// The configured organization, or the token user's current one.
pub async fn organization_of(client: &Client, configured: Option<&str>) -> Result<String, LoadError> {
    Ok(match configured {
        Some(o) => o.trim_end_matches('/').to_owned(),
        None => {
            let me: Resource<Me> = client.get("/users/me", &[]).await?;
            me.resource.current_organization.filter(|o| !o.is_empty()).ok_or(LoadError::NoOrganization)?
        }
    })
}

/// Loads an organization's directory: the lists are fetched concurrently (paced by the client)
/// and each page is kept as what the directory holds (people, placements) as it arrives, so the
/// decoded lists are never all held at once.
pub async fn load(client: &Client, organization: &str, progress: Option<&Progress>) -> Result<Directory, LoadError> {
    let org = organization;
    let org_q = [("organization", org)];
    let invitations_path = format!("/organizations/{}/invitations", wire::uuid_of(org));
    let p = |list| progress.map(|p| (p, list));
    let groups = async {
        let groups = client.get_all::<wire::Group>("/groups", &org_q, "groups", p(List::Groups)).await?;
        // The relationships to read are about the members the groups count.
        if let Some(progress) = progress {
            progress.relationships_total(groups.iter().filter_map(|g| g.member_count).map(|n| n as usize).sum());
        }
        Ok::<_, ApiError>(groups)
    };
    let mut members = Vec::new();
    let mut invitees = Vec::new();
    let mut placed = Placed::default();
    let (_, _, groups, _, mapping) = tokio::try_join!(
        client.get_pages::<MemberRow>("/organization_memberships", &org_q, "members", p(List::Members), |page| {
            members.extend(page.into_iter().map(|m| Person {
                kind: OwnerKind::Member,
                uri: m.uri,
                name: m.user.name,
                email: m.user.email,
                group: None,
            }))
        }),
        client.get_pages::<InviteeRow>(
            &invitations_path,
            &[("status", "pending")],
            "invitations",
            p(List::Invitations),
            |page| {
                let pending = page.into_iter().filter(|i| i.status.is_empty() || i.status == "pending");
                invitees.extend(pending.map(|i| Person {
                    kind: OwnerKind::Invitee,
                    uri: i.uri,
                    name: Box::default(),
                    email: i.email,
                    group: None,
                }))
            }
        ),
        groups,
        client.get_pages::<RelRow>(
            "/group_relationships",
            &org_q,
            "group relationships",
            p(List::Relationships),
            |page| page.into_iter().for_each(|r| placed.add(r))
        ),
        fetch_mapping(client, org),
    )?;
    members.append(&mut invitees);
    let mut people = members;
    for person in &mut people {
        person.group = placed.group_of(&person.uri);
    }
    let membership_conflicts = placed.conflicts(&people);
    let groups = groups.into_iter().map(|g| Group { uri: g.uri, name: g.name, member_count: g.member_count }).collect();
    let (table, revision, capabilities) = table_of(mapping);
    Ok(Directory {
        base_url: client.base_url().to_owned(),
        organization: organization.to_owned(),
        groups,
        people: std::sync::Arc::new(people),
        table,
        revision,
        capabilities,
        membership_conflicts,
    })
}

/// The saved table, its revision and what the service can do, from the mapping endpoint's
/// answer. The endpoint is this project's own: where it exists, the table can be saved.
pub fn table_of(mapping: Option<(GroupMapping, String)>) -> (Option<SavedMapping>, Option<String>, Capabilities) {
    match mapping {
        Some((m, etag)) => (
            Some(saved_from_wire(&m)),
            Some(etag),
            Capabilities { save_table: true, create_groups: true, move_members: true, revision: true },
        ),
        None => (None, None, Capabilities::READ_ONLY),
    }
}

/// Each owner's member group, as indexes into `group_uris`, keyed by a 128-bit hash of the
/// owner's URI: 24 bytes an owner instead of a copy of each URI.
#[derive(Default)]
struct Placed {
    /// Each group URI is kept once and shared by every person in it.
    group_uris: Vec<Arc<str>>,
    group_ix: HashMap<String, u32>,
    member_group: HashMap<u128, u32>,
    /// Owners with more than one member group: every one of them (unsorted, maybe repeated).
    several: HashMap<u128, Vec<u32>>,
}

/// Two independently keyed 64-bit hashes: owners' URIs colliding is as likely as guessing a
/// 128-bit key.
fn owner_key(uri: &str) -> u128 {
    use std::hash::BuildHasher;
    static KEYS: std::sync::OnceLock<[std::collections::hash_map::RandomState; 2]> = std::sync::OnceLock::new();
    let [a, b] = KEYS.get_or_init(Default::default);
    (u128::from(a.hash_one(uri)) << 64) | u128::from(b.hash_one(uri))
}

impl Placed {
    /// Places an owner by a `member` relationship. An owner with several is placed in the group
    /// whose URI sorts first (see `MembershipConflict`), whatever the order of the list.
    fn add(&mut self, r: RelRow) {
        if !matches!(r.role, RelRole::Member) {
            return;
        }
        let ix = match self.group_ix.get(&r.group) {
            Some(&ix) => ix,
            None => {
                let ix = self.group_uris.len() as u32;
                self.group_uris.push(Arc::from(r.group.as_str()));
                self.group_ix.insert(r.group, ix);
                ix
            }
        };
        let key = owner_key(&r.owner.uri);
        match self.member_group.entry(key) {
            Entry::Vacant(e) => {
                e.insert(ix);
            }
            Entry::Occupied(mut e) => {
                let held = *e.get();
                if held == ix {
                    return;
                }
                self.several.entry(key).or_default().extend([held, ix]);
                if self.group_uris[ix as usize] < self.group_uris[held as usize] {
                    e.insert(ix);
                }
            }
        }
    }

    fn group_of(&self, owner: &str) -> Option<Arc<str>> {
        self.member_group.get(&owner_key(owner)).map(|&ix| self.group_uris[ix as usize].clone())
    }

    /// The conflicts of the people loaded (relationships of anyone else do not matter), by email.
    fn conflicts(&self, people: &[Person]) -> Vec<MembershipConflict> {
        if self.several.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<MembershipConflict> = people
            .iter()
            .filter_map(|p| {
                let ixs = self.several.get(&owner_key(&p.uri))?;
                let mut groups: Vec<String> = ixs.iter().map(|&ix| self.group_uris[ix as usize].to_string()).collect();
                groups.sort_unstable();
                groups.dedup();
                Some(MembershipConflict { owner: p.uri.to_string(), email: p.email.to_string(), groups })
            })
            .collect();
        out.sort_by(|a, b| (&a.email, &a.owner).cmp(&(&b.email, &b.owner)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(owner: &str, group: &str) -> RelRow {
        RelRow {
            uri: format!("r-{owner}-{group}"),
            role: RelRole::Member,
            group: group.into(),
            owner: RelOwner { uri: owner.into() },
        }
    }

    #[test]
    fn an_owner_in_several_member_groups_is_placed_alike_whatever_the_order() {
        let person =
            Person { kind: OwnerKind::Member, uri: "m1".into(), name: "".into(), email: "a@x".into(), group: None };
        let orders = [
            vec![rel("m1", "g/B"), rel("m2", "g/B"), rel("m1", "g/A"), rel("m1", "g/B")],
            vec![rel("m1", "g/A"), rel("m1", "g/B"), rel("m2", "g/B")],
        ];
        for rels in orders {
            let mut placed = Placed::default();
            rels.into_iter().for_each(|r| placed.add(r));
            let group = |o: &str| placed.group_of(o).unwrap().to_string();
            assert_eq!((group("m1"), group("m2")), ("g/A".to_owned(), "g/B".to_owned()));
            let conflicts = placed.conflicts(std::slice::from_ref(&person));
            assert_eq!(
                conflicts,
                [MembershipConflict {
                    owner: "m1".into(),
                    email: "a@x".into(),
                    groups: vec!["g/A".into(), "g/B".into()]
                }]
            );
        }
    }
}
