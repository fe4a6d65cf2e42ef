//! Values read from an identity provider beside Calendly's own record of them: who the IdP has
//! that Calendly has not provisioned yet, and whose value changed in the IdP but has not reached
//! Calendly yet (pending sync). Pure: the tables are read elsewhere.

use super::export::{Export, ExportError, FieldChoice};
use super::people::{People, join_values};
use super::snapshot::{Group, SavedMapping, Snapshot};

/// Which value the plan uses for a person the two sources disagree on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValuesFrom {
    /// Calendly's recorded value: who moves when the table is saved.
    #[default]
    Calendly,
    /// The IdP's value: where everyone lands after the next sync.
    Idp,
}

/// Someone the IdP has (assigned to the Calendly app, or a user) whom Calendly lists neither as
/// a member nor as a pending invitee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotProvisioned {
    pub email: String,
    pub value: String,
}

/// A person whose value in the IdP differs from Calendly's record of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingSync {
    /// The membership or invitation URI.
    pub owner: String,
    pub email: String,
    pub idp: String,
    /// None: Calendly's record has no value for them.
    pub calendly: Option<String>,
}

/// What the snapshot knows of the identity provider it was joined with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdpView {
    /// `Okta acme.okta.com`.
    pub provider: String,
    /// The attribute the values come from.
    pub attribute: String,
    pub values_from: ValuesFrom,
    /// Calendly's record was read too (the export), so pending sync is known.
    pub recorded: bool,
    pub not_provisioned: Vec<NotProvisioned>,
    pub pending_sync: Vec<PendingSync>,
}

/// The tables to join: the IdP's, and Calendly's record when there is one.
pub struct Tables<'a> {
    pub provider: &'a str,
    pub idp: &'a [Export],
    pub idp_fields: &'a FieldChoice,
    pub recorded: Option<&'a [Export]>,
    pub record_fields: &'a FieldChoice,
    pub values_from: ValuesFrom,
}

