//! The client against small hostile servers on loopback: the token stays on the base URL's
//! origin, echoed tokens are redacted, answers are bounded in size and time, and each failure
//! names its real cause. Every server loop is bounded and every test stops within seconds.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use groupmap::domain::{Mapping, Target};
use groupmap::engine::{Engine, LoadOptions};
use groupmap::sandbox::{Options, Sandbox};
use groupmap::service::calendly::client::ClientOptions;
use groupmap::service::calendly::{ApiError, Client, Secret};
use groupmap::service::{SaveError, SaveProgress};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Far above what any of these tests needs; only a hang trips it.
const BOUND: Duration = Duration::from_secs(10);

async fn bounded<T>(what: &str, fut: impl Future<Output = T>) -> T {
    match tokio::time::timeout(BOUND, fut).await {
        Ok(v) => v,
        Err(_) => panic!("{what} did not finish within {BOUND:?}"),
    }
}

fn opts() -> ClientOptions {
    ClientOptions {
        timeout: Duration::from_secs(3),
        connect_timeout: Duration::from_secs(1),
        backoff_base: Duration::from_millis(5),
        backoff_cap: Duration::from_millis(50),
        job_poll: Duration::from_millis(10),
        job_stall: Duration::from_secs(1),
        ..ClientOptions::default()
    }
}

fn client(base: &str, opts: ClientOptions) -> Client {
    Client::with_options(base, Secret::new("tok-hostile-server-0123456789"), opts).unwrap()
}

async fn serve(app: axum::Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    base
}

/// The request head, read up to its blank line or `limit` bytes.
async fn read_head(sock: &mut TcpStream, limit: usize) -> String {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while head.len() < limit && !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match sock.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// A server that writes raw HTTP, for answers no framework sends; counts the requests it got.
async fn raw<F, Fut>(answer: F) -> (String, Arc<AtomicUsize>)
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let n = requests.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            n.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(answer(sock));
        }
    });
    (base, requests)
}

/// A listener on 127.0.0.2: another origin than the servers' 127.0.0.1. It records every
/// connection and every request carrying an Authorization header.
struct Elsewhere {
    origin: String,
    connections: Arc<AtomicUsize>,
    authorized: Arc<AtomicUsize>,
}

impl Elsewhere {
    async fn start() -> Elsewhere {
        let listener = TcpListener::bind("127.0.0.2:0").await.expect("127.0.0.2 is loopback on Linux");
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let (connections, authorized) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (c, a) = (connections.clone(), authorized.clone());
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                c.fetch_add(1, Ordering::SeqCst);
                if read_head(&mut sock, 64 << 10).await.to_ascii_lowercase().contains("\r\nauthorization:") {
                    a.fetch_add(1, Ordering::SeqCst);
                }
                sock.write_all(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await
                    .ok();
            }
        });
        Elsewhere { origin, connections, authorized }
    }

    fn assert_untouched(&self) {
        assert_eq!(self.authorized.load(Ordering::SeqCst), 0, "the token reached {}", self.origin);
        assert_eq!(self.connections.load(Ordering::SeqCst), 0, "a request reached {}", self.origin);
    }
}

// ---------------------------------------------------------------------------------------------
// the token stays on the base URL's origin

/// What a proxy may change in an answer: (method, path, JSON body).
type Edit = Arc<dyn Fn(&axum::http::Method, &str, &mut serde_json::Value) + Send + Sync>;

