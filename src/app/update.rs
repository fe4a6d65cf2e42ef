//! `update(&mut Model, Msg) -> Vec<Effect>`: every state change, no IO, no clock.

use std::sync::Arc;

use super::filter::filter;
use super::model::{Dialog, DraftFile, DraftOffer, GroupEntry, ListView, Model, Pane, Phase, Screen, ValueEntry};
use super::msg::{Effect, FailureKind, Msg, SaveFailure};
use crate::domain::draft::Draft;
use crate::domain::mapping::{diff, rebase};
use crate::domain::plan;
use crate::domain::text::quoted;
use crate::engine::{Organization, SaveOutcome};
use crate::report::{LineKind, PreviewLine};
use crate::store::FoundDraft;

mod dialogs;
mod inferred;
mod keys;

pub fn update(m: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Resize(w, h) => {
            m.size = (w, h);
            Vec::new()
        }
        Msg::Key(k) => keys::on_key(m, k),
        Msg::Paste(text) => keys::on_paste(m, &text),
        Msg::LoadProgress { id, status } => {
            if let Phase::Loading { id: cur, status: now } = &mut m.phase
                && *cur == id
            {
                *now = status;
            }
            Vec::new()
        }
        Msg::Loaded { id, result } => match &m.phase {
            Phase::Loading { id: cur, .. } if *cur == id => match result {
                Ok(loaded) => {
                    let mut effects = on_loaded(m, loaded);
                    // Drafts are offered once, on fresh data: they merge onto what the service holds.
                    if m.ready() && !m.drafts_read {
                        m.drafts_read = true;
                        effects.push(Effect::ReadDrafts { organization: m.snap().organization.clone() });
                    }
                    effects
                }
                Err(message) if m.has_data() => {
                    // Keep what is on screen; it is still what the revision and digest describe.
                    // Cached data stays marked stale, so it can never be saved from.
                    m.phase = Phase::Ready;
                    let shown = match m.stale {
                        Some(age) => format!("the snapshot cached {} ago", crate::report::age(age)),
                        None => "the data loaded earlier".to_owned(),
                    };
                    m.status = Some((format!("reload failed, showing {shown}: {message}"), true));
                    Vec::new()
                }
                Err(message) => {
                    m.phase = Phase::Failed { message };
                    Vec::new()
                }
            },
            // A cancelled or superseded load: its result is dropped.
            _ => Vec::new(),
        },
        Msg::Cached { loaded, age_secs } => {
            // Only before anything fresh has arrived, and only while the fresh load still runs.
            if m.org().is_some() || !matches!(m.phase, Phase::Loading { .. }) {
                return Vec::new();
            }
            let phase = m.phase.clone();
            let effects = on_loaded(m, loaded);
            if m.phase == Phase::Ready {
                m.phase = phase;
                m.stale = Some(age_secs);
            }
            effects
        }
        Msg::Drafts { drafts, interrupted } => on_drafts(m, drafts, interrupted),
        Msg::DraftWritten(result) => {
            m.draft_file = match result {
                Ok(path) => DraftFile::Written(path),
                Err(why) => DraftFile::Failed(why),
            };
            Vec::new()
        }
        Msg::SaveProgress(stage) => {
            if let Some(Dialog::Saving { stages, job, .. }) = &mut m.dialog {
                if let crate::service::SaveStage::Job { completed, failed, total } = stage {
                    *job = Some((completed, failed, total));
                } else {
                    stages.push(stage);
                }
            }
            Vec::new()
        }
        Msg::Saved(result) => on_saved(m, result),
        Msg::PreviewFiltered { id, needle, filtered } => {
            on_preview_filtered(m, id, needle, filtered);
            Vec::new()
        }
        Msg::ValuesFiltered { id, pattern, filtered } => {
            on_values_filtered(m, id, pattern, filtered);
            Vec::new()
        }
        Msg::HandoffWritten(result) => {
            super::handoff::on_written(m, result);
            Vec::new()
        }
        Msg::TableRecorded(result) => super::handoff::on_recorded(m, result),
        Msg::Notice { text, error } => {
            m.status = Some((text, error));
            Vec::new()
        }
        Msg::Tick { elapsed_ms } => {
            if let Some(Dialog::Saving { elapsed_ms: e, .. }) = &mut m.dialog {
                *e = elapsed_ms;
            }
            Vec::new()
        }
    }
}

