//! The sandbox server against api-contract.md, over real HTTP on loopback (reqwest, not our
//! client, so that the server is checked on its own).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use groupmap::domain::{Export, FieldChoice, Mapping, Snapshot, Target, plan};
use groupmap::sandbox::{Options, Sandbox};
use groupmap::service::calendly::wire::{self, EXPORT_HEADERS, uuid_of};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
    org: String,
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }
    /// The `parameter`s of an error's details.
    fn parameters(&self) -> Vec<String> {
        self.json()["details"]
            .as_array()
            .map(|d| d.iter().map(|x| x["parameter"].as_str().unwrap_or("").to_owned()).collect())
            .unwrap_or_default()
    }
    fn assert_error(&self, status: u16, title: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        let body = self.json();
        assert_eq!(body["title"], title, "{}", self.text);
        assert!(!body["message"].as_str().unwrap_or("").is_empty(), "{}", self.text);
    }
}

impl Api {
    fn new(sb: &Sandbox) -> Api {
        Api {
            http: reqwest::Client::new(),
            base: sb.base_url().to_owned(),
            token: sb.token().to_owned(),
            org: sb.organization(),
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) }
    }

    fn org_uuid(&self) -> &str {
        uuid_of(&self.org)
    }

    async fn send(&self, rb: reqwest::RequestBuilder) -> Reply {
        let res = rb.send().await.expect("request reaches the sandbox");
        let status = res.status();
        let headers = res.headers().clone();
        Reply { status, headers, text: res.text().await.unwrap() }
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Reply {
        self.send(self.http.get(self.url(path)).bearer_auth(&self.token).query(query)).await
    }

    async fn put_mapping(&self, if_match: Option<&str>, body: &Value) -> Reply {
        let mut rb = self
            .http
            .put(self.url(&format!("/organizations/{}/group_mapping", self.org_uuid())))
            .bearer_auth(&self.token)
            .json(body);
        if let Some(v) = if_match {
            rb = rb.header("If-Match", v);
        }
        self.send(rb).await
    }

    async fn post_group(&self, name: &str) -> Reply {
        let body = json!({"organization": self.org, "name": name});
        self.send(self.http.post(self.url("/groups")).bearer_auth(&self.token).json(&body)).await
    }

    async fn mapping(&self) -> Reply {
        self.get(&format!("/organizations/{}/group_mapping", self.org_uuid()), &[]).await
    }
}

async fn start(opts: Options) -> Sandbox {
    Sandbox::start(opts).await.expect("the sandbox starts")
}

/// The saved mapping plus a row for every value without one, spread over the groups.
fn full_mapping(snap: &Snapshot) -> Mapping {
    let mut m = snap.saved_mapping();
    m.enabled = true;
    for (i, v) in snap.values.iter().enumerate() {
        if m.row(v).is_none() {
            m.set(v, Target::Group(snap.groups[(i * 5) % snap.groups.len()].uri.clone()));
        }
    }
    m
}

fn put_body(m: &Mapping, apply: bool, digest: Option<&str>) -> Value {
    let uri = |t: &Target| match t {
        Target::Group(u) => u.clone(),
        Target::New(n) => panic!("no new groups here: {n}"),
    };
    json!({
        "enabled": m.enabled,
        "rows": m.rows.iter().map(|r| json!({"idp_value": r.idp_value, "group": uri(&r.target)})).collect::<Vec<_>>(),
        "default_group": m.default_group.as_ref().map(uri),
        "apply_to_existing": apply,
        "preview_digest": digest,
    })
}

