//! The plan for a person (terraform-like text) and for a program (JSON). Pure functions.

pub mod idp;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::domain::lint::Severity;
use crate::domain::mapping::{TableDiff, Target};
use crate::domain::snapshot::ValueId;
use crate::domain::text::{quoted, sanitize};
use crate::domain::{Dest, Mapping, Plan, SavedMapping, Snapshot, TableOrigin};

/// What the organization's label says besides its URI.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// The bundled sandbox, not Calendly.
    pub sandbox: bool,
    /// The service cannot save the table (Calendly's public API).
    pub read_only: bool,
}

impl Context {
    /// What becomes of a group the mapping names but the organization lacks: the save creates
    /// it, or (read-only) the admin creates it in Calendly before entering the table.
    pub fn new_group(self) -> &'static str {
        if self.read_only { "create it in Calendly's admin center first" } else { "created on save" }
    }
}

/// How the organization is labelled everywhere, so the sandbox is never mistaken for production.
pub fn org_label(snap: &Snapshot, ctx: Context) -> String {
    let mut s = sanitize(&snap.organization).into_owned();
    if ctx.sandbox {
        s.push_str(" [SANDBOX]");
    }
    if ctx.read_only {
        s.push_str(" [READ-ONLY: no mapping endpoint]");
    }
    s
}

/// What a table naming groups the organization lacks is told: which, and that they come first.
pub fn groups_calendly_lacks(names: &[String]) -> String {
    let (a, it) = if names.len() == 1 { ("a group", "it") } else { ("groups", "them") };
    let names: Vec<String> = names.iter().map(|n| quoted(n)).collect();
    format!("{a} Calendly does not have yet: {} (create {it} in the admin center first)", names.join(", "))
}

fn target_name(snap: &Snapshot, t: &Target) -> String {
    let new = if matches!(t, Target::New(_)) { " (new)" } else { "" };
    format!("{}{new}", quoted(snap.target_name(t)))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The terraform-style summary line with fixed counting rules.
pub fn summary_line(plan: &Plan, diff: &TableDiff) -> String {
    let table = if diff.is_empty() { String::new() } else { " The mapping table changes.".to_owned() };
    if !plan.enabled {
        return format!("No changes to users. Group mapping is off, so saving moves no one.{table}");
    }
    let counts = format!(
        "{} to move ({} to the default group), {} unmapped, {} unchanged",
        plan.changes.len(),
        plan.to_default(),
        plan.unmapped.len(),
        plan.unchanged
    );
    if plan.changes.is_empty() {
        return format!(
            "No changes to users. Everyone in scope is already in their target group ({} unchanged, {} unmapped).{table}",
            plan.unchanged,
            plan.unmapped.len()
        );
    }
    if !plan.apply_to_existing {
        return format!("Not applied to existing users (apply to existing is off); if it were on: {counts}.{table}");
    }
    format!("Plan: {counts}.{table}")
}

/// What a line of the plan is, so the editor can style it without reading its text back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// The terraform-style summary ("Plan: …", "No changes …", "Not applied …").
    Summary,
    /// The organization and mapping facts at the top, and each section's heading.
    Heading,
    /// A target group, with how many users join it.
    GroupHeading,
    /// A user who moves; `new_member`: from no group (`+`) rather than from another (`~`).
    UserMove {
        new_member: bool,
    },
    TableAdded,
    TableChanged,
    TableRemoved,
    /// An unmapped value and how many users hold it.
    Unmapped,
    Finding(Severity),
    /// What the preview's marks mean (the editor shows it under the summary).
    Legend,
    Blank,
    /// Anything else (nothing today; for lines a caller adds).
    Plain,
}

/// One line of the plan as `groupmap plan` prints it, with what kind of line it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviewLine {
    pub kind: LineKind,
    pub text: String,
}

impl PreviewLine {
    pub fn new(kind: LineKind, text: impl Into<String>) -> PreviewLine {
        PreviewLine { kind, text: text.into() }
    }

    pub fn blank() -> PreviewLine {
        PreviewLine::new(LineKind::Blank, "")
    }
}

/// Marks an entry of `Outline::order` as a user's line (the rest is the change's index).
const USER_LINE: u32 = 1 << 31;

