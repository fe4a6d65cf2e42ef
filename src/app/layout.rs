//! Where everything goes, as a pure function of the terminal size: the view draws into these
//! areas and `update` pages and scrolls by them, so both agree on what is visible.

use ratatui::layout::Rect;

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub body: Rect,
    pub left: Rect,
    pub right: Rect,
    pub status: Rect,
    pub footer: Rect,
}

/// The terminal is smaller than the minimum: the view asks for a resize.
pub fn too_small(width: u16, height: u16) -> bool {
    width < MIN_WIDTH || height < MIN_HEIGHT
}

/// None when the terminal is smaller than the minimum.
pub fn layout(area: Rect) -> Option<Areas> {
    if too_small(area.width, area.height) {
        return None;
    }
    let header = Rect { height: 2, ..area };
    let footer = Rect { y: area.bottom() - 2, height: 2, ..area };
    let status = Rect { y: footer.y - 1, height: 1, ..area };
    let body = Rect { y: header.bottom(), height: status.y - header.bottom(), ..area };
    let left_w = body.width * 56 / 100;
    let left = Rect { width: left_w, ..body };
    let right = Rect { x: body.x + left_w, width: body.width - left_w, ..body };
    Some(Areas { header, body, left, right, status, footer })
}

/// The areas of a terminal of `size` (columns, rows); None when it is too small.
pub fn areas(size: (u16, u16)) -> Option<Areas> {
    layout(Rect::new(0, 0, size.0, size.1))
}

/// The findings screen: the list above, the selected finding in full below.
pub fn findings_split(body: Rect) -> (Rect, Rect) {
    let detail_h = (body.height / 2).clamp(8, 12).min(body.height);
    let list = Rect { height: body.height - detail_h, ..body };
    let detail = Rect { y: list.bottom(), height: detail_h, ..body };
    (list, detail)
}

/// Rows of items a bordered list with a header row shows in `area`.
pub fn list_rows(area: Rect) -> usize {
    area.height.saturating_sub(3) as usize
}

/// Rows of text a bordered box (the preview, the help) shows in `area`.
pub fn text_rows(area: Rect) -> usize {
    area.height.saturating_sub(2) as usize
}

/// Keeps `selected` in view, moving the window as little as possible.
pub fn scroll(offset: usize, selected: usize, rows: usize) -> usize {
    let rows = rows.max(1);
    if selected < offset {
        selected
    } else if selected >= offset + rows {
        selected + 1 - rows
    } else {
        offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(size: (u16, u16)) -> String {
        let Some(a) = layout(Rect::new(0, 0, size.0, size.1)) else {
            return "too small".into();
        };
        let mut rows = Vec::new();
        for y in 0..size.1 {
            let c = if y < a.header.bottom() {
                'H'
            } else if y < a.body.bottom() {
                'B'
            } else if y == a.status.y {
                'S'
            } else {
                'F'
            };
            rows.push(c);
        }
        rows.into_iter().collect()
    }

    #[test]
    fn layouts_at_minimum_and_large_sizes() {
        assert_eq!(picture((80, 24)), "HHBBBBBBBBBBBBBBBBBBBSFF");
        assert_eq!(picture((79, 24)), "too small");
        assert_eq!(picture((80, 23)), "too small");
        let a = layout(Rect::new(0, 0, 160, 48)).unwrap();
        assert_eq!((a.left.width, a.right.width, a.body.height), (89, 71, 43));
    }

    #[test]
    fn scrolling_moves_the_window_as_little_as_possible() {
        assert_eq!(scroll(0, 5, 10), 0);
        assert_eq!(scroll(0, 10, 10), 1);
        assert_eq!(scroll(5, 3, 10), 3);
        assert_eq!(scroll(5, 9, 10), 5);
    }
}
