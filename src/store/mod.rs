//! Every file groupmap keeps: drafts of unsaved edits, mappings whose save failed, the last load
//! of each organization, and the organization last opened on each server. One naming rule
//! (`key`) per organization and place; every file is owner-only and written atomically.
//!
//! - `$XDG_STATE_HOME/groupmap/drafts/KEY/SESSION.toml`: each editor session's unsaved edits,
//!   its own (never shared, never deleted by another session), offered back on the next start.
//! - `$XDG_STATE_HOME/groupmap/attempted/KEY-TIME-PID-N.toml`: a mapping whose save failed.
//! - `$XDG_STATE_HOME/groupmap/saving/KEY/SESSION.txt`: what a save in flight has done so far,
//!   kept until it ends, so that a session killed during a save is told of at the next start.
//! - `$XDG_STATE_HOME/groupmap/recorded/KEY/TIME.toml`: the table of record (`record`).
//! - `$XDG_STATE_HOME/groupmap/handoff/KEY-TIME.{toml,csv}`: the table handed to an admin center.
//! - `$XDG_CACHE_HOME/groupmap/snapshots/KEY.json`: the last load, shown stale at start.
//! - `$XDG_CACHE_HOME/groupmap/snapshots/last-organization-TAG`: when none is configured.

pub mod cache;
pub mod handoff;
pub mod key;
pub mod record;

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::engine::Organization;
pub use key::key;

/// The place of the bundled sandbox: it listens on a new port every run, and its organization
/// is the same one each time.
pub const BUNDLED_SANDBOX: &str = "bundled-sandbox";

/// Where the state directory is: drafts, attempted mappings and the in-process sandbox's state.
pub fn state_dir() -> PathBuf {
    dirs::state_dir().or_else(dirs::data_local_dir).unwrap_or_else(std::env::temp_dir).join("groupmap")
}

fn cache_dir() -> Option<PathBuf> {
    dirs::cache_dir().map(|d| d.join("groupmap").join("snapshots"))
}

#[derive(Clone, Debug)]
pub struct Store {
    state: PathBuf,
    cache: Option<PathBuf>,
    place: String,
    /// This process's editor session: the name of its own draft.
    session: String,
}

/// A draft found for an organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundDraft {
    pub path: PathBuf,
    /// Since it was last written.
    pub age_secs: u64,
    /// Its text, or why it could not be read.
    pub text: Result<String, String>,
}

impl Store {
    /// The files of organizations on `base_url`, or of the bundled sandbox.
    pub fn new(base_url: &str, bundled_sandbox: bool) -> Store {
        let place = if bundled_sandbox { BUNDLED_SANDBOX } else { base_url };
        Store::at(state_dir(), cache_dir(), place)
    }

    /// The files under `state` (and `cache`) rather than the XDG directories.
    pub fn at(state: PathBuf, cache: Option<PathBuf>, place: &str) -> Store {
        let started = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        let session = format!("{started}-{}", std::process::id());
        Store { state, cache, place: place.trim_end_matches('/').to_owned(), session }
    }

    fn drafts_dir(&self, organization: &str) -> PathBuf {
        self.state.join("drafts").join(key(&self.place, organization))
    }

    /// This session's own draft of an organization.
    pub fn draft_path(&self, organization: &str) -> PathBuf {
        self.drafts_dir(organization).join(format!("{}.toml", self.session))
    }

