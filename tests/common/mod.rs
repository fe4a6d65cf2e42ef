//! The fixture organization shared by the editor's tests.
#![allow(dead_code)]

pub mod fuzz;
pub mod idp;
pub mod tmux;

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use groupmap::app::model::Phase;
use groupmap::app::{Effect, Model, Msg, update};
use groupmap::domain::{Export, FieldChoice, Group, Mapping, OwnerKind, Person, Row, SavedMapping, Target};
use groupmap::engine::Organization;
use groupmap::service::{Capabilities, Directory};

pub const B: &str = "https://api.example.test";

pub fn g(id: &str) -> String {
    format!("{B}/groups/{id}")
}

pub fn loaded(version: u64, rows: &[(&str, &str)]) -> Arc<Organization> {
    let groups = [("G1", "Sales EMEA"), ("G2", "Engineering"), ("G3", "Everyone")]
        .iter()
        .map(|(id, n)| Group { uri: g(id), name: (*n).into(), member_count: None })
        .collect();
    let people = (0..6)
        .map(|i| Person {
            kind: if i == 5 { OwnerKind::Invitee } else { OwnerKind::Member },
            uri: format!("{B}/organization_memberships/M{i}"),
            name: format!("User {i}"),
            email: format!("u{i}@x.test"),
            group: if i == 0 { Some(g("G2")) } else { None },
        })
        .collect();
    let csv = "Name,Login email,Identity Provider Group\nU0,u0@x.test,Sales EMEA\nU1,u1@x.test,Sales EMEA\nU2,u2@x.test,Engineering\nU3,u3@x.test,sales emea\nU4,u4@x.test,\n,u5@x.test,Engineering\n";
    let mapping = Mapping {
        enabled: true,
        rows: rows.iter().map(|(v, id)| Row { idp_value: (*v).into(), target: Target::Group(g(id)) }).collect(),
        default_group: None,
        apply_to_existing: true,
    };
    let directory = Directory {
        base_url: B.into(),
        organization: format!("{B}/organizations/ORG"),
        groups,
        people,
        table: Some(SavedMapping { mapping, version, updated_at: None, updated_by: None }),
        capabilities: Capabilities { save_table: true, create_groups: true, move_members: true, revision: true },
        revision: Some(format!("\"{version}\"")),
        membership_conflicts: Vec::new(),
    };
    Arc::new(Organization { directory, exports: vec![Export::parse("active.csv", csv.as_bytes()).unwrap()], idp: None })
}

pub fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

pub fn code(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

/// A model that has loaded the fixture organization (saved: Engineering → G2).
pub fn ready() -> Model {
    let mut m = Model::new(true, FieldChoice::default());
    let effects = groupmap::app::update::start_load(&mut m);
    let Effect::Load { id } = effects[0] else { panic!("load first") };
    let effects = update(&mut m, Msg::Loaded { id, result: Ok(loaded(3, &[("Engineering", "G2")])) });
    assert!(matches!(&effects[..], [Effect::ReadDrafts { .. }]));
    assert_eq!(m.phase, Phase::Ready);
    m
}
