//! The Entra ID source against the sandbox's fake tenant over HTTP: client credentials from the
//! tenant's token endpoint, pages by `@odata.nextLink`, the Calendly app's assignments (groups
//! included), throttling (429 with `Retry-After`), refused secrets and tokens, a token that
//! stops working mid-way, a missing attribute, directory extensions, and the join with
//! Calendly's record with non-ASCII and near-equal values.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::idp::{add_near_people, assert_near_people, env, load, quick};
use groupmap::domain::sync::ValuesFrom;
use groupmap::domain::{Export, FieldChoice};
use groupmap::idp::{Kind, Settings};
use groupmap::sandbox::idp::entra::{APP_ID, EXTENSION, props};
use groupmap::sandbox::{Options, Sandbox};
use serde_json::json;

fn settings(sb: &Sandbox, app: bool, page_size: u32) -> Settings {
    Settings {
        source: Kind::Entra,
        url: Some(sb.entra_url()),
        token_url: Some(sb.entra_token_url()),
        app: app.then(|| APP_ID.to_owned()),
        http: Some(quick(page_size)),
        ..Settings::default()
    }
}

async fn read_with(s: &Settings, vars: Vec<(&'static str, String)>) -> Result<Vec<Export>, String> {
    let idp = groupmap::idp::open(s, &env(vars)).map_err(|e| e.to_string())?.expect("entra");
    idp.source.read("org").await.map_err(|e| e.to_string())
}

async fn read(sb: &Sandbox, s: &Settings) -> Result<Vec<Export>, String> {
    read_with(s, sb.entra().env()).await
}

#[tokio::test]
async fn users_are_read_page_after_page_with_a_token_from_the_tenant() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    let all = sb.entra().users();
    let e = read(&sb, &settings(&sb, false, 20)).await.unwrap();
    let t = &e[0];
    assert_eq!(t.records.len(), all.len(), "every user, once");
    assert_eq!(sb.entra().requests.load(Ordering::Relaxed) as usize, all.len().div_ceil(20), "one request a page");
    assert_eq!(sb.entra().tokens.count(), 1, "one token for the whole read");
    assert_eq!(t.headers[0], "userName");
    for h in ["department", "jobTitle", "companyName", "mail", "onPremisesExtensionAttributes.extensionAttribute1"] {
        assert!(t.headers.iter().any(|x| x == h), "{h} in {:?}", t.headers);
    }
    let names: std::collections::BTreeSet<String> = t.records.iter().map(|(_, r)| r[0].to_lowercase()).collect();
    assert_eq!(names.len(), all.len(), "no user read twice, none without an address");
    // A user without mail is known by the userPrincipalName.
    let no_mail = all.iter().find(|u| u.props["mail"].is_null()).expect("a user without mail");
    let upn = no_mail.props["userPrincipalName"].as_str().unwrap();
    assert!(t.records.iter().any(|(_, r)| &r[0] == upn), "{upn}");
    sb.shutdown().await;
}

#[tokio::test]
async fn the_apps_assignments_include_those_assigned_through_a_group() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    let outsider = props(900, "Out", "Sider", "outsider@northwind.example", Some("Sales EMEA"));
    sb.entra().add_user(outsider, false);
    let all = sb.entra().users();
    let e = read(&sb, &settings(&sb, true, 25)).await.unwrap();
    let t = &e[0];
    assert_eq!(t.records.len(), all.len() - 1, "every assigned user, directly or through the group");
    assert!(!t.records.iter().any(|(_, r)| &r[0] == "outsider@northwind.example"));
    assert!(all.iter().any(|u| !u.direct && u.in_group), "some are assigned through the group only");
    let e = read(&sb, &settings(&sb, false, 999)).await.unwrap();
    assert_eq!(e[0].records.len(), all.len(), "without --idp-app: all users");
    sb.shutdown().await;
}

