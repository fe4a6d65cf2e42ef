//! Each port's implementations against the bundled sandbox over loopback: what the Calendly
//! service declares it can do, and what each source of IdP values reads.

use std::time::Duration;

use groupmap::domain::{FieldChoice, Mapping};
use groupmap::idp::ValueSource;
use groupmap::idp::export::{Endpoint, Files};
use groupmap::sandbox::{Options, Sandbox};
use groupmap::service::calendly::{Calendly, Client, Secret, wire};
use groupmap::service::{Capabilities, LoadError, SaveError, Service};

async fn start(read_only: bool) -> Sandbox {
    let opts = Options { read_only, job_step: Duration::from_millis(1), ..Options::default() };
    Sandbox::start(opts).await.expect("sandbox starts")
}

fn client(sb: &Sandbox) -> Client {
    Client::new(sb.base_url(), Secret::new(sb.token())).unwrap()
}

#[tokio::test]
async fn calendly_declares_what_the_server_can_do() {
    let full = start(false).await;
    let service = Calendly::new(client(&full));
    let org = service.organization(None).await.unwrap();
    assert_eq!(org, full.organization(), "the token's own organization when none is configured");
    let d = service.load(&org, None).await.unwrap();
    assert_eq!(
        d.capabilities,
        Capabilities { save_table: true, create_groups: true, move_members: true, revision: true }
    );
    assert!(d.table.is_some() && d.revision.is_some(), "a table to compare with, and its revision");
    assert!(d.people.iter().any(|p| p.group.is_some()), "placements are read");
    full.shutdown().await;

    let ro = start(true).await;
    let service = Calendly::new(client(&ro));
    let d = service.load(&ro.organization(), None).await.unwrap();
    assert_eq!(d.capabilities, Capabilities::READ_ONLY);
    assert!(d.table.is_none() && d.revision.is_none(), "no table is claimed where none can be read");
    assert!(!d.people.is_empty() && !d.groups.is_empty(), "people and groups are still read");
    // Asked to save anyway, it refuses before sending anything.
    let before = ro.requests();
    let err = service.save_table(&d, &Mapping::default(), String::new()).await.unwrap_err();
    assert!(matches!(err, SaveError::ReadOnly), "{err}");
    assert_eq!(ro.requests(), before);
    ro.shutdown().await;
}

#[tokio::test]
async fn the_export_endpoint_reads_active_and_pending_users_and_says_when_it_is_missing() {
    let full = start(false).await;
    let source = Endpoint::new(client(&full));
    let org = full.organization();
    let exports = source.read(&org).await.unwrap();
    let uuid = wire::uuid_of(&org);
    let names: Vec<&str> = exports.iter().map(|e| e.file.as_str()).collect();
    assert_eq!(
        names,
        [
            format!("GET /organizations/{uuid}/user_export?status=active"),
            format!("GET /organizations/{uuid}/user_export?status=pending")
        ]
    );
    assert!(exports.iter().all(|e| e.columns(&FieldChoice::default()).is_ok()), "the columns are found by header");
    assert!(exports.iter().all(|e| !e.records.is_empty()));
    full.shutdown().await;

    let ro = start(true).await;
    let err = Endpoint::new(client(&ro)).read(&ro.organization()).await.unwrap_err();
    assert!(matches!(err, LoadError::NoExportEndpoint { .. }), "{err}");
    ro.shutdown().await;
}

#[tokio::test]
async fn export_files_are_read_in_order_and_a_missing_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let active = dir.path().join("active.csv");
    let pending = dir.path().join("pending.csv");
    std::fs::write(&active, "Name,Login email,Identity Provider Group\nAna,ana@x.test,Sales\n").unwrap();
    std::fs::write(&pending, "Login email,Identity Provider Group\nbo@x.test,Ops\n").unwrap();
    let files = Files::new(vec![active.clone(), pending.clone()]);
    assert_eq!(files.describe(), format!("{}, {}", active.display(), pending.display()));
    let exports = files.read("any").await.unwrap();
    assert_eq!(exports.len(), 2);
    assert_eq!(exports[0].file, active.display().to_string());
    assert_eq!(&exports[1].records[0].1[1], "Ops");

    let gone = dir.path().join("gone.csv");
    let err = Files::new(vec![active, gone.clone()]).read("any").await.unwrap_err().to_string();
    assert!(err.starts_with(&gone.display().to_string()), "{err}");
}