#[tokio::test]
async fn requests_without_the_right_token_get_401_with_rate_limit_headers() {
    let sb = start(Options::default()).await;
    let api = Api::new(&sb);
    let none = api.send(api.http.get(api.url("/users/me"))).await;
    none.assert_error(401, "Unauthenticated");
    assert_eq!(none.header("www-authenticate"), "Bearer");
    assert_eq!(none.header("x-ratelimit-limit"), "500");
    let wrong = api.send(api.http.get(api.url("/users/me")).bearer_auth("nope")).await;
    wrong.assert_error(401, "Unauthenticated");
    // Unknown routes are checked for the token too.
    api.send(api.http.get(api.url("/no/such/route"))).await.assert_error(401, "Unauthenticated");

    let me = api.get("/users/me", &[]).await;
    assert_eq!(me.status, StatusCode::OK);
    let user: wire::Resource<wire::User> = serde_json::from_str(&me.text).unwrap();
    assert_eq!(user.resource.current_organization.as_deref(), Some(api.org.as_str()));
    assert_eq!(user.resource.resource_type.as_deref(), Some("User"));
    assert!(user.resource.uri.starts_with(&format!("{}/users/", api.base)));
    assert_eq!(sb.requests(), 4);
    sb.shutdown().await;
}

#[tokio::test]
async fn pagination_walks_all_memberships_with_opaque_tokens() {
    let sb = start(Options { users: Some(250), seed: 11, ..Options::default() }).await;
    let api = Api::new(&sb);
    let members = sb.snapshot().owners().filter(|o| o.kind == groupmap::domain::OwnerKind::Member).count();
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let mut q = vec![("organization", api.org.as_str()), ("count", "100")];
        if let Some(t) = &token {
            q.push(("page_token", t));
        }
        let r = api.get("/organization_memberships", &q).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let body = r.json();
        let p = body["pagination"].as_object().unwrap();
        for key in ["count", "next_page", "previous_page", "next_page_token", "previous_page_token"] {
            assert!(p.contains_key(key), "pagination lacks {key}: {p:?}");
        }
        let page: wire::Collection<wire::Membership> = serde_json::from_value(body.clone()).unwrap();
        assert_eq!(page.pagination.count as usize, page.collection.len());
        assert_eq!(page.pagination.previous_page_token.is_some(), !pages.is_empty());
        seen.extend(page.collection.iter().map(|m| m.uri.clone()));
        pages.push(body);
        match page.pagination.next_page_token {
            Some(t) => {
                assert!(t.parse::<u64>().is_err(), "tokens are opaque, not offsets: {t}");
                let next = page.pagination.next_page.unwrap();
                assert!(next.starts_with(&format!("{}/organization_memberships?", api.base)), "{next}");
                assert!(next.contains("organization=http%3A%2F%2F127.0.0.1"), "the URL repeats the filter: {next}");
                assert!(next.contains(&format!("page_token={t}")), "{next}");
                token = Some(t);
            }
            None => {
                assert!(pages.last().unwrap()["pagination"]["next_page"].is_null());
                break;
            }
        }
    }
    assert_eq!(pages.len(), members.div_ceil(100));
    assert_eq!(seen.len(), members);
    let unique: std::collections::HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), members, "no membership twice");

    // next_page is directly usable, and previous_page leads back to the first page.
    let next = pages[0]["pagination"]["next_page"].as_str().unwrap().to_owned();
    let second = api.get(&next, &[]).await.json();
    assert_eq!(second["collection"], pages[1]["collection"]);
    let back = api.get(second["pagination"]["previous_page"].as_str().unwrap(), &[]).await.json();
    assert_eq!(back["collection"], pages[0]["collection"]);

    // Default count is 20; out-of-range counts and forged tokens are 400s naming the parameter.
    let r = api.get("/organization_memberships", &[("organization", &api.org)]).await;
    assert_eq!(r.json()["collection"].as_array().unwrap().len(), 20);
    for bad in ["0", "101", "ten"] {
        let r = api.get("/organization_memberships", &[("organization", &api.org), ("count", bad)]).await;
        r.assert_error(400, "Invalid Argument");
        assert_eq!(r.parameters(), ["count"]);
    }
    for bad in ["100", "abc", "00112233445566778899"] {
        let r = api.get("/organization_memberships", &[("organization", &api.org), ("page_token", bad)]).await;
        r.assert_error(400, "Invalid Argument");
        assert_eq!(r.parameters(), ["page_token"]);
    }
    // A token from one list does not page another.
    let t = pages[0]["pagination"]["next_page_token"].as_str().unwrap();
    let r = api.get("/groups", &[("organization", &api.org), ("page_token", t)]).await;
    assert_eq!(r.parameters(), ["page_token"]);
    sb.shutdown().await;
}

