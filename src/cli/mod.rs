//! The headless command line: `plan`, `apply`, `mapping export|check`, `sandbox`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{Config, Flags};
use crate::domain::mapping::diff;
use crate::domain::mapping_file::{MappingFile, to_csv, to_toml};
use crate::domain::{FieldChoice, Mapping, Snapshot, plan};
use crate::engine::{Engine, LoadOptions, Organization};
use crate::report as view;
use crate::sandbox::{self, Sandbox};
use crate::service::calendly::{Client, Secret};
use crate::service::{Progress, SaveError, SaveStage};

#[derive(Parser, Debug)]
#[command(
    name = "groupmap",
    version,
    about = "Map identity-provider group values to Calendly groups, preview exactly who moves, and save safely.",
    long_about = "Map identity-provider group values to Calendly groups, preview exactly who moves, and save safely.\n\n\
        The token is read from CALENDLY_TOKEN or a token file (--token-file or `token_file` in the config), \
        never from the command line. With no token and no base URL configured, every command runs \
        against the bundled sandbox organization and says so."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct Global {
    /// API base URL [env: GROUPMAP_BASE_URL] [default: https://api.calendly.com]
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// Organization URI (default: the token user's current organization) [env: GROUPMAP_ORG]
    #[arg(long, global = true, value_name = "URI")]
    pub org: Option<String>,
    /// A user export CSV from Calendly's admin center (give Active and Pending: repeat the option)
    #[arg(long = "users-csv", global = true, value_name = "FILE")]
    pub users_csv: Vec<PathBuf>,
    /// The export column holding the login email (default: detected from the header)
    #[arg(long, global = true, value_name = "HEADER")]
    pub email_column: Option<String>,
    /// The export column holding the IdP group value (default: detected from the header)
    #[arg(long, global = true, value_name = "HEADER")]
    pub idp_column: Option<String>,
    /// Config file (TOML) [env: GROUPMAP_CONFIG] [default: $XDG_CONFIG_HOME/groupmap/config.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// File holding the API token (must not be readable by others) [env: GROUPMAP_TOKEN_FILE]
    #[arg(long, global = true, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The interactive mapping editor (the default command)
    Tui {
        /// Let the mouse wheel scroll lists
        #[arg(long)]
        mouse: bool,
        /// Start from this mapping file instead of the saved mapping (u undoes back to the saved one)
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
    },
    /// The interactive editor on the bundled sandbox organization (no token needed)
    Demo {
        #[arg(long)]
        mouse: bool,
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
    },
    /// Show what the saved mapping (or --mapping FILE) would do: who moves where
    Plan {
        /// Plan this mapping file instead of the saved mapping
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
        /// Exit 0 when there are no changes, 2 when there are, 1 on error
        #[arg(long)]
        detailed_exitcode: bool,
        /// Plan as if existing users were not to be moved
        #[arg(long)]
        no_apply_existing: bool,
    },
    /// Save the mapping (the saved one, or --mapping FILE) after showing its plan
    Apply {
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
        /// Save the table without moving existing users
        #[arg(long)]
        no_apply_existing: bool,
    },
    /// Mapping as code: export the table, or check a file
    #[command(subcommand)]
    Mapping(MappingCommand),
    /// Run the bundled sandbox API server
    Sandbox(SandboxArgs),
}

#[derive(Subcommand, Debug)]
pub enum MappingCommand {
    /// Write the saved mapping (or --mapping FILE, resolved) as TOML or as CSV for the admin center
    Export {
        #[arg(long, value_enum, default_value = "toml")]
        format: Format,
        /// Write to FILE instead of stdout
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Export this mapping file (e.g. as CSV) instead of the saved mapping
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
    },
    /// Validate a mapping file against the organization
    Check { file: PathBuf },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Toml,
    Csv,
}