/// Forwards everything to the sandbox, letting `edit` change the JSON answers of 200s. A job
/// URI on the sandbox is rewritten to the proxy, as a reverse proxy does.
async fn proxy(upstream: String, edit: Edit) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let own = format!("http://{}", listener.local_addr().unwrap());
    let base = own.clone();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let (upstream, edit, own) = (upstream.clone(), edit.clone(), own.clone());
        async move {
            let method = req.method().clone();
            let path = req.uri().path().to_owned();
            let pq = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
            let mut r = reqwest::Client::new().request(method.clone(), format!("{upstream}{pq}"));
            for name in ["authorization", "if-match", "content-type"] {
                if let Some(v) = req.headers().get(name) {
                    r = r.header(name, v.clone());
                }
            }
            let body = axum::body::to_bytes(req.into_body(), 1 << 20).await.unwrap();
            let resp = r.body(body).send().await.unwrap();
            let status = resp.status().as_u16();
            let etag = resp.headers().get("etag").cloned();
            let mut body = resp.bytes().await.unwrap().to_vec();
            if status == 200
                && let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&body)
            {
                if let Some(rest) = v.get("job").and_then(|j| j.as_str()).and_then(|j| j.strip_prefix(&upstream)) {
                    v["job"] = format!("{own}{rest}").into();
                }
                edit(&method, &path, &mut v);
                body = serde_json::to_vec(&v).unwrap();
            }
            let mut res = axum::response::Response::new(axum::body::Body::from(body));
            *res.status_mut() = axum::http::StatusCode::from_u16(status).unwrap();
            res.headers_mut().insert("content-type", "application/json".parse().unwrap());
            if let Some(e) = etag {
                res.headers_mut().insert("etag", e);
            }
            res
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    base
}

/// Forwards everything to the sandbox, but the PUT's answer names a job on another origin.
async fn job_elsewhere_proxy(upstream: String, job: String) -> String {
    let edit: Edit = Arc::new(move |method, _, v| {
        if method == axum::http::Method::PUT {
            v["job"] = format!("{job}/group_mapping_jobs/J1").into();
        }
    });
    proxy(upstream, edit).await
}