/// Starts a (re)load; results of any earlier load are dropped by id.
pub fn start_load(m: &mut Model) -> Vec<Effect> {
    m.next_id += 1;
    m.phase = Phase::Loading { id: m.next_id, status: Default::default() };
    vec![Effect::Load { id: m.next_id }]
}

fn on_loaded(m: &mut Model, loaded: Arc<Organization>) -> Vec<Effect> {
    let first = m.snap().organization.is_empty();
    let older = m.base();
    let fields = m.fields().clone();
    if let Err(e) = m.set_loaded(loaded, fields) {
        m.phase = Phase::Failed { message: format!("{e}\n(press f to choose the export's columns)") };
        return Vec::new();
    }
    m.stale = None;
    m.phase = Phase::Ready;
    if first {
        return on_first_snapshot(m);
    }
    if let Some(said) = inferred::again(m) {
        m.status = Some((said.into(), false));
        return Vec::new();
    }
    let kept = m.mapping != older;
    // A new group that now exists is that group before the merge: a row of mine naming it and
    // the same row of theirs (the table recorded or saved meanwhile) agree.
    let (mine, adopted) = m.snap().adopt_new_groups(&m.mapping);
    let (rebased, conflicts) = rebase(&older, &mine, &m.base());
    m.mapping = rebased;
    let mut status = if kept {
        format!("reloaded; your edits were kept on top of {}", m.base_described())
    } else {
        "reloaded".to_owned()
    };
    if !adopted.is_empty() {
        let names: Vec<String> = adopted.iter().map(|n| quoted(n)).collect();
        status.push_str(&format!(
            "; {} now exist{} (created meanwhile), so the rows map to {} instead of creating {}",
            names.join(", "),
            if adopted.len() == 1 { "s" } else { "" },
            if adopted.len() == 1 { "it" } else { "them" },
            if adopted.len() == 1 { "it" } else { "them" },
        ));
    }
    m.status = Some((status, false));
    if !conflicts.is_empty() {
        m.dialog = Some(Dialog::Conflicts { items: conflicts, selected: 0 });
    }
    recompute(m);
    Vec::new()
}

/// The first organization on screen: edits start from the saved table, from the file asked for
/// on the command line, or (offered) from a draft.
fn on_first_snapshot(m: &mut Model) -> Vec<Effect> {
    m.mapping = m.base();
    let mut effects = Vec::new();
    // A file asked for on the command line wins over an old draft.
    if let Some(file) = m.start_mapping.take() {
        match file.resolve(m.snap()) {
            Ok(mapping) => {
                m.drafts_read = true;
                recompute(m);
                effects.extend(edit(m, |map| *map = mapping));
                let back = match (&m.snap().saved, m.inference()) {
                    (None, Some(_)) => {
                        "instead of the table inferred from where users are; u returns to an empty table".to_owned()
                    }
                    _ => format!("u returns to {}", m.base_described()),
                };
                m.status = Some((format!("started from {} ({back})", file.path), false));
                return effects;
            }
            Err(e) => {
                let instead = match m.snap().saved {
                    Some(_) => format!("showing {}", m.base_described()),
                    None => "the file is not used".to_owned(),
                };
                m.status = Some((format!("{e} ({instead})"), true));
            }
        }
    }
    recompute(m);
    inferred::start(m);
    // The saved table itself moving people means the organization is not where it puts them.
    let recorded = m.snap().saved.as_ref().is_some_and(|s| s.origin != crate::domain::TableOrigin::Service);
    if m.status.is_none() && recorded && m.plan.enabled && !m.plan.changes.is_empty() {
        // Nobody here can apply a table of record: the admin center holds the table.
        let n = m.plan.changes.len();
        m.status = Some((
            format!(
                "{n} user(s) aren't where {} puts them: p shows who (they moved since, or the table in the admin \
                 center is not that one)",
                m.base_described()
            ),
            false,
        ));
    } else if m.status.is_none() && m.plan.applies() {
        let n = m.plan.changes.len();
        m.status = Some((
            format!(
                "{n} user(s) aren't where the saved table puts them: p shows who, S applies it (it was saved \
                 without moving existing users, or they moved since)"
            ),
            false,
        ));
    }
    effects
}