#[derive(Args, Debug)]
pub struct SandboxArgs {
    /// Address to listen on (loopback only is recommended)
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub listen: std::net::SocketAddr,
    /// Generate an organization of N users instead of the demo organization
    #[arg(long, value_name = "N")]
    pub users: Option<usize>,
    /// Seed for --users
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Requests per minute per token before 429 (Calendly's paid plans: 500)
    #[arg(long, default_value_t = 500)]
    pub rate_limit: u32,
    /// Keep the organization's changes in FILE across restarts
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Behave like Calendly's real API: no mapping, export or group-creation endpoints
    #[arg(long)]
    pub read_only: bool,
    /// Milliseconds between job batches (slower jobs show progress longer)
    #[arg(long, default_value_t = 20)]
    pub job_step_ms: u64,
    #[command(flatten, next_help_heading = "Fault modes (for testing clients)")]
    pub faults: sandbox::Faults,
}

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
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    match rt.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// A connection to the API: the configured one, or the bundled sandbox when nothing is.
pub struct Connection {
    pub engine: Engine,
    /// The columns asked for (else detected from the headers).
    pub fields: FieldChoice,
    pub sandbox: Option<Sandbox>,
}

impl Connection {
    pub async fn open(global: &Global) -> Result<Connection> {
        let flags = Flags {
            config: global.config.clone(),
            base_url: global.base_url.clone(),
            organization: global.org.clone(),
            token_file: global.token_file.clone(),
            users_csv: global.users_csv.clone(),
            email_column: global.email_column.clone(),
            idp_column: global.idp_column.clone(),
        };
        let cfg = Config::resolve(&flags, &|k| std::env::var(k).ok())?;
        let load = LoadOptions {
            organization: cfg.organization.clone(),
            users_csv: cfg.users_csv.clone(),
            fields: cfg.fields.clone(),
        };
        match cfg.token {
            Some(token) => {
                let client = Client::new(&cfg.base_url, token)?;
                Ok(Connection { engine: Engine::calendly(client, &load), fields: load.fields, sandbox: None })
            }
            None => {
                Self::start_sandbox(LoadOptions { organization: None, ..load }, "No CALENDLY_TOKEN configured: ").await
            }
        }
    }

    /// The bundled sandbox, whatever is configured.
    pub async fn sandbox(global: &Global) -> Result<Connection> {
        let load = LoadOptions {
            organization: None,
            users_csv: Vec::new(),
            fields: crate::domain::FieldChoice {
                email: global.email_column.clone(),
                idp_value: global.idp_column.clone(),
            },
        };
        Self::start_sandbox(load, "").await
    }

    /// `why` starts the notice (empty when the sandbox was asked for).
    async fn start_sandbox(load: LoadOptions, why: &str) -> Result<Connection> {
        let state = crate::store::state_dir().join("sandbox-state.json");
        let opts = sandbox::Options { state_file: Some(state.clone()), ..sandbox::Options::default() };
        let sb = Sandbox::start(opts).await.context("starting the bundled sandbox")?;
        eprintln!(
            "{why}{} the bundled SANDBOX organization at {} (not Calendly; state kept in {}).",
            if why.is_empty() { "Using" } else { "using" },
            sb.base_url(),
            state.display()
        );
        let client = Client::new(sb.base_url(), Secret::new(sb.token()))?;
        Ok(Connection { engine: Engine::calendly(client, &load), fields: load.fields, sandbox: Some(sb) })
    }

    pub fn is_sandbox(&self) -> bool {
        self.sandbox.is_some()
    }

    /// The files kept for organizations reached through this connection.
    pub fn store(&self) -> crate::store::Store {
        crate::store::Store::new(self.engine.base_url(), self.is_sandbox())
    }

    /// What an organization loaded through this connection is labelled with.
    fn label(&self, org: &Organization) -> view::Context {
        view::Context { sandbox: self.is_sandbox(), read_only: org.capabilities().read_only() }
    }

    /// Reads a mapping file for this connection. The in-process sandbox listens on a new loopback
    /// port every run, so a file exported in an earlier run names its organization and groups under
    /// another `http://127.0.0.1:PORT`: those URIs are read as this run's.
    fn read_mapping(&self, path: &Path) -> Result<MappingFile> {
        let mut file = read_mapping_file(path)?;
        if let Some(sb) = &self.sandbox {
            rebase_loopback(&mut file, sb.base_url());
        }
        Ok(file)
    }

