//! The headless command line: `plan`, `apply`, `mapping export|check|record|infer`, `sandbox`.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Result, bail};
use clap::Parser;

use crate::domain::finding::Severity;
use crate::domain::mapping_file::FileErrors;
use crate::domain::mapping_file::to_toml;
use crate::domain::{Mapping, Snapshot, plan};
use crate::engine::Organization;
use crate::report as view;
use crate::sandbox::{self, Sandbox};
use crate::service::{SaveError, SaveStage};

mod args;
mod check;
mod connection;
mod infer;
mod progress;
mod table;

pub use args::{Cli, Command, EditorArgs, Format, Global, MappingCommand, SandboxArgs};
pub use connection::Connection;

/// Writes results to stdout; a closed pipe (`| head`) ends output quietly instead of panicking.
fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let editor = matches!(cli.command, None | Some(Command::Tui(_)) | Some(Command::Demo(_)));
    let log = match crate::logging::init(cli.global.verbose, editor) {
        Ok(log) => log,
        Err(e) => {
            eprintln!("{}: {e:#}", Severity::Error.label());
            return ExitCode::from(1);
        }
    };
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = rt.block_on(run(cli));
    // The editor has given the terminal back: the log it wrote can be named now.
    if let Some(path) = log {
        eprintln!("The request log is in {}", path.display());
    }
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let error = Severity::Error.label();
            match e.downcast_ref::<FileErrors>() {
                // One line per problem, each labelled.
                Some(problems) => problems.0.iter().for_each(|p| eprintln!("{error}: {p}")),
                None => eprintln!("{error}: {e:#}"),
            }
            ExitCode::from(1)
        }
    }
}

/// The mapping a command works on: the file's, resolved, or the one compared with (the service's
/// saved table, or the table of record where the service shows none).
fn mapping_for(
    conn: &Connection,
    org: &Organization,
    snap: &Snapshot,
    file: Option<&Path>,
    no_apply_existing: bool,
) -> Result<Mapping> {
    let mut m = match file {
        Some(p) => conn.read_mapping(p)?.resolve(snap)?,
        None => match &snap.saved {
            Some(saved) => saved.mapping.clone(),
            None => bail!("{}", no_table(snap, conn.label(org))),
        },
    };
    if no_apply_existing {
        m.apply_to_existing = false;
    }
    Ok(m)
}

/// Where the service shows no table and none is recorded: the three ways forward.
fn no_table(snap: &Snapshot, label: view::Context) -> String {
    format!(
        "{} does not show the group-mapping table it holds (Calendly keeps it in the admin center), and no table of \
         record is kept for it, so there is nothing to compare with. Either:\n  \
         - plan a mapping file: --mapping FILE\n  \
         - record the table entered in the admin center, once: groupmap mapping record FILE\n  \
         - write the table inferred from where users already are, to check and record: groupmap mapping infer -o FILE",
        view::org_label(snap, label)
    )
}

/// On a service that shows no table, who is not where the table compared with puts them.
fn drift_note(snap: &Snapshot, p: &crate::domain::Plan, file: Option<&Path>) -> Option<String> {
    if !p.enabled || p.changes.is_empty() {
        return None;
    }
    let table = match (file, &snap.saved) {
        (Some(f), _) => f.display().to_string(),
        (None, Some(saved)) => saved.described(),
        (None, None) => return None,
    };
    let mut note = format!(
        "{}: {} user(s) are not where {table} puts them (they moved since, or the table in the admin center is \
         not that one)",
        Severity::Warning.label(),
        p.changes.len()
    );
    if !p.new_groups.is_empty() {
        note.push_str(&format!("; it names {}", view::groups_calendly_lacks(&p.new_groups)));
    }
    Some(note)
}

/// The command to run. The global options may come before a command (`groupmap --config F tui`);
/// the editor's (`--mouse`, `--mapping`) before `tui` or `demo` are that editor's, and before
/// another command they are refused rather than ignored.
fn command_of(cli: Cli) -> Result<Command> {
    let before = cli.editor;
    let merged = |after: EditorArgs| EditorArgs {
        mouse: before.mouse || after.mouse,
        mapping: after.mapping.or(before.mapping.clone()),
    };
    Ok(match cli.command {
        None => Command::Tui(before),
        Some(Command::Tui(after)) => Command::Tui(merged(after)),
        Some(Command::Demo(after)) => Command::Demo(merged(after)),
        Some(c) if before.mouse || before.mapping.is_some() => {
            let (option, value) = match &before.mapping {
                Some(p) => ("--mapping", format!(" {}", p.display())),
                None => ("--mouse", String::new()),
            };
            bail!(
                "{option} before the command is the editor's option; put it after the command \
                 (`groupmap {} {option}{value}`)",
                c.name()
            )
        }
        Some(other) => other,
    })
}

