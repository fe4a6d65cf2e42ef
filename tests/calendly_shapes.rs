//! The load against answers shaped as Calendly's published OpenAPI document allows them: counts
//! typed `number` sent as `12.0`, nullable fields sent as `null`, fields groupmap does not know,
//! group relationships owned by a membership and by an invitation, admin relationships, all five
//! pagination keys, and the two kinds of 403. A small loopback server answers as Calendly would;
//! the real client and loader read it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use groupmap::domain::{FieldChoice, Mapping, Target, plan};
use groupmap::engine::{Engine, LoadOptions};
use groupmap::service::calendly::client::{ClientOptions, decode};
use groupmap::service::calendly::wire::{Collection, Group, GroupRelationship, Pagination, RelationshipOwner};
use groupmap::service::calendly::{Client, Secret};
use serde_json::{Value, json};

const T: &str = "2024-05-03T10:00:00.000000Z";

/// Answers by path and page token; anything else is a 404 in Calendly's error shape.
type Answers = Arc<HashMap<(String, Option<String>), (u16, Value)>>;

async fn answer(State(answers): State<Answers>, uri: Uri) -> axum::response::Response {
    let token = uri.query().and_then(|q| url_pairs(q).into_iter().find(|(k, _)| k == "page_token").map(|(_, v)| v));
    match answers.get(&(uri.path().to_owned(), token)) {
        Some((status, body)) => (StatusCode::from_u16(*status).unwrap(), axum::Json(body.clone())).into_response(),
        None => (StatusCode::NOT_FOUND, axum::Json(json!({"title": "Resource Not Found", "message": "no such path"})))
            .into_response(),
    }
}

fn url_pairs(q: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://x/?{q}")).unwrap().query_pairs().map(|(k, v)| (k.into(), v.into())).collect()
}

/// Serves the answers `at` builds for the server's own base URL (answers name it in URIs).
async fn serve(at: impl FnOnce(&str) -> HashMap<(String, Option<String>), (u16, Value)>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(answer).with_state(Arc::new(at(&base)));
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    base
}

fn client(base: &str) -> Client {
    let opts = ClientOptions { max_attempts: 1, ..ClientOptions::default() };
    Client::with_options(base, Secret::new("tok-shapes"), opts).unwrap()
}

/// A user as Calendly embeds it in a membership; `name`, `slug` and `timezone` nullable here.
fn user(base: &str, n: u32, email: Value, name: Value) -> Value {
    json!({"uri": format!("{base}/users/U{n}"), "name": name, "slug": null, "email": email,
        "scheduling_url": format!("https://calendly.com/u{n}"), "timezone": null, "avatar_url": null,
        "locale": "en", "created_at": T, "updated_at": T, "time_notation": "12h", "resource_type": "User"})
}

fn membership(base: &str, n: u32, role: &str, email: Value, name: Value) -> Value {
    json!({"uri": format!("{base}/organization_memberships/M{n}"), "role": role,
        "organization": format!("{base}/organizations/ORG"), "created_at": T, "updated_at": null,
        "user": user(base, n, email, name), "some_future_field": {"nested": [1, 2.5, null]}})
}

fn invitation(base: &str, n: u32, status: &str) -> Value {
    json!({"uri": format!("{base}/organizations/ORG/invitations/I{n}"),
        "organization": format!("{base}/organizations/ORG"), "email": format!("i{n}@x.test"), "status": status,
        "created_at": T, "updated_at": T, "last_sent_at": null, "user": null, "invited_by": "someone"})
}

fn group(base: &str, id: &str, name: Value, member_count: Value) -> Value {
    json!({"uri": format!("{base}/groups/{id}"), "name": name, "organization": format!("{base}/organizations/ORG"),
        "created_at": null, "updated_at": T, "member_count": member_count, "description": null})
}

fn relationship(base: &str, n: u32, role: &str, group: &str, owner: Value) -> Value {
    json!({"uri": format!("{base}/group_relationships/R{n}"), "role": role,
        "organization": format!("{base}/organizations/ORG"), "group": format!("{base}/groups/{group}"),
        "created_at": T, "updated_at": T, "owner": owner, "extra": true})
}

