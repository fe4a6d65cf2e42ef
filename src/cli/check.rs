//! `groupmap mapping check FILE`: the file against the organization, every problem at once.

use std::path::Path;

use anyhow::{Result, bail};

use super::args::Global;
use super::connection::{Connection, read_mapping_file, rebase_loopback};
use crate::domain::finding::{LintKind, Severity};
use crate::domain::group_names::{Place, new_names_like_existing};
use crate::domain::mapping_file::FileError;
use crate::domain::plan;
use crate::domain::text::sanitize;
use crate::report as view;

pub async fn check(global: &Global, file: &Path) -> Result<u8> {
    let mut parsed = read_mapping_file(file)?;
    let conn = Connection::open(global).await?;
    let result = async {
        let (org, snap) = conn.load().await?;
        if let Some(sb) = &conn.sandbox {
            rebase_loopback(&mut parsed, sb.base_url());
        }
        let m = parsed.resolve(&snap)?;
        let p = plan(&snap, &m);
        let shown = file.display();
        let errors = p.lint.iter().filter(|f| f.severity == Severity::Error).count();
        // New groups like existing ones are said with the line and key that name them.
        for f in p.lint.iter().filter(|f| f.kind != LintKind::NewGroupLikeExisting) {
            eprintln!("{shown}: {:?}: {}", f.severity, sanitize(&f.message));
        }
        let likes = new_names_like_existing(&snap, &m);
        for l in &likes {
            let (line, key) = match l.place {
                Place::DefaultGroup => (parsed.default_group.as_ref().map(|d| d.1), "default_group".to_owned()),
                Place::Row(i) => (parsed.rows.get(i).map(|r| r.group_line), format!("rows[{i}].group")),
            };
            let at = FileError { path: parsed.path.clone(), line, key: Some(key), message: l.advice(&snap) };
            eprintln!("warning: {at}");
        }
        if errors > 0 {
            bail!("{shown}: {errors} error(s)");
        }
        let warnings = p.lint.iter().filter(|f| f.severity == Severity::Warning).count();
        let notes = p.lint.iter().filter(|f| f.severity == Severity::Info).count();
        let notes = if notes > 0 { format!(", {notes} note(s)") } else { String::new() };
        let counts = format!("{} rows, {} new group(s)", m.rows.len(), p.new_groups.len());
        let org = view::org_label(&snap, conn.label(&org));
        // A new group that may be a typo is created for good on apply: the verdict says so.
        if likes.is_empty() {
            println!("{shown}: OK: {counts}, {warnings} warning(s){notes} against {org}");
        } else {
            println!(
                "{shown}: OK with {warnings} warning(s){notes}, {} about a new group's name (see above): {counts} against {org}",
                likes.len()
            );
        }
        Ok::<u8, anyhow::Error>(0)
    }
    .await;
    conn.close().await;
    result
}
