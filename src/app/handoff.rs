//! The hand-off: a service that cannot save the table (Calendly's public API; the table lives
//! only in its admin center) gets it entered by the admin, step by step in the admin center's
//! own order, with each value copyable exactly. Pure: files, the clipboard and the table of
//! record are effects.

use std::path::PathBuf;

use base64::Engine as _;
use ratatui::layout::Rect;

use super::keymap::Action;
use super::model::{ListView, Model, Screen};
use super::msg::Effect;
use crate::domain::mapping_file::{to_csv, to_toml};
use crate::domain::text::{quoted, visible};
use crate::domain::{Mapping, Target, plan};

/// Where the admin center keeps the table, in the words of Calendly's help center ("How to
/// automate group provisioning", Map group values).
pub const WHERE: &str = "Admin center → Login → User provisioning";
pub const MAP_TO_GROUPS: &str = "Step 2: Map to groups (Optional)";

/// One thing to do in the admin center, in its order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A group the table names that Calendly does not have yet.
    CreateGroup(String),
    Open,
    MapToGroups,
    /// "Turn on Mapping attributes" (or leave it off).
    MappingAttributes(bool),
    Row {
        value: String,
        group: String,
        new: bool,
    },
    DefaultGroup(Option<String>),
    ApplyToExisting(bool),
    /// How many users the preview should show moving.
    PreviewChanges(usize),
    SaveAndContinue,
}

impl Step {
    /// The step as the hand-off lists it; values are shown exactly, invisible characters made
    /// visible (`␣` for a surrounding space, `\u{a0}` for NBSP, `\t`, `\u{200b}`).
    pub fn text(&self) -> String {
        match self {
            Step::CreateGroup(name) => format!("Create the group {} in Calendly first", quoted(name)),
            Step::Open => format!("Go to {WHERE}"),
            Step::MapToGroups => format!("Select {MAP_TO_GROUPS}"),
            Step::MappingAttributes(true) => "Turn on Mapping attributes (opens the Group Mapping table)".into(),
            Step::MappingAttributes(false) => "Leave Mapping attributes off (this table has mapping OFF)".into(),
            Step::Row { value, group, new } => {
                format!("{}  →  {}{}", visible(value), visible(group), if *new { " (new group)" } else { "" })
            }
            Step::DefaultGroup(Some(name)) => format!("Default group: {}", visible(name)),
            Step::DefaultGroup(None) => "Default group: none".into(),
            Step::ApplyToExisting(on) => {
                format!("Apply changes to existing users: {} (the choice made here)", if *on { "yes" } else { "no" })
            }
            Step::PreviewChanges(n) => format!("Select Preview changes and review them ({n} user(s) should move)"),
            Step::SaveAndContinue => "Select Save and continue".into(),
        }
    }

    /// What `c` (or, with `group`, `C`) copies: the row's value or group, a group's name.
    pub fn copied(&self, group: bool) -> Option<(&'static str, &str)> {
        match self {
            Step::Row { value, .. } if !group => Some(("value", value)),
            Step::Row { group: g, .. } => Some(("group name", g)),
            Step::CreateGroup(name) | Step::DefaultGroup(Some(name)) => Some(("group name", name)),
            _ => None,
        }
    }
}

/// Where the files stand.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Files {
    #[default]
    NotWritten,
    Writing,
    Written {
        toml: PathBuf,
        csv: PathBuf,
    },
    Failed(String),
}

/// The check after recording: the recorded table planned on a fresh load.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Verify {
    #[default]
    NotAsked,
    Reloading,
    Done {
        placed: usize,
        not_yet: usize,
        unmapped: usize,
        /// Groups the table names that Calendly still does not have: a table naming them
        /// cannot have been saved in the admin center.
        missing: Vec<String>,
    },
}

/// The hand-off of one table: its steps, what is ticked off, the files and the record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Handoff {
    /// The table the steps are for, and its mapping file and CSV (groups by name: a group
    /// created in the admin center meanwhile leaves it the same table).
    pub mapping: Mapping,
    pub toml: String,
    pub csv: String,
    pub steps: Vec<Step>,
    pub ticked: Vec<bool>,
    pub list: ListView,
    pub files: Files,
    /// The table of record written for it.
    pub recorded: Option<PathBuf>,
    pub recording: bool,
    pub verify: Verify,
    /// Ticks lost because the table changed while away, told when the hand-off opens again.
    pub reset: usize,
}

