//! The editor's start from the table inferred from where users already are, when there is no
//! table to start from (no saved table, no table of record).

use super::recompute;
use crate::app::model::Model;

/// Starts from the inferred table: its rows are one edit on the empty table (so `u` takes them
/// back out), not written as a draft (it is derived, and nothing of the admin's yet). Says so,
/// unless something else is being said (a mapping file that could not be used).
pub(super) fn start(m: &mut Model) {
    let Some(inference) = m.inference().cloned() else { return };
    let mut table = inference.mapping(m.snap());
    let left = inference.undecided().count();
    if table.rows.is_empty() {
        m.status.get_or_insert((
            format!(
                "no table to start from, and no value's users are all in one group: {left} value(s) to map \
                 (select one to see where its users are)"
            ),
            false,
        ));
        return;
    }
    table.apply_to_existing = m.mapping.apply_to_existing;
    let rows = table.rows.len();
    m.undo.push(m.version());
    m.redo.clear();
    m.mapping = table;
    m.inferred_start = true;
    recompute(m);
    m.status.get_or_insert((
        format!("inferred {rows} row(s) that move nobody; {left} value(s) left: select one to see its split"),
        false,
    ));
}

/// On fresh data, an untouched inferred table is inferred again from where users are now
/// (instead of keeping rows inferred from the older data), or, when there is a table to start
/// from now (recorded meanwhile), given up for it. The status to say, or None when the table on
/// screen is not the inferred one.
pub(super) fn again(m: &mut Model) -> Option<&'static str> {
    if !m.inferred_start {
        return None;
    }
    let said = match m.inference().cloned() {
        Some(inference) => {
            let mut table = inference.mapping(m.snap());
            table.apply_to_existing = m.mapping.apply_to_existing;
            m.mapping = table;
            "reloaded; the table inferred again from where users are now"
        }
        None => {
            // Nothing of the admin's was on it: nothing to undo back to either.
            m.inferred_start = false;
            m.mapping = m.base();
            m.undo.clear();
            m.redo.clear();
            "reloaded; there is a table to start from now, so the inferred one is set aside"
        }
    };
    recompute(m);
    Some(said)
}
