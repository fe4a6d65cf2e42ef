//! The concurrent loader reads the same organization as the sequential reference path.

use std::time::Duration;

use groupmap::domain::{FieldChoice, Snapshot};
use groupmap::engine::{Engine, LoadOptions};
use groupmap::sandbox::{Options, Sandbox};
use groupmap::service::calendly::{Client, Secret};

#[path = "common/sequential.rs"]
mod sequential;
use sequential::load_sequential;

async fn start(users: Option<usize>) -> Sandbox {
    Sandbox::start(Options { users, job_step: Duration::from_millis(1), ..Options::default() })
        .await
        .expect("sandbox starts")
}

fn client(sb: &Sandbox) -> Client {
    Client::new(sb.base_url(), Secret::new(sb.token())).unwrap()
}

fn assert_same_snapshot(a: &Snapshot, b: &Snapshot) {
    assert_eq!(a.base_url, b.base_url);
    assert_eq!(a.organization, b.organization);
    assert_eq!(a.groups, b.groups);
    assert!(a.owners().eq(b.owners()));
    assert_eq!(a.values, b.values);
    assert_eq!(a.value_users, b.value_users);
    assert_eq!(a.saved, b.saved);
    assert_eq!(a.stale_rows, b.stale_rows);
    assert_eq!(a.conflicting_rows, b.conflicting_rows);
    assert_eq!(a.membership_conflicts, b.membership_conflicts);
}

#[tokio::test]
async fn concurrent_and_sequential_loads_give_the_same_snapshot_on_a_paginated_org() {
    // 1,234 people: a dozen pages of members and of relationships at 100 a page.
    let sb = start(Some(1234)).await;
    let c = client(&sb);
    let opts = LoadOptions::default();
    let concurrent = Engine::calendly(c.clone(), &opts).load(None).await.expect("concurrent load");
    let sequential = load_sequential(&c, &opts).await.expect("sequential load");
    assert!(concurrent.directory.people.len() > 1000, "{} people", concurrent.directory.people.len());
    assert!(concurrent.directory.people.iter().filter(|p| p.group.is_some()).count() > 500);
    assert_eq!(&concurrent, &sequential);

    let fields = FieldChoice::default();
    let a = concurrent.snapshot(&fields).unwrap();
    let b = sequential.snapshot(&fields).unwrap();
    assert_same_snapshot(&a, &b);
    // And both are what the server holds.
    let server = sb.snapshot();
    assert!(a.owners().eq(server.owners()));
    assert_eq!(a.values, server.values);
    assert_eq!(
        a.groups.iter().map(|g| &g.uri).collect::<Vec<_>>(),
        server.groups.iter().map(|g| &g.uri).collect::<Vec<_>>()
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn concurrent_and_sequential_loads_agree_on_the_demo_org() {
    let sb = start(None).await;
    let c = client(&sb);
    let opts = LoadOptions { organization: Some(sb.organization()), ..LoadOptions::default() };
    let concurrent = Engine::calendly(c.clone(), &opts).load(None).await.expect("concurrent load");
    let sequential = load_sequential(&c, &opts).await.expect("sequential load");
    assert_eq!(&concurrent, &sequential);
    assert!(concurrent.directory.table.is_some());
    sb.shutdown().await;
}
