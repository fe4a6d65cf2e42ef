//! The hand-off's files: the table as a mapping file and as the admin center's CSV,
//! `$XDG_STATE_HOME/groupmap/handoff/KEY-TIME.{toml,csv}`, owner-only.

use std::io;
use std::path::PathBuf;

use time::OffsetDateTime;

use super::{Store, key};

impl Store {
    /// Where the hand-off's files go.
    pub fn handoff_dir(&self) -> PathBuf {
        self.state.join("handoff")
    }

    /// Writes both files under one name no earlier hand-off of this organization has.
    pub fn write_handoff(
        &self,
        organization: &str,
        toml: &str,
        csv: &str,
        at: OffsetDateTime,
    ) -> io::Result<(PathBuf, PathBuf)> {
        let at = at.to_offset(time::UtcOffset::UTC);
        let stamp = format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second()
        );
        let dir = self.handoff_dir();
        let base = format!("{}-{stamp}", key(&self.place, organization));
        let mut name = base.clone();
        let mut n = 1;
        while dir.join(format!("{name}.toml")).exists() || dir.join(format!("{name}.csv")).exists() {
            name = format!("{base}-{n}");
            n += 1;
        }
        let (t, c) = (dir.join(format!("{name}.toml")), dir.join(format!("{name}.csv")));
        crate::private_file::write(&t, toml.as_bytes())?;
        crate::private_file::write(&c, csv.as_bytes())?;
        Ok((t, c))
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn both_files_are_written_owner_only_under_a_name_of_their_own() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::at(d.path().join("state"), None, "https://api.calendly.com");
        let org = "https://api.calendly.com/organizations/ORG";
        let at = datetime!(2026-12-02 00:41:05 UTC);
        let (t, c) = s.write_handoff(org, "enabled = true\n", "a,b\n", at).unwrap();
        assert!(t.file_name().unwrap().to_str().unwrap().starts_with("ORG-"), "{t:?}");
        assert!(t.to_str().unwrap().ends_with("-20261202T004105Z.toml"), "{t:?}");
        assert_eq!(std::fs::read_to_string(&t).unwrap(), "enabled = true\n");
        assert_eq!(std::fs::read_to_string(&c).unwrap(), "a,b\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&c).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let (t2, _) = s.write_handoff(org, "enabled = false\n", "", at).unwrap();
        assert_ne!(t, t2, "the same second gets another name");
        assert_eq!(std::fs::read_to_string(&t).unwrap(), "enabled = true\n");
    }
}
