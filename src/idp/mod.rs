//! The IdP-values port: where each person's group value comes from.
//!
//! A source reads tables of people with their attributes (an admin-center export, an identity
//! provider's users); which column is the login email and which the group value are the
//! source's settings (`FieldChoice`), edited on the Fields screen. What was read is kept raw, so
//! changing the settings re-joins without reading again.
//!
//! A new identity provider is one module here (its client and its `ValueSource`, returning one
//! table whose columns are its users' attributes) plus its `Kind` and a line in `open`. Its
//! values are then compared with Calendly's record of them (`domain::sync`) by the engine.

pub mod entra;
pub mod error;
pub mod export;
pub mod http;
pub mod oauth;
pub mod okta;
pub mod onelogin;
pub mod paging;
pub mod settings;
pub mod table;

use std::path::PathBuf;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::domain::sync::ValuesFrom;
use crate::domain::{Export, FieldChoice};
use crate::service::calendly::Client;
use crate::service::{LoadError, Progress};
pub use error::IdpError;
pub use settings::Settings;

pub trait ValueSource: Send + Sync {
    /// What is read, for messages: "the user-export endpoint", "active.csv, pending.csv".
    fn describe(&self) -> String;

    /// Reads the source's tables for an organization, telling `progress` (where given) how many
    /// rows are read so far (a long list of IdP users).
    fn read_with_progress<'a>(
        &'a self,
        organization: &'a str,
        progress: Option<&'a Progress>,
    ) -> BoxFuture<'a, Result<Vec<Export>, LoadError>>;

    /// The same, untold.
    fn read<'a>(&'a self, organization: &'a str) -> BoxFuture<'a, Result<Vec<Export>, LoadError>> {
        self.read_with_progress(organization, None)
    }

    /// The identity provider read, for the header (`Okta acme.okta.com`); None for Calendly's
    /// own user export.
    fn provider(&self) -> Option<String> {
        None
    }
}

/// Where the values come from (`--idp`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Calendly's user export (files or the export endpoint)
    #[default]
    Export,
    /// Okta: the Calendly app's app users, or all users
    Okta,
    /// Microsoft Entra ID (Microsoft Graph): the users, or those assigned to the Calendly app
    Entra,
    /// OneLogin: the users, or those of the Calendly app
    Onelogin,
}

/// An identity provider opened as a source of values.
#[derive(Clone)]
pub struct IdpSource {
    pub source: Arc<dyn ValueSource>,
    /// `Okta acme.okta.com`.
    pub provider: String,
    /// The columns of its table: the login email and the attribute (None: detected).
    pub fields: FieldChoice,
}

impl std::fmt::Debug for IdpSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdpSource").field("provider", &self.provider).finish_non_exhaustive()
    }
}

/// The identity provider the settings name; None for Calendly's own export (`--idp export`).
pub fn open(settings: &Settings, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<IdpSource>, IdpError> {
    match settings.source {
        Kind::Export => Ok(None),
        Kind::Okta => okta::open(settings, env).map(Some),
        Kind::Entra => entra::open(settings, env).map(Some),
        Kind::Onelogin => onelogin::open(settings, env).map(Some),
    }
}

/// An identity provider as the engine loads it: its values, and Calendly's record to compare.
#[derive(Clone, Debug)]
pub struct IdpLoad {
    pub idp: IdpSource,
    pub values_from: ValuesFrom,
    /// The columns of Calendly's export (`--email-column`, `--idp-column`; None: detected).
    pub record_fields: FieldChoice,
}

/// The source the configuration names: the export files when given, else the service's
/// user-export endpoint.
pub fn from_options(users_csv: &[PathBuf], client: &Client) -> Arc<dyn ValueSource> {
    if users_csv.is_empty() {
        Arc::new(export::Endpoint::new(client.clone()))
    } else {
        Arc::new(export::Files::new(users_csv.to_vec()))
    }
}
