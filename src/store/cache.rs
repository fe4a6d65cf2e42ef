//! The file that keeps the last load of an organization (see `Store::cache_path`), so that a
//! restart can show it at once, marked as stale, while a fresh load runs.
//!
//! A cached snapshot is for showing only: plans that are saved and the `If-Match` ETag must come
//! from a fresh load. The file holds names and emails, so it is written `0600` in a `0700`
//! directory, atomically (a temporary file renamed over the old one). Anything unexpected on
//! reading (no file, a corrupt or truncated one, an older format, another organization or base
//! URL) reads as no cache.

use std::fs;
use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::domain::export::Record;
use crate::domain::{Export, Group, Mapping, OwnerKind, Person, Row, SavedMapping, Target};
use crate::engine::Organization;
use crate::service::{Capabilities, Directory};

/// Bumped whenever the file's shape changes: files of any other format are ignored.
pub const FORMAT: u32 = 2;

/// A cached load and when it was written.
#[derive(Clone, Debug)]
pub struct Cached {
    pub organization: Organization,
    pub written_at: SystemTime,
}

impl Cached {
    /// How old the snapshot is (zero if the clock went backwards).
    pub fn age(&self) -> Duration {
        SystemTime::now().duration_since(self.written_at).unwrap_or_default()
    }
}

fn norm(uri: &str) -> &str {
    uri.trim_end_matches('/')
}

/// The load cached at `path`, if it is usable and of this organization on this server.
pub fn read(path: &Path, base_url: &str, organization: &str) -> Option<Cached> {
    let bytes = fs::read(path).ok()?;
    // The format is checked first, so an old file is never decoded with today's shape.
    let head: Head = serde_json::from_slice(&bytes).ok()?;
    if head.format != FORMAT {
        return None;
    }
    let file: FileIn = serde_json::from_slice(&bytes).ok()?;
    if file.format != FORMAT || norm(&file.base_url) != norm(base_url) || norm(&file.organization) != norm(organization)
    {
        return None;
    }
    let written_at = UNIX_EPOCH + Duration::from_millis(file.written_at_ms);
    Some(Cached { organization: file.into_organization()?, written_at })
}

/// Caches a load at `path` (owner-only, atomically).
pub fn write(path: &Path, loaded: &Organization) -> io::Result<()> {
    let file = FileOut::of(loaded);
    crate::private_file::write_with(path, |w| serde_json::to_writer(w, &file).map_err(io::Error::other))
}

// The file's own shape, apart from the domain types, so that changing those cannot silently
// change what an old file means: change these, bump FORMAT. Rows are arrays to keep a
// 100k-user file small. Written from borrowed data (no copy of a big organization), read owned.

#[derive(Deserialize)]
struct Head {
    format: u32,
}

#[derive(Serialize)]
struct FileOut<'a> {
    format: u32,
    written_at_ms: u64,
    base_url: &'a str,
    organization: &'a str,
    /// (uri, name, member_count)
    groups: Vec<(&'a str, &'a str, Option<u32>)>,
    /// (kind, uri, name, email, current member group)
    people: Vec<(OwnerKind, &'a str, &'a str, &'a str, Option<&'a str>)>,
    exports: Vec<ExportOut<'a>>,
    saved: Option<SavedRec>,
    capabilities: Capabilities,
    revision: Option<&'a str>,
}

#[derive(Serialize)]
struct ExportOut<'a> {
    file: &'a str,
    headers: &'a [String],
    records: Vec<(u64, Vec<&'a str>)>,
}

#[derive(Deserialize)]
struct FileIn {
    format: u32,
    written_at_ms: u64,
    base_url: String,
    organization: String,
    groups: Vec<(String, String, Option<u32>)>,
    people: Vec<(OwnerKind, String, String, String, Option<String>)>,
    exports: Vec<ExportIn>,
    saved: Option<SavedRec>,
    capabilities: Capabilities,
    revision: Option<String>,
}

