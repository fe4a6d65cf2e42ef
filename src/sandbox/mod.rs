//! The bundled sandbox server: a Calendly-style API (assets/openapi.yaml) on loopback, serving the
//! demo organization (assets/demo) or a generated one, with test controls for fault modes.

mod clock;
mod error;
mod export;
mod faults;
mod gate;
pub mod idp;
mod jobs;
mod paging;
mod provisioning;
mod ratelimit;
mod render;
mod routes;
mod scope;
mod seed;
mod state;
mod uris;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use error::{ApiError, ApiResult};
use paging::PageKey;
use ratelimit::RateLimit;
use state::OrgState;

pub use faults::Faults;

pub struct Options {
    pub listen: SocketAddr,
    /// Bearer token required on every request.
    pub token: String,
    /// None: the demo organization; Some(n): a generated one with n people.
    pub users: Option<usize>,
    /// For generated organizations (deterministic).
    pub seed: u64,
    /// Requests per window per token.
    pub rate_limit: u32,
    /// The rate limit's window: Calendly's is 60 s; tests shorten it.
    pub rate_window: Duration,
    /// Loaded from when it exists; written (atomically) after every change.
    pub state_file: Option<PathBuf>,
    /// Delay between job batches.
    pub job_step: Duration,
    /// Like real Calendly: the mapping, export, job and `POST /groups` endpoints answer 404.
    pub read_only: bool,
    /// Fault modes (all off by default); `Sandbox::set_faults` re-arms them.
    pub faults: Faults,
    /// The identity providers' fakes (`/okta/...`, `/entra/...`, `/onelogin/...`).
    pub idp: idp::Options,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            token: "sandbox-token".into(),
            users: None,
            seed: 1,
            rate_limit: 500,
            rate_window: ratelimit::WINDOW,
            state_file: None,
            job_step: Duration::from_millis(20),
            read_only: false,
            faults: Faults::default(),
            idp: idp::Options::default(),
        }
    }
}

/// Why the state file could not be written: the sandbox goes on, its changes kept in memory only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateError {
    pub path: PathBuf,
    pub cause: String,
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot keep its state in {}: {}", self.path.display(), self.cause)
    }
}

/// Changes a job applies per step.
const JOB_BATCH: usize = 25;

/// What the handlers share.
pub(crate) struct Shared {
    base: String,
    token: String,
    read_only: bool,
    job_step: Duration,
    org_uuid: String,
    state: Mutex<OrgState>,
    state_file: Option<PathBuf>,
    /// Serializes state-file writes so the last change is the one on disk.
    writer: Mutex<()>,
    /// The last write's failure, None once a write succeeds. Recorded, never printed: embedded,
    /// the sandbox shares the terminal with the editor, which tells it its own way.
    state_error: tokio::sync::watch::Sender<Option<StateError>>,
    limiter: Mutex<RateLimit>,
    /// Requests still to fail, and with which status.
    faults: Mutex<(u32, u16)>,
    /// The fault modes, as they are used up.
    faults_armed: Mutex<faults::Armed>,
    requests: AtomicU64,
    rate_limited: AtomicU64,
    page_key: PageKey,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

/// Locks, shrugging off poisoning: a panicked handler must not take the sandbox down.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, OrgState> {
        lock(&self.state)
    }

    fn uris(&self) -> state::Uris<'_> {
        state::Uris { base: &self.base, org: &self.org_uuid }
    }

    /// The provisioning endpoints do not exist on a read-only (Calendly-like) server.
    fn provisioning(&self) -> ApiResult<()> {
        if self.read_only {
            return Err(ApiError::not_found("The requested resource was not found."));
        }
        Ok(())
    }

    /// Writes the state file, if there is one. A failed write is recorded (see `state_error`),
    /// not fatal.
    fn persist(&self) {
        let Some(path) = &self.state_file else { return };
        let _w = lock(&self.writer);
        let bytes = self.state().to_json();
        let now = crate::private_file::write(path, &bytes)
            .err()
            .map(|e| StateError { path: path.clone(), cause: e.to_string() });
        // Only a change wakes whoever watches: a job rewrites the file every few seconds.
        self.state_error.send_if_modified(|last| {
            let changed = *last != now;
            *last = now;
            changed
        });
    }

    /// The fault modes in force (a copy).
    fn faults(&self) -> Faults {
        lock(&self.faults_armed).faults.clone()
    }

    /// Bumps the mapping version as another admin's save would.
    fn bump_version_as_someone_else(&self, st: &mut OrgState) {
        let other = st
            .members
            .iter()
            .find(|m| m.role == "admin" && m.user.uuid != st.me)
            .map_or_else(|| st.me.clone(), |m| m.user.uuid.clone());
        st.mapping.version += 1;
        st.mapping.updated_at = Some(st.stamp());
        st.mapping.updated_by = Some(other);
    }

    fn spawn(&self, task: JoinHandle<()>) {
        let mut tasks = lock(&self.tasks);
        tasks.retain(|t| !t.is_finished());
        tasks.push(task);
    }
}

