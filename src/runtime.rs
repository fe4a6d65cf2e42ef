//! The event loop: terminal events and effect results in, one draw per burst out.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Result;
use crossterm::event::{Event, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::app::msg::SaveFailure;
use crate::app::update::start_load;
use crate::app::{Effect, Model, Msg, update};
use crate::domain::FieldChoice;
use crate::engine::Engine;
use crate::service::{Progress, SaveProgress};
use crate::store::Store;
use crate::terminal::{Guard, Term};
use crate::ui::{theme::Theme, view};

pub struct Session {
    pub engine: Engine,
    pub store: Store,
    /// The columns asked for (else detected from the headers).
    pub fields: FieldChoice,
    pub sandbox: bool,
    pub mouse: bool,
    /// The debug seam (see `debug_seam`); None in normal use.
    pub fail_after_draw: Option<crate::debug_seam::FailAfterDraw>,
    /// A mapping file to start editing from instead of the saved mapping.
    pub start_mapping: Option<crate::domain::mapping_file::MappingFile>,
    /// The in-process sandbox's trouble keeping its state, when the session runs on one.
    pub sandbox_state: Option<StateErrors>,
    /// The file the in-process sandbox keeps its changes in.
    pub sandbox_file: Option<std::path::PathBuf>,
}

pub type StateErrors = tokio::sync::watch::Receiver<Option<crate::sandbox::StateError>>;

/// How the editor ended: normally, or during a save, with what is known of it.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    Quit,
    DuringSave(String),
}

/// Runs the editor; the terminal is restored before this returns.
pub async fn run(session: Session) -> Result<Ended> {
    let (_guard, mut terminal) = Guard::enter(session.mouse)?;
    let result = event_loop(&session, &mut terminal).await;
    drop(_guard);
    result
}

async fn event_loop(session: &Session, terminal: &mut Term) -> Result<Ended> {
    let theme = Theme::from_env();
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let mut model = Model::new(session.sandbox, session.fields.clone());
    model.start_mapping = session.start_mapping.clone();
    model.sandbox_kept = session.sandbox_file.as_deref().map(shown_path);
    model.handoff_dir = Some(shown_path(&session.store.handoff_dir()));
    let size = terminal.size()?;
    model.size = (size.width, size.height);
    let mut events = EventStream::new();
    let mut loading: Option<JoinHandle<()>> = None;
    let mut save_started: Option<Instant> = None;
    let filtering = Filtering::default();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    let mut signals = Signals::new()?;
    let mut sandbox_state = session.sandbox_state.clone();

    let mut fail_after_draw = session.fail_after_draw;
    let mut pending = start_load(&mut model);
    // The last snapshot, if cached, shows at once (marked stale) while the fresh load runs.
    let base_url = session.engine.base_url();
    let organization =
        session.engine.configured_organization().map(str::to_owned).or_else(|| session.store.last_organization());
    // The cache holds Calendly's export only: values read from an identity provider are not shown from it.
    let cacheable = !session.engine.reads_idp();
    // Read off the loop, so that the first frame does not wait for the file.
    if let Some(org) = organization.filter(|_| cacheable) {
        let (store, engine, base_url, tx) =
            (session.store.clone(), session.engine.clone(), base_url.to_owned(), tx.clone());
        tokio::task::spawn_blocking(move || match store.read_cache_checked(&base_url, &org) {
            Ok(Some(mut cached)) => {
                let age_secs = cached.age().as_secs();
                // The table of record is the store's, not the cache's; the fresh load reports its trouble.
                let _ = engine.read_table_of_record(&mut cached.organization);
                let _ = tx.send(Msg::Cached { loaded: Arc::new(cached.organization), age_secs });
            }
            Ok(None) => {}
            Err(ignored) => {
                let _ = tx.send(Msg::Notice { text: ignored.to_string(), error: false });
            }
        });
    }
    let mut dirty = true;
    loop {
        for effect in pending.drain(..) {
            match effect {
                Effect::Quit => return Ok(Ended::Quit),
                Effect::Abandon { message } => return Ok(Ended::DuringSave(message)),
                Effect::Redraw => {
                    terminal.clear()?;
                    dirty = true;
                }
                other => run_effect(session, other, &tx, &mut loading, &mut save_started, &filtering),
            }
        }
        if dirty
            && model.status.is_none()
            && let Some(text) = sandbox_notice(sandbox_state.as_ref())
        {
            pending.extend(update(&mut model, Msg::Notice { text, error: true }));
        }
        if dirty {
            draw(terminal, &model, &theme)?;
            dirty = false;
            if model.ready()
                && let Some(fail) = fail_after_draw.take()
            {
                fail.fail()?;
            }
        }
        let msg = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => match to_msg(ev) {
                    Some(msg) => msg,
                    None => continue,
                },
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(Ended::Quit),
            },
            Some(msg) = rx.recv() => msg,
            _ = tick.tick(), if save_started.is_some() => Msg::Tick { elapsed_ms: save_started.map_or(0, |s| s.elapsed().as_millis() as u64) },
            // Ended from outside: a save running is said, as for C-c.
            _ = signals.recv() => return Ok(model.interrupted_save().map_or(Ended::Quit, Ended::DuringSave)),
            open = state_changed(&mut sandbox_state) => {
                if !open {
                    sandbox_state = None;
                }
                dirty = true;
                continue;
            }
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

/// A path as the status line shows it: under the home directory, from `~`.
fn shown_path(path: &std::path::Path) -> String {
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from).filter(|h| !h.as_os_str().is_empty());
    match home.and_then(|h| path.strip_prefix(&h).ok().map(std::path::Path::to_owned)) {
        Some(rest) => format!("~/{}", rest.display()),
        None => path.display().to_string(),
    }
}