#[tokio::test]
async fn throttling_is_waited_out_as_retry_after_says_and_given_up_after_the_limit() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    sb.entra().set_rate_limit(3, Duration::from_secs(1));
    let e = read(&sb, &settings(&sb, false, 20)).await.unwrap();
    assert_eq!(e[0].records.len(), sb.entra().users().len());
    assert!(sb.entra().rate_limited.load(Ordering::Relaxed) >= 1, "throttled, then waited out");

    sb.entra().set_rate_limit(1000, Duration::from_secs(10));
    sb.entra().fail_next(2, 429);
    let e = read(&sb, &settings(&sb, true, 999)).await.unwrap();
    assert_eq!(e[0].records.len(), sb.entra().users().len());

    let mut s = settings(&sb, false, 999);
    s.http.as_mut().unwrap().max_rate_limit_waits = 1;
    sb.entra().fail_next(3, 429);
    let err = read(&sb, &s).await.unwrap_err();
    assert!(err.contains("429 TooManyRequests: Too many requests. (error id "), "{err}");
    assert!(err.contains("still throttled after waiting 1 time(s)"), "{err}");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_wrong_secret_or_client_names_where_it_came_from_and_is_never_shown() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    let s = settings(&sb, true, 999);
    let mut vars = sb.entra().env();
    let wrong = "Wr0ng~secret.value_abcdefghijklmnop";
    vars[2].1 = wrong.to_owned();
    let err = read_with(&s, vars).await.unwrap_err();
    assert!(
        err.contains("oauth2/v2.0/token: 401 invalid_client: AADSTS7000215: Invalid client secret provided."),
        "{err}"
    );
    assert!(err.contains("AZURE_CLIENT_ID and AZURE_CLIENT_SECRET") && !err.contains(wrong), "{err}");
    assert_eq!(sb.entra().requests.load(Ordering::Relaxed), 0, "Graph was not asked");

    let mut vars = sb.entra().env();
    vars[1].1 = "00000000-0000-0000-0000-000000000000".into();
    let err = read_with(&s, vars).await.unwrap_err();
    assert!(err.contains("400 unauthorized_client: AADSTS700016"), "{err}");

    // From an owner-only file, named in the error.
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("entra-secret");
    std::fs::write(&file, format!("{wrong}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let s = Settings { client_secret_file: Some(file.clone()), ..settings(&sb, true, 999) };
    let vars = sb.entra().env().into_iter().take(2).collect();
    let err = read_with(&s, vars).await.unwrap_err();
    assert!(err.contains(&format!("the client-secret file {}", file.display())) && !err.contains(wrong), "{err}");

    // Settings missing: said before anything is sent.
    let err = read_with(&settings(&sb, true, 999), vec![]).await.unwrap_err();
    assert!(err.contains("set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET"), "{err}");
    let s = Settings { token_url: None, ..settings(&sb, true, 999) };
    let vars = sb.entra().env().into_iter().skip(1).collect();
    let err = read_with(&s, vars).await.unwrap_err();
    assert!(err.contains("set AZURE_TENANT_ID"), "{err}");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_token_that_stops_working_is_obtained_again_and_a_given_one_is_named() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    let s = settings(&sb, false, 50);
    let idp = groupmap::idp::open(&s, &env(sb.entra().env())).unwrap().unwrap();
    assert_eq!(idp.source.read("org").await.unwrap()[0].records.len(), sb.entra().users().len());
    sb.entra().tokens.expire_all();
    assert_eq!(idp.source.read("org").await.unwrap()[0].records.len(), sb.entra().users().len());
    assert_eq!(sb.entra().tokens.count(), 2, "a new token after the 401");

    // Short-lived tokens are obtained again before they expire, not after a refusal.
    sb.entra().set_token_lifetime(Duration::from_secs(2));
    let idp = groupmap::idp::open(&s, &env(sb.entra().env())).unwrap().unwrap();
    idp.source.read("org").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    idp.source.read("org").await.unwrap();
    assert_eq!(sb.entra().tokens.count(), 4);

    // A token given as is works, and a wrong one names the variable.
    let given = sb.entra().access_token();
    let e = read_with(&s, vec![("AZURE_ACCESS_TOKEN", given)]).await.unwrap();
    assert_eq!(e[0].records.len(), sb.entra().users().len());
    let wrong = "eyJ0eXAiOiJKV1QifQ.wrong-token-value";
    let err = read_with(&s, vec![("AZURE_ACCESS_TOKEN", wrong.into())]).await.unwrap_err();
    assert!(err.contains("401 InvalidAuthenticationToken: Access token has expired or is not yet valid."), "{err}");
    assert!(err.contains("refused AZURE_ACCESS_TOKEN") && !err.contains(wrong), "{err}");
    sb.shutdown().await;
}

#[tokio::test]
async fn an_unknown_app_a_missing_attribute_and_a_directory_extension() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    let s = Settings { app: Some("not-the-app".into()), ..settings(&sb, true, 999) };
    let err = read(&sb, &s).await.unwrap_err();
    assert!(err.contains("404 Request_ResourceNotFound: Resource 'not-the-app' does not exist"), "{err}");
    assert!(err.contains("--idp-app is the Calendly enterprise app's Object ID"), "{err}");

    let s = Settings { attribute: Some("costCenter".into()), ..settings(&sb, true, 999) };
    let org = load(&sb, &s, &env(sb.entra().env())).await;
    let fields =
        FieldChoice { email: Some("userName".into()), idp_value: Some("costCenter".into()), ..FieldChoice::default() };
    let err = org.snapshot(&fields).unwrap_err().to_string();
    assert!(err.contains("no user has the attribute \"costCenter\""), "{err}");
    assert!(
        err.contains("attributes seen: ")
            && err.contains("city, companyName, country, department, displayName, employeeId"),
        "{err}"
    );

    // A directory extension is asked for by name ($select) and read.
    // (Planned with the IdP's values, to see them.)
    let s = Settings { attribute: Some(EXTENSION.into()), values_from: ValuesFrom::Idp, ..settings(&sb, true, 999) };
    let org = load(&sb, &s, &env(sb.entra().env())).await;
    let fields =
        FieldChoice { email: Some("userName".into()), idp_value: Some(EXTENSION.into()), ..FieldChoice::default() };
    let snap = org.snapshot(&fields).unwrap();
    assert_eq!(snap.idp.as_ref().unwrap().attribute, EXTENSION);
    assert!(snap.values.iter().any(|v| v == "CC-003"), "{:?}", snap.values);
    let on_prem = "onPremisesExtensionAttributes.extensionAttribute1";
    let s = Settings { attribute: Some(on_prem.into()), values_from: ValuesFrom::Idp, ..settings(&sb, true, 999) };
    let org = load(&sb, &s, &env(sb.entra().env())).await;
    let snap = org
        .snapshot(&FieldChoice {
            email: Some("userName".into()),
            idp_value: Some(on_prem.into()),
            ..FieldChoice::default()
        })
        .unwrap();
    assert!(snap.values.iter().any(|v| v.ends_with("(on-premises)")), "{:?}", snap.values);
    sb.shutdown().await;
}