/// Other sessions' drafts: the readable ones are offered (newest first), the unreadable ones are
/// moved aside, never overwritten, and named.
fn on_drafts(m: &mut Model, found: Vec<FoundDraft>, interrupted: Vec<(u64, String)>) -> Vec<Effect> {
    let mut offers = Vec::new();
    let mut notes: Vec<String> = interrupted
        .into_iter()
        .map(|(age, known)| {
            let now = m
                .org()
                .and_then(|o| o.version())
                .map(|v| format!(" The table is now version {v}."))
                .unwrap_or_default();
            format!("a session was ended during a save {} ago: {known}.{now}", crate::report::age(age))
        })
        .collect();
    let mut effects = Vec::new();
    let mut already_saved = 0;
    for f in found {
        let shown = f.path.display().to_string();
        let read = f.text.and_then(|text| Draft::parse(&shown, &text).map_err(|e| e.to_string()));
        match read {
            Ok(r) => {
                let draft = r.draft.localized(m.snap());
                // Edits already in the table (a save that landed before its session ended) are
                // nothing to offer.
                let onto = start_table(m);
                let (merged, conflicts) = rebase(&draft.base, &draft.mine, &onto);
                if draft.edits().is_empty() || (merged == onto && conflicts.is_empty()) {
                    already_saved += usize::from(!draft.edits().is_empty());
                    effects.push(Effect::DeleteDraftFile { path: f.path });
                    continue;
                }
                offers.push(DraftOffer { path: f.path, age_secs: f.age_secs, draft, lost_from_line: r.lost_from_line });
            }
            Err(why) => {
                let to = crate::store::set_aside_path(&f.path);
                notes.push(format!("an earlier draft could not be read: {why}\n  (moved aside to {})", to.display()));
                effects.push(Effect::SetAsideDraft { path: f.path });
            }
        }
    }
    if already_saved > 0 {
        m.status = Some((
            format!("{already_saved} earlier draft(s) held only edits {} already has; removed", m.base_described()),
            false,
        ));
    }
    if !offers.is_empty() {
        m.dialog = Some(Dialog::RestoreDraft { offers, selected: 0, notes });
    } else if !notes.is_empty() {
        m.dialog =
            Some(Dialog::Result { title: "Left by an earlier session".into(), message: notes.join("\n"), ok: false });
    }
    effects
}

/// The table a draft's edits are replayed onto: the one on screen, but for an untouched inferred
/// table (a draft wins over it, not on top of it).
fn start_table(m: &Model) -> crate::domain::Mapping {
    if m.inferred() { m.base() } else { m.mapping.clone() }
}

/// Replays a draft's own edits onto the current table (a three-way merge: what others saved
/// since the draft was made stays), asking where both changed the same row.
pub(super) fn restore_draft(m: &mut Model, offer: DraftOffer) -> Vec<Effect> {
    let d = &offer.draft;
    let instead = m.inferred();
    let (merged, conflicts) = rebase(&d.base, &d.mine, &start_table(m));
    let (merged, adopted) = m.snap().adopt_new_groups(&merged);
    let mut effects = edit(m, |map| *map = merged);
    effects.push(Effect::DeleteDraftFile { path: offer.path.clone() });
    let mut status = format!("restored the draft of {} ago", crate::report::age(offer.age_secs));
    if instead {
        status.push_str(" instead of the table inferred from where users are");
    }
    match (d.base_version, m.org().and_then(|o| o.version())) {
        (Some(was), Some(now)) if was != now => {
            status.push_str(&format!(" onto version {now} (it was made on {was}; what others saved meanwhile is kept)"))
        }
        _ => {}
    }
    if !adopted.is_empty() {
        status.push_str(&format!(
            "; {} exist now and are used",
            adopted.iter().map(|n| quoted(n)).collect::<Vec<_>>().join(", ")
        ));
    }
    if let Some(line) = offer.lost_from_line {
        status.push_str(&format!("; the file was cut short at line {line}: edits after it are lost"));
    }
    status.push_str("; u undoes");
    m.status = Some((status, false));
    if !conflicts.is_empty() {
        m.dialog = Some(Dialog::Conflicts { items: conflicts, selected: 0 });
    }
    effects
}

