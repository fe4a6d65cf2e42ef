//! `groupmap mapping check FILE`: the file against the organization, every problem in one run.

use std::path::Path;

use anyhow::{Result, bail};

use super::args::Global;
use super::connection::Connection;
use crate::domain::finding::{LintKind, Severity};
use crate::domain::group_names::{Place, new_names_like_existing};
use crate::domain::mapping_file::{FileError, MappingFile};
use crate::domain::plan;
use crate::domain::text::sanitize;
use crate::report as view;

/// Prints each problem labelled `error:` and ends with how many there were (exit 1).
fn fail(file: &Path, mut problems: Vec<FileError>) -> Result<u8> {
    problems.sort_by_key(|e| e.line.unwrap_or(usize::MAX));
    for p in &problems {
        eprintln!("{}: {p}", Severity::Error.label());
    }
    bail!("{}: {} problem(s)", file.display(), problems.len())
}

/// `strict`: warnings fail too (for CI).
/// Text that is not TOML stops at its one error, before connecting. Otherwise every key and type
/// problem of the file is listed together with what resolving it against the organization finds
/// (unknown group URIs, another organization), so one run shows them all.
pub async fn check(global: &Global, file: &Path, strict: bool) -> Result<u8> {
    let (parsed, mut problems) = MappingFile::read_all(file);
    let Some(parsed) = parsed else { return fail(file, problems) };
    let conn = Connection::open(global).await?;
    let result = async {
        let (org, snap) = match conn.load().await {
            Ok(loaded) => loaded,
            Err(e) => {
                // What the file alone shows is still said.
                problems.iter().for_each(|p| eprintln!("{}: {p}", Severity::Error.label()));
                return Err(e);
            }
        };
        let resolved = parsed.resolve(&snap);
        let m = match resolved {
            Ok(m) if problems.is_empty() => m,
            Ok(_) => return fail(file, problems),
            Err(more) => {
                problems.extend(more.0);
                return fail(file, problems);
            }
        };
        let p = plan(&snap, &m);
        let shown = file.display();
        // New groups like existing ones are said with the line and key that name them.
        for f in p.lint.iter().filter(|f| f.kind != LintKind::NewGroupLikeExisting) {
            eprintln!("{}: {shown}: {}", f.severity.label(), sanitize(&f.message));
        }
        let likes = new_names_like_existing(&snap, &m);
        for l in &likes {
            let (line, key) = match l.place {
                Place::DefaultGroup => (parsed.default_group.as_ref().map(|d| d.1), "default_group".to_owned()),
                Place::Row(i) => {
                    (parsed.rows.iter().find(|r| r.index == i).map(|r| r.group_line), format!("rows[{i}].group"))
                }
            };
            let at = FileError { path: parsed.path.clone(), line, key: Some(key), message: l.advice(&snap) };
            eprintln!("{}: {at}", Severity::Warning.label());
        }
        let count = |s: Severity| p.lint.iter().filter(|f| f.severity == s).count();
        let errors = count(Severity::Error);
        if errors > 0 {
            bail!("{shown}: {errors} error(s)");
        }
        let warnings = count(Severity::Warning);
        if strict && warnings > 0 {
            bail!("{shown}: {warnings} warning(s), and --strict fails on warnings");
        }
        let notes = match count(Severity::Info) {
            0 => String::new(),
            n => format!(", {n} note(s)"),
        };
        let counts = format!("{} rows, {} new group(s)", m.rows.len(), p.new_groups.len());
        let org = view::org_label(&snap, conn.label(&org));
        // A new group that may be a typo is created for good on apply: the verdict says so.
        if likes.is_empty() {
            println!("{shown}: OK: {counts}, {warnings} warning(s){notes} against {org}");
        } else {
            println!(
                "{shown}: OK with {warnings} warning(s){notes}, {} about a new group's name (see above): {counts} \
                 against {org}",
                likes.len()
            );
        }
        Ok::<u8, anyhow::Error>(0)
    }
    .await;
    conn.close().await;
    result
}