fn with_type(mut owner: Value, kind: &str) -> Value {
    owner["type"] = json!(kind);
    owner
}

/// All five keys, as Calendly sends them; `count` is a `number`.
fn pagination(base: &str, path: &str, count: Value, prev: Option<&str>, next: Option<&str>) -> Value {
    let url = |t: Option<&str>| t.map(|t| format!("{base}{path}?count=100&page_token={t}"));
    json!({"count": count, "next_page": url(next), "previous_page": url(prev),
        "next_page_token": next, "previous_page_token": prev})
}

/// A Calendly organization: three members over two pages, two pending invitations (and an
/// accepted one), three groups, member and admin relationships of both owner types.
fn organization(base: &str) -> HashMap<(String, Option<String>), (u16, Value)> {
    let mut a = HashMap::new();
    let mut put = |path: &str, token: Option<&str>, body: Value| {
        a.insert((path.to_owned(), token.map(str::to_owned)), (200, body));
    };
    put(
        "/users/me",
        None,
        json!({"resource": {"uri": format!("{base}/users/U1"), "name": null, "slug": "ana", "email": null,
            "scheduling_url": "https://calendly.com/ana", "timezone": null, "avatar_url": null, "locale": null,
            "created_at": T, "updated_at": T, "current_organization": format!("{base}/organizations/ORG"),
            "resource_type": "User", "time_notation": "24h"}}),
    );
    let m = "/organization_memberships";
    put(
        m,
        None,
        json!({"collection": [membership(base, 1, "owner", json!("u1@x.test"), json!("Ana")),
                              membership(base, 2, "admin", json!("u2@x.test"), json!(null))],
               "pagination": pagination(base, m, json!(2), None, Some("mp2"))}),
    );
    put(
        m,
        Some("mp2"),
        json!({"collection": [membership(base, 3, "user", json!("U3@X.test"), json!("Cy"))],
               "pagination": pagination(base, m, json!(1.0), Some("mp1"), None)}),
    );
    put(
        "/organizations/ORG/invitations",
        None,
        json!({"collection": [invitation(base, 1, "pending"), invitation(base, 2, "pending"),
                              invitation(base, 3, "accepted")],
               "pagination": pagination(base, "/organizations/ORG/invitations", json!(3.0), None, None)}),
    );
    put(
        "/groups",
        None,
        json!({"collection": [group(base, "G1", json!("Sales"), json!(12.0)),
                              group(base, "G2", json!("Support"), json!(null)),
                              group(base, "G3", json!("Ops"), json!(3))],
               "pagination": pagination(base, "/groups", json!(3), None, None)}),
    );
    let r = "/group_relationships";
    let member = |n| {
        with_type(membership(base, n, "user", json!(format!("u{n}@x.test")), json!(null)), "OrganizationMembership")
    };
    let invitee = |n| with_type(invitation(base, n, "pending"), "OrganizationInvitation");
    put(
        r,
        None,
        json!({"collection": [relationship(base, 1, "member", "G1", member(1)),
                              relationship(base, 2, "admin", "G2", member(1)),
                              relationship(base, 3, "admin", "G3", member(1))],
               "pagination": pagination(base, r, json!(3), None, Some("rp2"))}),
    );
    put(
        r,
        Some("rp2"),
        json!({"collection": [relationship(base, 4, "member", "G2", invitee(1)),
                              relationship(base, 5, "member", "G3", member(2)),
                              relationship(base, 6, "admin", "G1", invitee(2))],
               "pagination": pagination(base, r, json!(3.0), Some("rp1"), None)}),
    );
    a
}