pub async fn run(cli: Cli) -> Result<u8> {
    let global = cli.global.clone();
    let command = command_of(cli)?;
    match command {
        Command::Tui(editor) => {
            require_terminal()?;
            tui(Connection::open(&global).await?, &editor).await
        }
        Command::Demo(editor) => {
            require_terminal()?;
            tui(Connection::sandbox(&global).await?, &editor).await
        }
        Command::Sandbox(args) => run_sandbox(args).await,
        Command::Plan { mapping, json, detailed_exitcode, no_apply_existing } => {
            let conn = Connection::open(&global).await?;
            let result = async {
                let (org, snap) = conn.load().await?;
                let m = mapping_for(&conn, &org, &snap, mapping.as_deref(), no_apply_existing)?;
                let p = plan(&snap, &m);
                let d = view::table_changes(&snap, &snap.saved_mapping(), &m);
                let label = conn.label(&org);
                let file = mapping.as_ref().map(|f| f.display().to_string());
                if json {
                    let out = view::render_json(&snap, &p, label, file.as_deref());
                    emit(&format!("{}\n", serde_json::to_string_pretty(&out)?))?;
                } else {
                    emit(&view::render_human(&snap, &m, &p, &d, label, file.as_deref()))?;
                }
                // Where the table cannot be saved, only people not where it puts them are drift
                // (whatever apply-to-existing says: it is not ours to apply).
                let changes = if label.read_only {
                    if let Some(note) = drift_note(&snap, &p, mapping.as_deref()) {
                        eprintln!("{note}");
                    }
                    p.enabled && !p.changes.is_empty()
                } else {
                    p.applies() || !d.is_empty()
                };
                Ok::<u8, anyhow::Error>(if detailed_exitcode && changes { 2 } else { 0 })
            }
            .await;
            conn.close().await;
            result
        }
        Command::Apply { mapping, yes, no_apply_existing } => {
            let conn = Connection::open(&global).await?;
            let result = apply(&conn, mapping.as_deref(), yes, no_apply_existing).await;
            conn.close().await;
            result
        }
        Command::Mapping(MappingCommand::Export { format, output, mapping }) => {
            table::export(&global, format, output, mapping.as_deref()).await
        }
        Command::Mapping(MappingCommand::Record { file }) => table::record(&global, &file).await,
        Command::Mapping(MappingCommand::Check { file, strict }) => check::check(&global, &file, strict).await,
        Command::Mapping(MappingCommand::Infer { output }) => infer::infer(&global, output.as_deref()).await,
        // Both from the same definitions as the parser, so they cannot drift from it.
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "groupmap", &mut out);
            emit(&String::from_utf8_lossy(&out))?;
            Ok(0)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut out)?;
            emit(&String::from_utf8_lossy(&out))?;
            Ok(0)
        }
    }
}

/// The editor draws on a terminal and reads keys from it; without one it says what to use instead.
fn require_terminal() -> Result<()> {
    let missing = match (std::io::stdin().is_terminal(), std::io::stdout().is_terminal()) {
        (true, true) => return Ok(()),
        (false, true) => "standard input is not a terminal",
        (true, false) => "standard output is not a terminal",
        (false, false) => "standard input and output are not a terminal",
    };
    bail!(
        "the editor needs a terminal, and {missing}. Run it in a terminal (over SSH: `ssh -t`), or use \
         `groupmap plan` (`--json` for a program) to see what the mapping does without one"
    )
}

async fn tui(conn: Connection, editor: &EditorArgs) -> Result<u8> {
    let mouse = editor.mouse;
    let start_mapping = match editor.mapping.as_deref() {
        Some(p) => match conn.read_mapping(p) {
            Ok(file) => Some(file),
            Err(e) => {
                conn.close().await;
                return Err(e);
            }
        },
        None => None,
    };
    let session = crate::runtime::Session {
        engine: conn.engine.clone(),
        store: conn.store(),
        fields: conn.fields.clone(),
        sandbox: conn.is_sandbox(),
        mouse,
        start_mapping,
        fail_after_draw: crate::debug_seam::FailAfterDraw::from_env(),
        sandbox_state: conn.sandbox.as_ref().map(Sandbox::watch_state_error),
        sandbox_file: conn.sandbox.as_ref().and_then(|s| s.state_file().map(std::path::Path::to_owned)),
    };
    let result = crate::runtime::run(session).await;
    conn.close().await;
    match result? {
        crate::runtime::Ended::Quit => Ok(0),
        crate::runtime::Ended::DuringSave(known) => {
            eprintln!("groupmap: {known}");
            Ok(130)
        }
    }
}

