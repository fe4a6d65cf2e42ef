//! The table as a whole: `mapping export` (TOML, or the CSV for the admin center) and
//! `mapping record` (the table entered in a service that cannot show its own).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::args::{Format, Global};
use super::connection::Connection;
use super::{emit, mapping_for};
use crate::domain::finding::Severity;
use crate::domain::mapping_file::{MappingFile, to_csv, to_toml};
use crate::domain::text::{quoted, sanitize};
use crate::domain::{Mapping, Snapshot, Target, plan};
use crate::report as view;

/// `mapping export`: needs the groups only, never the user exports.
pub async fn export(global: &Global, format: Format, output: Option<PathBuf>, file: Option<&Path>) -> Result<u8> {
    let conn = Connection::open(global).await?;
    let result = async {
        let (org, snap) = conn.load_directory().await?;
        let m = mapping_for(&conn, &org, &snap, file, false)?;
        let text = match format {
            Format::Toml => to_toml(&snap, &m),
            Format::Csv => to_csv(&snap, &m),
        };
        match &output {
            Some(path) => {
                std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
                eprintln!("Wrote {} rows to {}", m.rows.len(), path.display());
            }
            None => emit(&text)?,
        }
        if format == Format::Csv {
            csv_notes(&snap, &m).iter().for_each(|n| eprintln!("{n}"));
        }
        Ok::<u8, anyhow::Error>(0)
    }
    .await;
    conn.close().await;
    result
}

/// What the two-column CSV cannot carry, said after it: the admin sets these by hand.
pub fn csv_notes(snap: &Snapshot, m: &Mapping) -> Vec<String> {
    let note = Severity::Info.label();
    let mut out = vec![format!("{note}: the CSV holds the rows only; in Calendly's admin center also set:")];
    out.push(format!("  group mapping: {}", if m.enabled { "ON" } else { "OFF" }));
    out.push(match &m.default_group {
        Some(t) => format!("  default group: {}", quoted(snap.target_name(t))),
        None => "  default group: none".to_owned(),
    });
    out.push(format!(
        "  apply to existing users: {}",
        if m.apply_to_existing { "yes (existing users move too)" } else { "no (only users provisioned from now on)" }
    ));
    let mut new: Vec<&str> = m
        .rows
        .iter()
        .map(|r| &r.target)
        .chain(&m.default_group)
        .filter_map(|t| match t {
            Target::New(name) => Some(name.as_str()),
            Target::Group(_) => None,
        })
        .collect();
    new.sort_unstable();
    new.dedup();
    if !new.is_empty() {
        let names: Vec<String> = new.iter().map(|n| quoted(n)).collect();
        out.push(format!(
            "{note}: create these groups in the admin center first (the organization does not have them yet): {}",
            names.join(", ")
        ));
    }
    let warning = Severity::Warning.label();
    for (i, r) in m.rows.iter().enumerate() {
        let v = &r.idp_value;
        if v.trim() != v {
            out.push(format!(
                "{warning}: rows[{i}]: the value {} has a leading or trailing space, which a CSV cell hides (and a \
                 spreadsheet may drop): the IdP must send it exactly so; check it in the admin center",
                quoted(v)
            ));
        }
    }
    out
}

