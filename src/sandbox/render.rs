//! Records → wire types (src/api/wire.rs), so the client and the sandbox agree on every field.

use super::state::{GroupRec, InviteRec, JobRec, MappingRec, MemberRec, OrgState, OwnerRef, RelRec, Uris, UserRec};
use crate::service::calendly::wire;

pub fn scheduling_url(slug: &str) -> String {
    format!("https://calendly.com/{slug}")
}

pub fn user(r: &UserRec, u: Uris<'_>, current_org: bool) -> wire::User {
    wire::User {
        uri: u.user(&r.uuid),
        name: r.name.clone(),
        slug: r.slug.clone(),
        email: r.email.clone(),
        scheduling_url: scheduling_url(&r.slug),
        timezone: r.timezone.clone(),
        avatar_url: r.avatar_url.clone(),
        locale: r.locale.clone(),
        created_at: r.created_at.clone(),
        updated_at: r.updated_at.clone(),
        current_organization: current_org.then(|| u.org()),
        resource_type: current_org.then(|| "User".to_owned()),
    }
}

pub fn membership(r: &MemberRec, u: Uris<'_>) -> wire::Membership {
    wire::Membership {
        uri: u.membership(&r.uuid),
        role: r.role.clone(),
        organization: u.org(),
        created_at: r.created_at.clone(),
        updated_at: r.updated_at.clone(),
        user: user(&r.user, u, false),
    }
}

pub fn invitation(r: &InviteRec, u: Uris<'_>) -> wire::Invitation {
    wire::Invitation {
        uri: u.invitation(&r.uuid),
        organization: u.org(),
        email: r.email.clone(),
        status: r.status.clone(),
        created_at: r.created_at.clone(),
        updated_at: r.updated_at.clone(),
        last_sent_at: r.last_sent_at.clone(),
        user: r.user.as_ref().map(|id| u.user(id)),
    }
}

pub fn group(r: &GroupRec, u: Uris<'_>, member_count: u32) -> wire::Group {
    wire::Group {
        uri: u.group(&r.uuid),
        name: r.name.clone(),
        organization: u.org(),
        created_at: r.created_at.clone(),
        updated_at: r.updated_at.clone(),
        member_count: Some(member_count),
    }
}

/// None only if the owner record is gone (never in the sandbox: records are not deleted).
pub fn relationship(r: &RelRec, st: &OrgState, u: Uris<'_>) -> Option<wire::GroupRelationship> {
    let owner = match &r.owner {
        OwnerRef::Membership(id) => {
            wire::RelationshipOwner::OrganizationMembership(Box::new(membership(st.member(id)?, u)))
        }
        OwnerRef::Invitation(id) => wire::RelationshipOwner::OrganizationInvitation(invitation(st.invitation(id)?, u)),
    };
    Some(wire::GroupRelationship {
        uri: u.relationship(&r.uuid),
        role: r.role.as_str().to_owned(),
        organization: u.org(),
        group: u.group(&r.group),
        created_at: r.created_at.clone(),
        updated_at: r.updated_at.clone(),
        owner,
    })
}

pub fn mapping(r: &MappingRec, u: Uris<'_>) -> wire::GroupMapping {
    wire::GroupMapping {
        uri: u.mapping(),
        organization: u.org(),
        enabled: r.enabled,
        rows: r
            .rows
            .iter()
            .map(|row| wire::MappingRow { idp_value: row.idp_value.clone(), group: u.group(&row.group) })
            .collect(),
        default_group: r.default_group.as_ref().map(|g| u.group(g)),
        version: r.version,
        updated_at: r.updated_at.clone(),
        updated_by: r.updated_by.as_ref().map(|id| u.user(id)),
    }
}

pub fn job(r: &JobRec, u: Uris<'_>) -> wire::Job {
    wire::Job {
        uri: u.job(&r.uuid),
        status: r.status.clone(),
        total: r.total,
        completed: r.completed,
        failed: r.failed,
        errors: r
            .errors
            .iter()
            .map(|(owner, message)| wire::JobError { owner: u.owner(owner), message: message.clone() })
            .collect(),
        created_at: r.created_at.clone(),
        updated_at: r.updated_at.clone(),
    }
}
