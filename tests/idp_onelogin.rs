//! The OneLogin source against the sandbox's fake account over HTTP: client credentials from
//! `/auth/oauth2/v2/token`, pages by the `After-Cursor` header, the Calendly app's users
//! (`app_id`), pacing by `X-RateLimit-*` without a 429, a 429 waited out and given up, refused
//! credentials and tokens, a missing attribute, custom attributes, and the join with Calendly's
//! record with non-ASCII and near-equal values.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::idp::{add_near_people, assert_near_people, env, load, quick};
use groupmap::domain::sync::ValuesFrom;
use groupmap::domain::{Export, FieldChoice};
use groupmap::idp::{Kind, Settings};
use groupmap::sandbox::idp::onelogin::{APP_ID, object};
use groupmap::sandbox::{Options, Sandbox};
use serde_json::json;

fn settings(sb: &Sandbox, app: bool, page_size: u32) -> Settings {
    Settings {
        source: Kind::Onelogin,
        url: Some(sb.onelogin_url()),
        app: app.then(|| APP_ID.to_owned()),
        http: Some(quick(page_size)),
        ..Settings::default()
    }
}

async fn read_with(s: &Settings, vars: Vec<(&'static str, String)>) -> Result<Vec<Export>, String> {
    let idp = groupmap::idp::open(s, &env(vars)).map_err(|e| e.to_string())?.expect("onelogin");
    idp.source.read("org").await.map_err(|e| e.to_string())
}

async fn read(sb: &Sandbox, s: &Settings) -> Result<Vec<Export>, String> {
    read_with(s, sb.onelogin().env()).await
}

#[tokio::test]
async fn users_are_read_page_after_page_by_the_after_cursor_header() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    sb.onelogin().add_user(object(1, "Out", "Sider", "outsider@northwind.example", Some("Sales EMEA")), false);
    let all = sb.onelogin().users();
    let e = read(&sb, &settings(&sb, false, 30)).await.unwrap();
    let t = &e[0];
    assert_eq!(t.records.len(), all.len(), "every user, once");
    assert_eq!(sb.onelogin().requests.load(Ordering::Relaxed) as usize, all.len().div_ceil(30), "one request a page");
    assert_eq!(sb.onelogin().tokens.count(), 1);
    assert_eq!(t.headers[0], "userName");
    for h in ["department", "title", "company", "email", "custom_attributes.cost_center"] {
        assert!(t.headers.iter().any(|x| x == h), "{h} in {:?}", t.headers);
    }
    let names: std::collections::BTreeSet<String> = t.records.iter().map(|(_, r)| r[0].to_lowercase()).collect();
    assert_eq!(names.len(), all.len(), "no user read twice");
    // The Calendly app's users only.
    let e = read(&sb, &settings(&sb, true, 50)).await.unwrap();
    assert_eq!(e[0].records.len(), all.len() - 1);
    assert!(!e[0].records.iter().any(|(_, r)| &r[0] == "outsider@northwind.example"));
    assert!(e[0].file.contains(&format!("app_id={APP_ID}")), "{}", e[0].file);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_used_up_window_is_waited_out_and_a_429_until_the_reset() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    sb.onelogin().set_rate_limit(3, Duration::from_secs(2));
    let e = read(&sb, &settings(&sb, false, 40)).await.unwrap();
    assert_eq!(e[0].records.len(), sb.onelogin().users().len());
    assert!(sb.onelogin().requests.load(Ordering::Relaxed) > 3, "more pages than the window allows");
    assert_eq!(sb.onelogin().rate_limited.load(Ordering::Relaxed), 0, "paced by the headers");

    sb.onelogin().set_rate_limit(1000, Duration::from_secs(1));
    sb.onelogin().fail_next(2, 429);
    let e = read(&sb, &settings(&sb, false, 50)).await.unwrap();
    assert_eq!(e[0].records.len(), sb.onelogin().users().len());
    assert_eq!(sb.onelogin().rate_limited.load(Ordering::Relaxed), 2);

    let mut s = settings(&sb, false, 50);
    s.http.as_mut().unwrap().max_rate_limit_waits = 1;
    sb.onelogin().fail_next(3, 429);
    let err = read(&sb, &s).await.unwrap_err();
    assert!(err.contains("GET /api/2/users?limit=50: 429 TooManyRequestsError: Rate limit exceeded"), "{err}");
    assert!(err.contains("still rate limited after waiting 1 time(s)"), "{err}");
    sb.shutdown().await;
}

