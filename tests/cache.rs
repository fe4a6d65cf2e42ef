//! The snapshot cache: a round trip gives the same load back; anything else reads as no cache,
//! and a file of another format or a corrupt one says so.

use std::time::Duration;

use groupmap::domain::FieldChoice;
use groupmap::engine::{Engine, LoadOptions, Organization};
use groupmap::sandbox::{Options, Sandbox};
use groupmap::service::calendly::{Client, Secret};
use groupmap::store::cache::{self, Cached, FORMAT, Ignored, MAGIC};
use groupmap::store::key;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

async fn loaded(users: Option<usize>) -> Organization {
    let sb = Sandbox::start(Options { users, job_step: Duration::from_millis(1), ..Options::default() })
        .await
        .expect("sandbox starts");
    let c = Client::new(sb.base_url(), Secret::new(sb.token())).unwrap();
    let l = Engine::calendly(c.clone(), &LoadOptions::default()).load(None).await.expect("load");
    sb.shutdown().await;
    l
}

#[tokio::test]
async fn a_written_snapshot_reads_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    for users in [None, Some(300)] {
        let l = loaded(users).await;
        let path = write_to(dir.path(), &l).unwrap();
        assert_eq!(path, path_in(dir.path(), l.base_url(), l.uri()));
        let c = read_from(dir.path(), l.base_url(), l.uri()).expect("cached");
        assert_eq!(&c.organization, &l);
        assert!(c.age() < Duration::from_secs(600));
        // The same snapshot comes out of it.
        let (a, b) =
            (c.organization.snapshot(&FieldChoice::default()).unwrap(), l.snapshot(&FieldChoice::default()).unwrap());
        assert!(a.owners().eq(b.owners()));
        assert_eq!(a.values, b.values);
        // A trailing slash names the same organization.
        assert!(read_from(dir.path(), &format!("{}/", l.base_url()), &format!("{}/", l.uri())).is_some());
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("groupmap").join("snapshots");
    let l = loaded(None).await;
    let path = write_to(&sub, &l).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(&sub).unwrap().permissions().mode() & 0o777, 0o700);
    // Rewriting replaces it, leaving no temporary file behind.
    write_to(&sub, &l).unwrap();
    assert_eq!(std::fs::read_dir(&sub).unwrap().count(), 1);
}

#[tokio::test]
async fn missing_corrupt_old_or_foreign_caches_are_ignored_and_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let l = loaded(None).await;
    let (base, org) = (l.base_url().to_owned(), l.uri().to_owned());
    assert!(read_from(dir.path(), &base, &org).is_none(), "nothing written yet");
    assert!(matches!(checked(dir.path(), &base, &org), Ok(None)), "no file is no cache, without a notice");

    let path = write_to(dir.path(), &l).unwrap();
    let good = std::fs::read(&path).unwrap();
    assert!(good.starts_with(MAGIC));
    let shown = path.display().to_string();
    let corrupt = |bytes: &[u8]| {
        std::fs::write(&path, bytes).unwrap();
        assert!(read_from(dir.path(), &base, &org).is_none());
        match checked(dir.path(), &base, &org) {
            Err(e @ Ignored::Corrupt { .. }) => {
                assert!(e.to_string().contains(&shown), "{e}");
                e.to_string()
            }
            other => panic!("{other:?}"),
        }
    };

    // Truncated (a crash mid-write by another tool), garbage, empty, and one byte altered.
    assert!(corrupt(&good[..good.len() / 2]).contains("checksum"));
    assert!(corrupt(b"\x00\xffnot a cache").contains("not a groupmap snapshot cache"));
    corrupt(b"");
    corrupt(&good[..MAGIC.len() + 2]);
    let mut flipped = good.clone();
    let at = good.len() - 10;
    flipped[at] ^= 0x20;
    assert!(corrupt(&flipped).contains("checksum"));
    // A body that checks but is not a cache of this shape.
    let mut forged = good[..MAGIC.len() + 4].to_vec();
    let body = b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff";
    forged.extend_from_slice(&Sha256::digest(body));
    forged.extend_from_slice(body);
    assert!(corrupt(&forged).contains("does not decode"));

    // An older (or newer) format is not decoded, even with its checksum right.
    for found in [FORMAT - 1, FORMAT + 1] {
        let mut other = good.clone();
        other[MAGIC.len()..MAGIC.len() + 4].copy_from_slice(&found.to_le_bytes());
        std::fs::write(&path, &other).unwrap();
        assert!(read_from(dir.path(), &base, &org).is_none());
        let e = checked(dir.path(), &base, &org).unwrap_err();
        assert_eq!(e, Ignored::OtherFormat { path: shown.clone(), found });
        assert!(e.to_string().contains("another version of groupmap"), "{e}");
    }

    // A file that holds another organization or server (copied by hand) is not this one's.
    let mut other = l.clone();
    other.directory.organization = "https://api.calendly.com/organizations/OTHER".into();
    cache::write(&path, &other).unwrap();
    assert!(matches!(checked(dir.path(), &base, &org), Ok(None)));
    std::fs::write(&path, &good).unwrap();
    assert!(matches!(checked(dir.path(), "http://127.0.0.1:1", &org), Ok(None)));

    // Restored, it reads again.
    assert!(read_from(dir.path(), &base, &org).is_some());
}

#[test]
fn organizations_and_servers_get_separate_files() {
    let d = std::path::Path::new("/c");
    let a = path_in(d, "https://api.calendly.com", "https://api.calendly.com/organizations/ORG1");
    let b = path_in(d, "https://api.calendly.com", "https://api.calendly.com/organizations/ORG2");
    let c = path_in(d, "http://127.0.0.1:8787", "https://api.calendly.com/organizations/ORG1");
    assert!(a != b && a != c && b != c);
    assert!(a.file_name().unwrap().to_str().unwrap().starts_with("ORG1-"));
    // A hostile organization URI cannot escape the directory.
    let e = path_in(d, "x", "../../etc/passwd");
    assert_eq!(e.parent(), Some(d));
}

fn path_in(dir: &Path, base: &str, org: &str) -> PathBuf {
    key::path_in(dir, base, org, cache::EXTENSION)
}

fn write_to(dir: &Path, l: &Organization) -> std::io::Result<PathBuf> {
    let path = path_in(dir, l.base_url(), l.uri());
    cache::write(&path, l)?;
    Ok(path)
}

fn read_from(dir: &Path, base: &str, org: &str) -> Option<Cached> {
    cache::read(&path_in(dir, base, org), base, org)
}

fn checked(dir: &Path, base: &str, org: &str) -> Result<Option<Cached>, Ignored> {
    cache::read_checked(&path_in(dir, base, org), base, org)
}
