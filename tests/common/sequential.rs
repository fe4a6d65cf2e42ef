//! The reference load: every list fetched one after another, decoded into the full wire types.
//! Slower; the concurrent loader is tested and benchmarked against it.

use groupmap::domain::people::MembershipConflict;
use groupmap::domain::{Group, OwnerKind, Person};
use groupmap::engine::{LoadOptions, Organization};
use groupmap::service::calendly::Client;
use groupmap::service::calendly::load::{fetch_mapping, organization_of, table_of};
use groupmap::service::calendly::wire::{self, GroupRelationship, Invitation, Membership};
use groupmap::service::{Directory, LoadError};

pub async fn load_sequential(client: &Client, opts: &LoadOptions) -> Result<Organization, LoadError> {
    let organization = organization_of(client, opts.organization.as_deref()).await?;
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
    let exports = groupmap::idp::from_options(&opts.users_csv, client).read(org).await?;
    // Every member group of each owner, sorted: the first is the one taken.
    let mut member_groups: std::collections::HashMap<&str, std::collections::BTreeSet<&str>> = Default::default();
    for r in relationships.iter().filter(|r| r.role == "member") {
        member_groups.entry(r.owner.uri()).or_default().insert(r.group.as_str());
    }
    let group_of = |uri: &str| member_groups.get(uri).and_then(|g| g.first()).map(|g| (*g).to_owned());
    let mut people = Vec::with_capacity(members.len() + invitees.len());
    for m in &members {
        people.push(Person {
            kind: OwnerKind::Member,
            uri: m.uri.clone().into(),
            name: m.user.name.clone().into(),
            email: m.user.email.clone().into(),
            group: group_of(&m.uri).map(Into::into),
        });
    }
    for i in invitees.iter().filter(|i| i.status.is_empty() || i.status == "pending") {
        people.push(Person {
            kind: OwnerKind::Invitee,
            uri: i.uri.clone().into(),
            name: Box::default(),
            email: i.email.clone().into(),
            group: group_of(&i.uri).map(Into::into),
        });
    }
    let groups = groups.into_iter().map(|g| Group { uri: g.uri, name: g.name, member_count: g.member_count }).collect();
    let (table, revision, capabilities) = table_of(mapping);
    let mut membership_conflicts: Vec<MembershipConflict> = people
        .iter()
        .filter_map(|p: &Person| {
            let groups = member_groups.get(&*p.uri).filter(|g| g.len() > 1)?;
            let groups = groups.iter().map(|g| (*g).to_owned()).collect();
            Some(MembershipConflict { owner: p.uri.to_string(), email: p.email.to_string(), groups })
        })
        .collect();
    membership_conflicts.sort_by(|a, b| (&a.email, &a.owner).cmp(&(&b.email, &b.owner)));
    let directory = Directory {
        base_url: client.base_url().to_owned(),
        organization,
        groups,
        people: people.into(),
        table,
        revision,
        capabilities,
        membership_conflicts,
    };
    Ok(Organization::new(directory, exports))
}