/// Joins the people with the IdP's values (and Calendly's record), by email.
pub fn snapshot(
    base_url: &str,
    organization: &str,
    groups: Vec<Group>,
    people: &People,
    saved: Option<SavedMapping>,
    t: &Tables<'_>,
) -> Result<Snapshot, ExportError> {
    let mut attribute = String::new();
    for e in t.idp {
        // An attribute asked for by name is that one: never another detected in its place.
        let asked = t.idp_fields.idp_value.as_deref().filter(|a| e.named(a).is_none());
        match e.columns(t.idp_fields) {
            Ok((_, c)) if asked.is_none() => attribute = e.headers[c].clone(),
            Ok(_) | Err(ExportError::MissingColumn { .. }) => {
                let wanted = t.idp_fields.idp_value.clone().unwrap_or_else(|| "department".to_owned());
                let mut found: Vec<&str> = e.headers.iter().map(String::as_str).collect();
                found.sort_unstable_by_key(|h| h.to_lowercase());
                return Err(ExportError::MissingAttribute { table: e.file.clone(), wanted, found: found.join(", ") });
            }
            Err(other) => return Err(other),
        }
    }
    if let Some(rec) = t.recorded {
        for e in rec {
            e.columns(t.record_fields)?;
        }
    }
    let from_idp = join_values(people, t.idp, t.idp_fields);
    let not_provisioned =
        from_idp.stale.iter().map(|r| NotProvisioned { email: r.email.clone(), value: r.value.clone() }).collect();
    let mut conflicting = from_idp.conflicting;
    let mut stale = Vec::new();
    let mut pending_sync = Vec::new();
    let mut values = from_idp.values;
    if let Some(rec) = t.recorded {
        let recorded = join_values(people, rec, t.record_fields);
        stale = recorded.stale;
        conflicting.extend(recorded.conflicting);
        for ((v, r), p) in values.iter_mut().zip(recorded.values).zip(people.iter()) {
            if let Some(idp) = *v
                && idp != r.unwrap_or("")
            {
                pending_sync.push(PendingSync {
                    owner: p.uri.to_string(),
                    email: p.email.to_string(),
                    idp: idp.to_owned(),
                    calendly: r.filter(|v| !v.is_empty()).map(str::to_owned),
                });
            }
            *v = match t.values_from {
                ValuesFrom::Calendly => r,
                // Someone the IdP does not have keeps Calendly's value: no sync will change it.
                ValuesFrom::Idp => v.or(r),
            };
        }
    }
    let mut snap = Snapshot::with_values(base_url, organization, groups, people.clone(), |i| values[i], saved);
    snap.stale_rows = stale;
    snap.conflicting_rows = conflicting;
    snap.idp = Some(IdpView {
        provider: t.provider.to_owned(),
        attribute,
        values_from: t.values_from,
        recorded: t.recorded.is_some(),
        not_provisioned,
        pending_sync,
    });
    Ok(snap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{OwnerKind, Person};

    fn person(email: &str) -> Person {
        Person {
            kind: OwnerKind::Member,
            uri: format!("m/{email}").into(),
            name: email.into(),
            email: email.into(),
            group: None,
        }
    }

    fn export(name: &str, csv: &str) -> Export {
        Export::parse(name, csv.as_bytes()).unwrap()
    }

    #[test]
    fn pending_sync_and_not_provisioned_follow_the_chosen_values() {
        let people = [person("ana@x"), person("bo@x"), person("cy@x")];
        let idp = [export("okta", "userName,department\nANA@x,Sales \nbo@x,Ops\nnew@x,Sales\n")];
        let rec = [export("active.csv", "Login email,Identity Provider Group\nana@x,Sales\nbo@x,Ops\ncy@x,Legal\n")];
        let idp_fields = FieldChoice {
            email: Some("userName".into()),
            idp_value: Some("department".into()),
            ..FieldChoice::default()
        };
        let mut t = Tables {
            provider: "Okta o.test",
            idp: &idp,
            idp_fields: &idp_fields,
            recorded: Some(&rec),
            record_fields: &FieldChoice::default(),
            values_from: ValuesFrom::Calendly,
        };
        let snap = snapshot("b", "o", Vec::new(), &std::sync::Arc::new(people.to_vec()), None, &t).unwrap();
        let view = snap.idp.as_ref().unwrap();
        assert_eq!(view.attribute, "department");
        assert_eq!(view.not_provisioned, [NotProvisioned { email: "new@x".into(), value: "Sales".into() }]);
        assert_eq!(view.pending_sync.len(), 1, "a trailing space differs: {:?}", view.pending_sync);
        assert_eq!(
            (view.pending_sync[0].idp.as_str(), view.pending_sync[0].calendly.as_deref()),
            ("Sales ", Some("Sales"))
        );
        let value =
            |s: &Snapshot, i: usize| s.owner(crate::domain::OwnerId(i as u32)).value.map(|v| s.value(v).to_owned());
        assert_eq!(value(&snap, 0).as_deref(), Some("Sales"));
        assert_eq!(value(&snap, 2).as_deref(), Some("Legal"), "Calendly's record counts for someone the IdP lacks");
        t.values_from = ValuesFrom::Idp;
        let snap = snapshot("b", "o", Vec::new(), &std::sync::Arc::new(people.to_vec()), None, &t).unwrap();
        assert_eq!(value(&snap, 0).as_deref(), Some("Sales "));
        assert_eq!(value(&snap, 2).as_deref(), Some("Legal"));
    }

    #[test]
    fn a_missing_attribute_lists_the_attributes_seen() {
        let idp = [export("Okta o.test", "userName,title,department\na@x,Eng,Sales\n")];
        let f = FieldChoice {
            email: Some("userName".into()),
            idp_value: Some("costCenter".into()),
            ..FieldChoice::default()
        };
        let t = Tables {
            provider: "Okta o.test",
            idp: &idp,
            idp_fields: &f,
            recorded: None,
            record_fields: &FieldChoice::default(),
            values_from: ValuesFrom::Calendly,
        };
        let err = snapshot("b", "o", Vec::new(), &People::default(), None, &t).unwrap_err().to_string();
        assert!(err.starts_with("Okta o.test: no user has the attribute \"costCenter\""), "{err}");
        assert!(err.contains("attributes seen: department, title, userName"), "{err}");
    }
}