#[tokio::test]
async fn a_job_uri_on_another_origin_is_refused_before_the_token_is_sent_there() {
    let elsewhere = Elsewhere::start().await;
    let sb = Sandbox::start(Options { job_step: Duration::from_millis(1), rate_limit: 100_000, ..Options::default() })
        .await
        .unwrap();
    let base = job_elsewhere_proxy(sb.base_url().to_owned(), elsewhere.origin.clone()).await;
    let c = Client::with_options(&base, Secret::new(sb.token()), opts()).unwrap();
    let engine = Engine::calendly(c.clone(), &LoadOptions::default());
    let loaded = bounded("load", engine.load(None)).await.unwrap();
    let snap = loaded.snapshot(&Default::default()).unwrap();
    let mut m: Mapping = snap.saved_mapping();
    m.enabled = true;
    for (i, v) in snap.values.iter().enumerate() {
        m.set(v, Target::Group(snap.groups[i % snap.groups.len()].uri.clone()));
    }
    let progress: SaveProgress = Arc::new(|_| {});
    let err = bounded("save", engine.apply(&loaded, &snap, &Default::default(), &m, progress)).await.unwrap_err();
    assert!(matches!(err, SaveError::JobUnknown { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("the address is on {}; groupmap sends the token only to {base}", elsewhere.origin)),
        "{text}"
    );
    elsewhere.assert_untouched();
    sb.shutdown().await;
}

/// A sandbox whose job never moves on (stalled), behind a proxy that makes up the job's numbers
/// (`edit_job` gets the job resource and how many times it was read), and a mapping that moves
/// people. Returns what `apply` said and the number of moves planned.
async fn save_through_job_proxy(
    client_opts: ClientOptions,
    edit_job: impl Fn(&mut serde_json::Value, u64) + Send + Sync + 'static,
) -> (Result<groupmap::engine::SaveOutcome, SaveError>, usize, u64) {
    let faults = groupmap::sandbox::Faults { stalled_job: true, ..Default::default() };
    let sb = Sandbox::start(Options {
        job_step: Duration::from_millis(1),
        rate_limit: 100_000,
        faults,
        ..Options::default()
    })
    .await
    .unwrap();
    let reads = Arc::new(AtomicUsize::new(0));
    let edit: Edit = Arc::new(move |method, path, v| {
        if method == axum::http::Method::GET && path.starts_with("/group_mapping_jobs/") {
            let n = reads.fetch_add(1, Ordering::SeqCst) as u64 + 1;
            edit_job(&mut v["resource"], n);
        }
    });
    let base = proxy(sb.base_url().to_owned(), edit).await;
    let c = Client::with_options(&base, Secret::new(sb.token()), client_opts).unwrap();
    let engine = Engine::calendly(c, &LoadOptions::default());
    let loaded = bounded("load", engine.load(None)).await.unwrap();
    let snap = loaded.snapshot(&Default::default()).unwrap();
    let mut m: Mapping = snap.saved_mapping();
    m.enabled = true;
    for (i, v) in snap.values.iter().enumerate() {
        if m.row(v).is_none() {
            m.set(v, Target::Group(snap.groups[i % snap.groups.len()].uri.clone()));
        }
    }
    let planned = groupmap::domain::plan(&snap, &m).changes.len();
    let progress: SaveProgress = Arc::new(|_| {});
    let result = bounded("save", engine.apply(&loaded, &snap, &Default::default(), &m, progress)).await;
    let version = sb.mapping_version();
    sb.shutdown().await;
    (result, planned, version)
}

#[tokio::test]
async fn a_job_whose_total_is_not_the_planned_moves_is_not_followed() {
    // As reported: the job counts one more per read, out of a total far above the plan.
    let (result, planned, version) = save_through_job_proxy(opts(), |job, n| {
        job["total"] = (job["total"].as_u64().unwrap() + 352).into();
        job["completed"] = (n + 354).into();
    })
    .await;
    let err = result.unwrap_err();
    assert!(matches!(err, SaveError::JobMismatch { .. }), "{err}");
    assert_eq!(err.kind(), groupmap::service::FailureKind::MaybeSaved);
    let text = err.to_string();
    assert!(text.starts_with(&format!("the mapping was saved as version {version}, but the job http")), "{text}");
    assert!(text.contains("/group_mapping_jobs/"), "the job is named: {text}");
    let numbers =
        format!("{planned} move(s) were planned, and the job reports 355 completed and 0 failed of {}", planned + 352);
    assert!(text.contains(&numbers), "{text}");
}

#[tokio::test]
async fn a_job_whose_progress_goes_back_and_forth_is_stalled_not_followed_for_ever() {
    // Neither the count flapping nor the status flipping is progress.
    let o = ClientOptions { job_stall: Duration::from_millis(300), ..opts() };
    let started = Instant::now();
    let (result, _, version) = save_through_job_proxy(o, |job, n| {
        job["completed"] = (n % 2).into();
        job["status"] = if n % 2 == 0 { "queued" } else { "running" }.into();
    })
    .await;
    let err = result.unwrap_err();
    assert!(matches!(err, SaveError::JobStalled { .. }), "{err}");
    assert!(err.to_string().starts_with(&format!("the mapping was saved as version {version}")), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_next_page_url_on_another_origin_never_receives_the_token() {
    let elsewhere = Elsewhere::start().await;
    let other = elsewhere.origin.clone();
    let app = axum::Router::new()
        // Only a URL, on another origin: refused.
        .route(
            "/groups",
            axum::routing::get(move || {
                let other = other.clone();
                async move {
                    axum::Json(serde_json::json!({"collection": [{"uri": "g1"}],
                        "pagination": {"next_page": format!("{other}/groups?page_token=p2")}}))
                }
            }),
        )
        // A token and a URL on another origin (a proxy in front of the API): the token is asked
        // of the base URL, and the URL is followed nowhere.
        .route(
            "/proxied",
            axum::routing::get(
                move |q: axum::extract::Query<std::collections::HashMap<String, String>>| async move {
                    if q.get("page_token").map(String::as_str) == Some("p2") {
                        return axum::Json(serde_json::json!({"collection": [{"uri": "g2"}], "pagination": {}}));
                    }
                    axum::Json(serde_json::json!({"collection": [{"uri": "g1"}],
                        "pagination": {"next_page_token": "p2", "next_page": "http://127.0.0.2:9/proxied?page_token=p2"}}))
                },
            ),
        );
    let base = serve(app).await;
    let c = client(&base, opts());
    let err = bounded("list", c.get_all::<serde_json::Value>("/groups", &[], "groups", None)).await.unwrap_err();
    assert!(matches!(err, ApiError::ForeignOrigin { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "GET /groups: its next page is on {}; groupmap sends the token only to {base}",
            elsewhere.origin
        )),
        "{text}"
    );
    let rows = bounded("list", c.get_all::<serde_json::Value>("/proxied", &[], "rows", None)).await.unwrap();
    assert_eq!(rows.len(), 2);
    elsewhere.assert_untouched();
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_not_followed_nor_blamed_on_the_token() {
    let elsewhere = Elsewhere::start().await;
    let other = elsewhere.origin.clone();
    let app = axum::Router::new()
        .route(
            "/users/me",
            axum::routing::get(
                move || async move { axum::response::Redirect::temporary(&format!("{other}/users/me")) },
            ),
        )
        .route("/old", axum::routing::get(|| async { axum::response::Redirect::permanent("/new") }))
        .route("/new", axum::routing::get(|| async { axum::Json(serde_json::json!({"ok": true})) }));
    let base = serve(app).await;
    let c = client(&base, opts());
    let err = bounded("get", c.get::<serde_json::Value>("/users/me", &[])).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "GET /users/me: the server redirected to {}; groupmap sends the token only to {base}",
            elsewhere.origin
        )),
        "{text}"
    );
    assert!(!text.contains("401") && !text.contains("check the token"), "{text}");
    elsewhere.assert_untouched();
    // A redirect within the origin is still followed.
    let v: serde_json::Value = bounded("get", c.get("/old", &[])).await.unwrap();
    assert_eq!(v["ok"], true);
}

#[tokio::test]
async fn a_path_that_would_move_the_host_is_refused() {
    let elsewhere = Elsewhere::start().await;
    let c = client("http://127.0.0.1:9", opts());
    // Joined naively to the base URL, this names the host 127.0.0.2 (127.0.0.1:9 as user info).
    let host = elsewhere.origin.trim_start_matches("http://");
    let err = bounded("get", c.get::<serde_json::Value>(&format!("@{host}/x"), &[])).await.unwrap_err();
    assert!(matches!(err, ApiError::ForeignOrigin { .. }), "{err}");
    assert!(err.to_string().contains(&format!("the address is on {}", elsewhere.origin)), "{err}");
    elsewhere.assert_untouched();
}

// ---------------------------------------------------------------------------------------------
// an echoed token is redacted before the text is cut

/// A JWT-shaped token of 351 characters, like a Calendly Personal Access Token.
fn long_token() -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut part = |n: usize| -> String {
        (0..n)
            .map(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                alphabet[(x >> 58) as usize] as char
            })
            .collect()
    };
    let token = format!("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ{}.{}", part(267), part(43));
    assert_eq!(token.len(), 351);
    token
}

