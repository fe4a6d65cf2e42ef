//! What the plan says of an identity provider's values: the source, who is pending sync and
//! who is not provisioned yet, for a person (sections of `groupmap plan` and the preview) and
//! for a program (`plan --json`).

use serde_json::{Value, json};

use super::{LineKind, PreviewLine};
use crate::domain::sync::{IdpView, ValuesFrom};
use crate::domain::text::{quoted, sanitize};
use crate::domain::{Mapping, Snapshot};

/// Where a value lands under the mapping: its row's group, else the default group.
fn lands(snap: &Snapshot, mapping: &Mapping, value: &str) -> String {
    if !mapping.enabled || value.is_empty() {
        return "stays unplaced".to_owned();
    }
    match mapping.rows.iter().find(|r| r.idp_value == value).map(|r| &r.target).or(mapping.default_group.as_ref()) {
        Some(t) => format!("→ {}", quoted(snap.target_name(t))),
        None => "unmapped".to_owned(),
    }
}

fn uses(view: &IdpView) -> &'static str {
    match view.values_from {
        ValuesFrom::Calendly => {
            "Calendly's recorded value (who moves when the table is saved; --values idp plans with the IdP's)"
        }
        ValuesFrom::Idp => {
            "the IdP's value (where everyone lands after the next sync; --values calendly plans with Calendly's)"
        }
    }
}

/// The source line and the two sections, empty for Calendly's own export.
pub fn lines(snap: &Snapshot, mapping: &Mapping) -> Vec<PreviewLine> {
    let Some(view) = &snap.idp else { return Vec::new() };
    let mut out = vec![PreviewLine::new(
        LineKind::Heading,
        format!("Values: {} · attribute {}", sanitize(&view.provider), quoted(&view.attribute)),
    )];
    if !view.recorded {
        out.push(PreviewLine::new(
            LineKind::Heading,
            "Pending sync: not known (Calendly's record of the values was not read; pass its user export with --users-csv)",
        ));
    } else if view.pending_sync.is_empty() {
        out.push(PreviewLine::new(LineKind::Heading, "Pending sync: none (Calendly's record agrees with the IdP)"));
    } else {
        out.push(PreviewLine::blank());
        out.push(PreviewLine::new(
            LineKind::Heading,
            format!(
                "Pending sync: {} (the value changed in the IdP and has not reached Calendly yet); the plan uses {}:",
                view.pending_sync.len(),
                uses(view)
            ),
        ));
        for p in &view.pending_sync {
            let recorded = p.calendly.as_deref().map_or_else(|| "(none)".to_owned(), quoted);
            out.push(PreviewLine::new(
                LineKind::Plain,
                format!("    {}  Calendly {recorded} → IdP {}", sanitize(&p.email), quoted(&p.idp)),
            ));
        }
    }
    if !view.not_provisioned.is_empty() {
        out.push(PreviewLine::blank());
        out.push(PreviewLine::new(
            LineKind::Heading,
            format!(
                "Not provisioned yet: {} (in the IdP, not in Calendly; placed by the table when they arrive):",
                view.not_provisioned.len()
            ),
        ));
        for n in &view.not_provisioned {
            out.push(PreviewLine::new(
                LineKind::Plain,
                format!("    {}  {} {}", sanitize(&n.email), quoted(&n.value), lands(snap, mapping, &n.value)),
            ));
        }
    }
    out
}

/// `values_source`, `not_provisioned` and `pending_sync` for `plan --json` (null and empty
/// lists for Calendly's own export).
pub fn add_json(snap: &Snapshot, out: &mut Value) {
    let Some(obj) = out.as_object_mut() else { return };
    let view = snap.idp.as_ref();
    obj.insert(
        "values_source".into(),
        view.map_or(Value::Null, |v| {
            json!({"provider": v.provider, "attribute": v.attribute, "values_from": v.values_from, "recorded": v.recorded})
        }),
    );
    let not_provisioned: Vec<Value> = view
        .map(|v| v.not_provisioned.iter().map(|n| json!({"email": n.email, "idp_value": n.value})).collect())
        .unwrap_or_default();
    let pending: Vec<Value> = view
        .map(|v| {
            v.pending_sync
                .iter()
                .map(|p| {
                    let used = match v.values_from {
                        ValuesFrom::Calendly => p.calendly.clone(),
                        ValuesFrom::Idp => Some(p.idp.clone()),
                    };
                    json!({"owner": p.owner, "email": p.email, "idp_value": p.idp, "calendly_value": p.calendly,
                           "plan_uses": used})
                })
                .collect()
        })
        .unwrap_or_default();
    obj.insert("not_provisioned".into(), Value::Array(not_provisioned));
    obj.insert("pending_sync".into(), Value::Array(pending));
}