#[tokio::test]
async fn filters_org_checks_and_unknown_routes_answer_as_calendly_would() {
    let sb = start(Options::default()).await;
    let api = Api::new(&sb);
    for path in ["/groups", "/group_relationships", "/organization_memberships"] {
        let r = api.get(path, &[]).await;
        r.assert_error(400, "Invalid Argument");
        assert_eq!(r.parameters(), ["organization"], "{path}");
    }
    let other = format!("{}/organizations/00000000-0000-4000-8000-000000000000", api.base);
    api.get("/groups", &[("organization", &other)]).await.assert_error(403, "Permission Denied");
    api.get("/organizations/00000000-0000-4000-8000-000000000000/invitations", &[])
        .await
        .assert_error(403, "Permission Denied");
    api.get("/no/such/route", &[]).await.assert_error(404, "Resource Not Found");
    api.get("/groups/00000000-0000-4000-8000-000000000000", &[]).await.assert_error(404, "Resource Not Found");
    let r = api.send(api.http.delete(api.url("/groups")).bearer_auth(&api.token)).await;
    r.assert_error(404, "Resource Not Found");

    // Filters: email (any case), role, and a member's relationships by owner.
    let snap = sb.snapshot();
    let owner = snap.owners().find(|o| o.email == "avery.chen@northwind.example").unwrap();
    let r = api
        .get("/organization_memberships", &[("organization", &api.org), ("email", "Avery.Chen@northwind.example")])
        .await;
    let found: wire::Collection<wire::Membership> = serde_json::from_str(&r.text).unwrap();
    assert_eq!(found.collection.len(), 1);
    assert_eq!(found.collection[0].uri, owner.uri);
    assert_eq!(found.collection[0].role, "owner");
    let r =
        api.get("/organization_memberships", &[("organization", &api.org), ("role", "admin"), ("count", "100")]).await;
    let admins: wire::Collection<wire::Membership> = serde_json::from_str(&r.text).unwrap();
    assert!(!admins.collection.is_empty() && admins.collection.iter().all(|m| m.role == "admin"));
    let r = api.get("/group_relationships", &[("organization", &api.org), ("owner", owner.uri)]).await;
    let rels: wire::Collection<wire::GroupRelationship> = serde_json::from_str(&r.text).unwrap();
    assert_eq!(rels.collection.iter().filter(|r| r.role == "member").count(), 1);
    assert!(rels.collection.iter().filter(|r| r.role == "admin").count() >= 2, "the owner administers groups");
    assert!(rels.collection.iter().all(|r| r.owner.uri() == owner.uri));

    // Invitations: pending only when asked; without a status, accepted ones too.
    let path = format!("/organizations/{}/invitations", api.org_uuid());
    let pending: wire::Collection<wire::Invitation> =
        serde_json::from_str(&api.get(&path, &[("status", "pending"), ("count", "100")]).await.text).unwrap();
    assert!(pending.collection.iter().all(|i| i.status == "pending" && i.user.is_none()));
    assert!(pending.collection.len() >= 20);
    let all: wire::Collection<wire::Invitation> =
        serde_json::from_str(&api.get(&path, &[("count", "100")]).await.text).unwrap();
    assert!(all.collection.iter().any(|i| i.status == "accepted" && i.user.is_some()));
    sb.shutdown().await;
}

