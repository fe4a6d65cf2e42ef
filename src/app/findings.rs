//! Findings the admin can act on: which values the values pane lists (all, the unmapped ones,
//! those with findings), the findings about each value, and what each finding asks of the admin.

use std::collections::HashMap;

use super::keymap::{Action, binding};
use super::model::Model;
use crate::domain::lint::{Finding, LintKind};

/// Which values the values pane lists (`v` cycles through them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ValueView {
    #[default]
    All,
    /// Values without a row (they go to the default group if there is one, else nowhere).
    Unmapped,
    /// Values a finding is about (a near-duplicate, a row no user has, an unknown group...).
    WithFindings,
}

impl ValueView {
    pub fn next(self) -> ValueView {
        match self {
            ValueView::All => ValueView::Unmapped,
            ValueView::Unmapped => ValueView::WithFindings,
            ValueView::WithFindings => ValueView::All,
        }
    }

    /// How the pane's title names the view; None for all values. With a default group a value
    /// without a row is not unmapped (it goes to the default), so the view says "no row".
    pub fn label(self, has_default: bool) -> Option<&'static str> {
        match self {
            ValueView::All => None,
            ValueView::Unmapped if has_default => Some("no row"),
            ValueView::Unmapped => Some("unmapped"),
            ValueView::WithFindings => Some("with findings"),
        }
    }
}

/// The findings about each value, to act on (errors and warnings). The list of every unmapped
/// value is not a finding of each one: the unmapped view lists those.
pub fn by_value(lint: &[Finding]) -> HashMap<&str, Vec<&Finding>> {
    let mut out: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for f in lint.iter().filter(|f| f.kind != LintKind::UnmappedValue) {
        for v in &f.values {
            out.entry(v.as_str()).or_default().push(f);
        }
    }
    out
}

/// The value entries (indices) the values pane lists in `view`; None for all of them.
pub fn in_view(m: &Model, view: ValueView) -> Option<Vec<u32>> {
    let keep: Box<dyn Fn(&str) -> bool> = match view {
        ValueView::All => return None,
        ValueView::Unmapped => Box::new(|v: &str| m.mapping.row(v).is_none()),
        ValueView::WithFindings => {
            let with = by_value(&m.plan.lint);
            Box::new(move |v: &str| with.get(v).is_some_and(|fs| fs.iter().any(|f| f.actionable())))
        }
    };
    Some((0..m.value_entries.len() as u32).filter(|&i| keep(&m.value_entries[i as usize].value)).collect())
}

/// What to do about a finding, in a sentence naming the editor's keys.
pub fn advice(f: &Finding) -> String {
    let key = |a: Action| binding(a).label.split('/').next().unwrap_or_default().to_owned();
    let (map, unmap, default, view) =
        (key(Action::Map), key(Action::Unmap), key(Action::SetDefault), key(Action::CycleView));
    match f.kind {
        _ if f.resolved() => "Nothing to do: every spelling maps to the same group, so each user lands in it \
                               whichever one the IdP sends."
            .into(),
        LintKind::NearDuplicate => format!(
            "Calendly matches the value exactly, so each spelling is a value of its own. Map every spelling to \
             the same group ({map} on each), or fix the value in the IdP so that all users send one spelling."
        ),
        LintKind::InvalidRow => format!("Calendly refuses the table as it is: fix or unmap ({unmap}) the row."),
        LintKind::UnknownGroup => format!(
            "Map the value to a group of this organization ({map} with the group selected) or unmap it ({unmap})."
        ),
        LintKind::NewGroupLikeExisting => format!(
            "If the name is a typo, map the value to the existing group instead ({map} with it selected); \
             otherwise saving creates the new group."
        ),
        LintKind::UnusedRow => format!(
            "No user sends this value: if it is a typo, map the spelling users send; if it is stale, unmap it \
             ({unmap})."
        ),
        LintKind::UnmappedValue => format!(
            "Map each value to a group ({map}; {} suggests), or set a default group ({default} on a group) for \
             every value without a row. {view} lists only the unmapped values.",
            key(Action::Suggest)
        ),
        LintKind::GroupEmptied => {
            "Check that this is meant: everyone leaves the group. To keep members, map a value to it.".into()
        }
        LintKind::DefaultIsRowTarget => "Nothing to do if it is meant: users of those rows and users without a \
                                         row land in the same group."
            .into(),
        LintKind::StaleExportRow => "The export lists someone who is not in the organization: download a fresh \
                                     export from the admin center. The row is left out of the plan."
            .into(),
        LintKind::ConflictingExportRow => {
            "The export repeats an email with another value: fix the export; the plan uses the first row.".into()
        }
        LintKind::ConflictingMembership => "Calendly allows one group per user: remove the user from the other \
                                            groups in Calendly, or the plan keeps taking the first."
            .into(),
        LintKind::MissingExport => "Download the missing export (Active or Pending users) from the admin \
                                    center and pass it too (--users-csv); until then those people are left out \
                                    of the plan."
            .into(),
    }
}

/// Where Enter on a finding goes: the first value it is about that the values pane has.
pub fn jump_value<'a>(m: &Model, f: &'a Finding) -> Option<&'a str> {
    f.values.iter().map(String::as_str).find(|v| m.value_entries.iter().any(|e| e.value == *v))
}
