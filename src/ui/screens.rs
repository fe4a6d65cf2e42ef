//! Whole-body screens: loading, load error, preview, help, fields.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Gauge, Paragraph, Row, Table, Wrap};

use super::theme::Theme;
use crate::app::keymap::{Action, HELP_KEY_COLUMN, HelpRow, Scope, help_rows, hint_line, hinted, join_hints};
use crate::app::layout::{findings_split, list_rows, scroll, text_rows};
use crate::app::model::Model;
use crate::domain::lint::Severity;
use crate::domain::text::{sanitize, visible};
use crate::report::LineKind;
use crate::service::LoadStatus;
use crate::service::loading::thousands;

pub fn loading(f: &mut Frame, area: Rect, status: &LoadStatus, theme: &Theme) {
    let block = Block::bordered().title(" Loading ");
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [head, gauge, body] = Layout::vertical([Constraint::Length(2), Constraint::Length(1), Constraint::Min(0)])
        .horizontal_margin(1)
        .areas(inner);
    f.render_widget(Paragraph::new(Line::styled("Loading the organization…", theme.title())), head);
    let (read, total) = status.rows();
    match (status.fraction(), total) {
        (Some(ratio), Some(total)) => {
            let label = format!("{:.0} % · {} of {} rows", (ratio * 100.0).floor(), thousands(read), thousands(total));
            f.render_widget(Gauge::default().ratio(ratio).label(label).gauge_style(theme.accent()), gauge);
        }
        _ => f.render_widget(Paragraph::new(Line::styled("counting what there is to read…", theme.dim())), gauge),
    }
    let mut lines = vec![Line::raw("")];
    lines.push(Line::raw(status.counts()));
    let mut time = status.spent();
    if let Some(eta) = status.eta() {
        time.push_str(" · ");
        time.push_str(&eta);
    }
    lines.push(Line::raw(time));
    lines.extend(status.rate_text().map(Line::raw));
    lines.push(Line::raw(""));
    lines.push(Line::styled(hint_line(Scope::Loading), theme.dim()));
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
}

pub fn failed(f: &mut Frame, area: Rect, message: &str, theme: &Theme) {
    let mut lines = vec![Line::styled("Could not load the organization", theme.error()), Line::raw("")];
    lines.extend(message.lines().map(|l| Line::raw(sanitize(l).into_owned())));
    lines.push(Line::raw(""));
    lines.push(Line::styled(hint_line(Scope::LoadFailed), theme.dim()));
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" Error ").border_style(theme.error())),
        area,
    );
}

fn preview_style(kind: LineKind, theme: &Theme) -> Style {
    match kind {
        LineKind::Summary => theme.title(),
        LineKind::Heading => Style::new().add_modifier(ratatui::style::Modifier::BOLD),
        LineKind::Finding(Severity::Error) | LineKind::TableRemoved => theme.error(),
        LineKind::Finding(Severity::Warning) => theme.warn(),
        LineKind::Legend => theme.dim(),
        LineKind::TableAdded | LineKind::UserMove { new_member: true } => theme.ok(),
        LineKind::Finding(Severity::Info)
        | LineKind::UserMove { new_member: false }
        | LineKind::TableChanged
        | LineKind::GroupHeading
        | LineKind::Unmapped
        | LineKind::Blank
        | LineKind::Plain => Style::new(),
    }
}

/// `text` with each case-insensitive occurrence of `needle` highlighted.
fn substring_highlighted(text: String, needle: &str, base: Style, theme: &Theme) -> Line<'static> {
    let lower = text.to_lowercase();
    let needle = needle.to_lowercase();
    // Lowercasing can change byte lengths outside ASCII; highlight only when it did not.
    if needle.is_empty() || lower.len() != text.len() {
        return Line::styled(text, base);
    }
    let mut spans = Vec::new();
    let mut at = 0;
    while let Some(found) = lower[at..].find(&needle) {
        let start = at + found;
        let end = start + needle.len();
        if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            break;
        }
        spans.push(ratatui::text::Span::styled(text[at..start].to_owned(), base));
        spans.push(ratatui::text::Span::styled(text[start..end].to_owned(), base.patch(theme.matched())));
        at = end;
    }
    spans.push(ratatui::text::Span::styled(text[at..].to_owned(), base));
    Line::from(spans)
}

