//! The real client against the sandbox over loopback HTTP.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use groupmap::domain::{Dest, Mapping, Snapshot, Target, plan};
use groupmap::engine::{Engine, LoadOptions, Organization};
use groupmap::sandbox::{Options, Sandbox};
use groupmap::service::calendly::{Client, Secret};
use groupmap::service::{LoadError, SaveError, SaveProgress, SaveStage};

async fn start(opts: Options) -> Sandbox {
    Sandbox::start(Options { job_step: Duration::from_millis(1), ..opts }).await.expect("sandbox starts")
}

fn client(sb: &Sandbox) -> Client {
    Client::new(sb.base_url(), Secret::new(sb.token())).unwrap()
}

async fn load_snap(c: &Client, opts: &LoadOptions) -> (Organization, Snapshot) {
    let loaded = Engine::calendly(c.clone(), opts).load(None).await.expect("load");
    let snap = loaded.snapshot(&opts.fields).expect("snapshot");
    (loaded, snap)
}

/// The saved mapping plus a row for every unmapped value, spread over the groups.
fn full_mapping(snap: &Snapshot) -> Mapping {
    let mut m = snap.saved_mapping();
    m.enabled = true;
    for (i, v) in snap.values.iter().enumerate() {
        if m.row(v).is_none() {
            let g = &snap.groups[i % snap.groups.len()];
            m.set(v, Target::Group(g.uri.clone()));
        }
    }
    m
}

fn recorder() -> (Arc<Mutex<Vec<SaveStage>>>, SaveProgress) {
    let stages = Arc::new(Mutex::new(Vec::new()));
    let s = stages.clone();
    (stages, Arc::new(move |st| s.lock().unwrap().push(st)))
}

#[tokio::test]
async fn load_plan_save_with_apply_moves_users_and_replans_empty() {
    let sb = start(Options::default()).await;
    let c = client(&sb);
    let opts = LoadOptions::default();
    let (loaded, snap) = load_snap(&c, &opts).await;
    assert_eq!(snap.organization, sb.organization());
    assert!(!loaded.capabilities().read_only());
    assert!(snap.owner_count() > 200, "demo org has a few hundred people, got {}", snap.owner_count());

    let mut m = full_mapping(&snap);
    m.set(&snap.values[0], Target::New("Brand New Team".into()));
    let p = plan(&snap, &m);
    assert!(p.changes.len() > 10, "the demo should move people: {}", p.changes.len());
    let movers: Vec<(String, String)> =
        p.changes.iter().map(|c| (snap.owner(c.owner).email.to_owned(), p.dest_name(&snap, c.to).to_owned())).collect();

    let (stages, progress) = recorder();
    let outcome =
        Engine::calendly(c.clone(), &opts).apply(&loaded, &snap, &opts.fields, &m, progress).await.expect("save");
    assert_eq!(outcome.version, snap.saved.as_ref().unwrap().version + 1);
    assert_eq!(outcome.created.len(), 1);
    assert_eq!(outcome.moved, p.changes.len());
    let job = outcome.job.expect("a job for a non-empty plan");
    assert_eq!(
        (job.status.as_str(), job.completed, job.total),
        ("succeeded", p.changes.len() as u64, p.changes.len() as u64)
    );
    for (email, group) in &movers {
        assert_eq!(sb.member_group_of(email).as_deref(), Some(group.as_str()), "{email}");
    }
    let stages = stages.lock().unwrap().clone();
    assert!(stages.iter().any(|s| matches!(s, SaveStage::Job { .. })));
    assert_eq!(stages.last(), Some(&SaveStage::Verifying));

    // Reloaded independently: the saved mapping is what we sent and the plan is empty.
    let (_, after) = load_snap(&c, &opts).await;
    let saved = after.saved_mapping();
    assert_eq!(saved.rows.len(), m.rows.len());
    assert!(plan(&after, &saved).is_empty());
    sb.shutdown().await;
}

