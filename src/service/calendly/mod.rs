//! The service port implemented on Calendly's API v2 (read endpoints) and this project's
//! provisioning endpoints (mapping, jobs, group creation), which only the bundled sandbox and
//! servers of `assets/openapi.yaml` serve: against real Calendly the service is read-only.

pub mod client;
mod error;
pub mod load;
mod log;
mod pacer;
pub mod redact;
pub mod save;
mod secret;
pub mod wire;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;

pub use client::{ApiError, Client, Secret};

use crate::domain::{Group, Mapping};
use crate::service::{
    Directory, JobReport, JobTiming, LoadError, Progress, SaveError, SaveProgress, Service, TableSaved,
};

/// A Calendly-style API at a base URL, with a token.
#[derive(Clone, Debug)]
pub struct Calendly {
    client: Client,
}

impl Calendly {
    pub fn new(client: Client) -> Calendly {
        Calendly { client }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl Service for Calendly {
    fn base_url(&self) -> &str {
        self.client.base_url()
    }

    fn job_timing(&self) -> JobTiming {
        let o = self.client.options();
        JobTiming { poll: o.job_poll, stall: o.job_stall, deadline: o.job_deadline }
    }

    fn organization<'a>(&'a self, configured: Option<&'a str>) -> BoxFuture<'a, Result<String, LoadError>> {
        load::organization_of(&self.client, configured).boxed()
    }

    fn load<'a>(
        &'a self,
        organization: &'a str,
        progress: Option<&'a Progress>,
    ) -> BoxFuture<'a, Result<Directory, LoadError>> {
        load::load(&self.client, organization, progress).boxed()
    }

    fn create_group<'a>(&'a self, organization: &'a str, name: &'a str) -> BoxFuture<'a, Result<Group, SaveError>> {
        save::create_group(&self.client, organization, name).boxed()
    }

    fn save_table<'a>(
        &'a self,
        base: &'a Directory,
        table: &'a Mapping,
        digest: String,
    ) -> BoxFuture<'a, Result<TableSaved, SaveError>> {
        async move {
            let (Some(saved), Some(etag)) = (&base.table, &base.revision) else {
                return Err(SaveError::ReadOnly);
            };
            let body = save::body(table, digest);
            save::put_mapping(&self.client, &base.organization, etag, &body, saved.version).await
        }
        .boxed()
    }

    fn follow_job<'a>(
        &'a self,
        job: &'a str,
        version: u64,
        planned: usize,
        progress: &'a SaveProgress,
    ) -> BoxFuture<'a, Result<JobReport, SaveError>> {
        async move {
            let job = save::follow_job(&self.client, job, version, planned as u64, progress).await?;
            Ok(JobReport { status: job.status, completed: job.completed, failed: job.failed, total: job.total })
        }
        .boxed()
    }
}