pub fn preview(m: &Model, f: &mut Frame, area: Rect, theme: &Theme) {
    let list = &m.preview;
    let total = m.preview_lines.len();
    let len = list.filtered.len(total);
    let rows = text_rows(area);
    let offset = scroll(list.offset, list.selected, rows);
    let mut text = String::new();
    let lines: Vec<Line> = (offset..(offset + rows).min(len))
        .filter_map(|pos| {
            let i = list.filtered.get(pos)?;
            m.preview_lines.write(i, &mut text);
            let mut style = preview_style(m.preview_lines.kind(i), theme);
            if pos == list.selected {
                style = style.patch(theme.selected());
            }
            let shown: String = text.chars().skip(m.preview_hscroll).collect();
            // As the list was filtered (the answer to a newly typed pattern may be on its way).
            Some(substring_highlighted(shown, m.preview_filtered_for.as_deref().unwrap_or(""), style, theme))
        })
        .collect();
    let filter = if list.editing || !list.filter.is_empty() {
        format!(" /{}{}", list.filter, if list.editing { "▏" } else { "" })
    } else {
        String::new()
    };
    let cols = if m.preview_hscroll > 0 { format!(" from column {}", m.preview_hscroll + 1) } else { String::new() };
    let title =
        format!(" Preview: exactly what saving does ({}/{} lines{cols}){filter} ", len.min(list.selected + 1), len);
    f.render_widget(Paragraph::new(lines).block(Block::bordered().title(title)), area);
}

pub fn help(f: &mut Frame, area: Rect, scroll: usize, theme: &Theme) {
    let rows: Vec<Row> = help_rows()
        .into_iter()
        .map(|r| match r {
            HelpRow::Heading(name) => Row::new(vec![Cell::from(Line::styled(name, theme.title())), Cell::from("")]),
            HelpRow::Key(b) => {
                Row::new(vec![Cell::from(Line::styled(format!("  {}", b.label), theme.key())), Cell::from(b.help)])
            }
            HelpRow::Mark(mark, text) => Row::new(vec![Cell::from(format!("  {mark}")), Cell::from(text)]),
        })
        .collect();
    let fits = text_rows(area);
    let skip = scroll.min(rows.len().saturating_sub(fits));
    // The scrolling keys are named only when there is something to scroll.
    let hints = join_hints(hinted(Scope::Help).filter(|b| rows.len() > fits || b.action == Action::Close));
    let rows: Vec<Row> = rows.into_iter().skip(skip).collect();
    let table = Table::new(rows, [Constraint::Length(HELP_KEY_COLUMN), Constraint::Fill(1)])
        .block(Block::bordered().title(format!(" Help ({hints}) ")));
    f.render_widget(table, area);
}