#[tokio::test]
async fn client_digest_equals_sandbox_digest_for_many_mappings() {
    let sb = start(Options { users: Some(400), seed: 7, ..Options::default() }).await;
    let c = client(&sb);
    let (_, snap) = load_snap(&c, &LoadOptions::default()).await;
    let server = sb.snapshot();
    assert_eq!(snap.owner_count(), server.owner_count());
    for k in 0..5 {
        let mut m = Mapping { enabled: true, ..Mapping::default() };
        for (i, v) in snap.values.iter().enumerate().filter(|(i, _)| i % (k + 2) != 0) {
            m.set(v, Target::Group(snap.groups[(i * 7 + k) % snap.groups.len()].uri.clone()));
        }
        if k % 2 == 1 {
            m.default_group = Some(Target::Group(snap.groups[k].uri.clone()));
        }
        let ours = plan(&snap, &m);
        let theirs = plan(&server, &m);
        assert!(!ours.changes.is_empty());
        assert_eq!(ours.digest(&snap), theirs.digest(&server), "mapping {k}");
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn someone_else_saving_gives_412_and_nothing_is_saved() {
    let sb = start(Options::default()).await;
    let c = client(&sb);
    let opts = LoadOptions::default();
    let (loaded, snap) = load_snap(&c, &opts).await;
    sb.someone_else_saves();
    let m = full_mapping(&snap);
    let (_, progress) = recorder();
    let err = Engine::calendly(c.clone(), &opts).apply(&loaded, &snap, &opts.fields, &m, progress).await.unwrap_err();
    assert!(matches!(err, SaveError::MappingChanged { .. }), "{err}");
    assert!(err.to_string().contains("the organization changed since you loaded it"), "{err}");
    let (_, after) = load_snap(&c, &opts).await;
    assert_eq!(
        after.saved.as_ref().unwrap().version,
        snap.saved.as_ref().unwrap().version + 1,
        "only the other save landed"
    );
    assert_ne!(after.saved_mapping().rows.len(), m.rows.len());
    sb.shutdown().await;
}

#[tokio::test]
async fn a_member_moved_after_the_preview_gives_409_and_nothing_is_saved() {
    let sb = start(Options::default()).await;
    let c = client(&sb);
    let opts = LoadOptions::default();
    let (loaded, snap) = load_snap(&c, &opts).await;
    let m = full_mapping(&snap);
    let p = plan(&snap, &m);
    let change = p.changes.iter().find(|c| matches!(c.to, Dest::Group(_))).expect("a change");
    let who = snap.owner(change.owner).email.to_owned();
    // Someone else moves that user to their target: the server's plan no longer matches ours.
    sb.move_member(&who, p.dest_name(&snap, change.to));
    let (_, progress) = recorder();
    let err = Engine::calendly(c.clone(), &opts).apply(&loaded, &snap, &opts.fields, &m, progress).await.unwrap_err();
    assert!(matches!(err, SaveError::PreviewStale { .. }), "{err}");
    let (_, after) = load_snap(&c, &opts).await;
    assert_eq!(after.saved.as_ref().unwrap().version, snap.saved.as_ref().unwrap().version, "nothing saved");
    sb.shutdown().await;
}

#[tokio::test]
async fn read_only_server_needs_csv_exports_and_refuses_to_save() {
    // Exports taken from a full sandbox stand in for the files an admin downloads by hand.
    let full = start(Options::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for status in ["active", "pending"] {
        let body = reqwest::Client::new()
            .get(format!(
                "{}/organizations/{}/user_export?status={status}",
                full.base_url(),
                groupmap::service::calendly::wire::uuid_of(&full.organization())
            ))
            .bearer_auth(full.token())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let path = dir.path().join(format!("{status}.csv"));
        std::fs::write(&path, &body).unwrap();
        files.push(path);
    }
    full.shutdown().await;

    let sb = start(Options { read_only: true, ..Options::default() }).await;
    let c = client(&sb);
    let err = Engine::calendly(c.clone(), &LoadOptions::default()).load(None).await.unwrap_err();
    assert!(matches!(err, LoadError::NoExportEndpoint { .. }), "{err}");
    assert!(err.to_string().contains("--users-csv"), "{err}");

    let opts = LoadOptions { users_csv: files, ..LoadOptions::default() };
    let (loaded, snap) = load_snap(&c, &opts).await;
    assert!(loaded.capabilities().read_only());
    assert!(snap.values.len() > 10);
    let m = full_mapping(&snap);
    let (_, progress) = recorder();
    let err = Engine::calendly(c.clone(), &opts).apply(&loaded, &snap, &opts.fields, &m, progress).await.unwrap_err();
    assert!(matches!(err, SaveError::ReadOnly), "{err}");
    sb.shutdown().await;
}

#[tokio::test]
async fn pagination_walks_many_pages() {
    let sb = start(Options { users: Some(1234), seed: 3, ..Options::default() }).await;
    let c = client(&sb);
    let before = sb.requests();
    let (_, snap) = load_snap(&c, &LoadOptions::default()).await;
    let server = sb.snapshot();
    assert_eq!(snap.owner_count(), server.owner_count());
    let mut ours: Vec<_> = snap
        .owners()
        .map(|o| {
            (o.uri.to_owned(), o.group.map(|g| snap.group(g).uri.clone()), o.value.map(|v| snap.value(v).to_owned()))
        })
        .collect();
    let mut theirs: Vec<_> = server
        .owners()
        .map(|o| {
            (
                o.uri.to_owned(),
                o.group.map(|g| server.group(g).uri.clone()),
                o.value.map(|v| server.value(v).to_owned()),
            )
        })
        .collect();
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs);
    // 1234 people in pages of 100: at least 13 pages of members alone.
    assert!(sb.requests() - before >= 13 + 13, "requests: {}", sb.requests() - before);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_429_is_waited_out_and_a_500_is_retried() {
    let sb = start(Options::default()).await;
    let c = client(&sb);
    sb.fail_next(1, 429);
    let started = std::time::Instant::now();
    let (_, snap) = load_snap(&c, &LoadOptions::default()).await;
    assert!(snap.owner_count() > 0);
    assert_eq!(sb.rate_limited(), 1);
    assert!(started.elapsed() >= Duration::from_millis(500), "the Retry-After wait was honoured");

    sb.fail_next(2, 500);
    let (_, again) = load_snap(&c, &LoadOptions::default()).await;
    assert_eq!(again.owner_count(), snap.owner_count());
    sb.shutdown().await;
}

#[tokio::test]
async fn persistent_500_is_a_clear_error_naming_the_endpoint() {
    let sb = start(Options::default()).await;
    let c = client(&sb);
    sb.fail_next(50, 500);
    let err = c.get::<serde_json::Value>("/users/me", &[]).await.unwrap_err().to_string();
    assert!(err.starts_with("GET /users/me: 500 Internal Server Error"), "{err}");
    sb.shutdown().await;
}

/// A new group someone else created meanwhile is that group at save time: the table is sent
/// with its URI, never as `new:NAME`, and nothing is created twice.
#[tokio::test]
async fn a_new_group_that_now_exists_is_saved_as_that_group() {
    let sb = start(Options::default()).await;
    let c = client(&sb);
    let opts = LoadOptions::default();
    let ops = sb.add_group("Ops");
    let (loaded, snap) = load_snap(&c, &opts).await;
    let mut m = snap.saved_mapping();
    m.enabled = true;
    m.set(&snap.values[0], Target::New("ops".into()));
    let (_, progress) = recorder();
    let outcome =
        Engine::calendly(c.clone(), &opts).apply(&loaded, &snap, &opts.fields, &m, progress).await.expect("saved");
    assert!(outcome.created.is_empty(), "{:?}", outcome.created);
    let (_, after) = load_snap(&c, &opts).await;
    let row = after.saved.as_ref().unwrap().mapping.row(&snap.values[0]).unwrap().target.clone();
    assert_eq!(row, Target::Group(ops));
    sb.shutdown().await;
}
