//! Dialogs drawn over the screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::theme::Theme;
use crate::app::keymap::{DialogKind, Scope, hint_line};
use crate::app::model::{Dialog, Model};
use crate::domain::text::{quoted, sanitize, visible};

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width.saturating_sub(2));
    let h = height.min(area.height.saturating_sub(2));
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

fn target_text(m: &Model, t: &Option<crate::domain::Target>) -> String {
    match t {
        None => "(no row)".into(),
        Some(t) => {
            let new = if matches!(t, crate::domain::Target::New(_)) { " (new)" } else { "" };
            format!("{}{new}", visible(m.snap().target_name(t)))
        }
    }
}

fn on(b: bool) -> &'static str {
    if b { "ON" } else { "OFF" }
}

pub fn render(m: &Model, d: &Dialog, f: &mut Frame, area: Rect, theme: &Theme) {
    let (title, lines, height): (String, Vec<Line>, u16) = match d {
        Dialog::ConfirmSave { save_focused } => {
            let p = &m.plan;
            let org = crate::report::org_label(m.snap(), m.label());
            let mut lines = vec![Line::raw(format!("Save the group mapping of {}?", sanitize(&org))), Line::raw("")];
            let errs: Vec<_> =
                p.lint.iter().filter(|l| l.severity != crate::domain::lint::Severity::Info).take(3).collect();
            for w in &errs {
                lines.push(Line::styled(format!("{}: {}", w.severity.label(), sanitize(&w.message)), theme.warn()));
            }
            let more = p.lint.iter().filter(|l| l.actionable()).count().saturating_sub(errs.len());
            if more > 0 {
                let key = crate::app::keymap::binding(crate::app::keymap::Action::Findings).label;
                let key = key.split('/').next().unwrap_or(key);
                lines.push(Line::styled(format!("… and {more} more ({key} lists every finding)"), theme.warn()));
            }
            if !errs.is_empty() {
                lines.push(Line::raw(""));
            }
            lines.push(Line::raw(format!(
                "mapping {}, {} row(s), default group {}",
                if m.mapping.enabled { "ON" } else { "OFF" },
                m.mapping.rows.len(),
                p.default_dest.map_or_else(|| "none".to_owned(), |d| visible(p.dest_name(m.snap(), d)))
            )));
            if p.applies() {
                lines.push(Line::styled(
                    format!("{} user(s) will move ({} to the default group)", p.changes.len(), p.to_default()),
                    theme.accent(),
                ));
            } else if p.enabled && !p.changes.is_empty() {
                lines.push(Line::raw(format!(
                    "apply-existing is OFF: no existing user moves ({} would)",
                    p.changes.len()
                )));
            } else {
                lines.push(Line::raw("no existing user moves"));
            }
            if !p.new_groups.is_empty() {
                lines.push(Line::raw(format!("{} new group(s) will be created", p.new_groups.len())));
            }
            lines.push(Line::raw(""));
            let button = |label: &str, on: bool| {
                Span::styled(format!("[ {label} ]"), if on { theme.selected() } else { theme.dim() })
            };
            lines.push(Line::from(vec![
                button("Cancel", !save_focused),
                Span::raw("   "),
                button("Save", *save_focused),
            ]));
            lines.push(Line::styled(hint_line(Scope::Dialog(DialogKind::ConfirmSave)), theme.dim()));
            ("Save mapping".into(), lines, 0)
        }
        Dialog::ConfirmQuit => (
            "Quit?".into(),
            vec![
                Line::raw(format!("You have unsaved edits. {}.", sanitize(&m.edits_kept()))),
                Line::raw("A draft file is offered back the next time you open this organization."),
                Line::raw(""),
                Line::styled(hint_line(Scope::Dialog(DialogKind::ConfirmQuit)), theme.key()),
            ],
            7,
        ),
        Dialog::NewGroup { name } => (
            "New group".into(),
            vec![
                Line::raw(format!(
                    "Map {} to the group named (a new one unless it is a group's name):",
                    m.selected_value().map(|v| visible(&v.value)).unwrap_or_default()
                )),
                Line::styled(format!("> {}▏", sanitize(name)), theme.key()),
                Line::styled(
                    format!("{} {}", new_group_hint(m, name), hint_line(Scope::Dialog(DialogKind::NewGroup))),
                    theme.dim(),
                ),
            ],
            6,
        ),
        Dialog::Suggestions { items, selected } => {
            let mut lines = vec![Line::styled(hint_line(Scope::Dialog(DialogKind::Suggestions)), theme.dim())];
            let rows = (area.height as usize).saturating_sub(8).max(3);
            let start = selected.saturating_sub(rows - 1);
            for (i, s) in items.iter().enumerate().skip(start).take(rows) {
                let text = format!(
                    "{} {} → {}",
                    if i == *selected { "›" } else { " " },
                    visible(&s.value),
                    visible(&m.snap().group(s.group).name)
                );
                lines.push(Line::styled(
                    text,
                    if i == *selected { theme.selected() } else { ratatui::style::Style::new() },
                ));
            }
            (format!("Suggestions ({})", items.len()), lines, 0)
        }
        Dialog::RestoreDraft { offers, selected, notes } => {
            let mut lines = vec![Line::raw(if offers.len() == 1 {
                "An earlier session left unsaved edits for this organization:".to_owned()
            } else {
                format!("Earlier sessions left {} drafts of unsaved edits (newest first):", offers.len())
            })];
            for (i, o) in offers.iter().enumerate() {
                let mark = if i == *selected { "›" } else { " " };
                let version = o.draft.base_version.map(|v| format!(", made on version {v}")).unwrap_or_default();
                let text = format!("{mark} {} ago{version}: {}", crate::report::age(o.age_secs), o.path.display());
                let style = if i == *selected { theme.selected() } else { ratatui::style::Style::new() };
                lines.push(Line::styled(text, style));
            }
            lines.push(Line::raw(""));
            let chosen = &offers[*selected];
            let d = chosen.draft.edits();
            let mut edits = Vec::new();
            if let Some((a, b)) = d.enabled {
                edits.push(format!("  ~ group mapping {} → {}", on(a), on(b)));
            }
            if let Some((_, b)) = &d.default_group {
                edits.push(format!("  ~ default group → {}", target_text(m, b)));
            }
            for r in &d.added {
                edits.push(format!("  + {} → {}", visible(&r.idp_value), target_text(m, &Some(r.target.clone()))));
            }
            for (v, _, t) in &d.changed {
                edits.push(format!("  ~ {} → {}", visible(v), target_text(m, &Some(t.clone()))));
            }
            for r in &d.removed {
                edits.push(format!("  - {}", visible(&r.idp_value)));
            }
            if edits.len() > 10 {
                let more = edits.len() - 9;
                edits.truncate(9);
                edits.push(format!("  … and {more} more"));
            }
            lines.push(Line::raw("Its own edits (replayed onto the table as it is now):"));
            lines.extend(edits.into_iter().map(Line::raw));
            if let Some(line) = chosen.lost_from_line {
                lines.push(Line::styled(
                    format!("The file was cut short: nothing from line {line} on could be read."),
                    theme.warn(),
                ));
            }
            for why in notes {
                lines.push(Line::styled(sanitize(why).into_owned(), theme.warn()));
            }
            lines.push(Line::raw(""));
            lines.push(Line::styled(hint_line(Scope::Dialog(DialogKind::RestoreDraft)), theme.key()));
            ("Unsaved drafts found".into(), lines, 0)
        }
        Dialog::Saving { stages, job, elapsed_ms, quit_asked } => {
            let mut lines: Vec<Line> =
                stages.iter().filter_map(Model::stage_text).map(|s| Line::raw(format!("✓ {s}"))).collect();
            if let Some((done, failed, total)) = job {
                lines.push(Line::styled(format!("moving users: {done}/{total} done, {failed} failed"), theme.accent()));
            }
            lines.push(Line::styled(format!("elapsed {:.1} s", *elapsed_ms as f64 / 1000.0), theme.dim()));
            if *quit_asked {
                lines.push(Line::raw(""));
                lines.push(Line::styled(
                    "Quit now? The save goes on at the server or stops part-way; groupmap plan tells which.",
                    theme.warn(),
                ));
                lines.push(Line::styled(hint_line(Scope::Dialog(DialogKind::Saving)), theme.key()));
            }
            ("Saving…".into(), lines, 0)
        }
        Dialog::Result { title, message, ok } => {
            let mut lines: Vec<Line> = message
                .lines()
                .map(|l| {
                    Line::styled(sanitize(l).into_owned(), if *ok { theme.ok() } else { ratatui::style::Style::new() })
                })
                .collect();
            lines.push(Line::raw(""));
            lines.push(Line::styled(hint_line(Scope::Dialog(DialogKind::Result)), theme.dim()));
            (title.clone(), lines, 0)
        }
        Dialog::ConfirmRecord => {
            let (entered, total) = m.handoff.as_ref().map_or((0, 0), |h| (h.entered(), h.steps.len()));
            let mut lines = vec![
                Line::raw("Is the table saved in Calendly's admin center (Save and continue selected)?"),
                Line::raw(""),
            ];
            if entered < total {
                lines.push(Line::styled(
                    format!("{} of the {total} steps are not ticked off.", total - entered),
                    theme.warn(),
                ));
            }
            lines.push(Line::raw(
                "Yes records this table as the table of record (later plans compare with it) and deletes this \
                 session's draft, as a save would.",
            ));
            lines.push(Line::raw(""));
            lines.push(Line::styled(hint_line(Scope::Dialog(DialogKind::ConfirmRecord)), theme.key()));
            ("Saved in Calendly?".into(), lines, 0)
        }
        Dialog::Conflicts { items, selected } => {
            let mut lines = vec![
                Line::raw("Someone else changed these rows too. Your version is applied; choose per row:"),
                Line::styled(hint_line(Scope::Dialog(DialogKind::Conflicts)), theme.dim()),
            ];
            for (i, c) in items.iter().enumerate() {
                let text = format!(
                    "{} {}: mine {} · theirs {}",
                    if i == *selected { "›" } else { " " },
                    visible(&c.value),
                    target_text(m, &c.mine),
                    target_text(m, &c.theirs)
                );
                lines.push(Line::styled(
                    text,
                    if i == *selected { theme.selected() } else { ratatui::style::Style::new() },
                ));
            }
            ("Conflicting edits".into(), lines, 0)
        }
    };
    // Tall enough for the wrapped text, so buttons and hints are never cut off.
    let inner = 76u16.min(area.width.saturating_sub(2)).saturating_sub(2).max(1) as usize;
    let needed: usize = lines.iter().map(|l| wrapped_rows(&line_text(l), inner)).sum::<usize>() + 2;
    let rect = centered(area, 76, (needed as u16).max(height).max(5));
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(format!(" {title} ")).border_style(theme.title())),
        rect,
    );
}

