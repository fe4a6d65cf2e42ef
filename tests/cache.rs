//! The snapshot cache: a round trip gives the same load back; anything else reads as no cache.

use std::time::Duration;

use groupmap::domain::FieldChoice;
use groupmap::engine::{Engine, LoadOptions, Organization};
use groupmap::sandbox::{Options, Sandbox};
use groupmap::service::calendly::{Client, Secret};
use groupmap::store::cache::{self, Cached, FORMAT};
use groupmap::store::key;
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
        assert_eq!(a.owners, b.owners);
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
async fn missing_corrupt_old_or_foreign_caches_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let l = loaded(None).await;
    let (base, org) = (l.base_url().to_owned(), l.uri().to_owned());
    assert!(read_from(dir.path(), &base, &org).is_none(), "nothing written yet");

    let path = write_to(dir.path(), &l).unwrap();
    let good = std::fs::read(&path).unwrap();

    // Truncated (a crash mid-write by another tool) and garbage.
    std::fs::write(&path, &good[..good.len() / 2]).unwrap();
    assert!(read_from(dir.path(), &base, &org).is_none());
    std::fs::write(&path, b"\x00\xffnot json").unwrap();
    assert!(read_from(dir.path(), &base, &org).is_none());
    std::fs::write(&path, b"").unwrap();
    assert!(read_from(dir.path(), &base, &org).is_none());

    // An older (or newer) format, even one that would otherwise decode.
    let mut v: serde_json::Value = serde_json::from_slice(&good).unwrap();
    v["format"] = serde_json::json!(FORMAT - 1);
    std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
    assert!(read_from(dir.path(), &base, &org).is_none());
    v["format"] = serde_json::json!(FORMAT + 1);
    std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
    assert!(read_from(dir.path(), &base, &org).is_none());
    // The right format with a field of the wrong shape.
    let mut v: serde_json::Value = serde_json::from_slice(&good).unwrap();
    v["people"] = serde_json::json!([{"uri": "x"}]);
    std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
    assert!(read_from(dir.path(), &base, &org).is_none());

    // A file that claims another organization or server (copied by hand) is not this one's.
    let mut v: serde_json::Value = serde_json::from_slice(&good).unwrap();
    v["organization"] = serde_json::json!("https://api.calendly.com/organizations/OTHER");
    std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
    assert!(read_from(dir.path(), &base, &org).is_none());
    assert!(read_from(dir.path(), "http://127.0.0.1:1", &org).is_none());

    // Restored, it reads again.
    std::fs::write(&path, &good).unwrap();
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
    key::path_in(dir, base, org, "json")
}

fn write_to(dir: &Path, l: &Organization) -> std::io::Result<PathBuf> {
    let path = path_in(dir, l.base_url(), l.uri());
    cache::write(&path, l)?;
    Ok(path)
}

fn read_from(dir: &Path, base: &str, org: &str) -> Option<Cached> {
    cache::read(&path_in(dir, base, org), base, org)
}