fn assert_no_piece_of(token: &str, shown: &str) {
    for i in 0..=token.len() - 8 {
        let piece = &token[i..i + 8];
        assert!(!shown.contains(piece), "{piece:?} of the token is shown: {shown}");
    }
}

#[tokio::test]
async fn a_long_token_echoed_in_a_401_is_redacted_whole_before_the_body_is_cut() {
    let token = long_token();
    let t = token.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri, headers: axum::http::HeaderMap| {
        let t = t.clone();
        async move {
            use axum::response::IntoResponse;
            let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            let status = axum::http::StatusCode::UNAUTHORIZED;
            match uri.path() {
                // The token starts about 100 characters in: a cut at 200 used to split it.
                "/text" => (status, format!("{} rejected: {auth}", "x".repeat(80))).into_response(),
                // Only the start of the token, as a server that shortens its echo leaves it.
                "/prefix" => (status, format!("rejected token {}...", &t[..120])).into_response(),
                _ => (
                    status,
                    axum::Json(serde_json::json!({
                        "title": format!("Unauthenticated {}", &t[..40]),
                        "message": format!("{} bad credentials: {auth}", "y".repeat(150)),
                        "details": [{"parameter": t, "message": format!("got {}", &t[..200])},
                                    {"message": format!("Bearer {}", &t[37..300])}],
                    })),
                )
                    .into_response(),
            }
        }
    });
    let base = serve(app).await;
    let c = Client::with_options(&base, Secret::new(token.clone()), opts()).unwrap();
    for path in ["/text", "/prefix", "/json"] {
        let err = bounded("get", c.get::<serde_json::Value>(path, &[])).await.unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with(&format!("GET {path}: 401 Unauth")), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
        assert_no_piece_of(&token, &text);
        assert_no_piece_of(&token, &format!("{err:?}"));
    }
}