pub fn fields(m: &Model, f: &mut Frame, area: Rect, theme: &Theme) {
    let Some(loaded) = m.org() else { return };
    let idp = loaded.idp.as_ref().map(|i| i.provider.as_str());
    let rows_all = m.column_rows();
    let visible_rows = list_rows(area);
    let offset = scroll(m.columns.offset, m.columns.selected, visible_rows);
    let rows: Vec<Row> = rows_all
        .iter()
        .enumerate()
        .skip(offset)
        .take(visible_rows)
        .map(|(pos, &(e, c))| {
            let ex = &loaded.exports[e];
            let role = match ex.columns(m.fields()) {
                Ok((em, _)) if em == c => "login email",
                Ok((_, idp)) if idp == c => "IdP group",
                _ => "",
            };
            let samples: Vec<String> = ex.samples(c, 3).into_iter().map(visible).collect();
            let style = if pos == m.columns.selected { theme.selected() } else { Style::new() };
            Row::new(vec![
                // A file path, or the export endpoint's last segment (`user_export?status=active`).
                Cell::from(
                    sanitize(if let Some(p) = idp {
                        p
                    } else if ex.file.starts_with("GET ") {
                        ex.file.rsplit('/').next().unwrap_or(&ex.file)
                    } else {
                        &ex.file
                    })
                    .into_owned(),
                ),
                Cell::from(visible(&ex.headers[c])),
                Cell::from(Line::styled(role, theme.accent())),
                Cell::from(samples.join(", ")),
            ])
            .style(style)
        })
        .collect();
    let table = Table::new(
        rows,
        [Constraint::Percentage(30), Constraint::Percentage(22), Constraint::Length(12), Constraint::Fill(1)],
    )
    .header(
        Row::new(vec![if idp.is_some() { "SOURCE" } else { "EXPORT" }, "COLUMN", "USED AS", "SAMPLE VALUES"])
            .style(theme.dim()),
    )
    .block(Block::bordered().title(match idp {
        // An identity provider's table: its users' attributes, seen with sample values.
        Some(p) => format!(" Fields: {}'s attributes, which is which ({}) ", sanitize(p), hint_line(Scope::Fields)),
        None => format!(" Fields: which export column is which ({}) ", hint_line(Scope::Fields)),
    }));
    f.render_widget(table, area);
}

/// Every finding, one a line (errors first, resolved ones marked), and the selected one in full
/// below with what to do about it.
pub fn findings(m: &Model, f: &mut Frame, area: Rect, theme: &Theme) {
    let (list_area, detail_area) = findings_split(area);
    let lint = &m.plan.lint;
    let list = &m.findings;
    let len = list.filtered.len(lint.len());
    let rows = text_rows(list_area);
    let offset = scroll(list.offset, list.selected, rows);
    let label = |f: &crate::domain::lint::Finding| if f.resolved() { "resolved" } else { f.severity.label() };
    let style = |f: &crate::domain::lint::Finding| match f.severity {
        _ if f.resolved() => theme.dim(),
        Severity::Error => theme.error(),
        Severity::Warning => theme.warn(),
        Severity::Info => Style::new(),
    };
    let lines: Vec<Line> = (offset..(offset + rows).min(len))
        .filter_map(|pos| {
            let finding = &lint[list.filtered.get(pos)?];
            let selected = pos == list.selected;
            let text =
                format!("{} {:<8} {}", if selected { "›" } else { " " }, label(finding), sanitize(&finding.message));
            let mut style = style(finding);
            if selected {
                style = style.patch(theme.selected());
            }
            Some(Line::styled(text, style))
        })
        .collect();
    let open = lint.iter().filter(|f| f.actionable()).count();
    let resolved = lint.iter().filter(|f| f.resolved()).count();
    let mut counts = format!("{open} to act on");
    if resolved > 0 {
        counts.push_str(&format!(", {resolved} resolved"));
    }
    let notes = lint.len() - open - resolved;
    if notes > 0 {
        counts.push_str(&format!(", {notes} note(s)"));
    }
    let filter = if list.editing || !list.filter.is_empty() {
        format!(" /{}{}", list.filter, if list.editing { "▏" } else { "" })
    } else {
        String::new()
    };
    let title = format!(" Findings: {counts} ({}){filter} ", hint_line(Scope::Findings));
    let body = if lint.is_empty() {
        vec![Line::raw("No findings: nothing in the mapping or the export looks wrong.")]
    } else if len == 0 {
        vec![Line::raw("No finding has the filter's text.")]
    } else {
        lines
    };
    f.render_widget(Paragraph::new(body).block(Block::bordered().title(title)), list_area);

    let selected = list.filtered.get(list.selected).and_then(|i| lint.get(i));
    let detail: Vec<Line> = match selected {
        Some(finding) => vec![
            Line::styled(format!("{}: {}", label(finding), sanitize(&finding.message)), style(finding)),
            Line::raw(""),
            Line::raw(format!("What to do: {}", crate::app::findings::advice(finding))),
        ],
        None => Vec::new(),
    };
    f.render_widget(
        Paragraph::new(detail).wrap(Wrap { trim: false }).block(Block::bordered().title(" The selected finding ")),
        detail_area,
    );
}
