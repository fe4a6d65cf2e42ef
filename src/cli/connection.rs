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
        let loaded = report.run(self.engine.load(Some(report.progress.clone()))).await;
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

pub fn read_mapping_file(path: &Path) -> Result<MappingFile> {
    Ok(MappingFile::read(path)?)
}