impl Handoff {
    pub fn new(m: &Model) -> Handoff {
        let snap = m.snap();
        let mapping = m.mapping.clone();
        let name = |t: &Target| snap.target_name(t).to_owned();
        let mut steps: Vec<Step> = m.plan.new_groups.iter().cloned().map(Step::CreateGroup).collect();
        steps.push(Step::Open);
        steps.push(Step::MapToGroups);
        steps.push(Step::MappingAttributes(mapping.enabled));
        steps.extend(mapping.rows.iter().map(|r| Step::Row {
            value: r.idp_value.clone(),
            group: name(&r.target),
            new: matches!(r.target, Target::New(_)),
        }));
        steps.push(Step::DefaultGroup(mapping.default_group.as_ref().map(name)));
        steps.push(Step::ApplyToExisting(mapping.apply_to_existing));
        steps.push(Step::PreviewChanges(if mapping.apply_to_existing { m.plan.changes.len() } else { 0 }));
        steps.push(Step::SaveAndContinue);
        Handoff {
            toml: to_toml(snap, &mapping),
            csv: to_csv(snap, &mapping),
            ticked: vec![false; steps.len()],
            steps,
            mapping,
            ..Handoff::default()
        }
    }

    pub fn entered(&self) -> usize {
        self.ticked.iter().filter(|t| **t).count()
    }

    pub fn selected(&self) -> Option<&Step> {
        self.list.filtered.get(self.list.selected).and_then(|i| self.steps.get(i))
    }
}

/// The OSC 52 sequence that puts `text` on the clipboard of the terminal the admin sits at
/// (over SSH too): `ESC ] 52 ; c ; BASE64 BEL`.
pub fn osc52(text: &str) -> String {
    format!("\x1b]52;c;{}\x07", base64::engine::general_purpose::STANDARD.encode(text))
}

/// Why an action cannot run now on the hand-off, or None (`keymap::unavailable` asks the rest).
pub fn unavailable(m: &Model, a: Action, editing: bool) -> Option<&'static str> {
    let here = m.screen == Screen::Handoff;
    let h = m.handoff.as_ref();
    match a {
        Action::Save if here => Some("this is the hand-off: D when the table is saved in Calendly"),
        Action::Filter if here => Some("the hand-off lists every step (no filter)"),
        _ if here && editing => Some("leave the hand-off (Esc) to change the table"),
        Action::Recorded if h.is_some_and(|h| h.recording) => Some("recording the table…"),
        Action::Verify if h.is_none_or(|h| h.recorded.is_none()) => {
            Some("nothing recorded yet: D when the table is saved in Calendly")
        }
        _ => None,
    }
}

/// `S` on a read-only service: the hand-off opens, resumed with its ticks when it is for the
/// same table, started afresh (and said) when the table changed meanwhile.
pub fn open(m: &mut Model) -> Vec<Effect> {
    let fresh = Handoff::new(m);
    let (h, said) = match m.handoff.take() {
        Some(h) if h.toml == fresh.toml => {
            let said = format!("hand-off resumed: {}/{} entered", h.entered(), h.steps.len());
            (h, said)
        }
        Some(h) if h.entered() + h.reset > 0 => {
            let lost = h.entered() + h.reset;
            (
                fresh,
                format!(
                    "the table changed since the hand-off was started: its {lost} tick(s) were reset (ticks are for one table)"
                ),
            )
        }
        _ => (fresh, "enter this table in Calendly's admin center step by step; Enter ticks a step off".to_owned()),
    };
    m.handoff = Some(h);
    m.screen = Screen::Handoff;
    m.status = Some((said, false));
    Vec::new()
}

