//! The table of record: the mapping the admin says is entered in a service that cannot show its
//! own (Calendly's admin center). Later plans compare with it, and the drift check runs on it.
//!
//! `$XDG_STATE_HOME/groupmap/recorded/KEY/TIME.toml`, one file per recording (the newest is the
//! table of record; the older ones are its history). Each is a mapping file headed by a comment
//! with the time it was recorded, so it can be passed to `--mapping` as it is.

use std::io;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Store, key};

const HEADER: &str = "# groupmap table of record, recorded ";

/// A table of record as found in the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub path: PathBuf,
    pub recorded_at: OffsetDateTime,
    /// The mapping file's text (TOML), header included.
    pub text: String,
}

impl Recorded {
    /// `2026-12-02 14:05 UTC`, for messages: "compared with the table recorded 2026-12-02 14:05 UTC".
    pub fn when(&self) -> String {
        crate::domain::snapshot::when(self.recorded_at)
    }
}

impl Store {
    fn recorded_dir(&self, organization: &str) -> PathBuf {
        self.state.join("recorded").join(key(&self.place, organization))
    }

    /// Records `mapping_toml` (a mapping file's text) as the table entered in the service at `at`.
    /// Earlier recordings are kept as history; the newest is the table of record.
    pub fn record_table(&self, organization: &str, mapping_toml: &str, at: OffsetDateTime) -> io::Result<PathBuf> {
        let at = at.to_offset(time::UtcOffset::UTC).replace_nanosecond(0).unwrap_or(at);
        let stamp = at.format(&Rfc3339).map_err(io::Error::other)?;
        let dir = self.recorded_dir(organization);
        // A name no earlier recording has, in the order they were made.
        let base = stamp.replace(':', "");
        let mut path = dir.join(format!("{base}.toml"));
        let mut n = 1;
        while path.exists() {
            path = dir.join(format!("{base}-{n}.toml"));
            n += 1;
        }
        let body = without_header(mapping_toml);
        crate::private_file::write(&path, format!("{HEADER}{stamp}\n{body}").as_bytes())?;
        Ok(path)
    }

    /// The newest recording for this organization on this server, if any. A file that cannot be
    /// read is an error naming it, never skipped silently (it may be the newest).
    pub fn table_of_record(&self, organization: &str) -> Result<Option<Recorded>, String> {
        let dir = self.recorded_dir(organization);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", dir.display())),
        };
        let mut names: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        // RFC 3339 UTC stamps sort as times; a `-N` suffix sorts after its base.
        names.sort_by_key(|p| sort_key(p));
        let Some(path) = names.pop() else { return Ok(None) };
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let recorded_at = recorded_at(&text).ok_or_else(|| {
            format!("{}:1: the first line should be `{HEADER}TIME` (RFC 3339); record the table again", path.display())
        })?;
        Ok(Some(Recorded { path, recorded_at, text }))
    }
}

fn sort_key(p: &Path) -> (String, u32) {
    let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    match stem.rsplit_once('-').and_then(|(b, n)| Some((b, n.parse::<u32>().ok()?))).filter(|(b, _)| b.ends_with('Z')) {
        Some((b, n)) => (b.to_owned(), n),
        None => (stem.to_owned(), 0),
    }
}

fn recorded_at(text: &str) -> Option<OffsetDateTime> {
    let stamp = text.lines().next()?.strip_prefix(HEADER)?.trim();
    OffsetDateTime::parse(stamp, &Rfc3339).ok()
}

/// A recorded file recorded again keeps one header.
fn without_header(text: &str) -> &str {
    match text.strip_prefix(HEADER) {
        Some(rest) => rest.split_once('\n').map_or("", |(_, body)| body),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn the_newest_recording_is_the_table_of_record_and_earlier_ones_stay() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::at(d.path().join("state"), None, "https://api.calendly.com");
        let org = "https://api.calendly.com/organizations/ORG";
        assert_eq!(s.table_of_record(org).unwrap(), None);
        let first = s.record_table(org, "enabled = true\n", datetime!(2026-12-01 09:30:15 UTC)).unwrap();
        let second = s.record_table(org, "enabled = false\n", datetime!(2026-12-02 14:05:00 UTC)).unwrap();
        let same_second = s.record_table(org, "enabled = true\n", datetime!(2026-12-02 14:05:00 UTC)).unwrap();
        assert!(first.exists() && second.exists() && same_second != second);
        let r = s.table_of_record(org).unwrap().unwrap();
        assert_eq!(r.path, same_second);
        assert_eq!(r.when(), "2026-12-02 14:05 UTC");
        assert_eq!(r.text, "# groupmap table of record, recorded 2026-12-02T14:05:00Z\nenabled = true\n");
        // Another server's organization of the same UUID has none.
        let other = Store::at(d.path().join("state"), None, "http://127.0.0.1:8787");
        assert_eq!(other.table_of_record("http://127.0.0.1:8787/organizations/ORG").unwrap(), None);
    }

    #[test]
    fn a_recorded_file_recorded_again_keeps_one_header() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::at(d.path().join("state"), None, "https://x");
        let org = "https://x/organizations/O";
        s.record_table(org, "enabled = true\n", datetime!(2026-12-01 00:00:00 UTC)).unwrap();
        let again = s.table_of_record(org).unwrap().unwrap().text;
        s.record_table(org, &again, datetime!(2026-12-03 00:00:00 UTC)).unwrap();
        let r = s.table_of_record(org).unwrap().unwrap();
        assert_eq!(r.text.matches(HEADER).count(), 1);
        assert_eq!(r.recorded_at, datetime!(2026-12-03 00:00:00 UTC));
    }

    #[test]
    fn a_recording_without_its_header_is_an_error_naming_the_file() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::at(d.path().join("state"), None, "https://x");
        let org = "https://x/organizations/O";
        let p = s.record_table(org, "enabled = true\n", datetime!(2026-12-01 00:00:00 UTC)).unwrap();
        std::fs::write(&p, "enabled = true\n").unwrap();
        let e = s.table_of_record(org).unwrap_err();
        assert!(e.contains(&p.display().to_string()) && e.contains(":1:"), "{e}");
    }
}
