//! What the status line says when no message is there: the selected value's marks explained,
//! else, on the bundled sandbox, what the sandbox is and where its changes are kept.

use super::findings::by_value;
use super::model::{Model, Pane, Screen};
use crate::domain::lookalike::{char_name, how_differs};
use crate::domain::text::{is_unicode_space, quoted};

/// The note for a status line `width` columns wide.
pub fn status_note(m: &Model, width: usize) -> Option<String> {
    marks_explained(m).or_else(|| sandbox_note(m, width))
}

/// The selected value's marks, each explained: `! differs from "Marketing" only by a trailing
/// space; ␣ a trailing space`.
pub fn marks_explained(m: &Model) -> Option<String> {
    if m.screen != Screen::Mapping || m.focus != Pane::Values || !m.has_data() {
        return None;
    }
    let e = m.selected_value()?;
    let v = e.value.as_str();
    let findings = by_value(&m.plan.lint);
    let mut said: Vec<String> = Vec::new();
    for f in findings.get(v).into_iter().flatten() {
        use crate::domain::lint::LintKind::*;
        match f.kind {
            NearDuplicate => {
                let Some(other) = f.values.iter().find(|o| o.as_str() != v) else { continue };
                let how = how_differs(v, other);
                if f.resolved() {
                    let to = m.mapping.row(v).map(|r| quoted(m.snap().target_name(&r.target))).unwrap_or_default();
                    said.push(format!("{how}; resolved: both map to {to}"));
                } else {
                    said.push(format!("! {how} (matching is exact)"));
                }
            }
            UnusedRow => said.push("? no user has this value (a typo, or a stale row)".into()),
            UnknownGroup => said.push("the row's group is not a group of this organization".into()),
            NewGroupLikeExisting => {
                said.push(f.message.split_once(": ").map_or(f.message.as_str(), |(_, rest)| rest).to_owned())
            }
            _ => {}
        }
    }
    let lead = v.chars().take_while(|c| *c == ' ').count();
    let trail = if lead == v.chars().count() { 0 } else { v.chars().rev().take_while(|c| *c == ' ').count() };
    let spaces = |n: usize, end: &str| if n == 1 { format!("a {end} space") } else { format!("{n} {end} spaces") };
    match (lead, trail) {
        (0, 0) => {}
        (l, 0) => said.push(format!("␣ {}", spaces(l, "leading"))),
        (0, t) => said.push(format!("␣ {}", spaces(t, "trailing"))),
        (l, t) => said.push(format!("␣ {} and {}", spaces(l, "leading"), spaces(t, "trailing"))),
    }
    let mut unicode: Vec<char> = v.chars().filter(|c| is_unicode_space(*c)).collect();
    unicode.dedup();
    for c in unicode {
        said.push(format!("\\u{{{:x}}} is {}", c as u32, char_name(c)));
    }
    (!said.is_empty()).then(|| said.join("; "))
}

/// On the bundled sandbox: that it is made up and where its changes are kept, as much of it as
/// fits (the path always).
pub fn sandbox_note(m: &Model, width: usize) -> Option<String> {
    let path = m.sandbox_kept.as_deref().filter(|_| m.sandbox)?;
    [
        format!(
            "Sandbox: a made-up organization on this machine; nothing reaches Calendly. Changes are kept in {path} \
             (delete it to start over)"
        ),
        format!(
            "Sandbox: a made-up organization on this machine; nothing reaches Calendly. Changes are kept in {path}"
        ),
        format!("Sandbox changes are kept in {path} (delete it to start over)"),
        format!("Sandbox changes are kept in {path}"),
    ]
    .into_iter()
    .find(|s| s.chars().count() <= width)
    .or_else(|| Some(format!("Sandbox changes kept in {path}")))
}