fn line_text(l: &Line) -> String {
    l.spans.iter().map(|s| s.content.as_ref()).collect()
}

/// Rows `text` takes wrapped at word boundaries in `width` columns (as the dialog's paragraph
/// wraps it; a word longer than the line is broken).
fn wrapped_rows(text: &str, width: usize) -> usize {
    let width = width.max(1);
    let (mut rows, mut col) = (1, 0);
    for word in text.split(' ') {
        let w = word.chars().count();
        let need = if col == 0 { w } else { col + 1 + w };
        if need <= width {
            col = need;
        } else if w <= width {
            rows += 1;
            col = w;
        } else {
            rows += usize::from(col > 0) + (w - 1) / width;
            col = (w - 1) % width + 1;
        }
    }
    rows
}

/// What Enter will do with the name typed so far: the existing group it names (case and spaces
/// do not count), or a new group, and whether that looks like a slip for an existing one.
fn new_group_hint(m: &Model, typed: &str) -> String {
    let name = typed.trim();
    let snap = m.snap();
    let new = m.label().new_group();
    if name.is_empty() {
        return format!("A new group: {new}.");
    }
    if let Some(g) = snap.group_by_name(name) {
        return format!("That is the existing group {}.", quoted(&snap.group(g).name));
    }
    match crate::domain::group_names::like_existing(snap, name) {
        Some(g) => {
            format!("A new group ({new}); like the existing group {}.", quoted(&snap.group(g).name))
        }
        None => format!("A new group: {new}."),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn wrapped_rows_counts_word_wrapping() {
        assert_eq!(super::wrapped_rows("", 10), 1);
        assert_eq!(super::wrapped_rows("abc def", 7), 1);
        assert_eq!(super::wrapped_rows("abc defg", 7), 2, "the second word moves down");
        assert_eq!(super::wrapped_rows("abcdefghijklmno", 5), 3, "a long word breaks");
        assert_eq!(super::wrapped_rows("ab abcdefghij", 5), 3);
    }
}
