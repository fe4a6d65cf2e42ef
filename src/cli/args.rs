//! The command line's words: commands, options and their help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::sandbox;

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
    /// The editor's options, for `groupmap` with no command (the editor is the default)
    #[command(flatten)]
    pub editor: EditorArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// How the interactive editor starts.
#[derive(Args, Debug, Clone, Default)]
pub struct EditorArgs {
    /// Let the mouse wheel scroll lists (the mouse is off by default: SSH-friendly)
    #[arg(long)]
    pub mouse: bool,
    /// Start from this mapping file instead of the saved mapping (u undoes back to the saved one)
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
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
    /// The export column holding the login email: HEADER in every file that has it, or
    /// FILE=HEADER for one --users-csv file (repeatable; default: detected from each file's header)
    #[arg(long, global = true, value_name = "[FILE=]HEADER")]
    pub email_column: Vec<String>,
    /// The export column holding the IdP group value: HEADER in every file that has it, or
    /// FILE=HEADER for one --users-csv file, e.g. `--idp-column pending.csv="IdP Group"`
    /// (repeatable; default: detected from each file's header)
    #[arg(long, global = true, value_name = "[FILE=]HEADER")]
    pub idp_column: Vec<String>,
    /// Config file (TOML) [env: GROUPMAP_CONFIG] [default: $XDG_CONFIG_HOME/groupmap/config.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// File holding the API token (must not be readable by others) [env: GROUPMAP_TOKEN_FILE]
    #[arg(long, global = true, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Where the IdP values come from: Calendly's user export (default), or the identity provider
    /// itself (its credentials from the environment: OKTA_API_TOKEN; AZURE_TENANT_ID, AZURE_CLIENT_ID,
    /// AZURE_CLIENT_SECRET; ONELOGIN_CLIENT_ID, ONELOGIN_CLIENT_SECRET; or owner-only files in [idp])
    #[arg(long, global = true, value_enum, value_name = "SOURCE")]
    pub idp: Option<crate::idp::Kind>,
    /// The identity provider's address (Okta: https://acme.okta.com; Entra ID: Graph's, default
    /// https://graph.microsoft.com; OneLogin: https://acme.onelogin.com)
    #[arg(long, global = true, value_name = "URL")]
    pub idp_url: Option<String>,
    /// The identity provider's token endpoint, where it is not derived from --idp-url
    #[arg(long, global = true, value_name = "URL")]
    pub idp_token_url: Option<String>,
    /// The profile attribute holding the group value (default: detected, e.g. department)
    #[arg(long, global = true, value_name = "NAME")]
    pub idp_attribute: Option<String>,
    /// The Calendly app's id in the identity provider, to read only its users (Okta: the app id;
    /// Entra ID: the enterprise app's Object ID; OneLogin: the app id); without: all users
    #[arg(long, global = true, value_name = "ID")]
    pub idp_app: Option<String>,
    /// Where the IdP and Calendly's record differ (pending sync), plan with Calendly's recorded
    /// value (default: who moves when the table is saved) or the IdP's (where everyone lands after the next sync)
    #[arg(long, global = true, value_enum, value_name = "WHICH")]
    pub values: Option<ValuesArg>,
    /// Log each request (method, path, status, time, rate limit, retries; never the token) to
    /// stderr; the editor writes it to a file under the state directory [env: GROUPMAP_LOG=debug]
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

/// `--values`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValuesArg {
    Calendly,
    Idp,
}

impl Global {
    /// The identity-provider flags.
    pub fn idp_flags(&self) -> crate::idp::settings::Flags {
        use crate::domain::sync::ValuesFrom;
        crate::idp::settings::Flags {
            source: self.idp,
            url: self.idp_url.clone(),
            token_url: self.idp_token_url.clone(),
            attribute: self.idp_attribute.clone(),
            app: self.idp_app.clone(),
            values: self.values.map(|v| match v {
                ValuesArg::Calendly => ValuesFrom::Calendly,
                ValuesArg::Idp => ValuesFrom::Idp,
            }),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The interactive mapping editor (the default command)
    Tui(EditorArgs),
    /// The interactive editor on the bundled sandbox organization (no token needed)
    Demo(EditorArgs),
    /// Show what the saved mapping or the table of record (or --mapping FILE) would do: who moves where
    Plan {
        /// Plan this mapping file instead of the saved mapping (or the table of record)
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
        /// Print one JSON object instead of text
        #[arg(long)]
        json: bool,
        /// Exit 0 when there are no changes, 2 when there are, 1 on error (read-only service: 2 when
        /// users are not where the table of record or FILE puts them)
        #[arg(long)]
        detailed_exitcode: bool,
        /// Plan as if existing users were not to be moved
        #[arg(long)]
        no_apply_existing: bool,
    },
    /// Save the mapping (the saved one, or --mapping FILE) after showing its plan
    Apply {
        /// Save this mapping file instead of the saved mapping (a table kept in version control)
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
        /// Save the table without moving existing users
        #[arg(long)]
        no_apply_existing: bool,
    },
    /// Mapping as code: export the table, check a file, record the table entered in the admin center, or infer one from where users are
    #[command(subcommand)]
    Mapping(MappingCommand),
    /// Run the bundled sandbox API server
    Sandbox(SandboxArgs),
    /// Print a shell completion script (e.g. `groupmap completions bash > ~/.local/share/bash-completion/completions/groupmap`)
    Completions {
        /// The shell to complete in
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `groupmap man | man -l -`
    Man,
}

impl Command {
    /// The command as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Tui(_) => "tui",
            Command::Demo(_) => "demo",
            Command::Plan { .. } => "plan",
            Command::Apply { .. } => "apply",
            Command::Mapping(MappingCommand::Export { .. }) => "mapping export",
            Command::Mapping(MappingCommand::Check { .. }) => "mapping check",
            Command::Mapping(MappingCommand::Record { .. }) => "mapping record",
            Command::Mapping(MappingCommand::Infer { .. }) => "mapping infer",
            Command::Sandbox(_) => "sandbox",
            Command::Completions { .. } => "completions",
            Command::Man => "man",
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum MappingCommand {
    /// Write the saved mapping or the table of record (or --mapping FILE, resolved) as TOML or as CSV for the admin center
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
    /// Validate a mapping file against the organization: every problem, with file, line and key
    Check {
        /// The mapping file (TOML) to check
        file: PathBuf,
        /// Fail (exit 1) on warnings too, not only on errors (for CI)
        #[arg(long)]
        strict: bool,
    },
    /// Record FILE as the table entered in Calendly's admin center (checked first): on a service that
    /// cannot show its table, plans and the drift check compare with it
    Record {
        /// The mapping file (TOML) entered in the admin center
        file: PathBuf,
    },
    /// Write the table inferred from where users already are, as a mapping file to check
    ///
    /// A value maps to a group when every in-scope user with it is a member of that group, so
    /// planning the file moves nobody; every other value is left unmapped and listed in a comment
    /// with where its users are. Check it before you enter it.
    Infer {
        /// Write to FILE instead of stdout
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
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
    /// The rate limit's window in seconds (Calendly's: 60; shorter ones try a client's pacing)
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub rate_window: u64,
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
