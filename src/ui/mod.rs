//! `view(&Model, &mut Frame)`: a pure function of the model.

pub mod dialog;
pub mod handoff;
pub mod lists;
pub mod screens;
pub mod theme;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::keymap::{Action, BINDINGS, Binding, Scope, binding_in, hint, hint_line, unavailable};
use crate::app::layout::{MIN_HEIGHT, MIN_WIDTH, layout};
use crate::app::model::{Model, Phase, Screen};
use crate::domain::text::sanitize;
use ratatui::style::Style;
use theme::Theme;

pub fn view(m: &Model, f: &mut Frame, theme: &Theme) {
    let area = f.area();
    let Some(a) = layout(area) else {
        too_small(f, area, theme);
        return;
    };
    header(m, f, a.header, theme);
    if m.help {
        screens::help(f, a.body, m.help_scroll, theme);
    } else {
        match (&m.phase, m.screen) {
            (_, Screen::Fields) if m.org().is_some() => screens::fields(m, f, a.body, theme),
            (Phase::Failed { message }, _) => screens::failed(f, a.body, message, theme),
            (_, Screen::Preview) if m.has_data() => screens::preview(m, f, a.body, theme),
            (_, Screen::Handoff) if m.has_data() => handoff::render(m, f, a.body, theme),
            (_, Screen::Findings) if m.has_data() => screens::findings(m, f, a.body, theme),
            (_, _) if m.has_data() => {
                lists::values(m, f, a.left, theme);
                lists::groups(m, f, a.right, theme);
            }
            (Phase::Loading { status, .. }, _) => screens::loading(f, a.body, status, theme),
            (Phase::Ready, _) => screens::loading(f, a.body, &Default::default(), theme),
        }
    }
    status(m, f, a.status, theme);
    footer(m, f, a.footer, theme);
    if let Some(d) = &m.dialog {
        dialog::render(m, d, f, area, theme);
    }
}

fn too_small(f: &mut Frame, area: Rect, theme: &Theme) {
    let text = vec![
        Line::styled("Terminal too small", theme.error()),
        Line::raw(format!("{}×{}: resize to at least {MIN_WIDTH}×{MIN_HEIGHT}.", area.width, area.height)),
        Line::raw(hint_line(Scope::TooSmall)),
    ];
    f.render_widget(Paragraph::new(text), area);
}