    pub async fn load(&self) -> Result<(Organization, Snapshot)> {
        let progress = load_progress();
        let loaded = self.engine.load(progress).await?;
        if std::io::stderr().is_terminal() {
            eprint!("\r\x1b[2K");
        }
        let snap = loaded.snapshot(&self.fields)?;
        Ok((loaded, snap))
    }

    pub async fn close(self) {
        if let Some(sb) = self.sandbox {
            sb.shutdown().await;
        }
    }
}

fn load_progress() -> Option<Progress> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let counts = Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::<String, usize>::new()));
    Some(Arc::new(move |what: &str, n: usize| {
        let mut c = counts.lock().expect("progress lock");
        c.insert(what.to_owned(), n);
        let line: Vec<String> = c.iter().map(|(k, v)| format!("{k} {v}")).collect();
        eprint!("\r\x1b[2KLoading: {}", line.join(" · "));
    }))
}

fn read_mapping_file(path: &Path) -> Result<MappingFile> {
    Ok(MappingFile::read(path)?)
}

/// Rewrites `http://127.0.0.1:PORT/...` URIs in a file to `base/...`.
fn rebase_loopback(file: &mut MappingFile, base: &str) {
    let rebase = |s: &mut String| {
        if let Some(rest) = s.strip_prefix("http://127.0.0.1:") {
            let tail = rest.trim_start_matches(|c: char| c.is_ascii_digit());
            if tail.len() < rest.len() && (tail.is_empty() || tail.starts_with('/')) {
                *s = format!("{base}{tail}");
            }
        }
    };
    if let Some((org, _)) = &mut file.organization {
        rebase(org);
    }
    if let Some((group, _)) = &mut file.default_group {
        rebase(group);
    }
    for row in &mut file.rows {
        rebase(&mut row.group);
    }
}

/// The mapping a command works on: the file's, resolved, or the saved one.
fn mapping_for(
    conn: &Connection,
    org: &Organization,
    snap: &Snapshot,
    file: Option<&Path>,
    no_apply_existing: bool,
) -> Result<Mapping> {
    let mut m = match file {
        Some(p) => conn.read_mapping(p)?.resolve(snap)?,
        None => {
            if org.capabilities().read_only() {
                bail!(
                    "this server has no group-mapping endpoint (Calendly's public API is read-only), so there is \
                     no saved mapping to read; pass the table with --mapping FILE"
                );
            }
            snap.saved_mapping()
        }
    };
    if no_apply_existing {
        m.apply_to_existing = false;
    }
    Ok(m)
}