#[derive(Deserialize)]
struct ExportIn {
    file: String,
    headers: Vec<String>,
    records: Vec<(u64, Vec<String>)>,
}

#[derive(Serialize, Deserialize)]
struct SavedRec {
    enabled: bool,
    rows: Vec<(String, TargetRec)>,
    default_group: Option<TargetRec>,
    apply_to_existing: bool,
    version: u64,
    updated_at: Option<String>,
    updated_by: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum TargetRec {
    Group(String),
    New(String),
}

impl TargetRec {
    fn of(t: &Target) -> TargetRec {
        match t {
            Target::Group(u) => TargetRec::Group(u.clone()),
            Target::New(n) => TargetRec::New(n.clone()),
        }
    }
    fn into_target(self) -> Target {
        match self {
            TargetRec::Group(u) => Target::Group(u),
            TargetRec::New(n) => Target::New(n),
        }
    }
}

impl<'a> FileOut<'a> {
    fn of(o: &'a Organization) -> FileOut<'a> {
        let l = &o.directory;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        FileOut {
            format: FORMAT,
            written_at_ms: now.as_millis() as u64,
            base_url: &l.base_url,
            organization: &l.organization,
            groups: l.groups.iter().map(|g| (g.uri.as_str(), g.name.as_str(), g.member_count)).collect(),
            people: l
                .people
                .iter()
                .map(|p| (p.kind, p.uri.as_str(), p.name.as_str(), p.email.as_str(), p.group.as_deref()))
                .collect(),
            exports: o
                .exports
                .iter()
                .map(|e| ExportOut {
                    file: &e.file,
                    headers: &e.headers,
                    records: e.records.iter().map(|(line, r)| (*line, r.iter().collect())).collect(),
                })
                .collect(),
            saved: l.table.as_ref().map(|s| SavedRec {
                enabled: s.mapping.enabled,
                rows: s.mapping.rows.iter().map(|r| (r.idp_value.clone(), TargetRec::of(&r.target))).collect(),
                default_group: s.mapping.default_group.as_ref().map(TargetRec::of),
                apply_to_existing: s.mapping.apply_to_existing,
                version: s.version,
                updated_at: s.updated_at.clone(),
                updated_by: s.updated_by.clone(),
            }),
            capabilities: l.capabilities,
            revision: l.revision.as_deref(),
        }
    }
}

impl FileIn {
    /// None when a record cannot be rebuilt (a corrupt file).
    fn into_organization(self) -> Option<Organization> {
        let mut exports = Vec::with_capacity(self.exports.len());
        for e in self.exports {
            let records = e
                .records
                .into_iter()
                .map(|(line, fields)| Some((line, Record::new(&fields)?)))
                .collect::<Option<Vec<_>>>()?;
            exports.push(Export { file: e.file, headers: e.headers, records });
        }
        let directory = Directory {
            base_url: self.base_url,
            organization: self.organization,
            groups: self
                .groups
                .into_iter()
                .map(|(uri, name, member_count)| Group { uri, name, member_count })
                .collect(),
            people: self
                .people
                .into_iter()
                .map(|(kind, uri, name, email, group)| Person { kind, uri, name, email, group })
                .collect(),
            table: self.saved.map(|s| SavedMapping {
                mapping: Mapping {
                    enabled: s.enabled,
                    rows: s.rows.into_iter().map(|(idp_value, t)| Row { idp_value, target: t.into_target() }).collect(),
                    default_group: s.default_group.map(TargetRec::into_target),
                    apply_to_existing: s.apply_to_existing,
                },
                version: s.version,
                updated_at: s.updated_at,
                updated_by: s.updated_by,
            }),
            capabilities: self.capabilities,
            revision: self.revision,
            // Not cached: a cached load is only shown until the fresh one, which has them, lands.
            membership_conflicts: Vec::new(),
        };
        Some(Organization { directory, exports, idp: None })
    }
}