    /// The drafts other sessions left for this organization, newest first.
    pub fn other_drafts(&self, organization: &str) -> Vec<FoundDraft> {
        let own = self.draft_path(organization);
        let Ok(entries) = std::fs::read_dir(self.drafts_dir(organization)) else { return Vec::new() };
        let mut found: Vec<(std::time::SystemTime, FoundDraft)> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml") && *p != own)
            .map(|path| {
                let written = std::fs::metadata(&path).and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH);
                let age_secs = written.elapsed().map_or(0, |d| d.as_secs());
                let text = std::fs::read_to_string(&path).map_err(|e| e.to_string());
                (written, FoundDraft { path, age_secs, text })
            })
            .collect();
        found.sort_by_key(|f| std::cmp::Reverse(f.0));
        found.into_iter().map(|(_, d)| d).collect()
    }

    pub fn write_draft(&self, organization: &str, text: &str) -> io::Result<PathBuf> {
        let path = self.draft_path(organization);
        crate::private_file::write(&path, text.as_bytes())?;
        Ok(path)
    }

    pub fn delete_draft(&self, organization: &str) {
        let _ = std::fs::remove_file(self.draft_path(organization));
    }

    /// Removes a draft file of this store (another session's, restored or discarded).
    pub fn delete_draft_file(&self, path: &std::path::Path) {
        if path.starts_with(self.state.join("drafts")) {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Moves an unreadable draft out of the way (never overwritten, never offered again).
    pub fn set_aside(&self, path: &std::path::Path) -> io::Result<PathBuf> {
        let to = set_aside_path(path);
        std::fs::rename(path, &to)?;
        Ok(to)
    }

    /// Keeps a mapping whose save failed, under a name no other attempt has (the time, the
    /// process and a counter), so that none overwrites another.
    pub fn keep_attempted(&self, organization: &str, text: &str) -> io::Result<PathBuf> {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let name = format!("{}-{stamp}-{}-{n}.toml", key(&self.place, organization), std::process::id());
        let path = self.state.join("attempted").join(name);
        crate::private_file::write(&path, text.as_bytes())?;
        Ok(path)
    }

    fn saves_dir(&self, organization: &str) -> PathBuf {
        self.state.join("saving").join(key(&self.place, organization))
    }

    /// Records what this session's save in flight has done so far (replaced at each stage).
    pub fn record_save(&self, organization: &str, known: &str) -> io::Result<()> {
        let path = self.saves_dir(organization).join(format!("{}.txt", self.session));
        crate::private_file::write(&path, known.as_bytes())
    }

    /// The save in flight has ended (whatever its outcome, which the session reports itself).
    pub fn end_save(&self, organization: &str) {
        let _ = std::fs::remove_file(self.saves_dir(organization).join(format!("{}.txt", self.session)));
    }

    /// Saves other sessions left in flight when they ended (their process is gone), with how long
    /// ago each was last heard of; reading them takes them out of the store.
    pub fn interrupted_saves(&self, organization: &str) -> Vec<(u64, String)> {
        let Ok(entries) = std::fs::read_dir(self.saves_dir(organization)) else { return Vec::new() };
        let mut out = Vec::new();
        for path in entries.filter_map(Result::ok).map(|e| e.path()) {
            let session = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
            let pid = session.rsplit('-').next().unwrap_or_default();
            let alive = session == self.session || std::path::Path::new("/proc").join(pid).exists();
            if alive {
                continue;
            }
            let age = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
            let age_secs = age.and_then(|t| t.elapsed().ok()).map_or(0, |d| d.as_secs());
            if let Ok(text) = std::fs::read_to_string(&path) {
                out.push((age_secs, text));
            }
            let _ = std::fs::remove_file(&path);
        }
        out
    }

    fn cache_path(&self, organization: &str) -> Option<PathBuf> {
        Some(key::path_in(self.cache.as_ref()?, &self.place, organization, cache::EXTENSION))
    }

    /// The last load of this organization, if one is cached from the same server.
    pub fn read_cached(&self, base_url: &str, organization: &str) -> Option<cache::Cached> {
        self.read_cache_checked(base_url, organization).ok().flatten()
    }

    /// As `read_cached`, with why a cache file that is there could not be used.
    pub fn read_cache_checked(
        &self,
        base_url: &str,
        organization: &str,
    ) -> Result<Option<cache::Cached>, cache::Ignored> {
        let Some(dir) = self.cache.as_ref() else { return Ok(None) };
        // The JSON file of earlier versions is not read again; it goes when this one is written.
        let legacy = key::path_in(dir, &self.place, organization, "json");
        if legacy.exists() && !self.cache_path(organization).is_some_and(|p| p.exists()) {
            return Err(cache::Ignored::Legacy { path: legacy.display().to_string() });
        }
        cache::read_checked(&self.cache_path(organization).expect("a cache directory"), base_url, organization)
    }

    /// Caches a load and remembers its organization as the last one opened here.
    pub fn write_cache(&self, loaded: &Organization) -> io::Result<()> {
        // Its shape holds Calendly's export only: an identity provider's table would read back as one.
        if loaded.idp.is_some() {
            return Ok(());
        }
        let path = self.cache_path(loaded.uri()).ok_or_else(|| io::Error::other("no cache directory"))?;
        cache::write(&path, loaded)?;
        if let Some(dir) = self.cache.as_ref() {
            let _ = std::fs::remove_file(key::path_in(dir, &self.place, loaded.uri(), "json"));
        }
        match self.last_organization_path() {
            Some(last) => crate::private_file::write(&last, loaded.uri().as_bytes()),
            None => Ok(()),
        }
    }

    fn last_organization_path(&self) -> Option<PathBuf> {
        Some(self.cache.as_ref()?.join(format!("last-organization-{}", key::tag(&self.place, ""))))
    }

    /// The organization last loaded here (when none is configured it comes from the service,
    /// which the cache cannot wait for).
    pub fn last_organization(&self) -> Option<String> {
        std::fs::read_to_string(self.last_organization_path()?).ok().map(|s| s.trim().to_owned())
    }
}

/// Where an unreadable draft is moved: beside it, under a name no draft has.
pub fn set_aside_path(path: &std::path::Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".unreadable");
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(place: &str, dir: &std::path::Path) -> Store {
        Store::at(dir.join("state"), Some(dir.join("cache")), place)
    }

    #[test]
    fn one_key_per_organization_and_place() {
        let d = tempfile::tempdir().unwrap();
        let org = "https://api.calendly.com/organizations/ORG1";
        let a = store("https://api.calendly.com", d.path());
        let b = store("http://127.0.0.1:8787", d.path());
        assert_ne!(a.draft_path(org), b.draft_path(org), "another server's draft is not this one's");
        assert_ne!(a.draft_path(org), a.draft_path("https://api.calendly.com/organizations/ORG2"));
        assert!(a.draft_path(org).parent().unwrap().file_name().unwrap().to_str().unwrap().starts_with("ORG1-"));
        // The bundled sandbox's organization keeps its files whatever port it listens on.
        let s1 = store(BUNDLED_SANDBOX, d.path()).draft_path("http://127.0.0.1:1111/organizations/X");
        let s2 = store(BUNDLED_SANDBOX, d.path()).draft_path("http://127.0.0.1:2222/organizations/X");
        assert_eq!(s1.parent(), s2.parent());
    }

    #[test]
    fn each_session_has_its_own_draft_and_sees_the_others() {
        let d = tempfile::tempdir().unwrap();
        let org = "https://x/organizations/O";
        let a = store("https://x", d.path());
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = store("https://x", d.path());
        assert_ne!(a.draft_path(org), b.draft_path(org));
        a.write_draft(org, "a").unwrap();
        b.write_draft(org, "b").unwrap();
        let seen: Vec<_> = a.other_drafts(org).into_iter().map(|f| f.text.unwrap()).collect();
        assert_eq!(seen, ["b"], "a sees b's draft, not its own");
        a.delete_draft(org);
        assert_eq!(b.other_drafts(org).len(), 0);
        assert_eq!(std::fs::read_to_string(b.draft_path(org)).unwrap(), "b", "a's delete leaves b's draft");
        let aside = b.set_aside(&b.draft_path(org)).unwrap();
        assert!(aside.exists() && a.other_drafts(org).is_empty(), "set aside: kept, not offered");
    }

    #[test]
    fn an_earlier_versions_json_cache_is_said_to_be_ignored_and_goes_when_a_load_is_cached() {
        let d = tempfile::tempdir().unwrap();
        let org = "https://x/organizations/O";
        let s = store("https://x", d.path());
        assert!(matches!(s.read_cache_checked("https://x", org), Ok(None)));
        let legacy = key::path_in(&d.path().join("cache"), "https://x", org, "json");
        std::fs::create_dir_all(legacy.parent().unwrap()).unwrap();
        std::fs::write(&legacy, br#"{"format":2}"#).unwrap();
        let e = s.read_cache_checked("https://x", org).unwrap_err();
        assert_eq!(e, cache::Ignored::Legacy { path: legacy.display().to_string() });
        let mut loaded = Organization::new(
            crate::service::Directory {
                base_url: "https://x".into(),
                organization: org.into(),
                groups: Vec::new(),
                people: Default::default(),
                table: None,
                capabilities: crate::service::Capabilities::READ_ONLY,
                revision: None,
                membership_conflicts: Vec::new(),
            },
            Vec::new(),
        );
        s.write_cache(&loaded).unwrap();
        assert!(!legacy.exists(), "the old file is removed");
        assert_eq!(s.read_cached("https://x", org).unwrap().organization, loaded);
        loaded.directory.revision = Some("r".into());
        assert_ne!(s.read_cached("https://x", org).unwrap().organization, loaded);
    }

    #[test]
    fn a_save_left_in_flight_by_a_dead_session_is_told_once_and_a_live_one_is_not() {
        let d = tempfile::tempdir().unwrap();
        let org = "https://x/organizations/O";
        let s = store("https://x", d.path());
        s.record_save(org, "saved as version 4").unwrap();
        assert!(s.interrupted_saves(org).is_empty(), "this session's own save is not interrupted");
        let dead = s.saves_dir(org).join("1-999999999.txt");
        std::fs::write(&dead, "the mapping was saved as version 7").unwrap();
        let told = s.interrupted_saves(org);
        assert_eq!(told.len(), 1);
        assert_eq!(told[0].1, "the mapping was saved as version 7");
        assert!(s.interrupted_saves(org).is_empty(), "told once");
        s.end_save(org);
        assert_eq!(std::fs::read_dir(s.saves_dir(org)).unwrap().count(), 0);
    }

    #[test]
    fn attempted_saves_never_overwrite_each_other() {
        let d = tempfile::tempdir().unwrap();
        let s = store("https://x", d.path());
        let a = s.keep_attempted("https://x/organizations/O", "a").unwrap();
        let b = s.keep_attempted("https://x/organizations/O", "b").unwrap();
        assert_ne!(a, b);
        assert_eq!(std::fs::read_to_string(a).unwrap(), "a");
        assert_eq!(std::fs::read_to_string(b).unwrap(), "b");
    }
}
