//! Frames to the terminal. ratatui writes only the cells that changed; on top of that, rows that
//! only moved (a full-width list scrolled by the cursor) are moved by the terminal itself, in a
//! scrolling region, so that a cursor stepping through a long preview writes a row or two, not
//! the whole list again.

use std::hash::BuildHasher;

mod compact;
pub use compact::Compact;

use ratatui::backend::Backend;
use ratatui::buffer::{Buffer, Cell};
use ratatui::{Frame, Terminal};

/// Moving rows costs a few bytes of escape codes; it is done when it spares this many rows.
const WORTH_FROM: usize = 2;

/// A terminal and what it shows.
pub struct Screen<B: Backend> {
    term: Terminal<B>,
    /// The last frame written, as the terminal shows it; None when unknown (after a clear).
    /// ratatui keeps it too, but not where it can be read before the next frame is diffed.
    shown: Option<Buffer>,
}

/// Rows `first..=last` moved `by` rows: up when positive, down when negative.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shift {
    pub first: u16,
    pub last: u16,
    pub by: i32,
}

impl<B: Backend> Screen<B> {
    pub fn new(term: Terminal<B>) -> Self {
        Screen { term, shown: None }
    }

    pub fn size(&self) -> Result<ratatui::layout::Size, B::Error> {
        self.term.size()
    }

    /// Clears the terminal: the next frame is written whole.
    pub fn clear(&mut self) -> Result<(), B::Error> {
        self.shown = None;
        self.term.clear()
    }

    #[cfg(test)]
    fn backend(&self) -> &B {
        self.term.backend()
    }

    /// Renders and writes one frame; the rows it moved, if any.
    pub fn draw(&mut self, render: impl FnOnce(&mut Frame)) -> Result<Option<Shift>, B::Error> {
        self.term.autoresize()?;
        render(&mut self.term.get_frame());
        let shift = match &self.shown {
            Some(shown) if shown.area == self.term.current_buffer_mut().area => {
                find_shift(shown, self.term.current_buffer_mut())
            }
            _ => None,
        };
        if let (Some(s), Some(shown)) = (shift, &self.shown) {
            // The buffer ratatui diffs against becomes what the terminal shows once the rows
            // are moved; the diff then writes only the rows that really changed.
            let moved = shifted(shown, s);
            let frame = std::mem::replace(self.term.current_buffer_mut(), moved);
            self.term.swap_buffers();
            *self.term.current_buffer_mut() = frame;
            let rows = s.first..s.last + 1;
            let backend = self.term.backend_mut();
            if s.by > 0 {
                backend.scroll_region_up(rows, s.by as u16)?;
            } else {
                backend.scroll_region_down(rows, (-s.by) as u16)?;
            }
        }
        let done = self.term.apply_buffer()?;
        match &mut self.shown {
            Some(shown) if shown.area == done.buffer.area => shown.content.clone_from(&done.buffer.content),
            _ => self.shown = Some(done.buffer.clone()),
        }
        Ok(shift)
    }
}

fn row_hashes(b: &Buffer) -> Vec<u64> {
    let width = usize::from(b.area.width).max(1);
    let state = foldhash::quality::FixedState::default();
    b.content.chunks(width).map(|row| state.hash_one(row)).collect()
}

/// The move of rows that spares the most rewriting between `old` and `new`, if worth it.
fn find_shift(old: &Buffer, new: &Buffer) -> Option<Shift> {
    let (o, n) = (row_hashes(old), row_hashes(new));
    let rows = o.len() as i32;
    let changed = |r: i32| o[r as usize] != n[r as usize];
    let mut best: Option<(usize, Shift)> = None;
    for by in (1 - rows..rows).filter(|&k| k != 0) {
        // New row r shows old row r + by: runs of such rows, each a candidate region.
        let mut r = 0.max(-by);
        let end = rows.min(rows - by);
        while r < end {
            if n[r as usize] != o[(r + by) as usize] {
                r += 1;
                continue;
            }
            let start = r;
            while r < end && n[r as usize] == o[(r + by) as usize] {
                r += 1;
            }
            // The region holds the run and the rows it leaves blank; its rows are rewritten
            // unless they were unchanged, and the blank ones are written in any case.
            let (first, last) = if by > 0 { (start, r - 1 + by) } else { (start + by, r - 1) };
            let spared = (first..=last).filter(|&x| changed(x)).count().saturating_sub(by.unsigned_abs() as usize);
            if spared >= WORTH_FROM && best.is_none_or(|(s, _)| spared > s) {
                best = Some((spared, Shift { first: first as u16, last: last as u16, by }));
            }
        }
    }
    best.map(|(_, s)| s)
}

