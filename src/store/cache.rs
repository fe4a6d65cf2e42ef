//! The file that keeps the last load of an organization (see `Store::cache_path`), so that a
//! restart can show it at once, marked as stale, while a fresh load runs.
//!
//! A cached snapshot is for showing only: plans that are saved and the `If-Match` ETag must come
//! from a fresh load. The file holds names and emails, so it is written `0600` in a `0700`
//! directory, atomically (a temporary file renamed over the old one).
//!
//! The file is binary (postcard), so that a restart reads 100,000 people in milliseconds: a
//! magic line, the format number, the SHA-256 of the rest, then the rest. No file reads as no
//! cache; a file of another format or a corrupt one (truncated, altered, not ours) is never
//! decoded into the editor: it reads as no cache, with a notice saying why.

use std::fs;
use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::export::Record;
use crate::domain::{Export, Group, Mapping, OwnerKind, Person, Row, SavedMapping, TableOrigin, Target};
use crate::engine::Organization;
use crate::service::{Capabilities, Directory};

/// Bumped whenever the file's shape changes: files of any other format are ignored.
pub const FORMAT: u32 = 3;

/// What every cache file starts with.
pub const MAGIC: &[u8; 24] = b"groupmap snapshot cache\n";

/// The cache file's extension (the JSON files of format 2 and before were `.json`).
pub const EXTENSION: &str = "snapshot";

/// Where the format number ends and the checksum starts.
const HEAD: usize = MAGIC.len() + 4;
/// Where the checksummed body starts.
const BODY: usize = HEAD + 32;

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

/// Why a cache file that is there was not used. The path comes last: a status line keeps the
/// reason when it cuts a long path short.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Ignored {
    #[error(
        "ignored the snapshot cache of another version of groupmap (format {found}; this one reads {FORMAT}); a fresh load replaces it: {path}"
    )]
    OtherFormat { path: String, found: u32 },
    #[error("ignored the snapshot cache in an earlier version's JSON format; a fresh load replaces it: {path}")]
    Legacy { path: String },
    #[error("ignored a corrupt snapshot cache ({why}); a fresh load replaces it: {path}")]
    Corrupt { path: String, why: &'static str },
}

fn norm(uri: &str) -> &str {
    uri.trim_end_matches('/')
}

/// The load cached at `path`, if it is usable and of this organization on this server.
pub fn read(path: &Path, base_url: &str, organization: &str) -> Option<Cached> {
    read_checked(path, base_url, organization).ok().flatten()
}

/// As `read`, telling a file that is there but unusable (another format, corrupt) from no file
/// (or one of another organization or server, which is simply not this one's).
pub fn read_checked(path: &Path, base_url: &str, organization: &str) -> Result<Option<Cached>, Ignored> {
    let Ok(bytes) = fs::read(path) else { return Ok(None) };
    let shown = path.display().to_string();
    let corrupt = |why| Ignored::Corrupt { path: shown.clone(), why };
    if bytes.len() < BODY || &bytes[..MAGIC.len()] != MAGIC {
        return Err(corrupt("not a groupmap snapshot cache"));
    }
    let found = u32::from_le_bytes(bytes[MAGIC.len()..HEAD].try_into().expect("4 bytes"));
    // The format is checked first, so an old file is never decoded with today's shape.
    if found != FORMAT {
        return Err(Ignored::OtherFormat { path: shown, found });
    }
    if Sha256::digest(&bytes[BODY..]).as_slice() != &bytes[HEAD..BODY] {
        return Err(corrupt("its checksum does not match: cut short or altered"));
    }
    let file: FileIn = postcard::from_bytes(&bytes[BODY..]).map_err(|_| corrupt("it does not decode"))?;
    if norm(&file.base_url) != norm(base_url) || norm(&file.organization) != norm(organization) {
        return Ok(None);
    }
    let written_at = UNIX_EPOCH + Duration::from_millis(file.written_at_ms);
    let organization = file.into_organization().ok_or_else(|| corrupt("a record does not rebuild"))?;
    Ok(Some(Cached { organization, written_at }))
}

/// Caches a load at `path` (owner-only, atomically).
pub fn write(path: &Path, loaded: &Organization) -> io::Result<()> {
    let body = postcard::to_stdvec(&FileOut::of(loaded)).map_err(io::Error::other)?;
    crate::private_file::write_with(path, |w| {
        w.write_all(MAGIC)?;
        w.write_all(&FORMAT.to_le_bytes())?;
        w.write_all(&Sha256::digest(&body))?;
        w.write_all(&body)
    })
}

// The file's own shape, apart from the domain types, so that changing those cannot silently
// change what an old file means: change these, bump FORMAT. Rows are arrays to keep a
// 100k-user file small. Written from borrowed data (no copy of a big organization), read owned.

#[derive(Serialize)]
struct FileOut<'a> {
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

/// A person as the file holds them: kind, URI, name, email, group URI.
type PersonIn<'a> = (OwnerKind, Box<str>, Box<str>, Box<str>, Option<&'a str>);

#[derive(Deserialize)]
struct FileIn<'a> {
    written_at_ms: u64,
    base_url: String,
    organization: String,
    groups: Vec<(String, String, Option<u32>)>,
    people: Vec<PersonIn<'a>>,
    #[serde(borrow)]
    exports: Vec<ExportIn<'a>>,
    saved: Option<SavedRec>,
    capabilities: Capabilities,
    revision: Option<String>,
}

/// Fields are borrowed from the file's bytes: each record is built in one allocation.
#[derive(Deserialize)]
struct ExportIn<'a> {
    file: String,
    headers: Vec<String>,
    #[serde(borrow)]
    records: Vec<(u64, Vec<&'a str>)>,
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
            written_at_ms: now.as_millis() as u64,
            base_url: &l.base_url,
            organization: &l.organization,
            groups: l.groups.iter().map(|g| (g.uri.as_str(), g.name.as_str(), g.member_count)).collect(),
            people: l.people.iter().map(|p| (p.kind, &*p.uri, &*p.name, &*p.email, p.group.as_deref())).collect(),
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

impl FileIn<'_> {
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
        // Each group's URI once, shared by its people, as a load keeps it.
        let mut shared: std::collections::HashMap<&str, std::sync::Arc<str>> = Default::default();
        let directory = Directory {
            base_url: self.base_url,
            organization: self.organization,
            groups: self
                .groups
                .into_iter()
                .map(|(uri, name, member_count)| Group { uri, name, member_count })
                .collect(),
            people: std::sync::Arc::new(
                self.people
                    .into_iter()
                    .map(|(kind, uri, name, email, group)| Person {
                        kind,
                        uri,
                        name,
                        email,
                        group: group.map(|g| shared.entry(g).or_insert_with(|| g.into()).clone()),
                    })
                    .collect(),
            ),
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
                origin: TableOrigin::Service,
            }),
            capabilities: self.capabilities,
            revision: self.revision,
            // Not cached: a cached load is only shown until the fresh one, which has them, lands.
            membership_conflicts: Vec::new(),
        };
        Some(Organization::new(directory, exports))
    }
}