fn on_saved(m: &mut Model, result: Result<Box<SaveOutcome>, SaveFailure>) -> Vec<Effect> {
    match result {
        Ok(outcome) => {
            let fields = m.fields().clone();
            let joined = m.set_loaded(outcome.organization.clone(), fields);
            m.mapping = m.base();
            m.inferred_start = false;
            m.undo.clear();
            m.redo.clear();
            recompute(m);
            let mut message = format!(
                "Mapping saved as version {}. {} user(s) moved, {} group(s) created.\nVerified: reloading and re-planning finds nothing left to move.",
                outcome.version,
                outcome.moved,
                outcome.created.len()
            );
            if let Err(e) = joined {
                message.push_str(&format!("\n\nThe reloaded organization cannot be shown: {e}"));
                m.phase = Phase::Failed { message: format!("{e}\n(press f to choose the export's columns)") };
            }
            m.dialog = Some(Dialog::Result { title: "Saved".into(), message, ok: true });
            vec![Effect::DeleteDraft { organization: outcome.organization.uri().to_owned() }]
        }
        Err(SaveFailure { message, kind }) => {
            let (title, then) = match kind {
                FailureKind::Changed => (
                    "The organization changed since you loaded it",
                    "Reloading now; your edits are kept on top of the new state. Review the new preview, then save again.",
                ),
                FailureKind::MaybeSaved => {
                    ("Save not confirmed", "Reloading now to show what the server holds; your edits are kept.")
                }
                FailureKind::NotSaved => ("Save failed", "Your edits are kept."),
            };
            let kept = m.edits_kept();
            m.dialog = Some(Dialog::Result {
                title: title.into(),
                message: format!("{message}\n\n{then} {kept}."),
                ok: false,
            });
            if kind == FailureKind::NotSaved { Vec::new() } else { start_load(m) }
        }
    }
}

/// Re-plans and rebuilds everything derived from the snapshot and the mapping.
pub fn recompute(m: &mut Model) {
    let snap = m.snap().clone();
    m.plan = plan(&snap, &m.mapping);
    let keep_value = m.selected_value().map(|e| e.value.clone());
    let keep_group = m.selected_group().cloned();

    let mut entries: Vec<ValueEntry> =
        snap.values.iter().zip(&snap.value_users).map(|(v, n)| ValueEntry { value: v.clone(), users: *n }).collect();
    for r in &m.mapping.rows {
        if snap.value_id(&r.idp_value).is_none() {
            entries.push(ValueEntry { value: r.idp_value.clone(), users: 0 });
        }
    }
    // Case-folded order puts near-duplicates ("Sales", "sales ") next to each other.
    entries.sort_by_cached_key(|e| (e.value.trim().to_lowercase(), e.value.clone()));
    m.value_entries = Arc::new(entries);

    let mut groups: Vec<GroupEntry> =
        (0..snap.groups.len()).map(|i| GroupEntry::Existing(crate::domain::GroupId(i as u32))).collect();
    groups.sort_by_cached_key(|g| m.group_entry_name(g).to_lowercase());
    groups.extend(m.plan.new_groups.iter().cloned().map(GroupEntry::New));
    m.group_entries = groups;

    refilter(m, Pane::Values, None);
    refilter(m, Pane::Groups, None);
    refilter_findings(m);
    if let Some(v) = keep_value
        && let Some(i) = m.value_entries.iter().position(|e| e.value == v)
        && let Some(p) = m.values.filtered.position_of(i)
    {
        m.values.selected = p;
    }
    if let Some(g) = keep_group
        && let Some(i) = m.group_entries.iter().position(|e| *e == g)
        && let Some(p) = m.groups.filtered.position_of(i)
    {
        m.groups.selected = p;
    }
    clamp_all(m);
    super::handoff::refresh(m);
    if m.screen == Screen::Preview {
        // Edits on the preview screen are rare (undo/redo); a long preview then filters at once.
        for effect in build_preview(m) {
            if let Some(Msg::PreviewFiltered { id, needle, filtered }) = filter_work(effect, &|| false) {
                on_preview_filtered(m, id, needle, filtered);
            }
        }
    }
}

