//! Loading an organization: the lists fetched concurrently, joined into a `Snapshot`.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::client::{ApiError, Client, ListItem, Progress};
use super::wire::{self, GroupMapping, GroupRelationship, Invitation, Membership, Resource, User};
use crate::domain::export::{Export, ExportError, FieldChoice};
use crate::domain::{Group, Mapping, OwnerKind, Person, SavedMapping, Snapshot};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error(
        "{endpoint}: this server has no user-export endpoint (Calendly's public API has none).\n  \
         In Calendly's admin center, export the Active users and the Pending users, then pass each \
         file with --users-csv FILE (the option can be given twice)."
    )]
    NoExportEndpoint { endpoint: String },
    #[error("GET /users/me: the user has no current_organization; pass --org ORGANIZATION_URI")]
    NoOrganization,
}

/// What to load: the organization (or the token's own), and hand-exported CSVs if any.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    pub organization: Option<String>,
    pub users_csv: Vec<PathBuf>,
    pub fields: FieldChoice,
}

/// Everything read from the server, raw enough to re-join with other export columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loaded {
    pub base_url: String,
    pub organization: String,
    pub groups: Vec<Group>,
    pub people: Vec<Person>,
    pub exports: Vec<Export>,
    /// None when the server has no mapping endpoint (Calendly's real API).
    pub saved: Option<SavedMapping>,
    /// The ETag of the saved mapping, sent back as If-Match.
    pub etag: Option<String>,
}

impl Loaded {
    /// Joins with the chosen export columns; an export lacking them is an error naming the file.
    pub fn snapshot(&self, fields: &FieldChoice) -> Result<Snapshot, ExportError> {
        for e in &self.exports {
            e.columns(fields)?;
        }
        Ok(Snapshot::from_parts(
            &self.base_url,
            &self.organization,
            self.groups.clone(),
            &self.people,
            &self.exports,
            fields,
            self.saved.clone(),
        ))
    }
}

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

