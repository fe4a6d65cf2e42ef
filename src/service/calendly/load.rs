//! Loading an organization's directory: the lists fetched concurrently, joined into people.

use std::collections::HashMap;

use serde::Deserialize;

use super::client::{ApiError, Client, ListItem};
use super::wire::{self, GroupMapping, Resource, User};
use crate::domain::{Group, Mapping, OwnerKind, Person, SavedMapping};
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
    uri: String,
    user: MemberUser,
}

#[derive(Debug, Deserialize)]
struct MemberUser {
    #[serde(default)]
    name: String,
    email: String,
}

#[derive(Debug, Deserialize)]
struct InviteeRow {
    uri: String,
    email: String,
    #[serde(default)]
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

/// The raw lists one load reads.
struct Lists {
    members: Vec<MemberRow>,
    invitees: Vec<InviteeRow>,
    groups: Vec<wire::Group>,
    relationships: Vec<RelRow>,
    mapping: Option<(GroupMapping, String)>,
}

/// The configured organization, or the token user's current one.
pub async fn organization_of(client: &Client, configured: Option<&str>) -> Result<String, LoadError> {
    Ok(match configured {
        Some(o) => o.trim_end_matches('/').to_owned(),
        None => {
            let me: Resource<User> = client.get("/users/me", &[]).await?;
            me.resource.current_organization.ok_or(LoadError::NoOrganization)?
        }
    })
}

/// Loads an organization's directory: the lists are fetched concurrently (paced by the client).
pub async fn load(client: &Client, organization: &str, progress: Option<&Progress>) -> Result<Directory, LoadError> {
    let org = organization;
    let org_q = [("organization", org)];
    let invitations_path = format!("/organizations/{}/invitations", wire::uuid_of(org));
    let p = progress;
    let (members, invitees, groups, relationships, mapping) = tokio::try_join!(
        client.get_all::<MemberRow>("/organization_memberships", &org_q, "members", p),
        client.get_all::<InviteeRow>(&invitations_path, &[("status", "pending")], "invitations", p),
        client.get_all::<wire::Group>("/groups", &org_q, "groups", p),
        client.get_all::<RelRow>("/group_relationships", &org_q, "group relationships", p),
        fetch_mapping(client, org),
    )?;
    let lists = Lists { members, invitees, groups, relationships, mapping };
    Ok(assemble(client, organization.to_owned(), lists))
}

/// Joins the lists into people, moving the decoded strings rather than copying them.
fn assemble(client: &Client, organization: String, lists: Lists) -> Directory {
    let Lists { members, invitees, groups, relationships, mapping } = lists;
    // Each group URI is kept once and shared out by clone only where a person is in it.
    let mut member_group: HashMap<String, u32> = HashMap::with_capacity(relationships.len());
    let mut group_uris: Vec<String> = Vec::new();
    let mut group_ix: HashMap<String, u32> = HashMap::new();
    for r in relationships {
        if !matches!(r.role, RelRole::Member) {
            continue;
        }
        let ix = match group_ix.get(&r.group) {
            Some(&ix) => ix,
            None => {
                let ix = group_uris.len() as u32;
                group_uris.push(r.group.clone());
                group_ix.insert(r.group, ix);
                ix
            }
        };
        // An owner has at most one member relationship; should a server send more, the last
        // one wins.
        member_group.insert(r.owner.uri, ix);
    }
    let group_of = |uri: &str| member_group.get(uri).map(|&ix| group_uris[ix as usize].clone());
    let mut people = Vec::with_capacity(members.len() + invitees.len());
    for m in members {
        let group = group_of(&m.uri);
        people.push(Person { kind: OwnerKind::Member, uri: m.uri, name: m.user.name, email: m.user.email, group });
    }
    for i in invitees.into_iter().filter(|i| i.status.is_empty() || i.status == "pending") {
        let group = group_of(&i.uri);
        people.push(Person { kind: OwnerKind::Invitee, uri: i.uri, name: String::new(), email: i.email, group });
    }
    let groups = groups.into_iter().map(|g| Group { uri: g.uri, name: g.name, member_count: g.member_count }).collect();
    let (table, revision, capabilities) = table_of(mapping);
    Directory { base_url: client.base_url().to_owned(), organization, groups, people, table, revision, capabilities }
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