/// The work of a filter effect, wherever it runs (the runtime runs it off the input path): its
/// answer, or None when `stop` said a newer pattern overtook it or the effect is no filter.
pub fn filter_work(effect: Effect, stop: super::filter::Stop<'_>) -> Option<Msg> {
    match effect {
        Effect::FilterPreview { id, lines, needle, narrow } => search_preview(&lines, &needle, narrow.as_deref(), stop)
            .map(|filtered| Msg::PreviewFiltered { id, needle, filtered }),
        Effect::FilterValues { id, entries, pattern, narrow } => {
            let text = |i: usize| entries[i].value.as_str();
            super::filter::filter_until(text, entries.len(), &pattern, narrow.as_deref(), stop)
                .map(|filtered| Msg::ValuesFiltered { id, pattern, filtered })
        }
        _ => None,
    }
}

fn on_preview_filtered(m: &mut Model, id: u64, needle: String, filtered: super::filter::Filtered) {
    // Only the newest request counts; results for older patterns are dropped.
    if id == m.preview_filter_id {
        m.preview.filtered = filtered;
        m.preview_filtered_for = Some(needle);
        clamp(&mut m.preview, m.preview_lines.len());
    }
}

fn build_preview(m: &mut Model) -> Vec<Effect> {
    let d = crate::report::table_changes(m.snap(), &m.base(), &m.mapping);
    let mut lines = crate::report::plan_lines(m.snap(), &m.mapping, &m.plan, &d, m.label());
    // The summary comes first on screen (and last in `groupmap plan`, as terraform prints it).
    let summary = PreviewLine::new(LineKind::Summary, crate::report::summary_line(&m.plan, &d));
    let legend = PreviewLine::new(
        LineKind::Legend,
        "Legend: ~ moves from another group · + joins a group (had none) · the last column is the IdP value",
    );
    for (at, line) in [summary, legend, PreviewLine::blank()].into_iter().enumerate() {
        lines.insert(at, line);
    }
    m.preview_lines = Arc::new(crate::report::Preview::new(m.snap().clone(), Arc::new(m.plan.clone()), lines));
    m.preview_filtered_for = None;
    refilter_preview(m, false)
}

/// The preview's lines holding `needle`, ignoring case (see `refilter_preview`).
fn search_preview(
    lines: &crate::report::Preview,
    needle: &str,
    narrow: Option<&[u32]>,
    stop: super::filter::Stop<'_>,
) -> Option<super::filter::Filtered> {
    let put = |i, out: &mut String| lines.write(i, out);
    super::filter::substring_visiting_until(put, lines.search_order(), needle, narrow, stop)
}

/// Previews and values panes this long are filtered off the input path (a keystroke over
/// 100,000 lines takes longer than a frame); shorter ones at once, in well under a millisecond
/// (a fuzzy pass over 2,000 values), so that the answer is in the keystroke's own frame.
pub const FILTER_OFF_THREAD_FROM: usize = 2_000;

/// The preview is filtered by substring (case-insensitive): an admin looks for an email, a
/// name or a group there, and fuzzy matches over long lines would keep nearly every line.
/// `extend`: the pattern grew by typing, so the current result may be narrowed.
fn refilter_preview(m: &mut Model, extend: bool) -> Vec<Effect> {
    let needle = m.preview.filter.clone();
    // Narrowing is exact only from a result whose pattern this one contains.
    let narrow = match (&m.preview_filtered_for, &m.preview.filtered.items) {
        (Some(done), Some(items)) if extend && needle.to_lowercase().contains(&done.to_lowercase()) => {
            Some(items.clone())
        }
        _ => None,
    };
    if needle.is_empty() || m.preview_lines.len() < FILTER_OFF_THREAD_FROM {
        m.preview.filtered =
            search_preview(&m.preview_lines, &needle, narrow.as_deref(), &|| false).expect("never stopped");
        m.preview_filtered_for = Some(needle);
        m.preview_filter_id += 1;
        clamp(&mut m.preview, m.preview_lines.len());
        return Vec::new();
    }
    m.preview_filter_id += 1;
    vec![Effect::FilterPreview { id: m.preview_filter_id, lines: m.preview_lines.clone(), needle, narrow }]
}

