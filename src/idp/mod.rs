//! The IdP-values port: where each person's group value comes from.
//!
//! A source reads tables of people with their attributes (an admin-center export, an identity
//! provider's users); which column is the login email and which the group value are the
//! source's settings (`FieldChoice`), edited on the Fields screen. What was read is kept raw, so
//! changing the settings re-joins without reading again. A new source is one module here plus a
//! line in `from_options`.

pub mod export;

use std::path::PathBuf;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::domain::Export;
use crate::service::LoadError;
use crate::service::calendly::Client;

pub trait ValueSource: Send + Sync {
    /// What is read, for messages: "the user-export endpoint", "active.csv, pending.csv".
    fn describe(&self) -> String;

    /// Reads the source's tables for an organization.
    fn read<'a>(&'a self, organization: &'a str) -> BoxFuture<'a, Result<Vec<Export>, LoadError>>;
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
