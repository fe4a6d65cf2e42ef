//! The event loop: terminal events and effect results in, one draw per burst out.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use crossterm::event::{Event, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::api::load::LoadOptions;
use crate::api::save::{SaveError, save};
use crate::api::{Client, load};
use crate::app::msg::{FailureKind, SaveFailure};
use crate::app::update::start_load;
use crate::app::{Effect, Model, Msg, update};
use crate::terminal::{Guard, Term};
use crate::ui::{theme::Theme, view};

pub struct Session {
    pub client: Client,
    pub load: LoadOptions,
    pub sandbox: bool,
    pub mouse: bool,
    /// A mapping file to start editing from instead of the saved mapping.
    pub start_mapping: Option<crate::domain::mapping_file::MappingFile>,
}

/// Where unsaved edits of an organization are kept between sessions.
pub fn draft_path(organization: &str) -> PathBuf {
    crate::config::state_dir().join("drafts").join(format!("{}.toml", crate::api::wire::uuid_of(organization)))
}

fn last_organization_file(base_url: &str) -> Option<PathBuf> {
    let name: String = base_url.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    crate::cache::dir().map(|d| d.join(format!("last-organization-{name}")))
}

/// The organization last loaded from this server (when none is configured, it comes from
/// `/users/me`, which the cache cannot wait for).
fn last_organization(base_url: &str) -> Option<String> {
    std::fs::read_to_string(last_organization_file(base_url)?).ok().map(|s| s.trim().to_owned())
}

fn remember_organization(base_url: &str, organization: &str) {
    if let Some(path) = last_organization_file(base_url) {
        let _ = crate::private_file::write(&path, organization.as_bytes());
    }
}

pub async fn run(session: Session) -> Result<()> {
    let (_guard, mut terminal) = Guard::enter(session.mouse)?;
    let result = event_loop(&session, &mut terminal).await;
    drop(_guard);
    result
}

async fn event_loop(session: &Session, terminal: &mut Term) -> Result<()> {
    let theme = Theme::from_env();
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let mut model = Model::new(session.sandbox, session.load.fields.clone());
    model.start_mapping = session.start_mapping.clone();
    let size = terminal.size()?;
    model.size = (size.width, size.height);
    let mut events = EventStream::new();
    let mut loading: Option<JoinHandle<()>> = None;
    let mut save_started: Option<Instant> = None;
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let mut signals = Signals::new()?;

    let fail_hook = std::env::var("GROUPMAP_TEST_FAIL_AFTER_DRAW").ok();
    let mut pending = start_load(&mut model);
    // The last snapshot, if cached, shows at once (marked stale) while the fresh load runs.
    let organization = session.load.organization.clone().or_else(|| last_organization(session.client.base_url()));
    if let Some(cached) = organization.and_then(|org| crate::cache::read_cached(session.client.base_url(), &org)) {
        let age_secs = cached.age().as_secs();
        let _ = tx.send(Msg::Cached { loaded: Arc::new(cached.loaded), age_secs });
    }
    let mut dirty = true;
    loop {
        for effect in pending.drain(..) {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::Redraw => {
                    terminal.clear()?;
                    dirty = true;
                }
                other => run_effect(session, other, &tx, &mut loading, &mut save_started),
            }
        }
        if dirty {
            draw(terminal, &model, &theme)?;
            dirty = false;
            // Test hook (tests/terminal_restore.rs): fail once the editor is up, to check that
            // a panic and an error exit restore the terminal. Not set in normal use.
            if model.phase == crate::app::model::Phase::Ready {
                match fail_hook.as_deref() {
                    Some("panic") => panic!("test hook: GROUPMAP_TEST_FAIL_AFTER_DRAW=panic"),
                    Some("error") => anyhow::bail!("test hook: GROUPMAP_TEST_FAIL_AFTER_DRAW=error"),
                    _ => {}
                }
            }
        }
        let msg = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => match to_msg(ev) {
                    Some(msg) => msg,
                    None => continue,
                },
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            Some(msg) = rx.recv() => msg,
            _ = tick.tick(), if save_started.is_some() => Msg::Tick { elapsed_ms: save_started.map_or(0, |s| s.elapsed().as_millis() as u64) },
            _ = signals.recv() => return Ok(()),
        };
        if matches!(msg, Msg::Saved(_)) {
            save_started = None;
        }
        pending = update(&mut model, msg);
        // Drain whatever else is ready so a burst costs one frame.
        while let Ok(msg) = rx.try_recv() {
            if matches!(msg, Msg::Saved(_)) {
                save_started = None;
            }
            pending.extend(update(&mut model, msg));
        }
        dirty = true;
    }
}

fn draw(terminal: &mut Term, model: &Model, theme: &Theme) -> Result<()> {
    let mut out = std::io::stdout();
    crossterm::queue!(out, BeginSynchronizedUpdate)?;
    terminal.draw(|f| view(model, f, theme))?;
    crossterm::execute!(out, EndSynchronizedUpdate)?;
    Ok(())
}

