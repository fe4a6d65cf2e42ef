//! Entering and always leaving the terminal's interactive mode: on drop, on panic, on signals.

use std::io::{self, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture};
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode};
use crossterm::{cursor, execute};
use ratatui::Terminal;

static ACTIVE: AtomicBool = AtomicBool::new(false);
static MOUSE: AtomicBool = AtomicBool::new(false);

pub type Term = crate::redraw::Screen<crate::redraw::Compact<Stdout>>;

/// Restores the terminal when dropped.
pub struct Guard;

impl Guard {
    /// Raw mode, the alternate screen and bracketed paste (pasted text arrives as text, not as
    /// keys); mouse capture only when asked for.
    pub fn enter(mouse: bool) -> io::Result<(Guard, Term)> {
        install_panic_hook();
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        MOUSE.store(mouse, Ordering::SeqCst);
        let mut out = io::stdout();
        execute!(out, EnterAlternateScreen, EnableBracketedPaste, cursor::Hide)?;
        if mouse {
            execute!(out, EnableMouseCapture)?;
        }
        let terminal = Terminal::new(crate::redraw::Compact::new(io::stdout()))?;
        Ok((Guard, crate::redraw::Screen::new(terminal)))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// Idempotent: only the first call after `enter` does anything.
pub fn restore() {
    restore_now();
}

/// Restores the terminal if it is in interactive mode; says whether it was.
fn restore_now() -> bool {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return false;
    }
    let mut out = io::stdout();
    if MOUSE.load(Ordering::SeqCst) {
        let _ = execute!(out, DisableMouseCapture);
    }
    let _ = execute!(out, DisableBracketedPaste, LeaveAlternateScreen, cursor::Show);
    let _ = disable_raw_mode();
    let _ = out.flush();
    true
}

fn install_panic_hook() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // Restore first so the message lands on a normal screen.
        let was_interactive = restore_now();
        previous(info);
        if was_interactive {
            // A panic anywhere (a worker thread too, which would otherwise leave the editor
            // drawing on a restored terminal) ends the program; unsaved edits are in the draft.
            std::process::exit(101);
        }
    }));
}