fn exports(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let active = dir.join("active.csv");
    std::fs::write(
        &active,
        "Name,Login email,Role,Calendly link,Identity Provider Group\nAna,u1@x.test,owner,,Sales\n,u2@x.test,admin,,Ops\nCy,u3@x.test,user,,Support\n",
    )
    .unwrap();
    let pending = dir.join("pending.csv");
    std::fs::write(
        &pending,
        "Name,Login email,Role,Calendly link,Identity Provider Group\n,i1@x.test,user,,Sales\n,i2@x.test,user,,Sales\n",
    )
    .unwrap();
    vec![active, pending]
}

#[tokio::test]
async fn calendly_shaped_answers_with_floats_nulls_and_unknown_fields_load_and_plan() {
    let base = serve(organization).await;
    let dir = tempfile::tempdir().unwrap();
    let load =
        LoadOptions { organization: None, users_csv: exports(dir.path()), fields: FieldChoice::default(), idp: None };
    let engine = Engine::calendly(client(&base), &load);
    let org = engine.load(None).await.unwrap_or_else(|e| panic!("the load failed: {e}"));
    let d = &org.directory;
    assert!(d.capabilities.read_only(), "no mapping endpoint: read-only");
    let counts: Vec<(&str, Option<u32>)> = d.groups.iter().map(|g| (g.name.as_str(), g.member_count)).collect();
    assert_eq!(counts, [("Sales", Some(12)), ("Support", None), ("Ops", Some(3))]);
    let people: Vec<(&str, Option<&str>)> =
        d.people.iter().map(|p| (&*p.email, p.group.as_deref().map(|g| g.rsplit('/').next().unwrap()))).collect();
    // Members from both pages, pending invitations only; placed by `member` relationships of
    // either owner type, never by an `admin` one.
    assert_eq!(
        people,
        [
            ("u1@x.test", Some("G1")),
            ("u2@x.test", Some("G3")),
            ("U3@X.test", None),
            ("i1@x.test", Some("G2")),
            ("i2@x.test", None)
        ]
    );
    assert_eq!(&*d.people[1].name, "", "a null name is empty, not a failed load");

    let snap = org.snapshot(&FieldChoice::default()).unwrap();
    let uri = |id: &str| Target::Group(format!("{base}/groups/{id}"));
    let mut m = Mapping { enabled: true, ..Mapping::default() };
    m.set("Sales", uri("G1"));
    m.set("Support", uri("G2"));
    m.set("Ops", uri("G3"));
    let p = plan(&snap, &m);
    let moves: Vec<&str> = p.changes.iter().map(|c| snap.owner(c.owner).email).collect();
    assert_eq!(moves, ["U3@X.test", "i1@x.test", "i2@x.test"], "{:?}", p.changes);
}