/// The plan's lines in order: section lines kept as text, each user's line kept as its change's
/// index and made from the plan when shown or searched (4 bytes a user, not a line of text).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outline {
    texts: Vec<PreviewLine>,
    /// Each line: an index into `texts`, or `USER_LINE | i` for `plan.changes[i]`.
    order: Vec<u32>,
}

impl Outline {
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    fn push(&mut self, kind: LineKind, text: String) {
        self.order.push(self.texts.len() as u32);
        self.texts.push(PreviewLine { kind, text });
    }

    fn blank(&mut self) {
        self.push(LineKind::Blank, String::new());
    }

    /// A blank line, then a section heading.
    fn section(&mut self, text: String) {
        self.blank();
        self.push(LineKind::Heading, text);
    }

    fn user(&mut self, change: usize) {
        self.order.push(USER_LINE | change as u32);
    }

    /// Puts `line` before the `at`-th line.
    pub fn insert(&mut self, at: usize, line: PreviewLine) {
        self.order.insert(at, self.texts.len() as u32);
        self.texts.push(line);
    }

    pub fn kind(&self, plan: &Plan, i: usize) -> LineKind {
        match self.order[i] {
            o if o & USER_LINE != 0 => {
                LineKind::UserMove { new_member: plan.changes[(o & !USER_LINE) as usize].from.is_none() }
            }
            o => self.texts[o as usize].kind,
        }
    }

    /// Writes the `i`-th line's text to `out` (cleared first).
    fn write(&self, shown: &Shown, snap: &Snapshot, plan: &Plan, i: usize, out: &mut String) {
        out.clear();
        match self.order[i] {
            o if o & USER_LINE != 0 => shown.user_line(snap, plan, (o & !USER_LINE) as usize, out),
            o => out.push_str(&self.texts[o as usize].text),
        }
    }
}

/// How the parts of users' lines are shown, made once for a plan: a search makes every line,
/// and escaping each part of each line again was a third of its time. A group or a value is
/// shown on many lines. Each person's name and email, escaped, are copied into one buffer in
/// plan order (the people's order, as they lie in memory): a search visiting the lines in
/// that order reads it straight through, where the people's own strings lie wherever the
/// load put them (on 100,000 lines scattered so, about 2.5 times quicker).
#[derive(Clone, Debug, Default)]
struct Shown {
    /// Each destination's name, escaped: the groups (by GroupId), then the new groups.
    dests: Vec<String>,
    /// Each value, escaped and quoted (by ValueId).
    values: Vec<String>,
    /// The people's names and emails: each change's name, then its email.
    people: String,
    /// For each change (by index): where its name starts in `people`, its length and its
    /// email's, and its person's value.
    at: Vec<(u32, u32, u32, Option<ValueId>)>,
}

impl Shown {
    fn new(snap: &Snapshot, plan: &Plan) -> Shown {
        let mut people = String::new();
        let mut at = Vec::with_capacity(plan.changes.len());
        for c in &plan.changes {
            let o = snap.owner(c.owner);
            let start = people.len();
            people.push_str(&sanitize(o.name));
            let name = people.len() - start;
            people.push_str(&sanitize(o.email));
            at.push((start as u32, name as u32, (people.len() - start - name) as u32, o.value));
        }
        people.shrink_to_fit();
        Shown {
            dests: snap
                .groups
                .iter()
                .map(|g| &g.name)
                .chain(&plan.new_groups)
                .map(|n| sanitize(n).into_owned())
                .collect(),
            values: snap.values.iter().map(|v| quoted(v)).collect(),
            people,
            at,
        }
    }

    fn dest(&self, snap: &Snapshot, d: Dest) -> &str {
        match d {
            Dest::Group(g) => &self.dests[g.0 as usize],
            Dest::New(n) => &self.dests[snap.groups.len() + n as usize],
        }
    }