#[tokio::test]
async fn other_bearer_and_jwt_shaped_credentials_in_an_error_are_redacted() {
    let app = axum::Router::new().fallback(|| async {
        let body = serde_json::json!({"title": "Forbidden",
            "message": "upstream said: Authorization: Bearer sk_live_0123456789abcdefghij; \
                        session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk \
                        from api.calendly.com"});
        (axum::http::StatusCode::FORBIDDEN, axum::Json(body))
    });
    let base = serve(app).await;
    let err = bounded("get", client(&base, opts()).get::<serde_json::Value>("/x", &[])).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("upstream said: Authorization: Bearer [redacted] session [redacted] from api.calendly.com"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// answers are bounded in size

#[tokio::test]
async fn an_answer_announcing_a_huge_length_is_refused_before_it_is_read() {
    let (base, requests) = raw(|mut sock| async move {
        read_head(&mut sock, 64 << 10).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000000000000\r\n\r\n";
        sock.write_all(head.as_bytes()).await.ok();
        sock.write_all(b"{\"collection\": [").await.ok();
        tokio::time::sleep(BOUND).await;
    })
    .await;
    let c = client(&base, ClientOptions { max_body: 64 << 10, ..opts() });
    let started = Instant::now();
    let err = bounded("get", c.get::<serde_json::Value>("/groups", &[])).await.unwrap_err();
    assert!(matches!(err, ApiError::TooLarge { .. }), "{err}");
    assert!(err.to_string().starts_with("GET /groups: the answer exceeds 64 KiB; stopped reading"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(requests.load(Ordering::SeqCst), 1, "not asked again");
}

/// Sends `chunks` chunks of 16 KiB (bounded), as long as the client reads.
async fn chunked(mut sock: TcpStream, chunks: usize) {
    read_head(&mut sock, 64 << 10).await;
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/csv\r\ntransfer-encoding: chunked\r\n\r\n";
    if sock.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let chunk = format!("4000\r\n{}\r\n", "a,b\n".repeat(4096));
    for _ in 0..chunks {
        if sock.write_all(chunk.as_bytes()).await.is_err() {
            return;
        }
    }
    sock.write_all(b"0\r\n\r\n").await.ok();
}

#[tokio::test]
async fn an_endless_chunked_answer_stops_at_the_cap_and_is_not_asked_again() {
    // 10 GiB if it were read to the end.
    let (base, requests) = raw(|sock| chunked(sock, 640_000)).await;
    let c = client(&base, ClientOptions { max_body: 1 << 20, ..opts() });
    let started = Instant::now();
    let err = bounded("get", c.get::<serde_json::Value>("/groups", &[])).await.unwrap_err();
    assert!(err.to_string().starts_with("GET /groups: the answer exceeds 1 MiB; stopped reading"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert_eq!(requests.load(Ordering::SeqCst), 1, "not asked again");
}

#[tokio::test]
async fn the_user_export_has_its_own_larger_cap() {
    // 2 MiB: over the JSON cap, under the export cap.
    let (base, _) = raw(|sock| chunked(sock, 128)).await;
    let c = client(&base, ClientOptions { max_body: 1 << 20, max_export_body: 4 << 20, ..opts() });
    let export = "/organizations/O/user_export";
    let resp = bounded("export", c.send(reqwest::Method::GET, export, &[], &[], None, true)).await.unwrap();
    assert_eq!(resp.body.len(), 2 << 20);
    let c = client(&base, ClientOptions { max_body: 1 << 20, max_export_body: 1 << 20, ..opts() });
    let err = bounded("export", c.send(reqwest::Method::GET, export, &[], &[], None, true)).await.err().unwrap();
    assert!(err.to_string().starts_with(&format!("GET {export}: the answer exceeds 1 MiB; stopped reading")), "{err}");
}

// ---------------------------------------------------------------------------------------------
// answers are bounded in time

#[tokio::test]
async fn a_body_trickling_past_the_deadline_fails_once_saying_it_is_too_slow() {
    let (base, requests) = raw(|mut sock| async move {
        read_head(&mut sock, 64 << 10).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n";
        sock.write_all(head.as_bytes()).await.ok();
        for _ in 0..100 {
            if sock.write_all(b" ").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
    let c = client(&base, ClientOptions { timeout: Duration::from_millis(500), max_attempts: 4, ..opts() });
    let started = Instant::now();
    let err = bounded("get", c.get::<serde_json::Value>("/groups", &[])).await.unwrap_err();
    assert!(matches!(err, ApiError::TooSlow { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with(
            "GET /groups: the answer was too slow: it began but was not complete within 0.5 s (after 1 attempt)"
        ),
        "{text}"
    );
    assert!(!text.contains("check the base URL and the network"), "{text}");
    assert!(started.elapsed() < Duration::from_millis(1500), "{:?}", started.elapsed());
    assert_eq!(requests.load(Ordering::SeqCst), 1, "not asked again");
}

// ---------------------------------------------------------------------------------------------
// over-long addresses are named as such

#[tokio::test]
async fn a_page_token_over_4_kib_is_refused_naming_the_endpoint() {
    let requests = Arc::new(AtomicUsize::new(0));
    let n = requests.clone();
    let app = axum::Router::new().fallback(move || {
        n.fetch_add(1, Ordering::SeqCst);
        async {
            axum::Json(serde_json::json!({"collection": [{"uri": "g1"}],
                "pagination": {"next_page_token": "t".repeat(1 << 20)}}))
        }
    });
    let base = serve(app).await;
    let c = client(&base, opts());
    let err = bounded("list", c.get_all::<serde_json::Value>("/groups", &[], "groups", None)).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("GET /groups: the server's next page token is 1048576 bytes long, more than the 4 KiB"),
        "{text}"
    );
    assert!(!text.contains("check the base URL and the network"), "{text}");
    assert_eq!(requests.load(Ordering::SeqCst), 1, "the token was not sent back");
}

#[tokio::test]
async fn an_address_too_long_for_the_server_is_named_as_the_cause() {
    // Drops the connection after 8 KiB of request, without answering, as some servers do.
    let (base, requests) = raw(|mut sock| async move {
        read_head(&mut sock, 8 << 10).await;
    })
    .await;
    let c = client(&base, opts());
    let long = format!("/group_mapping_jobs/{}", "j".repeat(20 << 10));
    let err = bounded("get", c.get::<serde_json::Value>(&long, &[])).await.unwrap_err();
    assert!(matches!(err, ApiError::UrlTooLong { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("the request could not be sent whole: its address is 20"), "{text}");
    assert!(text.contains("bytes long, too long for the server"), "{text}");
    assert!(!text.contains("check the base URL and the network"), "{text}");
    assert_eq!(requests.load(Ordering::SeqCst), 1, "not asked again");

    // A server that says so (414) is explained too.
    let app = axum::Router::new().fallback(|| async { (axum::http::StatusCode::URI_TOO_LONG, "") });
    let base = serve(app).await;
    let err = bounded("get", client(&base, opts()).get::<serde_json::Value>(&long, &[])).await.unwrap_err();
    assert!(err.to_string().contains("414 URI Too Long"), "{err}");
    assert!(err.to_string().contains("the request's address is too long for the server"), "{err}");
}

/// A token without a scope gets the scopes it needs named, not a hint about admin roles.
#[test]
fn a_403_for_a_missing_scope_names_the_scopes_not_the_role() {
    let body: groupmap::service::calendly::wire::ApiErrorBody = serde_json::from_str(
        r#"{"title":"Permission Denied","message":"Insufficient scope: This operation requires the scopes listed in the 'required_scopes' array.","required_scopes":["groups:read"]}"#,
    )
    .unwrap();
    let err = ApiError::Status { endpoint: "GET /groups".into(), status: 403, body: Box::new(body) };
    let text = err.to_string();
    assert!(text.contains("the token lacks `groups:read`"), "{text}");
    assert!(!text.contains("admin or owner"), "{text}");
    let role: groupmap::service::calendly::wire::ApiErrorBody =
        serde_json::from_str(r#"{"title":"Permission Denied","message":"You do not have permission"}"#).unwrap();
    let text = ApiError::Status { endpoint: "GET /groups".into(), status: 403, body: Box::new(role) }.to_string();
    assert!(text.contains("admin or owner"), "{text}");
}
