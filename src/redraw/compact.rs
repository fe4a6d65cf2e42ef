//! The terminal backend: crossterm's, but writing fewer bytes for the same cells. Over SSH every
//! byte of a keystroke's frame is on the wire: one SGR sequence per style change (the 16 colours
//! by their short codes), cursor moves relative within a row, and runs of blanks erased (ECH)
//! instead of written out.

use std::io::{self, Write};

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use ratatui::style::{Color, Modifier};

/// A blank run is erased when erasing is shorter than writing it by at least this much.
const ERASE_FROM: usize = 1;

pub struct Compact<W: Write> {
    inner: CrosstermBackend<W>,
    /// Where the written bytes go before one write to the terminal per frame.
    out: Vec<u8>,
}

impl<W: Write> Compact<W> {
    pub fn new(writer: W) -> Self {
        Compact { inner: CrosstermBackend::new(writer), out: Vec::new() }
    }
}

/// What a cell looks like, apart from its symbol.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Pen {
    fg: Color,
    bg: Color,
    underline: Color,
    modifier: Modifier,
}

impl Pen {
    const PLAIN: Pen = Pen { fg: Color::Reset, bg: Color::Reset, underline: Color::Reset, modifier: Modifier::empty() };

    fn of(cell: &Cell) -> Pen {
        Pen { fg: cell.fg, bg: cell.bg, underline: cell.underline_color, modifier: cell.modifier }
    }
}

/// SGR codes turning each modifier on, and off (bold and dim share one, as do the blinks).
const MODIFIERS: [(Modifier, u8, u8); 9] = [
    (Modifier::BOLD, 1, 22),
    (Modifier::DIM, 2, 22),
    (Modifier::ITALIC, 3, 23),
    (Modifier::UNDERLINED, 4, 24),
    (Modifier::SLOW_BLINK, 5, 25),
    (Modifier::RAPID_BLINK, 6, 25),
    (Modifier::REVERSED, 7, 27),
    (Modifier::HIDDEN, 8, 28),
    (Modifier::CROSSED_OUT, 9, 29),
];

/// Parameters of one SGR sequence, each followed by ';'.
struct Params(Vec<u8>);

impl Params {
    fn num(&mut self, n: impl std::fmt::Display) {
        // Writing to a Vec cannot fail.
        let _ = write!(self.0, "{n};");
    }

    /// `base` is 30 (foreground), 40 (background) or 50 (underline, which has only the 256
    /// palette and 59 for the default).
    fn color(&mut self, c: Color, base: u8) {
        let named = match c {
            Color::Reset => return self.num(base + 9),
            Color::Black => 0,
            Color::Red => 1,
            Color::Green => 2,
            Color::Yellow => 3,
            Color::Blue => 4,
            Color::Magenta => 5,
            Color::Cyan => 6,
            Color::Gray => 7,
            Color::DarkGray => 8,
            Color::LightRed => 9,
            Color::LightGreen => 10,
            Color::LightYellow => 11,
            Color::LightBlue => 12,
            Color::LightMagenta => 13,
            Color::LightCyan => 14,
            Color::White => 15,
            Color::Indexed(i) => return self.num(format_args!("{};5;{i}", base + 8)),
            Color::Rgb(r, g, b) => return self.num(format_args!("{};2;{r};{g};{b}", base + 8)),
        };
        match (base, named) {
            (50, n) => self.num(format_args!("58;5;{n}")),
            (_, n @ 0..8) => self.num(base + n),
            (_, n) => self.num(base + 60 + n - 8),
        }
    }

    fn colors(&mut self, from: Pen, to: Pen) {
        if from.fg != to.fg {
            self.color(to.fg, 30);
        }
        if from.bg != to.bg {
            self.color(to.bg, 40);
        }
        if from.underline != to.underline {
            self.color(to.underline, 50);
        }
    }

    fn on(&mut self, m: Modifier) {
        for (bit, on, _) in MODIFIERS {
            if m.contains(bit) {
                self.num(on);
            }
        }
    }
}

