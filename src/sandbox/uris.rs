//! Resource URIs on one base URL, made per request from bare UUIDs (a state file survives a
//! restart on another port).

use serde::{Deserialize, Serialize};

/// Who a group relationship belongs to: a membership or a pending invitation, by UUID.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "uuid", rename_all = "snake_case")]
pub enum OwnerRef {
    Membership(String),
    Invitation(String),
}

/// Builds resource URIs on one base URL.
#[derive(Clone, Copy)]
pub struct Uris<'a> {
    pub base: &'a str,
    pub org: &'a str,
}

impl Uris<'_> {
    pub fn org(&self) -> String {
        format!("{}/organizations/{}", self.base, self.org)
    }
    pub fn user(&self, uuid: &str) -> String {
        format!("{}/users/{uuid}", self.base)
    }
    pub fn membership(&self, uuid: &str) -> String {
        format!("{}/organization_memberships/{uuid}", self.base)
    }
    pub fn invitation(&self, uuid: &str) -> String {
        format!("{}/organizations/{}/invitations/{uuid}", self.base, self.org)
    }
    pub fn group(&self, uuid: &str) -> String {
        format!("{}/groups/{uuid}", self.base)
    }
    pub fn relationship(&self, uuid: &str) -> String {
        format!("{}/group_relationships/{uuid}", self.base)
    }
    pub fn job(&self, uuid: &str) -> String {
        format!("{}/group_mapping_jobs/{uuid}", self.base)
    }
    pub fn mapping(&self) -> String {
        format!("{}/group_mapping", self.org())
    }
    pub fn owner(&self, owner: &OwnerRef) -> String {
        match owner {
            OwnerRef::Membership(u) => self.membership(u),
            OwnerRef::Invitation(u) => self.invitation(u),
        }
    }
    /// The UUID of `{base}/{kind}/{uuid}`, if `uri` has that shape.
    pub fn parse<'u>(&self, kind: &str, uri: &'u str) -> Option<&'u str> {
        let rest = uri.strip_prefix(self.base)?.strip_prefix('/')?.strip_prefix(kind)?;
        let uuid = rest.strip_prefix('/')?.trim_end_matches('/');
        (!uuid.is_empty() && !uuid.contains('/')).then_some(uuid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_parse_back_only_their_own_shape() {
        let u = Uris { base: "http://127.0.0.1:9", org: "O" };
        assert_eq!(u.parse("groups", &u.group("G1")), Some("G1"));
        assert_eq!(u.parse("groups", "http://127.0.0.1:9/groups/"), None);
        assert_eq!(u.parse("groups", "http://other/groups/G1"), None);
        assert_eq!(u.parse("organizations", &u.org()), Some("O"));
        assert_eq!(u.parse("organizations", &u.mapping()), None);
    }
}
