//! The hand-off screen: the steps to take in the admin center, ticked off one by one, and under
//! them the files written, the table of record and its verification.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

use super::theme::Theme;
use crate::app::handoff::split;
use crate::app::layout::{scroll, text_rows};
use crate::app::model::Model;

pub fn render(m: &Model, f: &mut Frame, area: Rect, theme: &Theme) {
    let Some(h) = &m.handoff else { return };
    let (steps_area, info_area, info) = split(m, area);
    let rows = text_rows(steps_area);
    let offset = scroll(h.list.offset, h.list.selected, rows);
    let lines: Vec<Line> = h
        .steps
        .iter()
        .enumerate()
        .skip(offset)
        .take(rows)
        .map(|(i, step)| {
            let ticked = h.ticked.get(i).copied().unwrap_or_default();
            let selected = i == h.list.selected;
            let style = match (selected, ticked) {
                (true, _) => theme.selected(),
                (false, true) => theme.dim(),
                (false, false) => Style::new(),
            };
            let mark = if ticked { "[x]" } else { "[ ]" };
            Line::styled(format!("{}{mark} {}", if selected { "›" } else { " " }, step.text()), style)
        })
        .collect();
    let title = format!(" Hand-off to Calendly's admin center: {}/{} entered ", h.entered(), h.steps.len());
    f.render_widget(Paragraph::new(lines).block(Block::bordered().title(title)), steps_area);
    let info: Vec<Line> = info.into_iter().map(Line::raw).collect();
    f.render_widget(Paragraph::new(info).block(Block::bordered().title(" Files and record ")), info_area);
}