#[tokio::test]
async fn rate_limit_headers_count_down_then_429_with_retry_after() {
    let sb = start(Options { rate_limit: 5, ..Options::default() }).await;
    let api = Api::new(&sb);
    for left in (0..5).rev() {
        let r = api.get("/users/me", &[]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.header("x-ratelimit-limit"), "5");
        assert_eq!(r.header("x-ratelimit-remaining"), left.to_string());
        let reset: u64 = r.header("x-ratelimit-reset").parse().unwrap();
        assert!((1..=60).contains(&reset), "seconds until the window resets, not a timestamp: {reset}");
    }
    let r = api.get("/users/me", &[]).await;
    r.assert_error(429, "Too Many Requests");
    let retry: u64 = r.header("retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(r.header("x-ratelimit-remaining"), "0");
    assert_eq!(sb.rate_limited(), 1);
    assert_eq!(sb.requests(), 6);
    sb.shutdown().await;
}

#[tokio::test]
async fn injected_faults_answer_with_error_bodies_then_stop() {
    let sb = start(Options::default()).await;
    let api = Api::new(&sb);
    sb.fail_next(2, 503);
    api.get("/users/me", &[]).await.assert_error(503, "Service Unavailable");
    api.get("/groups", &[("organization", &api.org)]).await.assert_error(503, "Service Unavailable");
    assert_eq!(api.get("/users/me", &[]).await.status, StatusCode::OK);
    sb.fail_next(1, 500);
    api.get("/users/me", &[]).await.assert_error(500, "Internal Server Error");
    sb.fail_next(1, 429);
    let r = api.get("/users/me", &[]).await;
    r.assert_error(429, "Too Many Requests");
    assert_eq!(r.header("retry-after"), "1");
    assert_eq!(sb.rate_limited(), 1);
    sb.shutdown().await;
}

#[tokio::test]
async fn put_mapping_needs_a_current_if_match_and_a_valid_table() {
    let sb = start(Options::default()).await;
    let api = Api::new(&sb);
    let got = api.mapping().await;
    assert_eq!(got.header("etag"), "\"3\"");
    let current: wire::Resource<wire::GroupMapping> = serde_json::from_str(&got.text).unwrap();
    assert_eq!(current.resource.version, 3);
    assert!(current.resource.enabled && current.resource.default_group.is_none());
    let snap = sb.snapshot();
    let m = snap.saved_mapping();
    let body = put_body(&m, false, None);

    api.put_mapping(None, &body).await.assert_error(428, "Precondition Required");
    api.put_mapping(Some("\"2\""), &body).await.assert_error(412, "Precondition Failed");
    sb.someone_else_saves();
    api.put_mapping(Some("\"3\""), &body).await.assert_error(412, "Precondition Failed");
    assert_eq!(api.mapping().await.header("etag"), "\"4\"");

    let g = |i: usize| snap.groups[i].uri.clone();
    let dup = json!({"enabled": true, "apply_to_existing": false, "default_group": null, "rows": [
        {"idp_value": "Sales EMEA", "group": g(0)},
        {"idp_value": "Sales EMEA", "group": g(1)},
        {"idp_value": "", "group": g(1)},
    ]});
    let r = api.put_mapping(Some("\"4\""), &dup).await;
    r.assert_error(400, "Invalid Argument");
    assert_eq!(r.parameters(), ["rows[1].idp_value", "rows[2].idp_value"]);

    let nope = format!("{}/groups/00000000-0000-4000-8000-000000000000", api.base);
    let unknown = json!({"enabled": true, "apply_to_existing": false, "default_group": "https://elsewhere/groups/x", "rows": [
        {"idp_value": "A", "group": g(0)},
        {"idp_value": "B", "group": nope},
        {"idp_value": "B", "group": "new:Brand New"},
    ]});
    let r = api.put_mapping(Some("\"4\""), &unknown).await;
    r.assert_error(400, "Invalid Argument");
    assert_eq!(r.parameters(), ["rows[1].group", "rows[2].idp_value", "rows[2].group", "default_group"]);

    let r = api.put_mapping(Some("\"4\""), &json!({"enabled": "yes"})).await;
    r.assert_error(400, "Invalid Argument");
    assert_eq!(api.mapping().await.header("etag"), "\"4\"", "nothing was saved");

    // Without apply_to_existing the table is saved, nobody moves, and there is no job.
    let before = sb.snapshot();
    let r = api.put_mapping(Some("W/\"4\""), &put_body(&full_mapping(&snap), false, None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("etag"), "\"5\"");
    let saved: wire::PutGroupMappingResponse = serde_json::from_str(&r.text).unwrap();
    assert_eq!(saved.job, None);
    assert_eq!(saved.resource.version, 5);
    let me: wire::Resource<wire::User> = serde_json::from_str(&api.get("/users/me", &[]).await.text).unwrap();
    assert_eq!(saved.resource.updated_by.as_deref(), Some(me.resource.uri.as_str()));
    let stamp = saved.resource.updated_at.unwrap();
    assert!(stamp.len() == 27 && stamp.ends_with('Z') && stamp.as_bytes()[19] == b'.', "{stamp}");
    assert_eq!(saved.resource.rows.len(), full_mapping(&snap).rows.len());
    let after = sb.snapshot();
    assert_eq!(plan(&after, &full_mapping(&snap)).digest(&after), plan(&before, &full_mapping(&snap)).digest(&before));
    sb.shutdown().await;
}

#[tokio::test]
async fn a_stale_preview_digest_is_409_and_nothing_is_saved() {
    let sb = start(Options::default()).await;
    let api = Api::new(&sb);
    let snap = sb.snapshot();
    let m = full_mapping(&snap);
    let p = plan(&snap, &m);
    let digest = p.digest(&snap);

    let r = api.put_mapping(Some("\"3\""), &put_body(&m, true, Some("00ff"))).await;
    r.assert_error(409, "Conflict");
    assert_eq!(r.parameters(), ["preview_digest"]);
    let r = api.put_mapping(Some("\"3\""), &put_body(&m, true, None)).await;
    assert_eq!(r.parameters(), ["preview_digest"]);

    // Someone moves one of the users the preview moves: the server's plan differs now.
    let c = p.changes[0];
    let who = snap.owner(c.owner).email.to_owned();
    let target = p.dest_name(&snap, c.to).to_owned();
    sb.move_member(&who, &target);
    assert_eq!(sb.member_group_of(&who).as_deref(), Some(target.as_str()));
    let r = api.put_mapping(Some("\"3\""), &put_body(&m, true, Some(&digest))).await;
    r.assert_error(409, "Conflict");
    let got: wire::Resource<wire::GroupMapping> = serde_json::from_str(&api.mapping().await.text).unwrap();
    assert_eq!(got.resource.version, 3, "nothing saved");
    assert_eq!(got.resource.rows.len(), snap.saved_mapping().rows.len());
    sb.shutdown().await;
}

#[tokio::test]
async fn the_right_digest_saves_and_the_job_applies_exactly_the_preview() {
    let sb = start(Options { job_step: Duration::from_millis(40), ..Options::default() }).await;
    let api = Api::new(&sb);
    let snap = sb.snapshot();
    let m = full_mapping(&snap);
    let p = plan(&snap, &m);
    assert!(p.changes.len() > 100, "the demo moves many people: {}", p.changes.len());
    let admins_before: usize = admin_relationships(&api).await;

    let r = api.put_mapping(Some("\"3\""), &put_body(&m, true, Some(&p.digest(&snap)))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.header("etag"), "\"4\"");
    let saved: wire::PutGroupMappingResponse = serde_json::from_str(&r.text).unwrap();
    let job_uri = saved.job.expect("a job for a non-empty plan");
    assert!(job_uri.starts_with(&format!("{}/group_mapping_jobs/", api.base)));

    let started = Instant::now();
    let mut statuses = Vec::new();
    let mut partial = false;
    let job = loop {
        let job: wire::Resource<wire::Job> = serde_json::from_str(&api.get(&job_uri, &[]).await.text).unwrap();
        let job = job.resource;
        assert_eq!(job.total, p.changes.len() as u64);
        partial |= job.status == "running" && job.completed > 0 && job.completed < job.total;
        if statuses.last() != Some(&job.status) {
            statuses.push(job.status.clone());
        }
        if job.finished() {
            break job;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the job finishes");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert_eq!(statuses.last().map(String::as_str), Some("succeeded"), "{statuses:?}");
    assert!(statuses.contains(&"running".to_owned()), "{statuses:?}");
    assert!(partial, "progress is visible while the job runs");
    assert_eq!((job.completed, job.failed), (job.total, 0));
    assert!(job.errors.is_empty());

    // The server now agrees with the preview: re-planning gives nothing, counts are as planned.
    let after = sb.snapshot();
    assert!(plan(&after, &m).is_empty());
    for c in &p.changes {
        let o = snap.owner(c.owner);
        assert_eq!(sb.member_group_of(o.email).as_deref(), Some(p.dest_name(&snap, c.to)), "{}", o.email);
    }
    let r = api.get("/groups", &[("organization", &api.org), ("count", "100")]).await;
    let groups: wire::Collection<wire::Group> = serde_json::from_str(&r.text).unwrap();
    for g in &groups.collection {
        let id = snap.group_by_uri(&g.uri).unwrap();
        assert_eq!(g.member_count, Some(p.group_after[id.0 as usize]), "{}", g.name);
    }
    assert_eq!(admin_relationships(&api).await, admins_before, "admin relationships untouched");
    let got: wire::Resource<wire::GroupMapping> = serde_json::from_str(&api.mapping().await.text).unwrap();
    assert_eq!(got.resource.version, 4);
    assert_eq!(got.resource.rows.len(), m.rows.len());

    // Saving the same table again with apply: the plan is empty now, so no job.
    let r = api.put_mapping(Some("\"4\""), &put_body(&m, true, Some(&plan(&after, &m).digest(&after)))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.json()["job"].is_null());
    sb.shutdown().await;
}

async fn admin_relationships(api: &Api) -> usize {
    let mut n = 0;
    let mut token: Option<String> = None;
    loop {
        let mut q = vec![("organization", api.org.as_str()), ("count", "100")];
        if let Some(t) = &token {
            q.push(("page_token", t));
        }
        let page: wire::Collection<wire::GroupRelationship> =
            serde_json::from_str(&api.get("/group_relationships", &q).await.text).unwrap();
        n += page.collection.iter().filter(|r| r.role == "admin").count();
        match page.pagination.next_page_token {
            Some(t) => token = Some(t),
            None => return n,
        }
    }
}

#[tokio::test]
async fn post_groups_creates_then_refuses_the_same_name_in_another_case() {
    let sb = start(Options::default()).await;
    let api = Api::new(&sb);
    let r = api.post_group("Sales LATAM").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let g: wire::Resource<wire::Group> = serde_json::from_str(&r.text).unwrap();
    assert_eq!(g.resource.name, "Sales LATAM");
    assert_eq!(g.resource.member_count, Some(0));
    assert_eq!(r.header("location"), g.resource.uri);
    let fetched = api.get(&g.resource.uri, &[]).await;
    assert_eq!(fetched.status, StatusCode::OK);

    api.post_group("sales latam").await.assert_error(409, "Conflict");
    api.post_group("SALES EMEA").await.assert_error(409, "Conflict");
    let r = api.post_group("   ").await;
    r.assert_error(400, "Invalid Argument");
    assert_eq!(r.parameters(), ["name"]);
    let r = api.post_group(&"é".repeat(101)).await;
    assert_eq!(r.parameters(), ["name"]);
    assert_eq!(
        api.post_group(&"é".repeat(100)).await.status,
        StatusCode::CREATED,
        "100 characters (not bytes) is fine"
    );
    assert!(sb.snapshot().group_by_name("Sales LATAM").is_some());
    sb.shutdown().await;
}

/// Group names compare one way everywhere (`text::fold_name`: case, surrounding and repeated
/// spaces do not count): the server's 409, the snapshot's lookup, the plan's new groups and the
/// engine's matching of created groups to rows.
#[tokio::test]
async fn group_names_compare_alike_everywhere_ignoring_case_and_spaces() {
    let sb = start(Options::default()).await;
    let api = Api::new(&sb);
    api.post_group(" sales  emea ").await.assert_error(409, "Conflict");
    api.post_group("Sales\tEMEA").await.assert_error(409, "Conflict");
    let snap = sb.snapshot();
    let emea = snap.group_by_name("Sales EMEA").unwrap();
    assert_eq!(snap.group_by_name("  SALES   emea"), Some(emea));

    let mut m = Mapping { enabled: true, ..Mapping::default() };
    m.set("a", Target::New("Ops  Team".into()));
    m.set("b", Target::New(" ops team".into()));
    m.set("c", Target::New("sales  EMEA".into()));
    assert_eq!(m.new_groups(), ["Ops  Team", "sales  EMEA"]);
    let p = plan(&snap, &m);
    assert_eq!(p.new_groups, ["Ops  Team"], "one new group; the EMEA row is the existing group");
    assert_eq!(p.row_dest[2], Some(groupmap::domain::Dest::Group(emea)));
    let created =
        groupmap::domain::Group { uri: "https://x/groups/NEW".into(), name: "Ops Team".into(), member_count: None };
    let fixed = groupmap::engine::with_created(&m, &[created]);
    assert_eq!(fixed.row("b").unwrap().target, Target::Group("https://x/groups/NEW".into()));
    sb.shutdown().await;
}

#[tokio::test]
async fn user_export_is_crlf_csv_that_the_domain_parser_joins() {
    let sb = start(Options::default()).await;
    let api = Api::new(&sb);
    let snap = sb.snapshot();
    let path = format!("/organizations/{}/user_export", api.org_uuid());
    let mut exports = Vec::new();
    for status in ["active", "pending"] {
        let r = api.get(&path, &[("status", status)]).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.header("content-type").starts_with("text/csv"), "{}", r.header("content-type"));
        assert!(r.text.starts_with(&format!("{}\r\n", EXPORT_HEADERS.join(","))), "{}", &r.text[..80]);
        assert!(!r.text.replace("\r\n", "").contains('\n'));
        let e = Export::parse(status, r.text.as_bytes()).unwrap();
        assert_eq!(e.headers, EXPORT_HEADERS);
        assert!(e.columns(&FieldChoice::default()).is_ok());
        exports.push(e);
    }
    let (active, pending) = (&exports[0], &exports[1]);
    let col = |name: &str| EXPORT_HEADERS.iter().position(|h| *h == name).unwrap();
    assert!(pending.records.iter().all(|(_, r)| r[col("Name")].is_empty()), "invitees have no name");
    assert!(active.records.iter().any(|(_, r)| &r[col("Identity Provider Group")] == "Marketing "), "whitespace kept");
    assert!(active.records.iter().any(|(_, r)| r[col("Name")].contains('ë')));
    assert!(active.records.iter().any(|(_, r)| r[col("Identity Provider Group")].is_empty()));
    let groups: HashMap<&str, &str> =
        snap.owners().filter_map(|o| Some((o.email, snap.group(o.group?).name.as_str()))).collect();
    for (_, r) in active.records.iter().chain(&pending.records) {
        let email = r[col("Login email")].to_ascii_lowercase();
        if let Some(g) = groups.get(email.as_str()) {
            assert_eq!(&r[col("Group")], *g, "{email}");
        }
    }
    let members = snap.owners().filter(|o| o.kind == groupmap::domain::OwnerKind::Member).count();
    assert!(active.records.len() > members, "a stale row follows the members");
    assert_eq!(pending.records.len(), snap.owner_count() - members);

    let r = api.get(&path, &[("status", "gone")]).await;
    assert_eq!(r.parameters(), ["status"]);
    sb.shutdown().await;
}

#[tokio::test]
async fn read_only_mode_hides_the_provisioning_endpoints() {
    let sb = start(Options { read_only: true, ..Options::default() }).await;
    let api = Api::new(&sb);
    let org = api.org_uuid().to_owned();
    api.mapping().await.assert_error(404, "Resource Not Found");
    api.put_mapping(Some("\"3\""), &json!({})).await.assert_error(404, "Resource Not Found");
    api.get(&format!("/organizations/{org}/user_export"), &[("status", "active")])
        .await
        .assert_error(404, "Resource Not Found");
    api.get("/group_mapping_jobs/00000000-0000-4000-8000-000000000000", &[])
        .await
        .assert_error(404, "Resource Not Found");
    api.post_group("Anything").await.assert_error(404, "Resource Not Found");
    // The Calendly read endpoints still work.
    let r = api.get("/groups", &[("organization", &api.org)]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(sb.snapshot().saved.is_none(), "no table: the read-only server has none to show");
    sb.shutdown().await;
}

#[tokio::test]
async fn the_state_file_carries_changes_across_a_restart_on_another_port() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sandbox.json");
    let opts = || Options { state_file: Some(file.clone()), job_step: Duration::from_millis(1), ..Options::default() };
    let sb = start(opts()).await;
    assert!(file.exists(), "written at start");
    let api = Api::new(&sb);
    assert_eq!(api.post_group("Operations").await.status, StatusCode::CREATED);
    let snap = sb.snapshot();
    let m = full_mapping(&snap);
    let r = api.put_mapping(Some("\"3\""), &put_body(&m, true, Some(&plan(&snap, &m).digest(&snap)))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let job = r.json()["job"].as_str().unwrap().to_owned();
    let started = Instant::now();
    while api.get(&job, &[]).await.json()["resource"]["status"] != "succeeded" {
        assert!(started.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let first = sb.base_url().to_owned();
    sb.shutdown().await;

    let sb = start(opts()).await;
    assert_ne!(sb.base_url(), first);
    let api = Api::new(&sb);
    let got: wire::Resource<wire::GroupMapping> = serde_json::from_str(&api.mapping().await.text).unwrap();
    assert_eq!(got.resource.version, 4);
    assert!(got.resource.rows.iter().all(|r| r.group.starts_with(sb.base_url())), "URIs follow the new base");
    let again = sb.snapshot();
    assert!(again.group_by_name("operations").is_some());
    let moved = full_mapping(&again);
    assert!(plan(&again, &moved).is_empty(), "the applied moves were kept");
    sb.shutdown().await;
}

/// Set in the child process of the test below.
const STATE_CHILD: &str = "GROUPMAP_TEST_STATE_CHILD";

#[test]
fn a_state_file_that_cannot_be_written_is_recorded_and_nothing_is_printed() {
    // Embedded, the sandbox shares the terminal with the editor: it must not write to stderr.
    // libtest captures what a test prints, so the test runs itself in a child process and reads
    // the child's real stderr.
    if std::env::var_os(STATE_CHILD).is_some() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        return rt.block_on(state_file_cannot_be_written());
    }
    let name = "a_state_file_that_cannot_be_written_is_recorded_and_nothing_is_printed";
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(STATE_CHILD, "1")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the child failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "the child ran the test: {stdout}");
    assert_eq!(stderr, "", "the sandbox printed");
}

async fn state_file_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sandbox-state.json");
    let sb = start(Options { state_file: Some(file.clone()), ..Options::default() }).await;
    assert_eq!(sb.state_error(), None);
    let mut watch = sb.watch_state_error();
    // A directory where the file goes: the written state cannot be renamed over it, even by root
    // (which a read-only directory would not stop).
    std::fs::remove_file(&file).unwrap();
    std::fs::create_dir(&file).unwrap();
    std::fs::write(file.join("in-the-way"), b"").unwrap();
    sb.someone_else_saves();
    let e = sb.state_error().expect("the failure is recorded");
    assert_eq!(e.path, file);
    assert!(e.to_string().starts_with(&format!("cannot keep its state in {}: ", file.display())), "{e}");
    assert!(watch.has_changed().unwrap(), "watchers are told");
    assert_eq!(*watch.borrow_and_update(), Some(e.clone()));
    sb.someone_else_saves();
    assert!(!watch.has_changed().unwrap(), "the same failure again is no news");
    // Once the file can be written again, the record clears.
    std::fs::remove_dir_all(&file).unwrap();
    sb.someone_else_saves();
    assert_eq!(sb.state_error(), None);
    assert!(file.is_file());
    sb.shutdown().await;
}