fn to_msg(ev: Event) -> Option<Msg> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => Some(Msg::Key(k)),
        Event::Resize(w, h) => Some(Msg::Resize(w, h)),
        Event::Mouse(m) => {
            let code = match m.kind {
                MouseEventKind::ScrollDown => KeyCode::Down,
                MouseEventKind::ScrollUp => KeyCode::Up,
                _ => return None,
            };
            Some(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
        }
        _ => None,
    }
}

fn run_effect(
    session: &Session,
    effect: Effect,
    tx: &mpsc::UnboundedSender<Msg>,
    loading: &mut Option<JoinHandle<()>>,
    save_started: &mut Option<Instant>,
) {
    match effect {
        Effect::Load { id } => {
            if let Some(h) = loading.take() {
                h.abort();
            }
            let (client, opts, tx) = (session.client.clone(), session.load.clone(), tx.clone());
            *loading = Some(tokio::spawn(async move {
                let ptx = tx.clone();
                let progress: crate::api::Progress = Arc::new(move |what: &str, n: usize| {
                    drop(ptx.send(Msg::LoadProgress { id, what: what.to_owned(), n }))
                });
                let result = load(&client, &opts, Some(progress)).await.map(Arc::new).map_err(|e| e.to_string());
                if let Ok(loaded) = &result {
                    // Best effort: a cache that cannot be written only costs the next start its head start.
                    let _ = crate::cache::write(loaded);
                    remember_organization(&loaded.base_url, &loaded.organization);
                }
                let _ = tx.send(Msg::Loaded { id, result });
            }));
        }
        Effect::CancelLoad => {
            if let Some(h) = loading.take() {
                h.abort();
            }
        }
        Effect::Save { snap, etag, mapping, fields } => {
            *save_started = Some(Instant::now());
            let (client, tx) = (session.client.clone(), tx.clone());
            let opts = LoadOptions { fields, ..session.load.clone() };
            tokio::spawn(async move {
                let ptx = tx.clone();
                let progress: crate::api::save::SaveProgress =
                    Arc::new(move |stage| drop(ptx.send(Msg::SaveProgress(stage))));
                let result = save(&client, &snap, &etag, &mapping, &opts, progress).await;
                let msg = match result {
                    Ok(outcome) => Ok(Box::new(outcome)),
                    Err(e) => Err(SaveFailure { kind: failure_kind(&e), message: e.to_string() }),
                };
                let _ = tx.send(Msg::Saved(msg));
            });
        }
        Effect::ReadDraft { organization } => {
            let text = std::fs::read_to_string(draft_path(&organization)).ok();
            let _ = tx.send(Msg::Draft(text));
        }
        Effect::WriteDraft { organization, text } => {
            let path = draft_path(&organization);
            if let Err(e) = crate::private_file::write(&path, text.as_bytes()) {
                let _ = tx.send(Msg::Notice {
                    text: format!("could not write the draft {}: {e}", path.display()),
                    error: true,
                });
            }
        }
        Effect::DeleteDraft { organization } => {
            let _ = std::fs::remove_file(draft_path(&organization));
        }
        Effect::FilterPreview { id, lines, needle, narrow } => {
            let tx = tx.clone();
            tokio::task::spawn_blocking(move || {
                let filtered =
                    crate::app::filter::substring(|i| lines[i].text.as_str(), lines.len(), &needle, narrow.as_deref());
                let _ = tx.send(Msg::PreviewFiltered { id, needle, filtered });
            });
        }
        Effect::Redraw | Effect::Quit => {}
    }
}

/// What a failed save means for the editor: whether to reload and what to call it.
fn failure_kind(e: &SaveError) -> FailureKind {
    match e {
        SaveError::MappingChanged { .. } | SaveError::PreviewStale { .. } | SaveError::GroupExists { .. } => {
            FailureKind::Changed
        }
        SaveError::JobFailed { .. }
        | SaveError::NotVerified { .. }
        | SaveError::JobStalled { .. }
        | SaveError::JobUnknown { .. }
        | SaveError::SavedUnconfirmed { .. }
        | SaveError::Unknown { .. }
        | SaveError::Reload(_) => FailureKind::MaybeSaved,
        SaveError::ReadOnly | SaveError::Invalid(_) | SaveError::NotSaved { .. } | SaveError::Api(_) => {
            FailureKind::NotSaved
        }
    }
}

/// SIGHUP (the SSH link dropped), SIGTERM, and SIGINT/SIGQUIT sent from outside (in raw mode
/// the keys do not raise them) end the loop so the terminal is restored.
struct Signals {
    hup: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    quit: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            hup: signal(SignalKind::hangup())?,
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            quit: signal(SignalKind::quit())?,
        })
    }

    async fn recv(&mut self) {
        tokio::select! {
            _ = self.hup.recv() => {}
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
            _ = self.quit.recv() => {}
        }
    }
}
