//! The fixture organization shared by the editor's tests.
#![allow(dead_code)]

pub mod fuzz;
pub mod idp;
pub mod inferred;
pub mod tmux;

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use groupmap::app::model::Phase;
use groupmap::app::{Effect, Model, Msg, update};
use groupmap::domain::{
    Export, FieldChoice, Group, Mapping, OwnerKind, Person, Row, SavedMapping, TableOrigin, Target,
};
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
            uri: format!("{B}/organization_memberships/M{i}").into(),
            name: format!("User {i}").into(),
            email: format!("u{i}@x.test").into(),
            group: if i == 0 { Some(g("G2").into()) } else { None },
        })
        .collect::<Vec<_>>()
        .into();
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
        table: Some(SavedMapping {
            mapping,
            version,
            updated_at: None,
            updated_by: None,
            origin: TableOrigin::Service,
        }),
        capabilities: Capabilities { save_table: true, create_groups: true, move_members: true, revision: true },
        revision: Some(format!("\"{version}\"")),
        membership_conflicts: Vec::new(),
    };
    Arc::new(Organization::new(directory, vec![Export::parse("active.csv", csv.as_bytes()).unwrap()]))
}

/// The fixture organization on a read-only service (no table of its own), with a table of
/// record (Engineering → G2) recorded 2026-12-02 14:05 UTC.
pub fn loaded_recorded() -> Arc<Organization> {
    let saved = loaded(3, &[("Engineering", "G2")]);
    let mut org = Organization::clone(&saved);
    let recorded = org.directory.table.take().unwrap().mapping;
    org.directory.capabilities = Capabilities::READ_ONLY;
    org.directory.revision = None;
    let path = std::path::PathBuf::from("/home/admin/.local/state/groupmap/recorded/ORG/2026-12-02T140500Z.toml");
    org.recorded = Some(SavedMapping::recorded(recorded, time::macros::datetime!(2026-12-02 14:05:00 UTC), path));
    Arc::new(org)
}

/// A model that has loaded `org`.
pub fn ready_with(org: Arc<Organization>) -> Model {
    let mut m = Model::new(false, FieldChoice::default());
    let effects = groupmap::app::update::start_load(&mut m);
    let Effect::Load { id } = effects[0] else { panic!("load first") };
    update(&mut m, Msg::Loaded { id, result: Ok(org) });
    assert_eq!(m.phase, Phase::Ready);
    m
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

/// The hand-off's organization: like `loaded`, on a read-only service (no table to show, as
/// Calendly's API), with values that hide spaces. `moved`: u0 and u1 are in Sales EMEA and a
/// group Marketing exists holding u2 (as after the table was entered in the admin center).
pub fn read_only_loaded(moved: bool) -> Arc<Organization> {
    let mut org = (*loaded(0, &[])).clone();
    let d = &mut org.directory;
    d.table = None;
    d.capabilities = Capabilities::READ_ONLY;
    d.revision = None;
    if moved {
        d.groups.push(Group { uri: g("G4"), name: "Marketing".into(), member_count: None });
        std::sync::Arc::make_mut(&mut d.people)[0].group = Some(g("G1").into());
        std::sync::Arc::make_mut(&mut d.people)[1].group = Some(g("G1").into());
        std::sync::Arc::make_mut(&mut d.people)[2].group = Some(g("G4").into());
    }
    let csv = "Name,Login email,Identity Provider Group\nU0,u0@x.test,Sales EMEA\nU1,u1@x.test,Sales EMEA\nU2,u2@x.test,Marketing \nU3,u3@x.test,Ops\u{a0}\nU4,u4@x.test,\n,u5@x.test,Engineering\n";
    org.exports = vec![Export::parse("active.csv", csv.as_bytes()).unwrap()];
    Arc::new(org)
}

/// The hand-off's table, as a mapping file given with `--mapping`.
pub const HANDOFF_TABLE: &str = "enabled = true\ndefault_group = \"Everyone\"\n\n[[rows]]\nidp_value = \"Sales EMEA\"\ngroup = \"Sales EMEA\"\n\n[[rows]]\nidp_value = \"Marketing \"\ngroup = \"Marketing\"\n\n[[rows]]\nidp_value = \"Ops\u{a0}\"\ngroup = \"Engineering\"\n";

/// A model on the read-only organization, started from `HANDOFF_TABLE`.
pub fn read_only_ready() -> Model {
    let mut m = Model::new(false, FieldChoice::default());
    // As the runtime sets it from the store.
    m.handoff_dir = Some("~/.local/state/groupmap/handoff".into());
    m.start_mapping = Some(groupmap::domain::mapping_file::MappingFile::parse("m.toml", HANDOFF_TABLE).unwrap());
    let effects = groupmap::app::update::start_load(&mut m);
    let Effect::Load { id } = effects[0] else { panic!("load first") };
    let effects = update(&mut m, Msg::Loaded { id, result: Ok(read_only_loaded(false)) });
    assert!(matches!(&effects[..], [Effect::WriteDraft { .. }, ..]), "{effects:?}");
    assert_eq!(m.phase, Phase::Ready);
    assert_eq!(m.mapping.rows.len(), 3);
    m
}
