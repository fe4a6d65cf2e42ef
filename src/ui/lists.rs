//! The two panes: IdP values and Calendly groups. Only the visible rows are built.

use std::collections::HashSet;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Row, Table};

use super::theme::Theme;
use crate::app::filter::positions;
use crate::app::layout::{list_rows, scroll};
use crate::app::model::{GroupEntry, ListView, Model, Pane};
use crate::domain::lint::LintKind;
use crate::domain::text::visible;
use crate::domain::{Dest, Target};

/// `text` with the characters matching `pattern` highlighted.
pub fn highlighted(text: String, pattern: &str, base: Style, theme: &Theme) -> Line<'static> {
    let hits = positions(&text, pattern);
    if hits.is_empty() {
        return Line::styled(text, base);
    }
    let spans: Vec<Span> = text
        .chars()
        .enumerate()
        .map(|(i, c)| Span::styled(c.to_string(), if hits.contains(&i) { base.patch(theme.matched()) } else { base }))
        .collect();
    Line::from(spans)
}

/// A list's title; the focused list's starts with `▶`, so focus is not told by colour alone.
pub fn title(name: &str, list: &ListView, shown: usize, total: usize, focused: bool) -> String {
    let name = if focused { format!("▶ {name}") } else { name.to_owned() };
    let filter = if list.editing {
        format!(" /{}▏", list.filter)
    } else if !list.filter.is_empty() {
        format!(" /{}", list.filter)
    } else {
        String::new()
    };
    if shown == total {
        format!(" {name} ({total}){filter} ")
    } else {
        format!(" {name} ({shown} of {total}){filter} ")
    }
}

/// The visible window of positions in the filtered order.
fn window(list: &ListView, len: usize, rows: usize) -> std::ops::Range<usize> {
    let offset = scroll(list.offset, list.selected, rows);
    offset..(offset + rows).min(len)
}

pub fn values(m: &Model, f: &mut Frame, area: Rect, theme: &Theme) {
    let list = &m.values;
    let focused = m.focus == Pane::Values;
    let total = m.value_entries.len();
    let len = list.filtered.len(total);
    let near: HashSet<&str> = m
        .plan
        .lint
        .iter()
        .filter(|l| l.kind == LintKind::NearDuplicate && !l.resolved())
        .flat_map(|l| l.values.iter().map(String::as_str))
        .collect();
    let shown = window(list, len, list_rows(area));
    // An inferred row shows how many of its users the group already holds (`29/29`).
    let users: Vec<String> = shown
        .clone()
        .map(|pos| {
            let Some(e) = list.filtered.get(pos).map(|i| &m.value_entries[i]) else { return String::new() };
            m.agreement(&e.value).unwrap_or_else(|| e.users.to_string())
        })
        .collect();
    let users_width = users.iter().map(|u| u.chars().count()).max().unwrap_or(0).max(6) as u16;
    let rows: Vec<Row> = shown
        .zip(users)
        .filter_map(|(pos, users)| {
            let e = &m.value_entries[list.filtered.get(pos)?];
            let selected = pos == list.selected;
            let mut mark = String::from(if selected { "›" } else { " " });
            mark.push(if near.contains(e.value.as_str()) {
                '!'
            } else if e.users == 0 {
                '?'
            } else {
                ' '
            });
            let group = match m.mapping.row(&e.value) {
                Some(r) => match &r.target {
                    Target::New(n) => Line::styled(format!("→ {} (new)", visible(n)), theme.accent()),
                    Target::Group(uri) => match m.snap().group_by_uri(uri) {
                        Some(g) => Line::raw(format!("→ {}", visible(&m.snap().group(g).name))),
                        None => Line::styled(format!("→ unknown group {uri}"), theme.error()),
                    },
                },
                None => match m.plan.default_dest {
                    Some(d) => {
                        Line::styled(format!("→ {} (default)", visible(m.plan.dest_name(m.snap(), d))), theme.dim())
                    }
                    None => Line::styled("unmapped", theme.warn()),
                },
            };
            // The other pane's selection is dimmed: one selection stands out.
            let style = match (selected, focused) {
                (true, true) => theme.selected(),
                (true, false) => theme.dim(),
                _ => Style::new(),
            };
            Some(
                Row::new(vec![
                    Cell::from(mark),
                    // Highlighted as the list was filtered: a long list's answer to the pattern
                    // just typed may still be on its way.
                    Cell::from(highlighted(visible(&e.value), &m.values_filtered_for, Style::new(), theme)),
                    Cell::from(Line::raw(users).right_aligned()),
                    Cell::from(group),
                ])
                .style(style),
            )
        })
        .collect();
    let table = Table::new(
        rows,
        [Constraint::Length(2), Constraint::Fill(1), Constraint::Length(users_width), Constraint::Fill(1)],
    )
    .header(Row::new(vec!["", "IdP VALUE", " USERS", "GROUP"]).style(theme.dim()))
    .column_spacing(1)
    .block(
        Block::bordered().title(title(&values_name(m), list, len, total, focused)).border_style(theme.border(focused)),
    );
    f.render_widget(table, area);
}

