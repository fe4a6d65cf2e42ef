//! Wire types of the API (assets/openapi.yaml). The client decodes them (unknown fields ignored; fields it does
//! not use are optional) and the sandbox encodes them (every field Calendly sends).

use serde::{Deserialize, Deserializer, Serialize};

/// A string field Calendly may send as `null` (or leave out): read as empty. Fields the plan
/// needs (an email, a URI, a group's name) are not read with this, so a null there is an error
/// naming the endpoint and the field.
pub fn null_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A count Calendly types as `number` (`12`, `12.0`); anything else (null, a fraction, a string)
/// is unknown. Only read where nothing depends on it.
pub fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) => match (n.as_u64(), n.as_f64()) {
            (Some(i), _) => u32::try_from(i).ok(),
            (None, Some(f)) if f.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&f) => Some(f as u32),
            _ => None,
        },
        _ => None,
    })
}

fn count_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Ok(count(d)?.unwrap_or(0))
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Resource<T> {
    pub resource: T,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Collection<T> {
    pub collection: Vec<T>,
    pub pagination: Pagination,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Pagination {
    #[serde(default, deserialize_with = "count_or_zero")]
    pub count: u32,
    #[serde(default)]
    pub next_page: Option<String>,
    #[serde(default)]
    pub previous_page: Option<String>,
    #[serde(default)]
    pub next_page_token: Option<String>,
    #[serde(default)]
    pub previous_page_token: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    pub uri: String,
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub slug: String,
    pub email: String,
    #[serde(default, deserialize_with = "null_default")]
    pub scheduling_url: String,
    #[serde(default, deserialize_with = "null_default")]
    pub timezone: String,
    #[serde(default)]
    pub avatar_url: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub locale: String,
    #[serde(default, deserialize_with = "null_default")]
    pub created_at: String,
    #[serde(default, deserialize_with = "null_default")]
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_organization: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Membership {
    pub uri: String,
    #[serde(default, deserialize_with = "null_default")]
    pub role: String,
    #[serde(default, deserialize_with = "null_default")]
    pub organization: String,
    #[serde(default, deserialize_with = "null_default")]
    pub created_at: String,
    #[serde(default, deserialize_with = "null_default")]
    pub updated_at: String,
    pub user: User,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Invitation {
    pub uri: String,
    #[serde(default, deserialize_with = "null_default")]
    pub organization: String,
    pub email: String,
    #[serde(default, deserialize_with = "null_default")]
    pub status: String,
    #[serde(default, deserialize_with = "null_default")]
    pub created_at: String,
    #[serde(default, deserialize_with = "null_default")]
    pub updated_at: String,
    #[serde(default)]
    pub last_sent_at: Option<String>,
    /// The user's URI, only once accepted.
    #[serde(default)]
    pub user: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Group {
    pub uri: String,
    pub name: String,
    #[serde(default, deserialize_with = "null_default")]
    pub organization: String,
    #[serde(default, deserialize_with = "null_default")]
    pub created_at: String,
    #[serde(default, deserialize_with = "null_default")]
    pub updated_at: String,
    /// Optional in Calendly's spec, typed `number` there (`12.0` is as valid as `12`); the plan
    /// never reads it, so a value that is no count is taken as unknown rather than failing.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "count")]
    pub member_count: Option<u32>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type")]
pub enum RelationshipOwner {
    OrganizationMembership(Box<Membership>),
    OrganizationInvitation(Invitation),
}

impl RelationshipOwner {
    pub fn uri(&self) -> &str {
        match self {
            RelationshipOwner::OrganizationMembership(m) => &m.uri,
            RelationshipOwner::OrganizationInvitation(i) => &i.uri,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct GroupRelationship {
    pub uri: String,
    /// `member` or `admin`.
    pub role: String,
    #[serde(default, deserialize_with = "null_default")]
    pub organization: String,
    pub group: String,
    #[serde(default, deserialize_with = "null_default")]
    pub created_at: String,
    #[serde(default, deserialize_with = "null_default")]
    pub updated_at: String,
    pub owner: RelationshipOwner,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct MappingRow {
    pub idp_value: String,
    pub group: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct GroupMapping {
    #[serde(default, deserialize_with = "null_default")]
    pub uri: String,
    #[serde(default, deserialize_with = "null_default")]
    pub organization: String,
    pub enabled: bool,
    pub rows: Vec<MappingRow>,
    #[serde(default)]
    pub default_group: Option<String>,
    pub version: u64,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub updated_by: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PutGroupMapping {
    pub enabled: bool,
    pub rows: Vec<MappingRow>,
    #[serde(default)]
    pub default_group: Option<String>,
    pub apply_to_existing: bool,
    #[serde(default)]
    pub preview_digest: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PutGroupMappingResponse {
    pub resource: GroupMapping,
    #[serde(default)]
    pub job: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct JobError {
    #[serde(default, deserialize_with = "null_default")]
    pub owner: String,
    #[serde(default, deserialize_with = "null_default")]
    pub message: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Job {
    pub uri: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: String,
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub completed: u64,
    #[serde(default)]
    pub failed: u64,
    #[serde(default, deserialize_with = "null_default")]
    pub errors: Vec<JobError>,
    #[serde(default, deserialize_with = "null_default")]
    pub created_at: String,
    #[serde(default, deserialize_with = "null_default")]
    pub updated_at: String,
}

impl Job {
    pub fn finished(&self) -> bool {
        matches!(self.status.as_str(), "succeeded" | "failed")
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct CreateGroup {
    pub organization: String,
    pub name: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ErrorDetail {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ApiErrorBody {
    #[serde(default, deserialize_with = "null_default")]
    pub title: String,
    #[serde(default, deserialize_with = "null_default")]
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "null_default")]
    pub details: Vec<ErrorDetail>,
    /// The scopes the token lacks (Calendly's 403 "Insufficient scope").
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "null_default")]
    pub required_scopes: Vec<String>,
}

/// The user-export columns the sandbox writes (Calendly's, plus `Group`).
pub const EXPORT_HEADERS: [&str; 6] =
    ["Name", "Login email", "Role", "Calendly link", "Identity Provider Group", "Group"];

/// The table a mapping body holds, as the domain's `Mapping` (groups by URI).
pub fn mapping_of(
    enabled: bool,
    rows: &[MappingRow],
    default_group: Option<&str>,
    apply_to_existing: bool,
) -> crate::domain::Mapping {
    use crate::domain::{Mapping, Row, Target};
    Mapping {
        enabled,
        rows: rows
            .iter()
            .map(|r| Row { idp_value: r.idp_value.clone(), target: Target::Group(r.group.clone()) })
            .collect(),
        default_group: default_group.map(|g| Target::Group(g.to_owned())),
        apply_to_existing,
    }
}

/// The last path segment of a resource URI: its UUID.
pub fn uuid_of(uri: &str) -> &str {
    uri.trim_end_matches('/').rsplit('/').next().unwrap_or(uri)
}

/// List items, by their URI: a page of rows already read means the list started over.
pub trait ListItem {
    fn uri(&self) -> &str;
}

impl ListItem for Membership {
    fn uri(&self) -> &str {
        &self.uri
    }
}
impl ListItem for Invitation {
    fn uri(&self) -> &str {
        &self.uri
    }
}
impl ListItem for Group {
    fn uri(&self) -> &str {
        &self.uri
    }
}
impl ListItem for GroupRelationship {
    fn uri(&self) -> &str {
        &self.uri
    }
}
impl ListItem for serde_json::Value {
    fn uri(&self) -> &str {
        self.get("uri").and_then(serde_json::Value::as_str).unwrap_or("")
    }
}