/// A person for `Sandbox::add_person`.
#[derive(Clone, Copy, Debug, Default)]
pub struct NewPerson<'a> {
    pub invitee: bool,
    pub name: &'a str,
    pub email: &'a str,
    pub idp_value: Option<&'a str>,
    /// Member group name.
    pub group: Option<&'a str>,
}

/// A running sandbox server.
pub struct Sandbox {
    shared: Arc<Shared>,
    fakes: idp::Fakes,
    server: Option<JoinHandle<()>>,
    stop: Option<oneshot::Sender<()>>,
}

impl Sandbox {
    pub async fn start(opts: Options) -> anyhow::Result<Sandbox> {
        let loaded = match &opts.state_file {
            Some(p) => OrgState::load(p)?,
            None => None,
        };
        let fresh = loaded.is_none();
        let state = loaded.unwrap_or_else(|| match opts.users {
            None => seed::demo(),
            Some(n) => seed::generated(n, opts.seed),
        });
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .with_context(|| format!("binding the sandbox to {}", opts.listen))?;
        let addr = listener.local_addr()?;
        // A wildcard listen address is reachable on loopback; URIs must name a real host.
        let ip = match addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let base = format!("http://{}", SocketAddr::new(ip, addr.port()));
        let fakes = idp::Fakes::new(opts.idp, &state);
        let unfinished: Vec<String> = state.jobs.iter().filter(|j| !j.finished()).map(|j| j.uuid.clone()).collect();
        let shared = Arc::new(Shared {
            page_key: PageKey::new(&["groupmap-sandbox-pages", &state.org_uuid, &opts.token]),
            base,
            token: opts.token,
            read_only: opts.read_only,
            job_step: opts.job_step,
            org_uuid: state.org_uuid.clone(),
            state: Mutex::new(state),
            state_file: opts.state_file,
            writer: Mutex::new(()),
            state_error: tokio::sync::watch::Sender::new(None),
            limiter: Mutex::new(RateLimit::new(opts.rate_limit, opts.rate_window)),
            faults: Mutex::new((0, 500)),
            faults_armed: Mutex::new(faults::Armed::new(opts.faults)),
            requests: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            tasks: Mutex::new(Vec::new()),
        });
        if fresh {
            shared.persist();
        }
        for job in unfinished {
            jobs::spawn(&shared, job);
        }
        let app = fakes.mount(routes::router(shared.clone()));
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                stopped.await.ok();
            });
            if let Err(e) = serve.await {
                eprintln!("sandbox: server stopped: {e}");
            }
        });
        Ok(Sandbox { shared, fakes, server: Some(server), stop: Some(stop) })
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn base_url(&self) -> &str {
        &self.shared.base
    }

    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// The fake Okta org (its test controls: tokens, rate limit, faults, users).
    pub fn okta(&self) -> &idp::okta::Fake {
        &self.fakes.okta
    }

    /// The fake Okta org's URL (what `--idp-url` names for a real one).
    pub fn okta_url(&self) -> String {
        format!("{}{}", self.shared.base, idp::okta::PREFIX)
    }

    /// The fake Entra ID tenant (its test controls: secret, tokens, rate limit, faults, users).
    pub fn entra(&self) -> &idp::entra::Fake {
        &self.fakes.entra
    }

    /// The fake tenant's Microsoft Graph (what `--idp-url` names; Microsoft's by default).
    pub fn entra_url(&self) -> String {
        format!("{}{}/graph", self.shared.base, idp::entra::PREFIX)
    }

    /// The fake tenant's token endpoint (`--idp-token-url`).
    pub fn entra_token_url(&self) -> String {
        format!("{}{}/login/{}/oauth2/v2.0/token", self.shared.base, idp::entra::PREFIX, idp::entra::TENANT_ID)
    }

    /// The fake OneLogin account (its test controls).
    pub fn onelogin(&self) -> &idp::onelogin::Fake {
        &self.fakes.onelogin
    }

    /// The fake OneLogin account's URL (what `--idp-url` names for a real one).
    pub fn onelogin_url(&self) -> String {
        format!("{}{}", self.shared.base, idp::onelogin::PREFIX)
    }

    pub fn organization(&self) -> String {
        self.shared.uris().org()
    }

    /// Why the last write of the state file failed; None when it succeeded (or there is no file).
    /// The file the sandbox keeps its state in, if any.
    pub fn state_file(&self) -> Option<&std::path::Path> {
        self.shared.state_file.as_deref()
    }

    pub fn state_error(&self) -> Option<StateError> {
        self.shared.state_error.borrow().clone()
    }

    /// The same, as it changes.
    pub fn watch_state_error(&self) -> tokio::sync::watch::Receiver<Option<StateError>> {
        self.shared.state_error.subscribe()
    }

    /// The next `n` requests (any endpoint, after authentication) answer `status` with a
    /// proper error body.
    pub fn fail_next(&self, n: u32, status: u16) {
        *lock(&self.shared.faults) = (n, status);
    }

    /// Bumps the mapping version as if another admin saved it: a later PUT with the old
    /// `If-Match` gets 412.
    pub fn someone_else_saves(&self) {
        {
            let mut st = self.shared.state();
            self.shared.bump_version_as_someone_else(&mut st);
        }
        self.shared.persist();
    }

    /// Replaces the fault modes (counted faults start counting again).
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.shared.faults_armed) = faults::Armed::new(faults);
    }

    /// Adds an active member (or, with `invitee`, a pending invitee) with this name, email, IdP
    /// value and member group (by name), as the IdP would provision them. For tests with data the
    /// demo does not have (hostile names, odd values).
    ///
    /// Panics when the group does not exist: it is a test control.
    pub fn add_person(&self, person: NewPerson<'_>) {
        {
            let mut st = self.shared.state();
            st.add_person(&person);
        }
        self.shared.persist();
    }

    /// Adds a group with this name (any text: for tests with hostile names).
    pub fn add_group(&self, name: &str) -> String {
        let uri = {
            let mut st = self.shared.state();
            let uuid = st.add_group(name).uuid.clone();
            self.shared.uris().group(&uuid)
        };
        self.shared.persist();
        uri
    }

    /// The current mapping version.
    pub fn mapping_version(&self) -> u64 {
        self.shared.state().mapping.version
    }

    /// Moves an owner (member or pending invitee, by email) into a group (by name), as if
    /// someone else did: the client's preview digest goes stale.
    ///
    /// Panics when there is no such person or group: it is a test control.
    pub fn move_member(&self, email: &str, group_name: &str) {
        {
            let mut st = self.shared.state();
            let (owner, group) = owner_and_group(&st, email, group_name);
            st.move_members(&[(owner, group)]);
        }
        self.shared.persist();
    }

    /// Adds a second (or further) `member` relationship for an owner (by email) to a group (by
    /// name), breaking Calendly's rule of one member group per user, as a broken server would.
    ///
    /// Panics when there is no such person or group: it is a test control.
    pub fn add_member_relationship(&self, email: &str, group_name: &str) {
        {
            let mut st = self.shared.state();
            let (owner, group) = owner_and_group(&st, email, group_name);
            st.add_member_relationship(owner, group);
        }
        self.shared.persist();
    }

    /// Requests served (every one, including refused ones).
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// 429 answers sent.
    pub fn rate_limited(&self) -> u64 {
        self.shared.rate_limited.load(Ordering::Relaxed)
    }

    /// The name of the group this member or pending invitee is a member of.
    pub fn member_group_of(&self, email: &str) -> Option<String> {
        let st = self.shared.state();
        let owner = st.owner_by_email(email)?;
        let groups = st.member_groups();
        let uuid = groups.get(&owner)?;
        st.group(uuid).map(|g| g.name.clone())
    }

    /// The server's own view, as a client would build it from the API (without the saved
    /// mapping on a read-only server, like a client reading real Calendly).
    pub fn snapshot(&self) -> crate::domain::Snapshot {
        self.shared.state().snapshot(&self.shared.base, !self.shared.read_only).0
    }

    pub async fn shutdown(mut self) {
        self.stop_tasks();
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(mut server) = self.server.take() {
            // Idle keep-alive connections can hold a graceful shutdown open; do not wait long.
            if tokio::time::timeout(Duration::from_secs(2), &mut server).await.is_err() {
                server.abort();
            }
        }
    }

    fn stop_tasks(&self) {
        for t in lock(&self.shared.tasks).drain(..) {
            t.abort();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop_tasks();
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// A test control's owner (by email) and group (by name); panics when either is missing.
fn owner_and_group(st: &state::OrgState, email: &str, group_name: &str) -> (state::OwnerRef, String) {
    let owner = st.owner_by_email(email).unwrap_or_else(|| panic!("sandbox: no member or invitee {email}"));
    let group = st.group_by_name(group_name).unwrap_or_else(|| panic!("sandbox: no group named {group_name:?}"));
    (owner, group.uuid.clone())
}