fn header(m: &Model, f: &mut Frame, area: Rect, theme: &Theme) {
    let snap = m.snap();
    let (org, host) = if snap.organization.is_empty() {
        ("loading…".to_owned(), "loading…".to_owned())
    } else {
        let host = sanitize(snap.base_url.split("://").nth(1).unwrap_or(&snap.base_url)).into_owned();
        let uuid = crate::service::calendly::wire::uuid_of(&snap.organization);
        let org = match &snap.idp {
            // Room for the values' source: the organization by the start of its UUID.
            Some(idp) => format!(
                "{host} · org {} · values: {} · {}",
                sanitize(uuid.get(..8).unwrap_or(uuid)),
                sanitize(&idp.provider),
                sanitize(&idp.attribute)
            ),
            None => format!("{host} · org {}", sanitize(uuid)),
        };
        (org, host)
    };
    // Where it does not fit, the values' source is kept and the service's host dropped.
    let org_short = snap.idp.as_ref().and_then(|_| org.split_once(" · ").map(|(_, rest)| rest.to_owned()));
    let mut first = vec![Span::styled("groupmap ", theme.title())];
    if m.sandbox {
        first.push(Span::styled("[SANDBOX] ", theme.accent()));
    }
    if m.has_data() && m.capabilities().read_only() {
        first.push(Span::styled("[READ-ONLY] ", theme.warn()));
    }
    if m.inferred() {
        first.push(Span::styled("[INFERRED: check before you enter it] ", theme.warn()));
    }
    let loading = match &m.phase {
        Phase::Loading { status, .. } if m.has_data() => Some(status.rows().0 + status.groups.rows),
        _ => None,
    };
    match (m.stale, loading) {
        (Some(age), Some(rows)) => first.push(Span::styled(
            format!("[STALE: cached {} ago; loading… {rows} rows] ", crate::report::age(age)),
            theme.warn(),
        )),
        (Some(age), None) if m.has_data() => first.push(Span::styled(
            format!(
                "[STALE: cached {} ago; {}] ",
                crate::report::age(age),
                hint(binding_in(Scope::LoadFailed, Action::Reload))
            ),
            theme.warn(),
        )),
        (None, Some(rows)) => first.push(Span::styled(
            format!("[RELOADING… {rows} rows, {}] ", hint(binding_in(Scope::Loading, Action::Back))),
            theme.accent(),
        )),
        _ => {}
    }
    if let crate::app::model::DraftFile::Failed(_) = m.draft_file
        && m.modified()
    {
        first.push(Span::styled("[DRAFT NOT SAVED] ", theme.error()));
    }
    if m.sandbox {
        // What the sandbox is, on the first screen and every one after (the path is on the
        // status line when nothing else is said there); the made-up organization's id gives way.
        let used: usize = first.iter().map(|s| s.width()).sum();
        let fits =
            |note: &str, label: &str| used + note.chars().count() + 3 + label.chars().count() <= area.width as usize;
        let long = "a made-up organization on this machine; nothing reaches Calendly";
        let short = "made up; nothing reaches Calendly";
        // With values from an identity provider, its name outlasts the organization and the host.
        let source =
            snap.idp.as_ref().map(|i| format!("values: {} · {}", sanitize(&i.provider), sanitize(&i.attribute)));
        let last = source.as_ref().unwrap_or(&host);
        let (note, label) = [(long, &org), (short, &org), (short, org_short.as_ref().unwrap_or(&org)), (short, last)]
            .into_iter()
            .find(|(n, l)| fits(n, l))
            .unwrap_or((short, last));
        first.push(Span::styled(format!("{note} · "), theme.dim()));
        first.push(Span::raw(label.clone()));
    } else {
        let used: usize = first.iter().map(|s| s.width()).sum();
        match org_short {
            Some(short) if used + org.chars().count() > area.width as usize => first.push(Span::raw(short)),
            _ => first.push(Span::raw(org)),
        }
    }
    let tab = |name: &str, on: bool| Span::styled(format!(" {name} "), if on { theme.selected() } else { theme.dim() });
    let mapping = &m.mapping;
    let default =
        m.plan.default_dest.map_or_else(|| "none".to_owned(), |d| sanitize(m.plan.dest_name(snap, d)).into_owned());
    let second = vec![
        tab("Mapping", m.screen == Screen::Mapping && !m.help),
        tab("Fields", m.screen == Screen::Fields && !m.help),
        tab("Preview", m.screen == Screen::Preview && !m.help),
        Span::raw("  mapping "),
        Span::styled(
            if mapping.enabled { "ON" } else { "OFF" },
            if mapping.enabled { theme.ok() } else { theme.warn() },
        ),
        Span::raw(" · default "),
        Span::raw(default),
        Span::raw(" · apply-existing "),
        Span::styled(
            if mapping.apply_to_existing { "ON" } else { "OFF" },
            if mapping.apply_to_existing { theme.ok() } else { theme.warn() },
        ),
    ];
    f.render_widget(Paragraph::new(vec![Line::from(first), Line::from(second)]), area);
}

fn status(m: &Model, f: &mut Frame, area: Rect, theme: &Theme) {
    // A message longer than the line ends in "…", so a cut is never taken for the whole of it.
    let fit = |text: String| -> String {
        let width = area.width as usize;
        if text.chars().count() <= width {
            return text;
        }
        text.chars().take(width.saturating_sub(1)).chain(['…']).collect()
    };
    let line = match &m.status {
        Some((text, true)) => Line::styled(fit(format!("! {}", sanitize(text))), theme.error()),
        Some((text, false)) => Line::raw(fit(sanitize(text).into_owned())),
        // With no table to start from, where the selected value's users are.
        None if m.screen == Screen::Mapping && !m.help && m.selection_note().is_some() => {
            Line::raw(fit(m.selection_note().unwrap_or_default()))
        }
        None => match crate::app::notes::status_note(m, area.width as usize) {
            Some(note) => Line::styled(sanitize(&note).into_owned(), theme.dim()),
            None => Line::raw(""),
        },
    };
    f.render_widget(Paragraph::new(line), area);
}

