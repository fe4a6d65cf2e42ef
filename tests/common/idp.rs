//! What the identity-provider tests share: short patience, an environment of the test's own,
//! a load with a provider as the source, and people whose values differ only by case, spaces
//! or script between Calendly's record and the provider.

use std::time::Duration;

use groupmap::domain::FieldChoice;
use groupmap::engine::{Engine, LoadOptions, Organization};
use groupmap::idp::http::HttpOptions;
use groupmap::idp::{IdpLoad, Settings};
use groupmap::sandbox::{NewPerson, Sandbox};
use groupmap::service::calendly::{Client, Secret};

pub fn quick(page_size: u32) -> HttpOptions {
    HttpOptions {
        page_size,
        backoff_base: Duration::from_millis(1),
        backoff_cap: Duration::from_millis(5),
        ..HttpOptions::default()
    }
}

/// An environment holding only these variables.
pub fn env(vars: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> {
    move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
}

/// The organization loaded with the provider as the source and the export endpoint as
/// Calendly's record.
pub async fn load(sb: &Sandbox, s: &Settings, env: &dyn Fn(&str) -> Option<String>) -> Organization {
    let idp = groupmap::idp::open(s, env).unwrap().unwrap();
    let opts = LoadOptions {
        fields: idp.fields.clone(),
        idp: Some(IdpLoad { idp, values_from: s.values_from, record_fields: FieldChoice::default() }),
        ..LoadOptions::default()
    };
    let client = Client::new(sb.base_url(), Secret::new(sb.token())).unwrap();
    Engine::calendly(client, &opts).load(None).await.expect("load")
}

/// (email, Calendly's recorded value, the provider's value).
pub const NEAR: [(&str, &str, &str); 5] = [
    ("same@northwind.example", "Ingeniería", "Ingeniería"),
    ("case@northwind.example", "Sales EMEA", "sales emea"),
    ("space@northwind.example", "Sales EMEA", "Sales EMEA "),
    ("nbsp@northwind.example", "Sales EMEA", "Sales\u{a0}EMEA"),
    ("kana@northwind.example", "営業", "営業 東京"),
];

/// Adds the `NEAR` people to Calendly with their recorded values.
pub fn add_near_people(sb: &Sandbox) {
    for (email, recorded, _) in NEAR {
        sb.add_person(NewPerson { name: "T User", email, idp_value: Some(recorded), ..NewPerson::default() });
    }
}

/// The `NEAR` people are pending sync (all but the first) with both values kept exactly, and
/// `arrives` is not provisioned with `value`.
pub fn assert_near_people(org: &Organization, arrives: &str, value: &str) {
    let snap = org
        .snapshot(&FieldChoice { email: Some("userName".into()), idp_value: None, ..FieldChoice::default() })
        .unwrap();
    let view = snap.idp.clone().unwrap();
    assert_eq!(view.attribute, "department");
    assert!(view.recorded);
    let pending = |email: &str| view.pending_sync.iter().find(|p| p.email == email);
    assert!(pending(NEAR[0].0).is_none(), "equal values are in sync");
    for (email, recorded, in_idp) in &NEAR[1..] {
        let p = pending(email).unwrap_or_else(|| panic!("{email} pending: {:?}", view.pending_sync));
        assert_eq!((p.calendly.as_deref(), p.idp.as_str()), (Some(*recorded), *in_idp));
    }
    assert!(view.not_provisioned.iter().any(|n| n.email == arrives && n.value == value), "{:?}", view.not_provisioned);
}
