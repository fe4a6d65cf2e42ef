//! An organization on a read-only service (no saved table), for the editor's inferred start.

use std::sync::Arc;

use groupmap::app::model::Phase;
use groupmap::app::{Effect, Model, Msg, update};
use groupmap::domain::{Export, FieldChoice, Group, OwnerKind, Person};
use groupmap::engine::Organization;
use groupmap::service::{Capabilities, Directory};

use super::{B, g};

/// Sales EMEA: 3 users, all in Sales EMEA (one a pending invitee); sales emea: 1, in Sales EMEA;
/// Sales NA: 2 in Sales NA and 1 in no group (in Sales NA too with `settled`); Contractors: 2 in
/// no group; one user with no value, in Everyone.
pub fn loaded_read_only(settled: bool) -> Arc<Organization> {
    let groups = [("G1", "Sales EMEA"), ("G2", "Sales NA"), ("G3", "Everyone")]
        .iter()
        .map(|(id, n)| Group { uri: g(id), name: (*n).into(), member_count: None })
        .collect();
    let people: &[(&str, Option<&str>, &str)] = &[
        ("u0", Some("G1"), "Sales EMEA"),
        ("u1", Some("G1"), "Sales EMEA"),
        ("i2", Some("G1"), "Sales EMEA"),
        ("u3", Some("G1"), "sales emea"),
        ("u4", Some("G2"), "Sales NA"),
        ("u5", Some("G2"), "Sales NA"),
        ("u6", if settled { Some("G2") } else { None }, "Sales NA"),
        ("u7", None, "Contractors"),
        ("i8", None, "Contractors"),
        ("u9", Some("G3"), ""),
    ];
    let mut csv = String::from("Name,Login email,Role,Calendly link,Identity Provider Group,Group\n");
    let people = people
        .iter()
        .map(|(id, group, value)| {
            let invitee = id.starts_with('i');
            csv.push_str(&format!("User {id},{id}@x.test,user,,{value},\n"));
            Person {
                kind: if invitee { OwnerKind::Invitee } else { OwnerKind::Member },
                uri: if invitee {
                    format!("{B}/organizations/ORG/invitations/{id}").into()
                } else {
                    format!("{B}/organization_memberships/{id}").into()
                },
                name: format!("User {id}").into(),
                email: format!("{id}@x.test").into(),
                group: group.map(|id| g(id).into()),
            }
        })
        .collect::<Vec<_>>()
        .into();
    let directory = Directory {
        base_url: B.into(),
        organization: format!("{B}/organizations/ORG"),
        groups,
        people,
        table: None,
        capabilities: Capabilities::READ_ONLY,
        revision: None,
        membership_conflicts: Vec::new(),
    };
    Arc::new(Organization::new(directory, vec![Export::parse("active.csv", csv.as_bytes()).unwrap()]))
}

/// A model that has loaded the read-only organization, with the effects the load asked for.
pub fn ready_read_only() -> (Model, Vec<Effect>) {
    let mut m = Model::new(false, FieldChoice::default());
    let effects = groupmap::app::update::start_load(&mut m);
    let Effect::Load { id } = effects[0] else { panic!("load first") };
    let effects = update(&mut m, Msg::Loaded { id, result: Ok(loaded_read_only(false)) });
    assert_eq!(m.phase, Phase::Ready);
    (m, effects)
}
