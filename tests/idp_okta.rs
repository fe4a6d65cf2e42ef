//! The Okta source against the sandbox's fake Okta org over HTTP: paging by the `Link` header,
//! pacing by Okta's rate-limit headers, 429, refused tokens, a missing attribute, and the join
//! with Calendly's record (pending sync, not provisioned) with non-ASCII and near-equal values.

use std::time::Duration;

use groupmap::domain::sync::ValuesFrom;
use groupmap::domain::{Export, FieldChoice};
use groupmap::engine::{Engine, LoadOptions};
use groupmap::idp::http::HttpOptions;
use groupmap::idp::{IdpLoad, Kind, Settings};
use groupmap::sandbox::idp::okta::APP_ID;
use groupmap::sandbox::{NewPerson, Options, Sandbox};
use groupmap::service::calendly::{Client, Secret};
use serde_json::{Map, Value, json};

fn quick(page_size: u32) -> HttpOptions {
    HttpOptions {
        page_size,
        backoff_base: Duration::from_millis(1),
        backoff_cap: Duration::from_millis(5),
        ..HttpOptions::default()
    }
}

fn settings(sb: &Sandbox, app: bool, page_size: u32) -> Settings {
    Settings {
        source: Kind::Okta,
        url: Some(sb.okta_url()),
        app: app.then(|| APP_ID.to_owned()),
        http: Some(quick(page_size)),
        ..Settings::default()
    }
}

fn with_token(token: String) -> impl Fn(&str) -> Option<String> {
    move |k| (k == "OKTA_API_TOKEN").then(|| token.clone())
}

async fn read(sb: &Sandbox, s: &Settings) -> Result<Vec<Export>, String> {
    let idp = groupmap::idp::open(s, &with_token(sb.okta().api_token())).map_err(|e| e.to_string())?.expect("okta");
    idp.source.read("org").await.map_err(|e| e.to_string())
}

fn profile(email: &str, department: &str) -> Map<String, Value> {
    let v = json!({"login": email, "email": email, "firstName": "T", "lastName": "User", "department": department});
    v.as_object().unwrap().clone()
}

/// Loads the organization with Okta as the source and the export endpoint as Calendly's record.
async fn load(sb: &Sandbox, s: &Settings) -> groupmap::engine::Organization {
    let idp = groupmap::idp::open(s, &with_token(sb.okta().api_token())).unwrap().unwrap();
    let opts = LoadOptions {
        fields: idp.fields.clone(),
        idp: Some(IdpLoad { idp, values_from: s.values_from, record_fields: FieldChoice::default() }),
        ..LoadOptions::default()
    };
    let client = Client::new(sb.base_url(), Secret::new(sb.token())).unwrap();
    Engine::calendly(client, &opts).load(None).await.expect("load")
}