/// Reads the CSV files the admin exported by hand.
pub fn read_csv_files(paths: &[PathBuf]) -> Result<Vec<Export>, LoadError> {
    paths
        .iter()
        .map(|p| {
            let name = p.display().to_string();
            let bytes = std::fs::read(p).map_err(|e| LoadError::File { file: name.clone(), message: e.to_string() })?;
            Ok(Export::parse(&name, &bytes)?)
        })
        .collect()
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

async fn fetch_export(client: &Client, org: &str, status: &str) -> Result<Export, LoadError> {
    let path = format!("/organizations/{}/user_export", wire::uuid_of(org));
    let resp = client.send(reqwest::Method::GET, &path, &[("status", status)], &[], None, true).await?;
    if resp.status == 404 {
        return Err(LoadError::NoExportEndpoint { endpoint: format!("GET {path}") });
    }
    let resp = client.check(&reqwest::Method::GET, &path, resp)?;
    Ok(Export::parse(&format!("GET {path}?status={status}"), &resp.body)?)
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
    exports: Vec<Export>,
}

async fn organization_of(client: &Client, opts: &LoadOptions) -> Result<String, LoadError> {
    Ok(match &opts.organization {
        Some(o) => o.trim_end_matches('/').to_owned(),
        None => {
            let me: Resource<User> = client.get("/users/me", &[]).await?;
            me.resource.current_organization.ok_or(LoadError::NoOrganization)?
        }
    })
}

async fn exports(client: &Client, org: &str, opts: &LoadOptions, concurrent: bool) -> Result<Vec<Export>, LoadError> {
    if !opts.users_csv.is_empty() {
        return read_csv_files(&opts.users_csv);
    }
    if concurrent {
        let (a, b) = tokio::try_join!(fetch_export(client, org, "active"), fetch_export(client, org, "pending"))?;
        Ok(vec![a, b])
    } else {
        Ok(vec![fetch_export(client, org, "active").await?, fetch_export(client, org, "pending").await?])
    }
}

/// Loads an organization: the lists are fetched concurrently (paced by the client).
pub async fn load(client: &Client, opts: &LoadOptions, progress: Option<Progress>) -> Result<Loaded, LoadError> {
    let organization = organization_of(client, opts).await?;
    let org = organization.as_str();
    let org_q = [("organization", org)];
    let invitations_path = format!("/organizations/{}/invitations", wire::uuid_of(org));
    let p = progress.as_ref();
    let (members, invitees, groups, relationships, mapping, exports) = tokio::try_join!(
        async {
            Ok::<_, LoadError>(client.get_all::<MemberRow>("/organization_memberships", &org_q, "members", p).await?)
        },
        async {
            Ok(client.get_all::<InviteeRow>(&invitations_path, &[("status", "pending")], "invitations", p).await?)
        },
        async { Ok(client.get_all::<wire::Group>("/groups", &org_q, "groups", p).await?) },
        async { Ok(client.get_all::<RelRow>("/group_relationships", &org_q, "group relationships", p).await?) },
        async { Ok(fetch_mapping(client, org).await?) },
        exports(client, org, opts, true),
    )?;
    let lists = Lists { members, invitees, groups, relationships, mapping, exports };
    Ok(assemble(client, organization, lists))
}

/// The reference path: every list fetched one after another, decoded into the full wire types.
/// Slower; kept as the baseline the concurrent loader is tested and benchmarked against.
pub async fn load_sequential(client: &Client, opts: &LoadOptions) -> Result<Loaded, LoadError> {
    let organization = organization_of(client, opts).await?;
    let org = organization.as_str();
    let org_q = [("organization", org)];
    let invitations_path = format!("/organizations/{}/invitations", wire::uuid_of(org));
    let members = client.get_all::<Membership>("/organization_memberships", &org_q, "members", None).await?;
    let invitees =
        client.get_all::<Invitation>(&invitations_path, &[("status", "pending")], "invitations", None).await?;
    let groups = client.get_all::<wire::Group>("/groups", &org_q, "groups", None).await?;
    let relationships =
        client.get_all::<GroupRelationship>("/group_relationships", &org_q, "group relationships", None).await?;
    let mapping = fetch_mapping(client, org).await?;
    let exports = exports(client, org, opts, false).await?;
    let member_group: std::collections::HashMap<&str, &str> =
        relationships.iter().filter(|r| r.role == "member").map(|r| (r.owner.uri(), r.group.as_str())).collect();
    let group_of = |uri: &str| member_group.get(uri).map(|g| (*g).to_owned());
    let mut people = Vec::with_capacity(members.len() + invitees.len());
    for m in &members {
        people.push(Person {
            kind: OwnerKind::Member,
            uri: m.uri.clone(),
            name: m.user.name.clone(),
            email: m.user.email.clone(),
            group: group_of(&m.uri),
        });
    }
    for i in invitees.iter().filter(|i| i.status.is_empty() || i.status == "pending") {
        people.push(Person {
            kind: OwnerKind::Invitee,
            uri: i.uri.clone(),
            name: String::new(),
            email: i.email.clone(),
            group: group_of(&i.uri),
        });
    }
    let groups = groups.into_iter().map(|g| Group { uri: g.uri, name: g.name, member_count: g.member_count }).collect();
    let (saved, etag) = match mapping {
        Some((m, etag)) => (Some(saved_from_wire(&m)), Some(etag)),
        None => (None, None),
    };
    Ok(Loaded { base_url: client.base_url().to_owned(), organization, groups, people, exports, saved, etag })
}

/// Joins the lists into people, moving the decoded strings rather than copying them.
fn assemble(client: &Client, organization: String, lists: Lists) -> Loaded {
    let Lists { members, invitees, groups, relationships, mapping, exports } = lists;
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
        // one wins, as in the sequential path.
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
    let (saved, etag) = match mapping {
        Some((m, etag)) => (Some(saved_from_wire(&m)), Some(etag)),
        None => (None, None),
    };
    Loaded { base_url: client.base_url().to_owned(), organization, groups, people, exports, saved, etag }
}