/// The live plan summary, as the footer shows it.
pub fn summary(m: &Model) -> String {
    let p = &m.plan;
    if !m.has_data() {
        return String::new();
    }
    if !p.enabled {
        return "mapping OFF: nobody moves".into();
    }
    let moves = p.changes.len() - p.to_default();
    let mut s = format!(
        "{moves} move · {} to default · {} unmapped · {} unchanged",
        p.to_default(),
        p.unmapped.len(),
        p.unchanged
    );
    if !p.apply_to_existing && !p.changes.is_empty() {
        s.push_str(" · NOT APPLIED (apply-existing OFF)");
    }
    // Notes and resolved findings ask nothing of the admin: not counted.
    let errors = p.lint.iter().filter(|l| l.severity == crate::domain::lint::Severity::Error).count();
    let warnings = p.lint.iter().filter(|l| l.severity == crate::domain::lint::Severity::Warning).count();
    if errors > 0 {
        s.push_str(&format!(" · {errors} error(s)"));
    }
    if warnings > 0 {
        s.push_str(&format!(" · {warnings} finding(s)"));
    }
    s
}

fn footer(m: &Model, f: &mut Frame, area: Rect, theme: &Theme) {
    // The keys that work now: a dialog's, the help's, a filter being typed, or the screen's.
    let live = crate::app::keymap::live_scopes(m);
    // Help and quit always show, at the right; the rest fill the line in table order.
    let always = |a: Action| matches!(a, Action::Help | Action::Quit);
    let hint = |b: &Binding| -> (Vec<Span<'static>>, usize) {
        let off = unavailable(m, b.action).is_some();
        // Where the service cannot save the table, the same key hands it off.
        let word = match b.action {
            Action::Save if m.has_data() && m.capabilities().read_only() => "hand-off",
            _ => b.hint.unwrap_or_default(),
        };
        let text = format!(" {word}  ");
        // The first key is enough in the footer; help lists them all.
        let label =
            b.label.split_once('/').map_or(b.label, |(first, _)| if first.is_empty() { b.label } else { first });
        let width = label.chars().count() + text.chars().count();
        let spans = vec![
            Span::styled(label, if off { theme.dim() } else { theme.key() }),
            Span::styled(text, if off { theme.dim() } else { Style::new() }),
        ];
        (spans, width)
    };
    let mut shown: Vec<&Binding> = BINDINGS.iter().filter(|b| b.hint.is_some() && live.contains(&b.scope)).collect();
    // One hint an action (a screen may restate a key the whole editor has), and none for keys
    // that do nothing yet (quitting during a save is offered only once C-c asked).
    let mut seen = Vec::new();
    shown.retain(|b| {
        !seen.contains(&b.action) && {
            seen.push(b.action);
            true
        }
    });
    if matches!(m.dialog, Some(crate::app::model::Dialog::Saving { quit_asked: false, .. })) {
        shown.clear();
    }
    let (right, right_w) =
        shown.iter().filter(|b| always(b.action)).map(|b| hint(b)).fold((Vec::new(), 0), |(mut v, w), (s, n)| {
            v.extend(s);
            (v, w + n)
        });
    let mut hints = Vec::new();
    let mut used = 0;
    for b in shown.iter().filter(|b| !always(b.action)) {
        let (spans, w) = hint(b);
        if used + w + right_w > area.width as usize {
            break;
        }
        used += w;
        hints.extend(spans);
    }
    hints.push(Span::raw(" ".repeat((area.width as usize).saturating_sub(used + right_w))));
    hints.extend(right);
    let mut first = Vec::new();
    let summary = summary(m);
    let edited = if m.modified() { "edited " } else { "" };
    let label = match &m.snap().saved {
        Some(s) => Some(format!("{} ", s.label())),
        // Nothing to compare with: said, so edits are not taken for changes to a known table.
        None if m.has_data() && m.capabilities().read_only() => Some("no table of record ".to_owned()),
        None => None,
    };
    if let Some(label) = label {
        // The label gives way when the line would not fit (the counts matter more).
        let needed = label.chars().count() + edited.len() + summary.chars().count();
        if needed <= area.width as usize {
            first.push(Span::styled(label, theme.dim()));
        }
    }
    if !edited.is_empty() {
        first.push(Span::styled(edited, theme.accent()));
    }
    first.push(Span::styled(summary, Style::new().add_modifier(ratatui::style::Modifier::BOLD)));
    let summary = Line::from(first);
    f.render_widget(Paragraph::new(vec![summary, Line::from(hints)]), area);
}