fn refilter(m: &mut Model, pane: Pane, narrow: Option<Vec<u32>>) {
    match pane {
        Pane::Values => {
            // A typed result to narrow from is within the view already; else the view is the
            // candidates.
            let narrow = narrow.or_else(|| super::findings::in_view(m, m.value_view));
            let e = &m.value_entries;
            m.values.filtered = if m.values.filter.is_empty() {
                super::filter::Filtered { items: narrow, weak: Vec::new() }
            } else {
                filter(|i| e[i].value.as_str(), e.len(), &m.values.filter, narrow.as_deref())
            };
            // Whatever is still filtering off the input path is now out of date.
            m.values_filter_id += 1;
            m.values_filtered_for = m.values.filter.clone();
        }
        Pane::Groups => {
            let names: Vec<&str> = m.group_entries.iter().map(|g| m.group_entry_name(g)).collect();
            m.groups.filtered = filter(|i| names[i], names.len(), &m.groups.filter, narrow.as_deref());
        }
    }
}

/// A long values pane filtered as the admin types: off the input path (a keystroke over
/// 100,000 values can take longer than a frame), the newest pattern winning. The list on screen
/// stays as it was until the answer lands.
pub(super) fn refilter_values_off_thread(m: &mut Model) -> Vec<Effect> {
    // Narrowing is exact only from a result for a pattern this one extends.
    let narrow = if m.values.filter.starts_with(&m.values_filtered_for) && !m.values_filtered_for.is_empty() {
        m.values.filtered.narrowing()
    } else {
        None
    };
    let narrow = narrow.or_else(|| super::findings::in_view(m, m.value_view));
    m.values_filter_id += 1;
    vec![Effect::FilterValues {
        id: m.values_filter_id,
        entries: m.value_entries.clone(),
        pattern: m.values.filter.clone(),
        narrow,
    }]
}

fn on_values_filtered(m: &mut Model, id: u64, pattern: String, filtered: super::filter::Filtered) {
    if id == m.values_filter_id {
        m.values.filtered = filtered;
        m.values_filtered_for = pattern;
        clamp(&mut m.values, m.value_entries.len());
    }
}

/// Re-filters the values pane (after its view changed), keeping the selected value if it is
/// still listed.
fn refilter_values_keeping(m: &mut Model) {
    let keep = m.selected_value().map(|e| e.value.clone());
    refilter(m, Pane::Values, None);
    match keep
        .and_then(|v| m.value_entries.iter().position(|e| e.value == v))
        .and_then(|i| m.values.filtered.position_of(i))
    {
        Some(p) => m.values.selected = p,
        None => m.values.selected = 0,
    }
    m.values.offset = m.values.offset.min(m.values.selected);
}

/// The findings screen's list: every finding, or those whose text has the filter (substring).
fn refilter_findings(m: &mut Model) {
    let lint = &m.plan.lint;
    m.findings.filtered =
        super::filter::substring(|i, out| out.push_str(&lint[i].message), lint.len(), &m.findings.filter, None);
    clamp(&mut m.findings, m.plan.lint.len());
}

fn clamp(list: &mut ListView, total: usize) {
    let len = list.filtered.len(total);
    list.selected = list.selected.min(len.saturating_sub(1));
}

fn clamp_all(m: &mut Model) {
    clamp(&mut m.values, m.value_entries.len());
    clamp(&mut m.groups, m.group_entries.len());
}

