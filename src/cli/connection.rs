//! A connection to the service: the configured one, or the bundled sandbox when nothing is.

use std::path::Path;

use anyhow::{Context, Result};

use super::args::Global;
use super::progress::LoadReport;
use crate::config::{Config, Flags};
use crate::domain::mapping_file::MappingFile;
use crate::domain::{FieldChoice, Snapshot};
use crate::engine::{Engine, LoadOptions, Organization};
use crate::report as view;
use crate::sandbox::{self, Sandbox};
use crate::service::calendly::{Client, Secret};

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
            idp: global.idp_flags(),
        };
        let cfg = Config::resolve(&flags, &|k| std::env::var(k).ok())?;
        let load = LoadOptions {
            organization: cfg.organization.clone(),
            users_csv: cfg.users_csv.clone(),
            fields: cfg.fields.clone(),
            idp: None,
        };
        match cfg.token {
            Some(token) => {
                let client = Client::new(&cfg.base_url, token)?;
                let load = with_idp(load, &cfg.idp, &|k| std::env::var(k).ok())?;
                Ok(Connection::new(Engine::calendly(client, &load), load.fields, None))
            }
            None => {
                let load = LoadOptions { organization: None, ..load };
                Self::start_sandbox(load, &cfg.idp, "No CALENDLY_TOKEN configured: ").await
            }
        }
    }

    /// The bundled sandbox, whatever is configured.
    pub async fn sandbox(global: &Global) -> Result<Connection> {
        // The sandbox serves its own exports: a column can be named for every file only.
        let fields =
            FieldChoice::from_specs(&global.email_column, &global.idp_column, &[], crate::domain::columns::FLAGS)
                .map_err(|e| anyhow::anyhow!(e))?;
        let load = LoadOptions { organization: None, users_csv: Vec::new(), fields, idp: None };
        // The demo reads the sandbox's own fake of the provider, whatever is configured.
        let flags = global.idp_flags();
        let idp = crate::idp::Settings { url: None, app: None, ..crate::idp::Settings::resolve(&flags, None) };
        Self::start_sandbox(load, &idp, "").await
    }

    /// `why` starts the notice (empty when the sandbox was asked for). An identity provider with
    /// no URL configured is the sandbox's fake of it.
    async fn start_sandbox(load: LoadOptions, idp: &crate::idp::Settings, why: &str) -> Result<Connection> {
        let state = crate::store::state_dir().join("sandbox-state.json");
        let opts = sandbox::Options { state_file: Some(state.clone()), ..sandbox::Options::default() };
        let sb = Sandbox::start(opts).await.context("starting the bundled sandbox")?;
        let kept = match sb.state_error() {
            None => format!("state kept in {}", state.display()),
            Some(e) => format!("it {e}, so changes last until groupmap exits"),
        };
        eprintln!(
            "{why}{} the bundled SANDBOX organization at {} (not Calendly; {kept}).",
            if why.is_empty() { "Using" } else { "using" },
            sb.base_url(),
        );
        let client = Client::new(sb.base_url(), Secret::new(sb.token()))?;
        let load = match sandbox_idp(&sb, idp) {
            Some((fake, env)) => with_idp(load, &fake, &|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))?,
            None => with_idp(load, idp, &|k| std::env::var(k).ok())?,
        };
        Ok(Connection::new(Engine::calendly(client, &load), load.fields, Some(sb)))
    }

    /// Loads read the table of record kept for this connection's organizations.
    fn new(engine: Engine, fields: FieldChoice, sandbox: Option<Sandbox>) -> Connection {
        let store = crate::store::Store::new(engine.base_url(), sandbox.is_some());
        Connection { engine: engine.with_records(store), fields, sandbox }
    }

    pub fn is_sandbox(&self) -> bool {
        self.sandbox.is_some()
    }

    /// The files kept for organizations reached through this connection.
    pub fn store(&self) -> crate::store::Store {
        crate::store::Store::new(self.engine.base_url(), self.is_sandbox())
    }

    /// What an organization loaded through this connection is labelled with.
    pub fn label(&self, org: &Organization) -> view::Context {
        view::Context { sandbox: self.is_sandbox(), read_only: org.capabilities().read_only() }
    }

    /// Reads a mapping file for this connection. (A file exported from a sandbox on another
    /// loopback port resolves here too: see `Snapshot::local_group`.)
    pub fn read_mapping(&self, path: &Path) -> Result<MappingFile> {
        read_mapping_file(path)
    }

    pub async fn load(&self) -> Result<(Organization, Snapshot)> {
        let report = LoadReport::start();
        self.joined(self.engine.load(Some(report.progress.clone())), report).await
    }

    /// The organization's groups and table without the IdP values (no user is in scope): for
    /// writing a table, which needs no user export.
    pub async fn load_directory(&self) -> Result<(Organization, Snapshot)> {
        let report = LoadReport::start();
        self.joined(self.engine.load_directory(Some(report.progress.clone())), report).await
    }

    async fn joined(
        &self,
        load: impl std::future::Future<Output = Result<Organization, crate::service::LoadError>>,
        report: LoadReport,
    ) -> Result<(Organization, Snapshot)> {
        let loaded = report.run(load).await;
        report.finish(loaded.is_ok());
        let loaded = loaded?;
        let snap = loaded.snapshot(&self.fields)?;
        Ok((loaded, snap))
    }

    pub async fn close(self) {
        if let Some(sb) = self.sandbox {
            // The terminal is the command's again (an editor has restored it): say what was lost.
            if let Some(e) = sb.state_error() {
                eprintln!("note: the bundled sandbox {e}; what changed in it is gone now that groupmap exits.");
            }
            sb.shutdown().await;
        }
    }
}