/// After a re-plan on the hand-off screen (a reload): a changed table resets the ticks, and a
/// verification asked for plans the recorded table on what was loaded.
pub fn refresh(m: &mut Model) {
    let Some(h) = &m.handoff else { return };
    let verifying = h.verify == Verify::Reloading;
    if m.screen != Screen::Handoff && !verifying {
        return;
    }
    let fresh = Handoff::new(m);
    if fresh.toml != h.toml {
        let lost = h.entered();
        m.handoff = Some(fresh);
        if m.screen == Screen::Handoff {
            m.status = Some((
                format!("the table changed: the hand-off's {lost} tick(s) were reset (ticks are for one table)"),
                true,
            ));
        } else if let Some(h) = &mut m.handoff {
            h.reset = lost;
        }
        return;
    }
    // The same table; its groups as they are now (one created in the admin center has a URI).
    if let Some(h) = &mut m.handoff {
        h.mapping = fresh.mapping;
    }
    if !verifying {
        return;
    }
    let snap = m.snap().clone();
    let Some(h) = &mut m.handoff else { return };
    let (recorded, _) = snap.adopt_new_groups(&h.mapping);
    let p = plan(&snap, &recorded);
    let (placed, not_yet, unmapped) = (p.unchanged, p.changes.len(), p.unmapped.len());
    let missing = recorded.new_groups();
    let mut said = format!("verified: {placed} where the table says, {not_yet} not yet (p lists them)");
    if !missing.is_empty() {
        said.push_str(&format!("; the table names {}", crate::report::groups_calendly_lacks(&missing)));
    }
    m.status = Some((said, !missing.is_empty()));
    h.verify = Verify::Done { placed, not_yet, unmapped, missing };
}

/// The verification in words.
pub fn verified(placed: usize, not_yet: usize, unmapped: usize, missing: &[String]) -> String {
    let mut s = String::new();
    if !missing.is_empty() {
        s.push_str(&format!("the table names {}; ", crate::report::groups_calendly_lacks(missing)));
    }
    s.push_str(&format!("{placed} user(s) are where the table says"));
    if not_yet > 0 {
        s.push_str(&format!(
            "; {not_yet} not yet: Calendly applies the table at each user's next provisioning, and to existing \
             users when saved with apply to existing users (p lists them)"
        ));
    } else {
        s.push_str("; nobody is left to move");
    }
    if unmapped > 0 {
        s.push_str(&format!("; {unmapped} have no row and no default group (they stay)"));
    }
    s
}

/// Enter: ticks the selected step off (again: back on).
pub fn tick(m: &mut Model) {
    let Some(h) = &mut m.handoff else { return };
    let Some(i) = h.list.filtered.get(h.list.selected) else { return };
    h.ticked[i] = !h.ticked[i];
    let (n, total) = (h.entered(), h.steps.len());
    let said = if h.ticked[i] { "ticked off" } else { "unticked" };
    m.status = Some((format!("{said}: {n}/{total} entered"), false));
    if h.ticked[i] && h.list.selected + 1 < total {
        h.list.selected += 1;
    }
}

/// `c` / `C`: the selected value or group name, to the admin's own clipboard (OSC 52).
pub fn copy(m: &mut Model, group: bool) -> Vec<Effect> {
    let Some(step) = m.handoff.as_ref().and_then(Handoff::selected) else { return Vec::new() };
    let Some((what, text)) = step.copied(group) else {
        m.status = Some(("this step has no value or group name to copy".into(), true));
        return Vec::new();
    };
    let sequence = osc52(text);
    let n = text.chars().count();
    m.status = Some((format!("copied {what} \"{}\" ({n} characters) to the clipboard (OSC 52)", visible(text)), false));
    vec![Effect::Clipboard { sequence }]
}

/// `w`: the mapping file and the admin-center CSV, written under the state directory.
pub fn write_files(m: &mut Model) -> Vec<Effect> {
    let organization = m.snap().organization.clone();
    let Some(h) = &mut m.handoff else { return Vec::new() };
    h.files = Files::Writing;
    vec![Effect::WriteHandoff { organization, toml: h.toml.clone(), csv: h.csv.clone() }]
}

pub fn on_written(m: &mut Model, result: Result<(PathBuf, PathBuf), String>) {
    let Some(h) = &mut m.handoff else { return };
    match result {
        Ok((toml, csv)) => {
            m.status = Some((format!("wrote {} and {}", toml.display(), csv.display()), false));
            h.files = Files::Written { toml, csv };
        }
        Err(why) => {
            m.status = Some((format!("the hand-off's files could not be written: {why}"), true));
            h.files = Files::Failed(why);
        }
    }
}

/// Yes in the confirm: the table is recorded as the table of record.
pub fn record(m: &mut Model) -> Vec<Effect> {
    let organization = m.snap().organization.clone();
    let Some(h) = &mut m.handoff else { return Vec::new() };
    h.recording = true;
    vec![Effect::RecordTable { organization, toml: h.toml.clone() }]
}