fn choose_column(m: &mut Model, email: bool) -> Vec<Effect> {
    let rows = m.column_rows();
    let Some(&(e, c)) = m.columns.filtered.get(m.columns.selected).and_then(|p| rows.get(p)) else {
        return Vec::new();
    };
    let Some(org) = m.org().cloned() else { return Vec::new() };
    let header = org.exports[e].headers[c].clone();
    let mut fields = m.fields().clone();
    fields.choose(email, &header, &org.exports);
    let first = m.snap().organization.is_empty();
    let before = m.version();
    match m.set_loaded(org, fields) {
        Ok(()) => {
            m.phase = Phase::Ready;
            if first {
                m.mapping = m.base();
            } else if before.fields != *m.fields() {
                m.undo.push(before);
                m.redo.clear();
            }
            recompute(m);
            if first {
                inferred::start(m);
            } else {
                inferred::again(m);
            }
            m.status = Some((
                format!(
                    "{} column: {} (joined and re-planned)",
                    if email { "login email" } else { "IdP group" },
                    quoted(&header)
                ),
                false,
            ));
        }
        Err(err) => m.status = Some((err.to_string(), true)),
    }
    Vec::new()
}

/// Records an edit for undo, re-plans and writes the draft.
fn edit(m: &mut Model, f: impl FnOnce(&mut crate::domain::Mapping)) -> Vec<Effect> {
    let before = m.version();
    f(&mut m.mapping);
    if m.mapping == before.mapping {
        return Vec::new();
    }
    m.undo.push(before);
    m.redo.clear();
    after_edit(m)
}

/// What changed from one table to another, in a few words for the status line.
pub(super) fn describe_change(m: &Model, from: &crate::domain::Mapping, to: &crate::domain::Mapping) -> String {
    let d = diff(from, to);
    let name = |t: &crate::domain::Target| quoted(m.snap().target_name(t));
    let mut said: Vec<String> = Vec::new();
    if let Some((_, on)) = d.enabled {
        said.push(format!("group mapping {}", if on { "ON" } else { "OFF" }));
    }
    if let Some((_, to)) = &d.default_group {
        said.push(match to {
            Some(t) => format!("default group {}", name(t)),
            None => "no default group".to_owned(),
        });
    }
    said.extend(d.added.iter().map(|r| format!("map {} → {}", quoted(&r.idp_value), name(&r.target))));
    said.extend(d.changed.iter().map(|(v, _, t)| format!("map {} → {}", quoted(v), name(t))));
    said.extend(d.removed.iter().map(|r| format!("unmap {}", quoted(&r.idp_value))));
    if from.apply_to_existing != to.apply_to_existing {
        said.push(format!("apply to existing users {}", if to.apply_to_existing { "ON" } else { "OFF" }));
    }
    match said.len() {
        0 => "the column choice".to_owned(),
        1..=2 => said.join(", "),
        n => format!("{}, and {} more", said[..2].join(", "), n - 2),
    }
}

/// Goes back (or forward) to `to`; returns the version it leaves, for the other stack.
pub(super) fn step_to(m: &mut Model, to: super::model::Version) -> super::model::Version {
    let left = m.version();
    if to.fields != left.fields
        && let Some(org) = m.org().cloned()
    {
        match m.set_loaded(org, to.fields.clone()) {
            Ok(()) => {
                m.status = Some((format!("columns: {}", to.fields.describe()), false));
            }
            Err(e) => m.status = Some((e.to_string(), true)),
        }
    }
    m.mapping = to.mapping;
    left
}

fn after_edit(m: &mut Model) -> Vec<Effect> {
    // The admin changed something: the table is theirs now, no longer the inferred one.
    m.inferred_start = false;
    recompute(m);
    let organization = m.snap().organization.clone();
    if m.modified() {
        let draft = Draft {
            organization: organization.clone(),
            base_url: m.snap().base_url.clone(),
            base_version: m.org().and_then(|o| o.version()),
            base: m.base(),
            mine: m.mapping.clone(),
        };
        vec![Effect::WriteDraft { organization, text: draft.to_toml(m.snap()) }]
    } else {
        vec![Effect::DeleteDraft { organization }]
    }
}