/// The sandbox's fake of the identity provider the settings name when no URL is configured:
/// its settings and the environment its credentials are in (never the process's).
fn sandbox_idp(
    sb: &Sandbox,
    idp: &crate::idp::Settings,
) -> Option<(crate::idp::Settings, Vec<(&'static str, String)>)> {
    use crate::idp::Kind;
    if idp.url.is_some() {
        return None;
    }
    let fake = crate::idp::Settings {
        token_file: None,
        access_token_file: None,
        client_secret_file: None,
        tenant: None,
        client_id: None,
        ..idp.clone()
    };
    let (name, fake, env) = match idp.source {
        Kind::Export => return None,
        Kind::Okta => (
            "Okta org",
            crate::idp::Settings {
                url: Some(sb.okta_url()),
                app: idp.app.clone().or_else(|| Some(sandbox::idp::okta::APP_ID.to_owned())),
                ..fake
            },
            vec![("OKTA_API_TOKEN", sb.okta().api_token())],
        ),
        Kind::Entra => (
            "Entra ID tenant",
            crate::idp::Settings {
                url: Some(sb.entra_url()),
                token_url: Some(sb.entra_token_url()),
                app: idp.app.clone().or_else(|| Some(sandbox::idp::entra::APP_ID.to_owned())),
                ..fake
            },
            sb.entra().env(),
        ),
        Kind::Onelogin => (
            "OneLogin account",
            crate::idp::Settings {
                url: Some(sb.onelogin_url()),
                token_url: None,
                app: idp.app.clone().or_else(|| Some(sandbox::idp::onelogin::APP_ID.to_owned())),
                ..fake
            },
            sb.onelogin().env(),
        ),
    };
    let at = fake.url.clone().unwrap_or_default();
    eprintln!("Reading the IdP values from the sandbox's fake {name} at {at} (not the real service).");
    Some((fake, env))
}

/// The load with the identity provider the settings name, if any: its table's columns become
/// the values' fields, and the export's (`--email-column`, `--idp-column`) Calendly's record's.
fn with_idp(
    load: LoadOptions,
    settings: &crate::idp::Settings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<LoadOptions> {
    let Some(idp) = crate::idp::open(settings, env)? else { return Ok(load) };
    let fields = idp.fields.clone();
    let values_from = settings.values_from;
    Ok(LoadOptions {
        idp: Some(crate::idp::IdpLoad { idp, values_from, record_fields: load.fields.clone() }),
        fields,
        ..load
    })
}

pub fn read_mapping_file(path: &Path) -> Result<MappingFile> {
    Ok(MappingFile::read(path)?)
}