#[tokio::test]
async fn app_users_and_users_are_read_page_after_page_by_the_link_header() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    let all = sb.okta().users();
    let before = sb.okta().requests.load(std::sync::atomic::Ordering::Relaxed);
    let e = read(&sb, &settings(&sb, true, 25)).await.unwrap();
    let pages = sb.okta().requests.load(std::sync::atomic::Ordering::Relaxed) - before;
    assert_eq!(e.len(), 1);
    let t = &e[0];
    assert_eq!(t.records.len(), all.len(), "every assigned user, once");
    assert_eq!(pages as usize, all.len().div_ceil(25), "one request per page");
    assert_eq!(t.headers[0], "userName");
    assert!(t.headers.iter().any(|h| h == "department") && t.headers.iter().any(|h| h == "firstName"));
    let names: std::collections::BTreeSet<String> = t.records.iter().map(|(_, r)| r[0].to_ascii_lowercase()).collect();
    assert_eq!(names.len(), all.len(), "no user read twice");
    // Without an app id: all users, from /api/v1/users.
    let e = read(&sb, &settings(&sb, false, 40)).await.unwrap();
    assert_eq!(e[0].records.len(), all.len());
    assert!(e[0].file.contains("GET /api/v1/users"), "{}", e[0].file);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_used_up_window_is_waited_out_without_a_429() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    sb.okta().set_rate_limit(4, Duration::from_secs(2));
    let e = read(&sb, &settings(&sb, true, 60)).await.unwrap();
    assert_eq!(e[0].records.len(), sb.okta().users().len());
    assert_eq!(sb.okta().rate_limited.load(std::sync::atomic::Ordering::Relaxed), 0, "paced by the headers");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_429_is_waited_out_until_the_reset_and_given_up_after_the_limit() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    sb.okta().set_rate_limit(1000, Duration::from_secs(1));
    sb.okta().fail_next(2, 429);
    let e = read(&sb, &settings(&sb, true, 200)).await.unwrap();
    assert_eq!(e[0].records.len(), sb.okta().users().len());
    assert_eq!(sb.okta().rate_limited.load(std::sync::atomic::Ordering::Relaxed), 2);

    let mut s = settings(&sb, true, 200);
    s.http.as_mut().unwrap().max_rate_limit_waits = 1;
    sb.okta().fail_next(3, 429);
    let err = read(&sb, &s).await.unwrap_err();
    assert!(err.contains("429 E0000047: API call exceeded rate limit due to too many requests."), "{err}");
    assert!(err.contains("(error id oae") && err.contains("still rate limited"), "{err}");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_refused_token_names_where_it_came_from_and_is_never_shown() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    let s = settings(&sb, true, 200);
    let wrong = "00wrongTokenValue-abcdefghijklmnop";
    let idp = groupmap::idp::open(&s, &with_token(wrong.to_owned())).unwrap().unwrap();
    let err = idp.source.read("org").await.unwrap_err().to_string();
    assert!(
        err.contains(&format!("GET /api/v1/apps/{APP_ID}/users?limit=200: 401 E0000011: Invalid token provided")),
        "{err}"
    );
    assert!(err.contains("OKTA_API_TOKEN") && !err.contains(wrong), "{err}");

    // From an owner-only file.
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("okta-token");
    std::fs::write(&file, format!("{wrong}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let s = Settings { token_file: Some(file.clone()), ..settings(&sb, true, 200) };
    let idp = groupmap::idp::open(&s, &|_| None).unwrap().unwrap();
    let err = idp.source.read("org").await.unwrap_err().to_string();
    assert!(err.contains(&format!("the token file {}", file.display())) && !err.contains(wrong), "{err}");

    // A file others can read is refused before anything is sent.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = groupmap::idp::open(&s, &|_| None).unwrap_err().to_string();
    assert!(err.contains("chmod 600") && !err.contains(wrong), "{err}");

    // An OAuth access token goes as Bearer.
    let token = sb.okta().access_token();
    let idp =
        groupmap::idp::open(&settings(&sb, true, 200), &move |k| (k == "OKTA_ACCESS_TOKEN").then(|| token.clone()))
            .unwrap()
            .unwrap();
    assert_eq!(idp.source.read("org").await.unwrap()[0].records.len(), sb.okta().users().len());
    sb.shutdown().await;
}

#[tokio::test]
async fn an_unknown_app_and_a_missing_attribute_say_what_to_fix() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    let s = Settings { app: Some("0oaNOSUCHAPP".into()), ..settings(&sb, true, 200) };
    let err = read(&sb, &s).await.unwrap_err();
    assert!(err.contains("404 E0000007: Not found: Resource not found: 0oaNOSUCHAPP (AppInstance)"), "{err}");
    assert!(err.contains("--idp-app"), "{err}");

    let s = Settings { attribute: Some("costCenter".into()), ..settings(&sb, true, 200) };
    let org = load(&sb, &s).await;
    let idp_fields =
        FieldChoice { email: Some("userName".into()), idp_value: Some("costCenter".into()), ..FieldChoice::default() };
    let err = org.snapshot(&idp_fields).unwrap_err().to_string();
    assert!(err.contains("no user has the attribute \"costCenter\""), "{err}");
    assert!(err.contains("attributes seen: department, email, firstName, lastName, login"), "{err}");
    sb.shutdown().await;
}

#[tokio::test]
async fn pending_sync_and_not_provisioned_with_non_ascii_and_near_equal_values() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    let people = [
        ("same@northwind.example", "Ingeniería", "Ingeniería"),
        ("case@northwind.example", "Sales EMEA", "sales emea"),
        ("space@northwind.example", "Sales EMEA", "Sales EMEA "),
        ("nbsp@northwind.example", "Sales EMEA", "Sales\u{a0}EMEA"),
        ("kana@northwind.example", "営業", "営業 東京"),
    ];
    for (email, recorded, _) in people {
        sb.add_person(NewPerson { name: "T User", email, idp_value: Some(recorded), ..NewPerson::default() });
    }
    for (email, _, in_okta) in people {
        sb.okta().add_user(&email.to_uppercase(), profile(email, in_okta), true);
    }
    sb.okta().add_user("arrives@northwind.example", profile("arrives@northwind.example", "Développement"), true);
    let mut s = settings(&sb, true, 200);
    let org = load(&sb, &s).await;
    let fields = FieldChoice { email: Some("userName".into()), idp_value: None, ..FieldChoice::default() };
    let snap = org.snapshot(&fields).unwrap();
    let view = snap.idp.clone().unwrap();
    assert_eq!(view.attribute, "department");
    assert!(view.recorded);
    let pending = |email: &str| view.pending_sync.iter().find(|p| p.email == email);
    assert!(pending("same@northwind.example").is_none(), "equal values are in sync");
    for (email, recorded, in_okta) in &people[1..] {
        let p = pending(email).unwrap_or_else(|| panic!("{email} pending: {:?}", view.pending_sync));
        assert_eq!((p.calendly.as_deref(), p.idp.as_str()), (Some(*recorded), *in_okta));
    }
    assert!(
        view.not_provisioned.iter().any(|n| n.email == "arrives@northwind.example" && n.value == "Développement"),
        "{:?}",
        view.not_provisioned
    );
    let value_of = |snap: &groupmap::domain::Snapshot, email: &str| {
        let o = snap.owners().find(|o| o.email == email).unwrap();
        o.value.map(|v| snap.value(v).to_owned())
    };
    assert_eq!(value_of(&snap, "case@northwind.example").as_deref(), Some("Sales EMEA"), "Calendly's by default");
    assert_eq!(value_of(&snap, "same@northwind.example").as_deref(), Some("Ingeniería"));

    s.values_from = ValuesFrom::Idp;
    let org = load(&sb, &s).await;
    let snap = org.snapshot(&fields).unwrap();
    assert_eq!(value_of(&snap, "case@northwind.example").as_deref(), Some("sales emea"));
    assert_eq!(value_of(&snap, "nbsp@northwind.example").as_deref(), Some("Sales\u{a0}EMEA"));
    assert_eq!(value_of(&snap, "kana@northwind.example").as_deref(), Some("営業 東京"));
    sb.shutdown().await;
}

