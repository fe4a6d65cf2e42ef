//! Calendly's admin-center user export as a source of IdP values: the CSV files the admin
//! downloaded, or the user-export endpoint this project's servers offer.

use std::path::PathBuf;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::ValueSource;
use crate::domain::Export;
use crate::service::calendly::{Client, wire};
use crate::service::{LoadError, Progress};

/// Export files downloaded by hand (Active users, Pending users).
#[derive(Clone, Debug)]
pub struct Files {
    paths: Vec<PathBuf>,
}

impl Files {
    pub fn new(paths: Vec<PathBuf>) -> Files {
        Files { paths }
    }
}

impl ValueSource for Files {
    fn describe(&self) -> String {
        self.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    }

    fn read_with_progress<'a>(
        &'a self,
        _organization: &'a str,
        _progress: Option<&'a Progress>,
    ) -> BoxFuture<'a, Result<Vec<Export>, LoadError>> {
        let paths = self.paths.clone();
        async move {
            // Files are small next to the lists read meanwhile; reading them off the runtime
            // keeps the event loop responsive.
            tokio::task::spawn_blocking(move || read_files(&paths))
                .await
                .map_err(|e| LoadError::File { file: "user export".into(), message: e.to_string() })?
        }
        .boxed()
    }
}

/// Reads the CSV files the admin exported by hand.
pub fn read_files(paths: &[PathBuf]) -> Result<Vec<Export>, LoadError> {
    paths
        .iter()
        .map(|p| {
            let name = p.display().to_string();
            let bytes = std::fs::read(p).map_err(|e| LoadError::File { file: name.clone(), message: e.to_string() })?;
            Ok(Export::parse(&name, &bytes)?)
        })
        .collect()
}

/// `GET /organizations/{uuid}/user_export?status=active|pending` on the service's base URL.
#[derive(Clone, Debug)]
pub struct Endpoint {
    client: Client,
}

impl Endpoint {
    pub fn new(client: Client) -> Endpoint {
        Endpoint { client }
    }

    async fn fetch(&self, org: &str, status: &str) -> Result<Export, LoadError> {
        let client = &self.client;
        let path = format!("/organizations/{}/user_export", wire::uuid_of(org));
        let resp = client.send(reqwest::Method::GET, &path, &[("status", status)], &[], None, true).await?;
        if resp.status == 404 {
            return Err(LoadError::NoExportEndpoint { endpoint: format!("GET {path}") });
        }
        let resp = client.check(&reqwest::Method::GET, &path, resp)?;
        Ok(Export::parse(&format!("GET {path}?status={status}"), &resp.body)?)
    }
}

impl ValueSource for Endpoint {
    fn describe(&self) -> String {
        "the user-export endpoint".to_owned()
    }

    fn read_with_progress<'a>(
        &'a self,
        organization: &'a str,
        _progress: Option<&'a Progress>,
    ) -> BoxFuture<'a, Result<Vec<Export>, LoadError>> {
        async move {
            let (a, b) = tokio::try_join!(self.fetch(organization, "active"), self.fetch(organization, "pending"))?;
            Ok(vec![a, b])
        }
        .boxed()
    }
}