/// `mapping record FILE`: checks the file against the organization like `mapping check`, then
/// keeps the resolved table as the table of record.
pub async fn record(global: &Global, file: &Path) -> Result<u8> {
    let (parsed, mut problems) = MappingFile::read_all(file);
    let Some(parsed) = parsed else { return refuse(file, problems) };
    let conn = Connection::open(global).await?;
    let result = async {
        let (org, snap) = conn.load_directory().await?;
        if let Some(saved) = &snap.saved
            && !org.capabilities().read_only()
        {
            bail!(
                "{} saves its own group-mapping table (version {}): nothing to record; save the file with \
                 `groupmap apply --mapping {}`",
                view::org_label(&snap, conn.label(&org)),
                saved.version,
                file.display()
            );
        }
        let m = match parsed.resolve(&snap) {
            Ok(m) if problems.is_empty() => m,
            Ok(_) => return refuse(file, problems),
            Err(more) => {
                problems.extend(more.0);
                return refuse(file, problems);
            }
        };
        // Only the table's own errors: no user is in scope in a snapshot of the groups alone.
        let planned = plan(&snap, &m);
        let errors: Vec<String> = planned
            .lint
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| format!("{}: {}", file.display(), sanitize(&f.message)))
            .collect();
        if !errors.is_empty() {
            errors.iter().for_each(|e| eprintln!("{}: {e}", Severity::Error.label()));
            bail!("{}: {} error(s); nothing was recorded", file.display(), errors.len());
        }
        let store = conn.store();
        let at = time::OffsetDateTime::now_utc();
        let path = store
            .record_table(org.uri(), &to_toml(&snap, &m), at)
            .with_context(|| format!("recording the table of record for {}", org.uri()))?;
        let recorded = store
            .table_of_record(org.uri())
            .map_err(anyhow::Error::msg)?
            .filter(|r| r.path == path)
            .context("the table just recorded cannot be read back")?;
        let default = m.default_group.as_ref().map_or_else(|| "none".to_owned(), |t| quoted(snap.target_name(t)));
        println!(
            "Recorded the table of record for {}:\n  {} rows · group mapping {} · default group: {default} · apply to \
             existing users: {}\n  from {}, recorded {}\n  kept in {}",
            view::org_label(&snap, conn.label(&org)),
            m.rows.len(),
            if m.enabled { "ON" } else { "OFF" },
            if m.apply_to_existing { "yes" } else { "no" },
            file.display(),
            recorded.when(),
            path.display()
        );
        println!(
            "`groupmap plan` now compares with it; `groupmap plan --detailed-exitcode` exits 2 when users are not \
             where it puts them."
        );
        let new: Vec<String> = planned.new_groups.iter().map(|n| quoted(n)).collect();
        if !new.is_empty() {
            eprintln!(
                "{}: the table names groups the organization does not have: {} (create them in the admin center; \
                 until then the plan shows them as new)",
                Severity::Warning.label(),
                new.join(", ")
            );
        }
        Ok::<u8, anyhow::Error>(0)
    }
    .await;
    conn.close().await;
    result
}

fn refuse(file: &Path, mut problems: Vec<crate::domain::mapping_file::FileError>) -> Result<u8> {
    problems.sort_by_key(|e| e.line.unwrap_or(usize::MAX));
    for p in &problems {
        eprintln!("{}: {p}", Severity::Error.label());
    }
    bail!("{}: {} problem(s); nothing was recorded", file.display(), problems.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Group, Row};

    fn snap() -> Snapshot {
        let g = Group { uri: "https://x/groups/G1".into(), name: "Sales EMEA".into(), member_count: None };
        Snapshot::new("https://x", "https://x/organizations/O", vec![g], Vec::new(), None)
    }

    #[test]
    fn the_csv_note_says_what_the_csv_cannot_hold() {
        let row = |v: &str, t: Target| Row { idp_value: v.into(), target: t };
        let m = Mapping {
            enabled: false,
            rows: vec![
                row("Sales EMEA", Target::Group("https://x/groups/G1".into())),
                row("\tOps", Target::New("Ops".into())),
            ],
            default_group: Some(Target::New("Everyone".into())),
            apply_to_existing: false,
        };
        let notes = csv_notes(&snap(), &m).join("\n");
        assert!(notes.contains("group mapping: OFF"), "{notes}");
        assert!(notes.contains("default group: \"Everyone\""), "{notes}");
        assert!(notes.contains("apply to existing users: no"), "{notes}");
        assert!(notes.contains("create these groups in the admin center first (the organization does not have them yet): \"Everyone\", \"Ops\""), "{notes}");
        assert!(notes.contains("warning: rows[1]:") && !notes.contains("rows[0]"), "{notes}");

        let plain =
            Mapping { enabled: true, rows: vec![m.rows[0].clone()], default_group: None, apply_to_existing: true };
        let notes = csv_notes(&snap(), &plain).join("\n");
        assert!(notes.contains("default group: none") && notes.contains("apply to existing users: yes"), "{notes}");
        assert!(!notes.contains("create these groups") && !notes.contains("warning"), "{notes}");
    }
}