#[tokio::test]
async fn refused_credentials_and_tokens_name_where_they_came_from_and_are_never_shown() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    let s = settings(&sb, true, 50);
    let wrong = "0123456789abcdefwrongsecretvalue0123456789abcdef";
    let mut vars = sb.onelogin().env();
    vars[1].1 = wrong.to_owned();
    let err = read_with(&s, vars).await.unwrap_err();
    assert!(
        err.contains("POST /onelogin/auth/oauth2/v2/token: 401 invalid_client: Invalid client credentials"),
        "{err}"
    );
    assert!(err.contains("ONELOGIN_CLIENT_ID and ONELOGIN_CLIENT_SECRET") && !err.contains(wrong), "{err}");
    assert_eq!(sb.onelogin().requests.load(Ordering::Relaxed), 0, "the API was not asked");

    // From an owner-only file, named in the error.
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("onelogin-secret");
    std::fs::write(&file, format!("{wrong}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let s = Settings { client_secret_file: Some(file.clone()), ..settings(&sb, true, 50) };
    let vars = sb.onelogin().env().into_iter().take(1).collect();
    let err = read_with(&s, vars).await.unwrap_err();
    assert!(err.contains(&format!("the client-secret file {}", file.display())) && !err.contains(wrong), "{err}");

    // A token that stops working is obtained again.
    let s = settings(&sb, false, 50);
    let idp = groupmap::idp::open(&s, &env(sb.onelogin().env())).unwrap().unwrap();
    idp.source.read("org").await.unwrap();
    sb.onelogin().tokens.expire_all();
    assert_eq!(idp.source.read("org").await.unwrap()[0].records.len(), sb.onelogin().users().len());
    assert_eq!(sb.onelogin().tokens.count(), 2);

    // A given token that is refused names the variable.
    let token = "olExpiredAccessToken0123456789";
    let err = read_with(&s, vec![("ONELOGIN_ACCESS_TOKEN", token.into())]).await.unwrap_err();
    assert!(err.contains("401 UnauthorizedError: Unauthorized"), "{err}");
    assert!(err.contains("refused ONELOGIN_ACCESS_TOKEN") && !err.contains(token), "{err}");

    let err = read_with(&s, vec![]).await.unwrap_err();
    assert!(err.contains("set ONELOGIN_CLIENT_ID and ONELOGIN_CLIENT_SECRET"), "{err}");
    let err = read_with(&Settings { url: None, ..s }, sb.onelogin().env()).await.unwrap_err();
    assert!(err.contains("--idp-url https://SUBDOMAIN.onelogin.com"), "{err}");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_missing_attribute_lists_those_seen_and_a_custom_attribute_is_read() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    let s = Settings { attribute: Some("costCenter".into()), ..settings(&sb, true, 50) };
    let org = load(&sb, &s, &env(sb.onelogin().env())).await;
    let err = org
        .snapshot(&FieldChoice {
            email: Some("userName".into()),
            idp_value: Some("costCenter".into()),
            ..FieldChoice::default()
        })
        .unwrap_err()
        .to_string();
    assert!(err.contains("no user has the attribute \"costCenter\""), "{err}");
    assert!(
        err.contains("company, created_at, custom_attributes.cost_center, custom_attributes.employee_number"),
        "{err}"
    );

    let custom = "custom_attributes.cost_center";
    let s = Settings { attribute: Some(custom.into()), values_from: ValuesFrom::Idp, ..settings(&sb, true, 50) };
    let org = load(&sb, &s, &env(sb.onelogin().env())).await;
    let snap = org
        .snapshot(&FieldChoice {
            email: Some("userName".into()),
            idp_value: Some(custom.into()),
            ..FieldChoice::default()
        })
        .unwrap();
    assert!(snap.values.iter().any(|v| v == "CC-003"), "{:?}", snap.values);
    sb.shutdown().await;
}

#[tokio::test]
async fn pending_sync_and_not_provisioned_with_non_ascii_and_near_equal_values() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    add_near_people(&sb);
    for (n, (email, _, in_onelogin)) in common::idp::NEAR.iter().enumerate() {
        sb.onelogin().add_user(object(90 + n as u64, "T", "User", &email.to_uppercase(), Some(in_onelogin)), true);
    }
    sb.onelogin().add_user(object(99, "New", "Person", "arrives@northwind.example", Some("Développement")), true);
    let org = load(&sb, &settings(&sb, true, 50), &env(sb.onelogin().env())).await;
    assert_near_people(&org, "arrives@northwind.example", "Développement");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_token_endpoint_echoing_the_basic_credentials_has_them_redacted() {
    use axum::response::IntoResponse;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(|req: axum::extract::Request| async move {
        let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let body = json!({"statusCode": 401, "name": "UnauthorizedError", "message": format!("refused {auth}")});
        (axum::http::StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let s = Settings { source: Kind::Onelogin, url: Some(base), http: Some(quick(50)), ..Settings::default() };
    let secret = "s3cr3t-0neLogin-value-0123456789";
    let vars = vec![("ONELOGIN_CLIENT_ID", "cid".to_owned()), ("ONELOGIN_CLIENT_SECRET", secret.to_owned())];
    let err = read_with(&s, vars).await.unwrap_err();
    assert!(err.contains("POST /auth/oauth2/v2/token: 401 UnauthorizedError: refused Basic [redacted]"), "{err}");
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("cid:{secret}"));
    assert!(!err.contains(secret) && !err.contains(&basic[..12]), "{err}");
}