/// Recorded: as a save would, this session's draft goes; a verification reload is offered.
pub fn on_recorded(m: &mut Model, result: Result<PathBuf, String>) -> Vec<Effect> {
    let organization = m.snap().organization.clone();
    let Some(h) = &mut m.handoff else { return Vec::new() };
    h.recording = false;
    match result {
        Ok(path) => {
            m.status = Some((
                format!(
                    "recorded as the table of record ({}); v reloads and checks who is where it says",
                    path.display()
                ),
                false,
            ));
            h.recorded = Some(path);
            h.verify = Verify::NotAsked;
            m.draft_file = super::model::DraftFile::None;
            vec![Effect::DeleteDraft { organization }]
        }
        Err(why) => {
            m.status = Some((format!("the table could not be recorded: {why}; your edits are kept"), true));
            Vec::new()
        }
    }
}

/// `v`: reload, then plan the recorded table on what was loaded (`refresh`).
pub fn verify(m: &mut Model) -> Vec<Effect> {
    if let Some(h) = &mut m.handoff {
        h.verify = Verify::Reloading;
    }
    super::update::start_load(m)
}

/// The steps' box and, under it, the box of the files and the record with its lines (the
/// steps keep at least four rows).
pub fn split(m: &Model, body: Rect) -> (Rect, Rect, Vec<String>) {
    let lines = info_lines(m, body.width.saturating_sub(2) as usize);
    let height = (lines.len() as u16 + 2).min(body.height.saturating_sub(6));
    let steps = Rect { height: body.height - height, ..body };
    let info = Rect { y: steps.bottom(), height, ..body };
    (steps, info, lines)
}

/// The lines under the steps: the files, the record and the verification, wrapped to `width`
/// (paths are broken, never cut, so that each is shown in full).
pub fn info_lines(m: &Model, width: usize) -> Vec<String> {
    let Some(h) = &m.handoff else { return Vec::new() };
    let mut out = Vec::new();
    let mut say = |text: String| out.extend(wrap(&text, width));
    match &h.files {
        Files::NotWritten => {
            let dir = m.handoff_dir.as_deref().unwrap_or("the state directory's handoff/");
            say(format!("w writes the mapping file (TOML) and the admin-center CSV to {dir}/ (owner-only)"))
        }
        Files::Writing => say("writing the files…".into()),
        Files::Written { toml, csv } => say(format!("Written (owner-only): {} {}", toml.display(), csv.display())),
        Files::Failed(why) => say(format!("The files could not be written: {why}")),
    }
    match (&h.recorded, h.recording) {
        (_, true) => say("recording the table…".into()),
        (None, false) => say("D when the table is saved in Calendly: it is recorded as the table of record".into()),
        (Some(path), false) => {
            say(format!("Recorded as the table of record: {}", path.display()));
            match h.verify {
                Verify::NotAsked => say("v reloads and checks who is now where the table says".into()),
                Verify::Reloading if matches!(m.phase, super::model::Phase::Loading { .. }) => {
                    say("reloading to verify…".into())
                }
                Verify::Reloading => say("the reload did not finish (see the status line); v tries again".into()),
                Verify::Done { placed, not_yet, unmapped, ref missing } => {
                    say(format!("Verified: {}", verified(placed, not_yet, unmapped, missing)))
                }
            }
        }
    }
    out
}

/// Word-wraps `text` to `width` columns; a word longer than a line (a path) is broken.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        let used = line.chars().count();
        if used > 0 && used + 1 + word.len() <= width {
            line.push(' ');
            line.extend(word.iter());
            continue;
        }
        if used > 0 {
            lines.push(std::mem::take(&mut line));
        }
        while word.len() > width {
            lines.push(word.drain(..width).collect());
        }
        line = word.into_iter().collect();
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_is_the_base64_of_the_text_between_esc_52_and_bel() {
        assert_eq!(osc52("Marketing "), "\x1b]52;c;TWFya2V0aW5nIA==\x07");
        assert_eq!(osc52("a\u{a0}b"), "\x1b]52;c;YcKgYg==\x07");
    }

    #[test]
    fn wrap_breaks_long_paths_and_keeps_every_character() {
        let path = "/home/admin/.local/state/groupmap/handoff/6f1c2a9e-3b7d-0123456789abcdef-20261202T004100Z.toml";
        let lines = wrap(&format!("Written: {path}"), 40);
        assert!(lines.iter().all(|l| l.chars().count() <= 40), "{lines:?}");
        assert_eq!(lines.concat().replace(' ', ""), format!("Written:{path}"));
        assert_eq!(wrap("a b c", 3), ["a b", "c"]);
        assert_eq!(wrap("", 5), [""]);
    }
}