pub async fn run(cli: Cli) -> Result<u8> {
    let command = cli.command.unwrap_or(Command::Tui { mouse: false, mapping: None });
    match command {
        Command::Tui { mouse, mapping } => tui(Connection::open(&cli.global).await?, mouse, mapping.as_deref()).await,
        Command::Demo { mouse, mapping } => {
            tui(Connection::sandbox(&cli.global).await?, mouse, mapping.as_deref()).await
        }
        Command::Sandbox(args) => run_sandbox(args).await,
        Command::Plan { mapping, json, detailed_exitcode, no_apply_existing } => {
            let conn = Connection::open(&cli.global).await?;
            let result = async {
                let (org, snap) = conn.load().await?;
                let m = mapping_for(&conn, &org, &snap, mapping.as_deref(), no_apply_existing)?;
                let p = plan(&snap, &m);
                let d = diff(&snap.saved_mapping(), &m);
                let label = conn.label(&org);
                if json {
                    emit(&format!("{}\n", serde_json::to_string_pretty(&view::render_json(&snap, &p, label))?))?;
                } else {
                    emit(&view::render_human(&snap, &m, &p, &d, label))?;
                }
                let changes = p.applies() || (!label.read_only && !d.is_empty());
                Ok::<u8, anyhow::Error>(if detailed_exitcode && changes { 2 } else { 0 })
            }
            .await;
            conn.close().await;
            result
        }
        Command::Apply { mapping, yes, no_apply_existing } => {
            let conn = Connection::open(&cli.global).await?;
            let result = apply(&conn, mapping.as_deref(), yes, no_apply_existing).await;
            conn.close().await;
            result
        }
        Command::Mapping(MappingCommand::Export { format, output, mapping }) => {
            let conn = Connection::open(&cli.global).await?;
            let result = async {
                let (org, snap) = conn.load().await?;
                let m = mapping_for(&conn, &org, &snap, mapping.as_deref(), false)?;
                let text = match format {
                    Format::Toml => to_toml(&snap, &m),
                    Format::Csv => to_csv(&snap, &m),
                };
                if format == Format::Csv && m.default_group.is_some() {
                    eprintln!("note: the CSV holds the rows only; set the default group in the admin center too.");
                }
                match output {
                    Some(path) => {
                        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
                        eprintln!("Wrote {} rows to {}", m.rows.len(), path.display());
                    }
                    None => emit(&text)?,
                }
                Ok::<u8, anyhow::Error>(0)
            }
            .await;
            conn.close().await;
            result
        }
        Command::Mapping(MappingCommand::Check { file }) => {
            let mut parsed = read_mapping_file(&file)?;
            let conn = Connection::open(&cli.global).await?;
            let result = async {
                let (org, snap) = conn.load().await?;
                if let Some(sb) = &conn.sandbox {
                    rebase_loopback(&mut parsed, sb.base_url());
                }
                let m = parsed.resolve(&snap)?;
                let p = plan(&snap, &m);
                let errors: Vec<_> =
                    p.lint.iter().filter(|f| f.severity == crate::domain::lint::Severity::Error).collect();
                for f in &p.lint {
                    eprintln!("{}: {:?}: {}", file.display(), f.severity, crate::domain::text::sanitize(&f.message));
                }
                if !errors.is_empty() {
                    bail!("{}: {} error(s)", file.display(), errors.len());
                }
                println!(
                    "{}: OK: {} rows, {} new group(s), {} warning(s) against {}",
                    file.display(),
                    m.rows.len(),
                    p.new_groups.len(),
                    p.lint.len(),
                    view::org_label(&snap, conn.label(&org))
                );
                Ok::<u8, anyhow::Error>(0)
            }
            .await;
            conn.close().await;
            result
        }
    }
}

async fn tui(conn: Connection, mouse: bool, mapping: Option<&Path>) -> Result<u8> {
    let start_mapping = match mapping {
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
    };
    let result = crate::runtime::run(session).await;
    conn.close().await;
    result.map(|()| 0)
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
        state_file: args.state,
        job_step: std::time::Duration::from_millis(args.job_step_ms),
        read_only: args.read_only,
        faults: args.faults,
    };
    let sb = Sandbox::start(opts).await?;
    println!("groupmap sandbox listening on {}", sb.base_url());
    println!("organization: {}", sb.organization());
    println!("Use it from another shell (the token is a sandbox token, not a Calendly one):");
    println!("  export GROUPMAP_BASE_URL={} CALENDLY_TOKEN={}", sb.base_url(), sb.token());
    println!("Press Ctrl-C to stop.");
    std::io::stdout().flush().ok();
    wait_for_shutdown().await;
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
    let d = diff(&snap.saved_mapping(), &mapping);
    let label = conn.label(&org);
    emit(&view::render_human(&snap, &mapping, &p, &d, label))?;
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
    let progress = Arc::new(|stage: SaveStage| eprintln!("{}", capitalized(&stage.to_string())));
    match conn.engine.apply(&org, &snap, &conn.fields, &mapping, progress).await {
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
            eprintln!("error: {e}");
            match conn.store().keep_attempted(snap.organization.as_str(), &to_toml(&snap, &mapping)) {
                Ok(kept) => {
                    eprintln!("The mapping you tried to save is in {} (apply it again with --mapping).", kept.display())
                }
                Err(w) => eprintln!("error: the mapping you tried to save could not be kept: {w}"),
            }
            Ok(1)
        }
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}