/// The shortest SGR sequence taking the terminal from `from` to `to`: changes only, or a reset
/// and what `to` has.
fn sgr(from: Pen, to: Pen, out: &mut Vec<u8>) {
    if from == to {
        return;
    }
    let mut reset = Params(b"0;".to_vec());
    reset.on(to.modifier);
    reset.colors(Pen::PLAIN, to);
    let mut change = Params(Vec::new());
    let (gone, mut added) = (from.modifier - to.modifier, to.modifier - from.modifier);
    let mut offs: Vec<u8> = Vec::new();
    for (bit, _, off) in MODIFIERS {
        if gone.contains(bit) && !offs.contains(&off) {
            offs.push(off);
        }
    }
    for off in offs {
        change.num(off);
        // One code turns off a pair: the one of the pair still wanted is turned on again.
        for (bit, _, o) in MODIFIERS {
            if o == off && to.modifier.contains(bit) {
                added |= bit;
            }
        }
    }
    change.on(added);
    change.colors(from, to);
    let best = if to == Pen::PLAIN {
        &[][..]
    } else if change.0.len() <= reset.0.len() {
        &change.0[..]
    } else {
        &reset.0[..]
    };
    out.extend_from_slice(b"\x1b[");
    out.extend_from_slice(best.strip_suffix(b";").unwrap_or(best));
    out.push(b'm');
}

fn digits(n: usize) -> usize {
    n.checked_ilog10().unwrap_or(0) as usize + 1
}

/// The bytes of CSI `n` `letter`, the count left out when it is 1.
fn csi_len(n: usize) -> usize {
    if n == 1 { 3 } else { 3 + digits(n) }
}

fn csi(n: usize, letter: char, out: &mut Vec<u8>) {
    if n == 1 {
        let _ = write!(out, "\x1b[{letter}");
    } else {
        let _ = write!(out, "\x1b[{n}{letter}");
    }
}

/// Moves the cursor from `at` (unknown: None) to `to`, the shortest way that is always right: a
/// forward move along the row or an absolute one. (A move back is never used: after the last
/// column a terminal's cursor waits to wrap, and moves back from there differ between terminals.)
fn move_to(at: Option<(u16, u16)>, to: (u16, u16), out: &mut Vec<u8>) {
    let (x, y) = (usize::from(to.0), usize::from(to.1));
    let absolute = if x == 0 { 3 + digits(y + 1) } else { 4 + digits(y + 1) + digits(x + 1) };
    match at.map(|(ax, ay)| (usize::from(ax), usize::from(ay))) {
        Some(a) if a == (x, y) => {}
        Some((ax, ay)) if ay == y && x > ax && csi_len(x - ax) <= absolute => csi(x - ax, 'C', out),
        _ if x == 0 => {
            let _ = write!(out, "\x1b[{}H", y + 1);
        }
        _ => {
            let _ = write!(out, "\x1b[{};{}H", y + 1, x + 1);
        }
    }
}

fn blank(cell: &Cell) -> bool {
    cell.symbol() == " " && Pen::of(cell) == Pen::PLAIN
}

/// The escape codes and text that put `cells` (row-major, as a buffer diff lists them) on a
/// terminal whose attributes are reset; they end with the attributes reset again.
fn encode(cells: &[(u16, u16, &Cell)], out: &mut Vec<u8>) {
    let mut pen = Pen::PLAIN;
    let mut at: Option<(u16, u16)> = None;
    let mut i = 0;
    while i < cells.len() {
        let (x, y, cell) = cells[i];
        move_to(at, (x, y), out);
        at = Some((x, y));
        // A run of blank cells along the row.
        let run = cells[i..]
            .iter()
            .enumerate()
            .take_while(|&(k, &(cx, cy, c))| cy == y && usize::from(cx) == usize::from(x) + k && blank(c))
            .count();
        if run > 0 {
            let next_on_row = cells.get(i + run).is_some_and(|&(_, ny, _)| ny == y);
            let erase = csi_len(run) + if next_on_row { csi_len(run) } else { 0 };
            if erase + ERASE_FROM <= run {
                sgr(pen, Pen::PLAIN, out);
                pen = Pen::PLAIN;
                csi(run, 'X', out);
                i += run;
                continue;
            }
        }
        let p = Pen::of(cell);
        sgr(pen, p, out);
        pen = p;
        let symbol = cell.symbol();
        out.extend_from_slice(symbol.as_bytes());
        at = match ratatui::text::Span::raw(symbol).width() {
            // After a wide or zero-width symbol, terminals disagree on where the cursor is.
            1 => Some((x + 1, y)),
            _ => None,
        };
        i += 1;
    }
    sgr(pen, Pen::PLAIN, out);
}