#[tokio::test]
async fn a_plain_http_address_off_this_machine_is_refused_before_the_token_is_sent() {
    let s = Settings { source: Kind::Okta, url: Some("http://acme.okta.com".into()), ..Settings::default() };
    let err = groupmap::idp::open(&s, &with_token("t0ken-value-xyz".into())).unwrap_err().to_string();
    assert!(err.contains("--idp-url http://acme.okta.com: use https://"), "{err}");
    let s = Settings { source: Kind::Okta, ..Settings::default() };
    let err = groupmap::idp::open(&s, &with_token("t".into())).unwrap_err().to_string();
    assert!(err.contains("--idp-url https://YOUR-ORG.okta.com"), "{err}");
}

/// A server of our own that answers every request with `reply`, counting requests.
async fn hostile(
    reply: fn(&str) -> axum::response::Response,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    use std::sync::atomic::{AtomicU64, Ordering};
    let hits = std::sync::Arc::new(AtomicU64::new(0));
    let counted = hits.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        counted.fetch_add(1, Ordering::Relaxed);
        let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        async move { reply(&auth) }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, hits)
}

#[tokio::test]
async fn a_next_link_on_another_origin_is_refused_and_an_echoed_token_is_redacted() {
    use axum::response::IntoResponse;
    use std::sync::atomic::Ordering;
    let (elsewhere, elsewhere_hits) = hostile(|_| "[]".into_response()).await;
    static ELSEWHERE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ELSEWHERE.set(elsewhere.clone()).unwrap();
    let (base, _) = hostile(|_| {
        let link = format!("<{}/api/v1/users?after=x&limit=200>; rel=\"next\"", ELSEWHERE.get().unwrap());
        ([("link", link)], axum::Json(json!([{"profile": {"email": "a@x.test", "department": "S"}}]))).into_response()
    })
    .await;
    let s = Settings { source: Kind::Okta, url: Some(base), http: Some(quick(200)), ..Settings::default() };
    let token = "00secretOktaToken-0123456789abcdef";
    let idp = groupmap::idp::open(&s, &with_token(token.into())).unwrap().unwrap();
    let err = idp.source.read("org").await.unwrap_err().to_string();
    assert!(err.contains(&format!("its next page is on {elsewhere}")), "{err}");
    assert_eq!(elsewhere_hits.load(Ordering::Relaxed), 0, "nothing was sent to the other origin");

    let (base, _) = hostile(|auth| {
        let body = json!({"errorCode": "E0000011", "errorSummary": format!("Invalid token provided: {auth}"),
            "errorLink": "E0000011", "errorId": "oaeX", "errorCauses": [{"errorSummary": auth}]});
        (axum::http::StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
    })
    .await;
    let s = Settings { source: Kind::Okta, url: Some(base), http: Some(quick(200)), ..Settings::default() };
    let idp = groupmap::idp::open(&s, &with_token(token.into())).unwrap().unwrap();
    let err = idp.source.read("org").await.unwrap_err().to_string();
    assert!(err.contains("401 E0000011: Invalid token provided: SSWS [redacted]"), "{err}");
    assert!(!err.contains("secretOkta"), "{err}");
}

#[tokio::test]
async fn the_load_tells_how_many_okta_users_are_read_so_far() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    let s = settings(&sb, true, 50);
    let idp = groupmap::idp::open(&s, &with_token(sb.okta().api_token())).unwrap().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let progress = groupmap::service::Progress::new(move |s: &groupmap::service::LoadStatus| {
        let mut log = log.lock().unwrap();
        if s.idp_users.rows > 0 && log.last() != Some(&s.idp_users.rows) {
            log.push(s.idp_users.rows);
        }
    });
    let opts = LoadOptions {
        fields: idp.fields.clone(),
        idp: Some(IdpLoad { idp, values_from: ValuesFrom::Calendly, record_fields: FieldChoice::default() }),
        ..LoadOptions::default()
    };
    let client = Client::new(sb.base_url(), Secret::new(sb.token())).unwrap();
    Engine::calendly(client, &opts).load(Some(progress)).await.unwrap();
    let seen = seen.lock().unwrap().clone();
    let total = sb.okta().users().len();
    assert_eq!(seen.len(), total.div_ceil(50), "once a page: {seen:?}");
    assert_eq!(seen.last(), Some(&total));
    sb.shutdown().await;
}