/// The sandbox's state trouble is not a passing message: every change it takes is lost at quit.
/// So it comes back on the status line whenever nothing else is said there.
fn sandbox_notice(state: Option<&StateErrors>) -> Option<String> {
    let e = state?.borrow().clone()?;
    Some(format!("the bundled sandbox keeps changes only until you quit: it {e}"))
}

/// Whether the sandbox's state trouble changed (false: the sandbox is gone); never, without one.
async fn state_changed(state: &mut Option<StateErrors>) -> bool {
    match state {
        Some(rx) => rx.changed().await.is_ok(),
        None => std::future::pending().await,
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
        Event::Paste(text) => Some(Msg::Paste(text)),
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

/// The newest filter request of each list filtered off the input path: an older pass still
/// running sees it and stops.
#[derive(Default)]
struct Filtering {
    preview: Arc<AtomicU64>,
    values: Arc<AtomicU64>,
}

impl Filtering {
    /// Marks `id` the newest of `latest`; the pass's stop test.
    fn start(latest: &Arc<AtomicU64>, id: u64) -> impl Fn() -> bool + Sync + Send + 'static {
        latest.store(id, Ordering::Relaxed);
        let latest = latest.clone();
        move || latest.load(Ordering::Relaxed) != id
    }
}

fn run_effect(
    session: &Session,
    effect: Effect,
    tx: &mpsc::UnboundedSender<Msg>,
    loading: &mut Option<JoinHandle<()>>,
    save_started: &mut Option<Instant>,
    filtering: &Filtering,
) {
    match effect {
        Effect::Load { id } => {
            if let Some(h) = loading.take() {
                h.abort();
            }
            let (engine, store, tx) = (session.engine.clone(), session.store.clone(), tx.clone());
            *loading = Some(tokio::spawn(async move {
                let ptx = tx.clone();
                let progress = Progress::new(move |status: &crate::service::LoadStatus| {
                    drop(ptx.send(Msg::LoadProgress { id, status: status.clone() }))
                });
                // The time left counts down between pages too (a rate-limit wait is long).
                let load = engine.load(Some(progress.clone()));
                let mut load = std::pin::pin!(load);
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
                let result = loop {
                    tokio::select! {
                        done = &mut load => break done,
                        _ = tick.tick() => progress.tick(),
                    }
                };
                let result = result.map(Arc::new).map_err(|e| e.to_string());
                if let Ok(loaded) = &result {
                    // Best effort: a cache that cannot be written only costs the next start its head start.
                    let _ = store.write_cache(loaded);
                }
                let _ = tx.send(Msg::Loaded { id, result });
            }));
        }
        Effect::CancelLoad => {
            if let Some(h) = loading.take() {
                h.abort();
            }
        }
        Effect::Save { org, snap, fields, mapping } => {
            *save_started = Some(Instant::now());
            let (engine, store, tx) = (session.engine.clone(), session.store.clone(), tx.clone());
            tokio::spawn(async move {
                let ptx = tx.clone();
                let organization = org.uri().to_owned();
                // What the save has done is on disk until it ends: a session killed meanwhile is
                // told of at the next start.
                let reached = std::sync::Mutex::new(Vec::new());
                let (recorder, at) = (store.clone(), organization.clone());
                let _ = recorder.record_save(&at, &crate::service::stage::interrupted(&[]));
                let progress: SaveProgress = Arc::new(move |stage| {
                    let mut r = reached.lock().expect("stages");
                    r.push(stage.clone());
                    let _ = recorder.record_save(&at, &crate::service::stage::interrupted(&r));
                    drop(ptx.send(Msg::SaveProgress(stage)));
                });
                let result = engine.apply(&org, &snap, &fields, &mapping, progress).await;
                store.end_save(&organization);
                let msg = match result {
                    Ok(outcome) => Ok(Box::new(outcome)),
                    Err(e) => Err(SaveFailure { kind: e.kind(), message: e.to_string() }),
                };
                let _ = tx.send(Msg::Saved(msg));
            });
        }
        Effect::ReadDrafts { organization } => {
            let interrupted = session.store.interrupted_saves(&organization);
            let _ = tx.send(Msg::Drafts { drafts: session.store.other_drafts(&organization), interrupted });
        }
        Effect::WriteDraft { organization, text } => {
            let written = session
                .store
                .write_draft(&organization, &text)
                .map_err(|e| format!("could not write {}: {e}", session.store.draft_path(&organization).display()));
            let _ = tx.send(Msg::DraftWritten(written));
        }
        Effect::DeleteDraft { organization } => {
            session.store.delete_draft(&organization);
        }
        Effect::DeleteDraftFile { path } => session.store.delete_draft_file(&path),
        Effect::SetAsideDraft { path } => {
            if let Err(e) = session.store.set_aside(&path) {
                let text = format!("could not move the unreadable draft {} aside: {e}", path.display());
                let _ = tx.send(Msg::Notice { text, error: true });
            }
        }
        effect @ (Effect::FilterPreview { id, .. } | Effect::FilterValues { id, .. }) => {
            let latest =
                if matches!(effect, Effect::FilterPreview { .. }) { &filtering.preview } else { &filtering.values };
            let stop = Filtering::start(latest, id);
            let tx = tx.clone();
            // A pass a newer pattern overtook stops and sends nothing.
            tokio::task::spawn_blocking(move || {
                if let Some(answer) = crate::app::update::filter_work(effect, &stop) {
                    let _ = tx.send(answer);
                }
            });
        }
        Effect::Clipboard { sequence } => {
            // Between frames, straight to the terminal: it (or tmux with set-clipboard on)
            // puts the text on the clipboard of the machine the admin sits at.
            use std::io::Write;
            let mut out = std::io::stdout();
            if let Err(e) = out.write_all(sequence.as_bytes()).and_then(|()| out.flush()) {
                let _ =
                    tx.send(Msg::Notice { text: format!("could not write to the terminal to copy: {e}"), error: true });
            }
        }
        Effect::WriteHandoff { organization, toml, csv } => {
            let now = time::OffsetDateTime::now_utc();
            let written = session
                .store
                .write_handoff(&organization, &toml, &csv, now)
                .map_err(|e| format!("{}: {e}", crate::store::state_dir().join("handoff").display()));
            let _ = tx.send(Msg::HandoffWritten(written));
        }
        Effect::RecordTable { organization, toml } => {
            let now = time::OffsetDateTime::now_utc();
            let recorded = session.store.record_table(&organization, &toml, now).map_err(|e| e.to_string());
            let _ = tx.send(Msg::TableRecorded(recorded));
        }
        Effect::Redraw | Effect::Quit | Effect::Abandon { .. } => {}
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::sandbox::StateError;

    #[test]
    fn the_sandbox_notice_names_the_path_and_what_it_means() {
        let (tx, rx) = tokio::sync::watch::channel(None);
        assert_eq!(super::sandbox_notice(Some(&rx)), None);
        assert_eq!(super::sandbox_notice(None), None);
        tx.send_replace(Some(StateError { path: PathBuf::from("/ro/sandbox-state.json"), cause: "denied".into() }));
        assert_eq!(
            super::sandbox_notice(Some(&rx)).as_deref(),
            Some(
                "the bundled sandbox keeps changes only until you quit: it cannot keep its state in /ro/sandbox-state.json: denied"
            )
        );
    }
}