impl<W: Write> Backend for Compact<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let cells: Vec<_> = content.collect();
        self.out.clear();
        encode(&cells, &mut self.out);
        self.inner.write_all(&self.out)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.inner.hide_cursor()
    }
    fn show_cursor(&mut self) -> io::Result<()> {
        self.inner.show_cursor()
    }
    fn get_cursor_position(&mut self) -> io::Result<Position> {
        self.inner.get_cursor_position()
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.inner.set_cursor_position(position)
    }
    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()
    }
    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)
    }
    fn size(&self) -> io::Result<Size> {
        self.inner.size()
    }
    fn window_size(&mut self) -> io::Result<WindowSize> {
        self.inner.window_size()
    }
    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(&mut self.inner)
    }
    fn scroll_region_up(&mut self, region: std::ops::Range<u16>, amount: u16) -> io::Result<()> {
        self.inner.scroll_region_up(region, amount)
    }
    fn scroll_region_down(&mut self, region: std::ops::Range<u16>, amount: u16) -> io::Result<()> {
        self.inner.scroll_region_down(region, amount)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use proptest::prelude::*;
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use ratatui::style::Style;
    use ratatui::{Terminal, TerminalOptions, Viewport};

    use super::*;
    use crate::redraw::Screen;

    #[derive(Clone, Default)]
    struct Tap(Rc<RefCell<Vec<u8>>>);

    impl Write for Tap {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn screen<B: Backend>(backend: B, w: u16, h: u16) -> Screen<B> {
        let viewport = Viewport::Fixed(Rect::new(0, 0, w, h));
        Screen::new(Terminal::with_options(backend, TerminalOptions { viewport }).expect("terminal"))
    }

    fn pen(style: (Color, Color, Modifier)) -> Pen {
        Pen { fg: style.0, bg: style.1, underline: Color::Reset, modifier: style.2 }
    }

    fn sgr_of(from: Pen, to: Pen) -> String {
        let mut out = Vec::new();
        sgr(from, to, &mut out);
        String::from_utf8(out).expect("ascii")
    }

    #[test]
    fn one_short_sequence_per_change_of_style() {
        let plain = Pen::PLAIN;
        let matched = pen((Color::Yellow, Color::Reset, Modifier::BOLD | Modifier::UNDERLINED));
        assert_eq!(sgr_of(plain, matched), "\x1b[1;4;33m");
        assert_eq!(sgr_of(matched, plain), "\x1b[m");
        assert_eq!(sgr_of(plain, plain), "");
        // Bold off turns dim off too, so dim is turned on again; a reset says it shorter.
        let both = pen((Color::Reset, Color::Reset, Modifier::BOLD | Modifier::DIM));
        let dim = pen((Color::Reset, Color::Reset, Modifier::DIM));
        assert_eq!(sgr_of(both, dim), "\x1b[0;2m");
        let dim_red = pen((Color::Red, Color::Reset, Modifier::DIM));
        assert_eq!(sgr_of(pen((Color::Red, Color::Reset, Modifier::BOLD | Modifier::DIM)), dim_red), "\x1b[22;2m");
        // A change of colour alone; bright and palette colours.
        let cyan = pen((Color::Cyan, Color::Reset, Modifier::empty()));
        assert_eq!(sgr_of(matched, cyan), "\x1b[0;36m", "a reset is shorter than 22;24;36");
        assert_eq!(sgr_of(cyan, pen((Color::LightRed, Color::Indexed(200), Modifier::empty()))), "\x1b[91;48;5;200m");
        assert_eq!(
            sgr_of(plain, pen((Color::Rgb(1, 2, 3), Color::White, Modifier::REVERSED))),
            "\x1b[7;38;2;1;2;3;107m"
        );
        let underline = Pen { underline: Color::Red, ..plain };
        assert_eq!(sgr_of(plain, underline), "\x1b[58;5;1m");
    }

    #[test]
    fn moves_forward_along_a_row_and_erases_long_blank_runs() {
        let word = |s: &str| {
            let mut b = Buffer::empty(Rect::new(0, 0, 40, 2));
            b.set_string(0, 0, s, Style::new());
            b
        };
        let (old, new) = (word("abc 12345678901234567890 x"), word("aXc"));
        let cells = old.diff(&new);
        let mut out = Vec::new();
        encode(&cells, &mut out);
        // "b" becomes "X" (after a move to it), the digits are erased in one go (the cursor
        // stays), and the lone "x" is overwritten after a move forward.
        assert_eq!(String::from_utf8(out).expect("ascii"), "\x1b[1;2HX\x1b[2C\x1b[20X\x1b[21C ");
    }

    const STYLES: [(Color, Color, Modifier); 6] = [
        (Color::Reset, Color::Reset, Modifier::empty()),
        (Color::Yellow, Color::Reset, Modifier::BOLD.union(Modifier::UNDERLINED)),
        (Color::Cyan, Color::Reset, Modifier::BOLD),
        (Color::Reset, Color::Reset, Modifier::REVERSED),
        (Color::LightGreen, Color::Blue, Modifier::DIM.union(Modifier::ITALIC)),
        (Color::Indexed(130), Color::Rgb(9, 8, 7), Modifier::empty()),
    ];

    /// A frame: runs of text, each in one of the styles, some rows copied from others (so that
    /// scrolled lists occur), with wide characters now and then.
    fn frame() -> impl Strategy<Value = Vec<Vec<(String, usize)>>> {
        let run = ("[a-c │·]{0,12}|漢字|      ", 0..STYLES.len());
        prop::collection::vec(prop::collection::vec(run, 0..5), 8)
    }

    fn buffer(rows: &[Vec<(String, usize)>], w: u16) -> Buffer {
        let mut b = Buffer::empty(Rect::new(0, 0, w, rows.len() as u16));
        for (y, runs) in rows.iter().enumerate() {
            let mut x = 0;
            for (text, style) in runs {
                let (fg, bg, modifier) = STYLES[*style];
                let style = Style::new().fg(fg).bg(bg).add_modifier(modifier);
                x = b.set_stringn(x, y as u16, text, usize::from(w.saturating_sub(x)), style).0;
            }
        }
        b
    }

    fn vt_color(c: Color) -> vt100::Color {
        match c {
            Color::Reset => vt100::Color::Default,
            Color::Yellow => vt100::Color::Idx(3),
            Color::Cyan => vt100::Color::Idx(6),
            Color::Blue => vt100::Color::Idx(4),
            Color::LightGreen => vt100::Color::Idx(10),
            Color::Indexed(i) => vt100::Color::Idx(i),
            Color::Rgb(r, g, b) => vt100::Color::Rgb(r, g, b),
            other => panic!("no colour {other:?} in the styles"),
        }
    }

    /// An erased cell and a written blank look the same.
    fn shown(c: &vt100::Cell) -> &str {
        if c.has_contents() { c.contents() } else { " " }
    }

    fn flags(c: &vt100::Cell) -> (bool, bool, bool, bool, bool) {
        (c.bold(), c.dim(), c.italic(), c.underline(), c.inverse())
    }

    /// Two terminals show the same: symbols, colours and styles, cell by cell.
    fn assert_same(got: &vt100::Parser, want: &vt100::Parser) {
        let (g, w) = (got.screen(), want.screen());
        let (rows, cols) = g.size();
        for y in 0..rows.get() {
            for x in 0..cols.get() {
                let (a, b) = (g.cell(y, x).expect("cell"), w.cell(y, x).expect("cell"));
                let at = format!("at ({x}, {y}): {:?} against {:?}", g.contents(), w.contents());
                assert_eq!(shown(a), shown(b), "{at}");
                assert_eq!((a.fgcolor(), a.bgcolor(), flags(a)), (b.fgcolor(), b.bgcolor(), flags(b)), "{at}");
            }
        }
    }

    /// The terminal's screen, cell by cell, is the buffer.
    fn assert_shows(vt: &vt100::Parser, b: &Buffer) {
        for y in 0..b.area.height {
            for x in 0..b.area.width {
                let want = &b[(x, y)];
                let got = vt.screen().cell(y, x).expect("cell");
                if got.is_wide_continuation() {
                    continue;
                }
                let at = format!("at ({x}, {y}): {:?}", vt.screen().contents());
                assert_eq!(shown(got), want.symbol(), "{at}");
                if want.symbol() == " " && got.bgcolor() == vt100::Color::Default && want.bg == Color::Reset {
                    continue;
                }
                assert_eq!(got.fgcolor(), vt_color(want.fg), "{at}");
                assert_eq!(got.bgcolor(), vt_color(want.bg), "{at}");
                let m = want.modifier;
                let wanted = (
                    m.contains(Modifier::BOLD),
                    m.contains(Modifier::DIM),
                    m.contains(Modifier::ITALIC),
                    m.contains(Modifier::UNDERLINED),
                    m.contains(Modifier::REVERSED),
                );
                assert_eq!(flags(got), wanted, "{at}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Frame after frame, the terminal shows what crossterm's own backend would have it show,
        /// in no more bytes; without wide characters, that is exactly the frame. (Where a wide
        /// character is half overwritten, ratatui's diff leaves a blank in the old style, with
        /// either backend.)
        #[test]
        fn the_terminal_shows_each_frame_exactly(frames in prop::collection::vec(frame(), 1..5), shift in 0usize..3) {
            let (w, h) = (24, 8);
            let tap = Tap::default();
            let mut compact = screen(Compact::new(tap.clone()), w, h);
            let crossterm = Tap::default();
            let mut plain = screen(CrosstermBackend::new(crossterm.clone()), w, h);
            let mut written = 0;
            let size = |n| std::num::NonZeroU16::new(n).expect("a size");
            let mut vt = vt100::Parser::new(size(h), size(w), 0);
            let mut vt_plain = vt100::Parser::new(size(h), size(w), 0);
            let mut prev: Option<Vec<Vec<(String, usize)>>> = None;
            let (mut plain_seen, mut wide_seen) = (0, false);
            for mut rows in frames {
                // Often the next frame is the last one scrolled.
                if let Some(p) = prev.as_ref().filter(|_| shift > 0) {
                    rows[..8 - shift].clone_from_slice(&p[shift..]);
                }
                let b = buffer(&rows, w);
                compact.draw(|f| f.buffer_mut().clone_from(&b)).expect("draw");
                plain.draw(|f| f.buffer_mut().clone_from(&b)).expect("draw");
                vt.process(&tap.0.borrow());
                written += tap.0.borrow().len();
                tap.0.borrow_mut().clear();
                vt_plain.process(&crossterm.0.borrow()[plain_seen..]);
                plain_seen = crossterm.0.borrow().len();
                assert_same(&vt, &vt_plain);
                // A wide character drawn once can leave its trace in later frames.
                wide_seen |= rows.iter().flatten().any(|(text, _)| text.contains('漢'));
                if !wide_seen {
                    assert_shows(&vt, &b);
                }
                prev = Some(rows);
            }
            prop_assert!(written <= crossterm.0.borrow().len(), "{written} B against {}", crossterm.0.borrow().len());
        }
    }
}