    fn user_line(&self, snap: &Snapshot, plan: &Plan, i: usize, out: &mut String) {
        // Made for every line searched, so pieces are pushed, not formatted.
        let c = &plan.changes[i];
        let (start, name, email, value) = self.at[i];
        let (start, name, email) = (start as usize, name as usize, email as usize);
        out.push_str(if c.from.is_some() { "    ~ " } else { "    + " });
        if name > 0 {
            out.push_str(&self.people[start..start + name]);
            out.push(' ');
        }
        out.push('<');
        out.push_str(&self.people[start + name..start + name + email]);
        out.push_str(if name == 0 { "> (invitee)  " } else { ">  " });
        out.push_str(c.from.map_or("(no group)", |g| self.dest(snap, Dest::Group(g))));
        out.push_str(" → ");
        out.push_str(self.dest(snap, c.to));
        out.push_str("   ");
        if let Some(v) = value {
            out.push_str(&self.values[v.0 as usize]);
        }
    }
}

/// The lines the editor's preview shows, with the snapshot and plan its users' lines are made of.
#[derive(Clone, Debug, Default)]
pub struct Preview {
    snap: std::sync::Arc<Snapshot>,
    plan: std::sync::Arc<Plan>,
    outline: Outline,
    shown: Shown,
    /// See `search_order`; made when first asked for.
    search_order: std::sync::OnceLock<Vec<u32>>,
}

impl Preview {
    pub fn new(snap: std::sync::Arc<Snapshot>, plan: std::sync::Arc<Plan>, outline: Outline) -> Preview {
        let shown = Shown::new(&snap, &plan);
        Preview { snap, plan, outline, shown, search_order: Default::default() }
    }

    /// A preview of these lines alone.
    pub fn of_lines(lines: Vec<PreviewLine>) -> Preview {
        let mut outline = Outline::default();
        for l in lines {
            outline.push(l.kind, l.text);
        }
        Preview { outline, ..Preview::default() }
    }

    pub fn len(&self) -> usize {
        self.outline.len()
    }

    pub fn is_empty(&self) -> bool {
        self.outline.is_empty()
    }

    pub fn kind(&self, i: usize) -> LineKind {
        self.outline.kind(&self.plan, i)
    }

    /// Writes the `i`-th line's text to `out` (cleared first).
    pub fn write(&self, i: usize, out: &mut String) {
        self.outline.write(&self.shown, &self.snap, &self.plan, i, out);
    }

    /// The line indices, lines of text first, then the users' lines in plan order (the order
    /// their parts are kept in): a search visiting the lines so reads memory straight through,
    /// where line order jumps about (on 100,000 users, about three times as quick).
    pub fn search_order(&self) -> &[u32] {
        self.search_order.get_or_init(|| {
            let order = &self.outline.order;
            let mut by_change = vec![u32::MAX; self.plan.changes.len()];
            let mut texts = Vec::with_capacity(order.len() - by_change.len().min(order.len()));
            for (line, &o) in order.iter().enumerate() {
                match o {
                    o if o & USER_LINE != 0 => by_change[(o & !USER_LINE) as usize] = line as u32,
                    _ => texts.push(line as u32),
                }
            }
            texts.extend(by_change.into_iter().filter(|&l| l != u32::MAX));
            texts
        })
    }

    pub fn line(&self, i: usize) -> PreviewLine {
        let mut text = String::new();
        self.write(i, &mut text);
        PreviewLine { kind: self.kind(i), text }
    }

    /// Every line, made one at a time.
    pub fn iter(&self) -> impl Iterator<Item = PreviewLine> + '_ {
        (0..self.len()).map(|i| self.line(i))
    }
}