/// A null where the plan needs a value (a member's email, a group's name) fails the load, and
/// the error names the endpoint and the field.
#[tokio::test]
async fn a_null_the_plan_needs_names_the_endpoint_and_the_field() {
    let server = serve(|base| {
        let mut a = organization(base);
        let m = "/organization_memberships";
        a.insert(
            (m.into(), None),
            (
                200,
                json!({"collection": [membership(base, 1, "owner", json!(null), json!("Ana"))],
                         "pagination": pagination(base, m, json!(1), None, None)}),
            ),
        );
        a
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let load =
        LoadOptions { organization: None, users_csv: exports(dir.path()), fields: FieldChoice::default(), idp: None };
    let err = Engine::calendly(client(&server), &load).load(None).await.unwrap_err().to_string();
    assert!(
        err.starts_with("GET /organization_memberships: unexpected answer: field `collection[0].user.email`"),
        "{err}"
    );

    let server = serve(|base| {
        let mut a = organization(base);
        a.insert(
            ("/groups".into(), None),
            (
                200,
                json!({"collection": [group(base, "G1", json!(null), json!(1.0))],
                         "pagination": pagination(base, "/groups", json!(1), None, None)}),
            ),
        );
        a
    })
    .await;
    let err = Engine::calendly(client(&server), &load).load(None).await.unwrap_err().to_string();
    assert!(err.starts_with("GET /groups: unexpected answer: field `collection[0].name`"), "{err}");
}

/// Calendly's two 403s: a token without a scope (its `required_scopes`), and a token whose user
/// is no admin. Each says what to do about its own cause.
#[tokio::test]
async fn a_403_says_which_scopes_are_missing_or_that_an_admin_is_needed() {
    let server = serve(|base| {
        let mut a = organization(base);
        a.insert(
            ("/groups".into(), None),
            (403, json!({"title": "Permission Denied",
                         "message": "Insufficient scope: This operation requires the scopes listed in the 'required_scopes' array.",
                         "required_scopes": ["groups:read"], "details": null})),
        );
        a
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let load =
        LoadOptions { organization: None, users_csv: exports(dir.path()), fields: FieldChoice::default(), idp: None };
    let err = Engine::calendly(client(&server), &load).load(None).await.unwrap_err().to_string();
    assert!(err.contains("GET /groups: 403 Permission Denied: Insufficient scope"), "{err}");
    assert!(err.contains("the token lacks `groups:read`"), "{err}");
    assert!(err.contains("groupmap needs `users:read`, `organizations:read`, `groups:read` in all"), "{err}");
    assert!(!err.contains("admin or owner"), "not a role problem: {err}");

    let server = serve(|base| {
        let mut a = organization(base);
        a.insert(
            ("/organizations/ORG/invitations".into(), None),
            (
                403,
                json!({"title": "Permission Denied", "message": "You do not have permission to access this resource."}),
            ),
        );
        a
    })
    .await;
    let err = Engine::calendly(client(&server), &load).load(None).await.unwrap_err().to_string();
    assert!(err.contains("GET /organizations/ORG/invitations: 403 Permission Denied"), "{err}");
    assert!(err.contains("the token's user must be an organization admin or owner"), "{err}");
    assert!(!err.contains("lacks"), "{err}");
}

/// The wire types on their own, as the sandbox and the fuzz tests use them.
#[test]
fn wire_types_decode_calendly_numbers_nulls_and_both_owner_types() {
    let base = "https://api.calendly.com";
    let groups: Collection<Group> = decode(
        "GET /groups",
        json!({"collection": [group(base, "G1", json!("Sales"), json!(12.0)), group(base, "G2", json!("S"), json!(12.5)),
                              group(base, "G3", json!("O"), json!("7"))],
               "pagination": pagination(base, "/groups", json!(3.0), None, Some("n"))})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let counts: Vec<Option<u32>> = groups.collection.iter().map(|g| g.member_count).collect();
    assert_eq!(counts, [Some(12), None, None], "only whole numbers are counts");
    assert_eq!(groups.collection[0].organization, format!("{base}/organizations/ORG"));
    assert_eq!(groups.collection[0].created_at, "", "null created_at");
    assert_eq!(
        groups.pagination,
        Pagination {
            count: 3,
            next_page: Some(format!("{base}/groups?count=100&page_token=n")),
            previous_page: None,
            next_page_token: Some("n".into()),
            previous_page_token: None
        }
    );

    let rels: Collection<GroupRelationship> = decode(
        "GET /group_relationships",
        json!({"collection": [
                relationship(base, 1, "member", "G1",
                    with_type(membership(base, 1, "user", json!("a@x.test"), json!(null)), "OrganizationMembership")),
                relationship(base, 2, "admin", "G1", with_type(invitation(base, 2, "pending"), "OrganizationInvitation"))],
               "pagination": pagination(base, "/group_relationships", json!(2), Some("p"), None)})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    match &rels.collection[0].owner {
        RelationshipOwner::OrganizationMembership(m) => {
            assert_eq!((m.user.email.as_str(), m.user.name.as_str(), m.updated_at.as_str()), ("a@x.test", "", ""));
        }
        other => panic!("{other:?}"),
    }
    match &rels.collection[1].owner {
        RelationshipOwner::OrganizationInvitation(i) => {
            assert_eq!((i.email.as_str(), i.last_sent_at.as_deref(), i.user.as_deref()), ("i2@x.test", None, None));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(rels.collection[1].role, "admin");
    assert_eq!(rels.pagination.previous_page_token.as_deref(), Some("p"));
}