async fn run_sandbox(args: SandboxArgs) -> Result<u8> {
    let token =
        std::env::var("GROUPMAP_SANDBOX_TOKEN").unwrap_or_else(|_| format!("sandbox-{:016x}", fastrand::u64(..)));
    let opts = sandbox::Options {
        listen: args.listen,
        token,
        users: args.users,
        seed: args.seed,
        rate_limit: args.rate_limit,
        rate_window: std::time::Duration::from_secs(args.rate_window),
        state_file: args.state,
        job_step: std::time::Duration::from_millis(args.job_step_ms),
        read_only: args.read_only,
        faults: args.faults,
        idp: sandbox::idp::Options::default(),
    };
    let sb = Sandbox::start(opts).await?;
    // Run on its own, the sandbox has the terminal to itself: its state trouble is printed.
    let mut state_errors = sb.watch_state_error();
    let report = tokio::spawn(async move {
        loop {
            if let Some(e) = state_errors.borrow_and_update().clone() {
                eprintln!("sandbox: {e} (changes are kept in memory only)");
            }
            if state_errors.changed().await.is_err() {
                return;
            }
        }
    });
    println!("groupmap sandbox listening on {}", sb.base_url());
    println!("organization: {}", sb.organization());
    println!("Use it from another shell (the token is a sandbox token, not a Calendly one):");
    println!("  export GROUPMAP_BASE_URL={} CALENDLY_TOKEN={}", sb.base_url(), sb.token());
    println!("Its fake Okta org (not Okta), for values straight from the IdP:");
    println!(
        "  export OKTA_API_TOKEN={}; groupmap plan --idp okta --idp-url {} --idp-app {}",
        sb.okta().api_token(),
        sb.okta_url(),
        sandbox::idp::okta::APP_ID
    );
    println!("Its fake Entra ID tenant (not Microsoft's):");
    let env = |e: Vec<(&str, String)>| e.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
    println!(
        "  export {}; groupmap plan --idp entra --idp-url {} --idp-token-url {} --idp-app {}",
        env(sb.entra().env()),
        sb.entra_url(),
        sb.entra_token_url(),
        sandbox::idp::entra::APP_ID
    );
    println!("Its fake OneLogin account (not OneLogin):");
    println!(
        "  export {}; groupmap plan --idp onelogin --idp-url {} --idp-app {}",
        env(sb.onelogin().env()),
        sb.onelogin_url(),
        sandbox::idp::onelogin::APP_ID
    );
    println!("Press Ctrl-C to stop.");
    std::io::stdout().flush().ok();
    wait_for_shutdown().await;
    report.abort();
    sb.shutdown().await;
    Ok(0)
}

async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        let mut hup = signal(SignalKind::hangup()).expect("SIGHUP handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await.ok();
}

fn confirm(prompt: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("refusing to save without confirmation: stdin is not a terminal; pass --yes to apply non-interactively");
    }
    eprint!("{prompt}");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}

async fn apply(conn: &Connection, file: Option<&Path>, yes: bool, no_apply_existing: bool) -> Result<u8> {
    let (org, snap) = conn.load().await?;
    let mapping = mapping_for(conn, &org, &snap, file, no_apply_existing)?;
    let p = plan(&snap, &mapping);
    let d = view::table_changes(&snap, &snap.saved_mapping(), &mapping);
    let label = conn.label(&org);
    let shown = file.map(|f| f.display().to_string());
    emit(&view::render_human(&snap, &mapping, &p, &d, label, shown.as_deref()))?;
    if !org.capabilities().save_table {
        bail!("{}", SaveError::ReadOnly);
    }
    if d.is_empty() && !p.applies() {
        println!("\nNothing to save.");
        return Ok(0);
    }
    if !yes {
        let moves =
            if p.applies() { format!("move {} user(s)", p.changes.len()) } else { "move no existing user".to_owned() };
        let prompt = format!(
            "\nSave this mapping to {}? It will {moves}{}.\n  Only 'yes' will be accepted: ",
            view::org_label(&snap, label),
            if p.new_groups.is_empty() {
                String::new()
            } else {
                format!(" and create {} group(s)", p.new_groups.len())
            }
        );
        if !confirm(&prompt)? {
            println!("Apply cancelled; nothing was saved.");
            return Ok(1);
        }
    }
    // Registered before anything is sent, so that an interrupt at any stage is caught.
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let reached = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = reached.clone();
    let progress = Arc::new(move |stage: SaveStage| {
        eprintln!("{}", capitalized(&stage.to_string()));
        seen.lock().expect("stages").push(stage);
    });
    let applied = tokio::select! {
        applied = conn.engine.apply(&org, &snap, &conn.fields, &mapping, progress) => applied,
        _ = interrupt.recv() => {
            let known = crate::service::stage::interrupted(&reached.lock().expect("stages"));
            eprintln!("\nInterrupted: {known}.");
            keep_attempted(conn, &snap, &mapping);
            return Ok(130);
        }
    };
    match applied {
        Ok(outcome) => {
            println!(
                "Apply complete: mapping saved as version {}, {} user(s) moved, {} group(s) created. Verified: the re-plan is empty.",
                outcome.version,
                outcome.moved,
                outcome.created.len()
            );
            Ok(0)
        }
        Err(e) => {
            // The error that made the save fail comes first, whatever happens to the copy.
            eprintln!("{}: {e}", Severity::Error.label());
            keep_attempted(conn, &snap, &mapping);
            Ok(1)
        }
    }
}

/// Keeps a mapping whose save did not complete, and says where.
fn keep_attempted(conn: &Connection, snap: &Snapshot, mapping: &Mapping) {
    match conn.store().keep_attempted(snap.organization.as_str(), &to_toml(snap, mapping)) {
        Ok(kept) => {
            eprintln!("The mapping you tried to save is in {} (apply it again with --mapping).", kept.display())
        }
        Err(w) => eprintln!("{}: the mapping you tried to save could not be kept: {w}", Severity::Error.label()),
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}