/// The values pane's name, with its view when it lists only some values.
fn values_name(m: &Model) -> String {
    match m.value_view.label(m.mapping.default_group.is_some()) {
        Some(view) => format!("IdP values · {view}"),
        None => "IdP values".to_owned(),
    }
}

pub fn groups(m: &Model, f: &mut Frame, area: Rect, theme: &Theme) {
    let list = &m.groups;
    let focused = m.focus == Pane::Groups;
    let total = m.group_entries.len();
    let len = list.filtered.len(total);
    let p = &m.plan;
    let rows: Vec<Row> = window(list, len, list_rows(area))
        .filter_map(|pos| {
            let e = &m.group_entries[list.filtered.get(pos)?];
            let selected = pos == list.selected;
            let (dest, now, after) = match e {
                GroupEntry::Existing(g) => (Dest::Group(*g), p.group_now[g.0 as usize], p.group_after[g.0 as usize]),
                GroupEntry::New(n) => {
                    let i = p.new_groups.iter().position(|x| x == n).unwrap_or(0);
                    (Dest::New(i as u32), 0, p.new_group_after.get(i).copied().unwrap_or(0))
                }
            };
            let mut flags = String::new();
            if p.default_dest == Some(dest) {
                flags.push_str(" (default)");
            }
            if matches!(e, GroupEntry::New(_)) {
                flags.push_str(" (new)");
            }
            if now > 0 && after == 0 && p.enabled {
                flags.push_str(" (empties!)");
            }
            let counts = if now == after { format!("{now}") } else { format!("{now} → {after}") };
            let counts_style = if after > now {
                theme.ok()
            } else if after < now {
                theme.warn()
            } else {
                Style::new()
            };
            // The other pane's selection is dimmed: one selection stands out.
            let style = match (selected, focused) {
                (true, true) => theme.selected(),
                (true, false) => theme.dim(),
                _ => Style::new(),
            };
            Some(
                Row::new(vec![
                    Cell::from(if selected { "›" } else { " " }),
                    Cell::from({
                        let mut name = highlighted(visible(m.group_entry_name(e)), &list.filter, Style::new(), theme);
                        name.push_span(Span::styled(flags, theme.accent()));
                        name
                    }),
                    Cell::from(Line::styled(counts, counts_style).right_aligned()),
                ])
                .style(style),
            )
        })
        .collect();
    let table = Table::new(rows, [Constraint::Length(1), Constraint::Fill(1), Constraint::Length(11)])
        .header(Row::new(vec!["", "GROUP", "NOW → AFTER"]).style(theme.dim()))
        .column_spacing(1)
        .block(
            Block::bordered()
                .title(title("Calendly groups", list, len, total, focused))
                .border_style(theme.border(focused)),
        );
    f.render_widget(table, area);
}