/// `b` as the terminal shows it after the shift: the rows moved, the ones left behind blank.
fn shifted(b: &Buffer, s: Shift) -> Buffer {
    let mut out = b.clone();
    let width = usize::from(b.area.width);
    let (first, last) = (usize::from(s.first) * width, (usize::from(s.last) + 1) * width);
    let by = s.by.unsigned_abs() as usize * width;
    let region = &mut out.content[first..last];
    if s.by > 0 {
        region.rotate_left(by);
        let len = region.len();
        region[len - by..].fill(Cell::EMPTY);
    } else {
        region.rotate_right(by);
        region[..by].fill(Cell::EMPTY);
    }
    out
}

#[cfg(test)]
mod tests {
    use ratatui::backend::TestBackend;
    use ratatui::layout::Rect;
    use ratatui::text::Line;
    use ratatui::widgets::{Block, Paragraph};

    use super::*;

    /// A screen like the preview: a header, a bordered list from `offset`, a footer.
    fn render(f: &mut Frame, offset: usize, selected: usize, title: &str) {
        let area = f.area();
        f.render_widget(Paragraph::new(format!("header {title}")), Rect { height: 1, ..area });
        let lines: Vec<Line> = (offset..offset + usize::from(area.height) - 4)
            .map(|i| {
                let line = Line::raw(format!("line {i:>5} {}", "·".repeat(i % 17)));
                if i == selected { line.style(ratatui::style::Style::new().reversed()) } else { line }
            })
            .collect();
        let list = Rect { y: 1, height: area.height - 2, ..area };
        f.render_widget(Paragraph::new(lines).block(Block::bordered().title(title)), list);
        f.render_widget(Paragraph::new("footer"), Rect { y: area.height - 1, height: 1, ..area });
    }

    fn expected(w: u16, h: u16, offset: usize, selected: usize, title: &str) -> Buffer {
        let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        t.draw(|f| render(f, offset, selected, title)).expect("draw");
        t.backend().buffer().clone()
    }

    #[test]
    fn a_scrolled_list_is_moved_by_the_terminal_and_the_screen_is_what_was_drawn() {
        let (w, h) = (40, 16);
        let mut s = Screen::new(Terminal::new(TestBackend::new(w, h)).expect("terminal"));
        // Down one row at a time, then a page, then back up, then a jump far away.
        let steps: Vec<(usize, usize)> =
            vec![(0, 0), (0, 11), (1, 12), (2, 13), (14, 26), (13, 13), (9, 9), (500, 505)];
        let mut shifts = Vec::new();
        for (offset, selected) in steps {
            let title = format!("{}/999", selected + 1);
            shifts.push(s.draw(|f| render(f, offset, selected, &title)).expect("draw"));
            assert_eq!(s.backend().buffer(), &expected(w, h, offset, selected, &title), "at offset {offset}");
        }
        // List rows are 2..=13 (inside the border). One step down moves 10 of them up a row:
        // the last, highlighted before, is written again without the highlight.
        assert_eq!(shifts[2], Some(Shift { first: 2, last: 12, by: 1 }), "{shifts:?}");
        assert_eq!(shifts[3], Some(Shift { first: 2, last: 12, by: 1 }));
        assert!(matches!(shifts[5], Some(Shift { by: -1, .. })), "{shifts:?}");
        assert!(matches!(shifts[6], Some(Shift { by: -4, .. })), "{shifts:?}");
        assert_eq!(shifts[1], None, "only the highlight moved");
        assert_eq!(shifts[7], None, "nothing in common");
    }

    #[test]
    fn after_a_clear_the_next_frame_is_written_whole() {
        let (w, h) = (30, 10);
        let mut s = Screen::new(Terminal::new(TestBackend::new(w, h)).expect("terminal"));
        s.draw(|f| render(f, 0, 0, "a")).expect("draw");
        s.clear().expect("clear");
        assert_eq!(s.draw(|f| render(f, 1, 1, "a")).expect("draw"), None);
        assert_eq!(s.backend().buffer(), &expected(w, h, 1, 1, "a"));
    }

    #[test]
    fn rows_moving_in_half_of_the_screen_are_not_moved() {
        let area = Rect::new(0, 0, 20, 6);
        let old = Buffer::with_lines(["a1 b", "a2 b", "a3 b", "a4 b", "a5 b", "a6 b"].map(|s| format!("{s:<20}")));
        let new = Buffer::with_lines(["a2 c", "a3 c", "a4 c", "a5 c", "a6 c", "a7 c"].map(|s| format!("{s:<20}")));
        assert_eq!(old.area, area);
        assert_eq!(find_shift(&old, &new), None);
    }
}
