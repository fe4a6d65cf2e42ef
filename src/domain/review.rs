//! The plan with its findings: what every front-end shows before a save.

use super::lint::lint;
use super::mapping::Mapping;
use super::plan::{Plan, impact};
use super::snapshot::Snapshot;

/// Who moves where (the normative semantics) and what the mapping gets wrong.
pub fn plan(snap: &Snapshot, mapping: &Mapping) -> Plan {
    let mut p = impact(snap, mapping);
    p.lint = lint(snap, mapping, &p);
    p
}