#[tokio::test]
async fn pending_sync_and_not_provisioned_with_non_ascii_and_near_equal_values() {
    let sb = Sandbox::start(Options::default()).await.unwrap();
    add_near_people(&sb);
    for (n, (email, _, in_entra)) in common::idp::NEAR.iter().enumerate() {
        let mut p = props(800 + n, "T", "User", &email.to_uppercase(), Some(in_entra));
        p.insert("mail".into(), if n == 0 { json!(null) } else { json!(email.to_uppercase()) });
        p.insert("userPrincipalName".into(), json!(email));
        sb.entra().add_user(p, true);
    }
    let arrives = props(850, "New", "Person", "arrives@northwind.example", Some("Développement"));
    sb.entra().add_user(arrives, true);
    let org = load(&sb, &settings(&sb, true, 999), &env(sb.entra().env())).await;
    assert_near_people(&org, "arrives@northwind.example", "Développement");
    sb.shutdown().await;
}

/// A server of our own that answers every request with `reply("AUTHORIZATION BODY")`, counting requests.
async fn hostile(
    reply: fn(&str) -> axum::response::Response,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicU64>) {
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = hits.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        counted.fetch_add(1, Ordering::Relaxed);
        let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        async move {
            let body = axum::body::to_bytes(req.into_body(), 1 << 20).await.unwrap_or_default();
            reply(&format!("{auth} {}", String::from_utf8_lossy(&body)))
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, hits)
}

#[tokio::test]
async fn a_next_link_on_another_origin_is_refused_and_an_echoed_secret_is_redacted() {
    use axum::response::IntoResponse;
    let (elsewhere, elsewhere_hits) = hostile(|_| axum::Json(json!({"value": []})).into_response()).await;
    static ELSEWHERE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ELSEWHERE.set(elsewhere.clone()).unwrap();
    let (base, _) = hostile(|_| {
        let next = format!("{}/v1.0/users?$skiptoken=X", ELSEWHERE.get().unwrap());
        axum::Json(json!({"@odata.nextLink": next, "value": [{"id": "1", "mail": "a@x.test", "department": "S"}]}))
            .into_response()
    })
    .await;
    let s = Settings { source: Kind::Entra, url: Some(base), http: Some(quick(999)), ..Settings::default() };
    let token = "eyJ0eXAiOiJKV1QifQ.secret-graph-token-0123456789";
    let err = read_with(&s, vec![("AZURE_ACCESS_TOKEN", token.into())]).await.unwrap_err();
    assert!(err.contains(&format!("its next page is on {elsewhere}")), "{err}");
    assert_eq!(elsewhere_hits.load(Ordering::Relaxed), 0, "nothing was sent to the other origin");

    // A token endpoint that echoes the secret back: never shown.
    let (base, _) = hostile(|auth| {
        let body = json!({"error": "invalid_client", "error_description": format!("bad secret {auth}")});
        (axum::http::StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
    })
    .await;
    let s = Settings {
        source: Kind::Entra,
        url: Some(base.clone()),
        token_url: Some(format!("{base}/t/oauth2/v2.0/token")),
        http: Some(quick(999)),
        ..Settings::default()
    };
    let secret = "Zx9~very.secret-client-secret_value";
    let vars =
        vec![("AZURE_TENANT_ID", "t".into()), ("AZURE_CLIENT_ID", "c".into()), ("AZURE_CLIENT_SECRET", secret.into())];
    let err = read_with(&s, vars).await.unwrap_err();
    assert!(err.contains("401 invalid_client: bad secret  client_id=c&client_secret=[redacted]"), "{err}");
    assert!(!err.contains("very.secret") && !err.contains("client-secret_value"), "{err}");
}