/// The plan for a person: `groupmap plan` prints these lines, the editor's preview shows them.
/// `file`: the mapping file planned (`--mapping FILE`), said under the organization.
pub fn render_human(
    snap: &Snapshot,
    mapping: &Mapping,
    plan: &Plan,
    diff: &TableDiff,
    ctx: Context,
    file: Option<&str>,
) -> String {
    let mut lines = plan_lines(snap, mapping, plan, diff, ctx);
    if let Some(file) = file {
        lines.insert(1, PreviewLine::new(LineKind::Heading, format!("Mapping file: {}", sanitize(file))));
    }
    let (mut out, mut line) = (String::new(), String::new());
    let shown = Shown::new(snap, plan);
    for i in 0..lines.len() {
        lines.write(&shown, snap, plan, i, &mut line);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// What the table changes against the one compared with (the service's, or the table of record);
/// nothing where there is neither (there is nothing to compare with, and no comparison is claimed).
pub fn table_changes(snap: &Snapshot, saved: &Mapping, mapping: &Mapping) -> TableDiff {
    if snap.saved.is_some() { crate::domain::mapping::diff(saved, mapping) } else { TableDiff::default() }
}

/// The plan as lines of text with their kinds (`render_human` joins the texts).
pub fn plan_lines(snap: &Snapshot, mapping: &Mapping, plan: &Plan, diff: &TableDiff, ctx: Context) -> Outline {
    let mut out = Outline::default();
    out.push(LineKind::Heading, format!("Organization: {}", org_label(snap, ctx)));
    let default = mapping.default_group.as_ref().map_or_else(|| "none".to_owned(), |t| target_name(snap, t));
    out.push(
        LineKind::Heading,
        format!(
            "Group mapping: {} · {} · default group: {default} · apply to existing users: {}{}",
            if mapping.enabled { "ON" } else { "OFF" },
            plural(mapping.rows.len(), "row", "rows"),
            if mapping.apply_to_existing { "yes" } else { "no" },
            match &snap.saved {
                Some(s @ SavedMapping { origin: TableOrigin::Service, .. }) =>
                    format!(" · saved version {}", s.version),
                _ => String::new(),
            }
        ),
    );

    for l in crate::report::idp::lines(snap, mapping) {
        out.push(l.kind, l.text);
    }
    match &snap.saved {
        None => out.push(
            LineKind::Heading,
            "Mapping table: not compared with a saved one (this service does not show the table it holds; record \
             the one entered in its admin center with `groupmap mapping record FILE`)"
                .into(),
        ),
        Some(SavedMapping { origin: TableOrigin::Recorded { recorded_at, path }, .. }) => out.push(
            LineKind::Heading,
            format!(
                "Mapping table: compared with the table of record, recorded {} ({})",
                crate::domain::snapshot::when(*recorded_at),
                sanitize(&path.display().to_string())
            ),
        ),
        Some(_) => {}
    }
    if let Some(saved) = snap.saved.as_ref().filter(|_| !diff.is_empty()) {
        out.section(format!("Mapping table changes (against {}):", saved.described()));
        if let Some((a, b)) = diff.enabled {
            out.push(LineKind::TableChanged, format!("  ~ group mapping {} → {}", on(a), on(b)));
        }
        if let Some((a, b)) = &diff.default_group {
            let name = |t: &Option<Target>| t.as_ref().map_or_else(|| "none".to_owned(), |t| target_name(snap, t));
            out.push(LineKind::TableChanged, format!("  ~ default group {} → {}", name(a), name(b)));
        }
        for r in &diff.added {
            out.push(LineKind::TableAdded, format!("  + {} → {}", quoted(&r.idp_value), target_name(snap, &r.target)));
        }
        for (v, a, b) in &diff.changed {
            out.push(
                LineKind::TableChanged,
                format!("  ~ {} → {} (was {})", quoted(v), target_name(snap, b), target_name(snap, a)),
            );
        }
        for r in &diff.removed {
            out.push(
                LineKind::TableRemoved,
                format!("  - {} → {}", quoted(&r.idp_value), target_name(snap, &r.target)),
            );
        }
    }

    if plan.enabled && !plan.changes.is_empty() {
        if !plan.apply_to_existing {
            out.section(
                "Apply to existing users is OFF: saving moves no existing user. What would move if it were on:".into(),
            );
        }
        let mut by_dest: BTreeMap<(String, Dest), Vec<usize>> = BTreeMap::new();
        let mut to_default = Vec::new();
        for (i, c) in plan.changes.iter().enumerate() {
            if c.via_default {
                to_default.push(i);
            } else {
                by_dest.entry((plan.dest_name(snap, c.to).to_lowercase(), c.to)).or_default().push(i);
            }
        }
        if !by_dest.is_empty() {
            out.section("Users to move, by target group:".into());
        }
        for ((_, dest), changes) in &by_dest {
            let new =
                if matches!(dest, Dest::New(_)) { format!(" (new group, {})", ctx.new_group()) } else { String::new() };
            out.blank();
            out.push(
                LineKind::GroupHeading,
                format!("  {}{new}  +{}", quoted(plan.dest_name(snap, *dest)), changes.len()),
            );
            for &c in changes {
                out.user(c);
            }
        }
        if !to_default.is_empty() {
            let name = plan.dest_name(snap, plan.changes[to_default[0]].to);
            out.section(format!(
                "To the default group {} (no row matches their value): {}",
                quoted(name),
                to_default.len()
            ));
            for c in to_default {
                out.user(c);
            }
        }
    }

    if plan.enabled && !plan.unmapped.is_empty() {
        let mut per_value: BTreeMap<&str, usize> = BTreeMap::new();
        for o in &plan.unmapped {
            if let Some(v) = snap.owner(*o).value {
                *per_value.entry(snap.value(v)).or_default() += 1;
            }
        }
        out.section(format!(
            "Unmapped: {} with {} (no row, no default group; they stay where they are):",
            plural(plan.unmapped.len(), "user", "users"),
            plural(per_value.len(), "value", "values")
        ));
        for (v, n) in per_value {
            out.push(LineKind::Unmapped, format!("    {}  {}", quoted(v), plural(n, "user", "users")));
        }
    }

    if !plan.lint.is_empty() {
        out.section("Findings:".into());
        for f in &plan.lint {
            out.push(LineKind::Finding(f.severity), format!("  {}: {}", f.severity.label(), sanitize(&f.message)));
        }
    }
    out.blank();
    out.push(LineKind::Summary, summary_line(plan, diff));
    out
}

fn on(b: bool) -> &'static str {
    if b { "ON" } else { "OFF" }
}

/// A table compared with, for `plan --json`.
fn table_json(saved: &SavedMapping) -> Value {
    match &saved.origin {
        TableOrigin::Service => json!({"kind": "saved", "version": saved.version}),
        TableOrigin::Recorded { recorded_at, path } => json!({
            "kind": "recorded",
            "recorded_at": recorded_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "path": path.display().to_string(),
        }),
    }
}

/// `plan --json`: exact data, nothing escaped beyond JSON's own rules. `file`: the mapping file
/// planned, when one was.
pub fn render_json(snap: &Snapshot, plan: &Plan, ctx: Context, file: Option<&str>) -> Value {
    let saved_table = snap.saved.as_ref().map(table_json);
    let compared_with = match file {
        Some(path) => json!({"kind": "file", "path": path}),
        None => saved_table.clone().unwrap_or_else(|| json!({"kind": "none"})),
    };
    let value_of = |o: crate::domain::Owner| o.value.map(|v| snap.value(v).to_owned());
    let mut changes: Vec<Value> = plan
        .changes
        .iter()
        .map(|c| {
            let o = snap.owner(c.owner);
            json!({
                "owner": o.uri,
                "email": o.email,
                "idp_value": value_of(o),
                "from": c.from.map(|g| snap.group(g).uri.clone()),
                "to": plan.dest_wire(snap, c.to),
            })
        })
        .collect();
    changes.sort_by(|a, b| a["owner"].as_str().cmp(&b["owner"].as_str()));
    let unmapped: Vec<Value> = plan
        .unmapped
        .iter()
        .map(|id| {
            let o = snap.owner(*id);
            json!({"owner": o.uri, "email": o.email, "idp_value": value_of(o)})
        })
        .collect();
    let mut out = json!({
        "organization": snap.organization,
        "sandbox": ctx.sandbox,
        "read_only": ctx.read_only,
        "compared_with": compared_with,
        "saved_table": saved_table,
        "enabled": plan.enabled,
        "apply_to_existing": plan.apply_to_existing,
        "digest": plan.digest(snap),
        "summary": {
            "in_scope": plan.in_scope(),
            "changes": plan.changes.len(),
            "unchanged": plan.unchanged,
            "to_default": plan.to_default(),
            "unmapped": plan.unmapped.len(),
        },
        "new_groups": plan.new_groups,
        "changes": changes,
        "unmapped": unmapped,
        "lint": plan.lint.iter().map(|f| json!({"kind": f.kind, "message": f.message})).collect::<Vec<_>>(),
    });
    crate::report::idp::add_json(snap, &mut out);
    out
}

/// A duration in words, as shown for a stale snapshot: `42 s`, `5 min`, `3 h`, `2 days`.
pub fn age(secs: u64) -> String {
    match secs {
        s if s < 90 => format!("{s} s"),
        s if s < 90 * 60 => format!("{} min", s / 60),
        s if s < 36 * 3600 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86400),
    }
}
