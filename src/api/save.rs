//! Saving a mapping: create new groups, PUT with If-Match and the preview digest, follow the
//! job, then reload and re-plan. Success means the re-plan is empty.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;

use super::client::{ApiError, Client};
use super::load::{LoadError, LoadOptions, load};
use super::wire::{self, CreateGroup, Job, MappingRow, PutGroupMapping, PutGroupMappingResponse, Resource};
use crate::domain::{Group, Mapping, Snapshot, Target, plan};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SaveStage {
    CreatingGroup { name: String, done: usize, total: usize },
    GroupCreated { group: Group },
    Saving { version: u64 },
    Saved { version: u64, job: Option<String> },
    Job { completed: u64, failed: u64, total: u64 },
    Verifying,
}

pub type SaveProgress = Arc<dyn Fn(SaveStage) + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error(
        "this server has no group-mapping endpoint (Calendly's public API is read-only), so nothing \
         can be saved here; write the table with `groupmap mapping export --format csv` and enter it \
         in Calendly's admin center"
    )]
    ReadOnly,
    #[error("the mapping cannot be saved:\n{0}")]
    Invalid(String),
    #[error(
        "the organization changed since you loaded it: someone else saved the group mapping \
         (412 Precondition Failed on PUT {endpoint}). Nothing was saved; reload, review the new preview and save again."
    )]
    MappingChanged { endpoint: String },
    #[error(
        "the organization changed since you previewed it: members or groups moved, so the preview \
         no longer matches (409 Conflict on PUT {endpoint}). Nothing was saved; reload, review the new preview and save again."
    )]
    PreviewStale { endpoint: String },
    #[error(
        "the organization changed since you loaded it: a group named {name:?} already exists (409 on POST /groups); reload and save again"
    )]
    GroupExists { name: String },
    #[error(
        "the mapping was saved as version {version}, but the job {job} failed: {completed} of {total} users moved, {failed} failed{errors}"
    )]
    JobFailed { version: u64, job: String, completed: u64, failed: u64, total: u64, errors: String },
    #[error(
        "the mapping was saved as version {version}, but verification found {remaining} user(s) still to move; run `groupmap plan` to see them"
    )]
    NotVerified { version: u64, remaining: usize },
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("the mapping was saved, but reloading to verify failed: {0}")]
    Reload(#[from] LoadError),
}

#[derive(Clone, Debug)]
pub struct SaveOutcome {
    pub version: u64,
    pub created: Vec<Group>,
    pub job: Option<Job>,
    /// The organization as reloaded after the save.
    pub snapshot: Snapshot,
}

/// The mapping with new groups replaced by the URIs they were created with.
pub fn with_created(mapping: &Mapping, created: &[Group]) -> Mapping {
    let fix = |t: &Target| match t {
        Target::New(name) => created
            .iter()
            .find(|g| crate::domain::snapshot::fold_name(&g.name) == crate::domain::snapshot::fold_name(name))
            .map_or_else(|| t.clone(), |g| Target::Group(g.uri.clone())),
        other => other.clone(),
    };
    let mut m = mapping.clone();
    for r in &mut m.rows {
        r.target = fix(&r.target);
    }
    m.default_group = m.default_group.as_ref().map(fix);
    m
}

fn body(mapping: &Mapping, digest: String) -> PutGroupMapping {
    PutGroupMapping {
        enabled: mapping.enabled,
        rows: mapping
            .rows
            .iter()
            .map(|r| MappingRow { idp_value: r.idp_value.clone(), group: r.target.wire() })
            .collect(),
        default_group: mapping.default_group.as_ref().map(Target::wire),
        apply_to_existing: mapping.apply_to_existing,
        preview_digest: Some(digest),
    }
}

pub async fn save(
    client: &Client,
    snap: &Snapshot,
    etag: &str,
    mapping: &Mapping,
    reload: &LoadOptions,
    progress: SaveProgress,
) -> Result<SaveOutcome, SaveError> {
    let Some(saved) = &snap.saved else {
        return Err(SaveError::ReadOnly);
    };
    let first = plan(snap, mapping);
    let invalid: Vec<String> = first
        .lint
        .iter()
        .filter(|f| f.severity == crate::domain::lint::Severity::Error)
        .map(|f| format!("  - {}", f.message))
        .collect();
    if !invalid.is_empty() {
        return Err(SaveError::Invalid(invalid.join("\n")));
    }

    let mut created = Vec::new();
    let total = first.new_groups.len();
    for (done, name) in first.new_groups.iter().enumerate() {
        progress(SaveStage::CreatingGroup { name: name.clone(), done, total });
        let req = CreateGroup { organization: snap.organization.clone(), name: name.clone() };
        let resp = match client.send_json(Method::POST, "/groups", &[], &req).await {
            Err(e) if e.status() == Some(409) => return Err(SaveError::GroupExists { name: name.clone() }),
            other => other?,
        };
        let g: Resource<wire::Group> = client.decode(&Method::POST, "/groups", &resp.body)?;
        let group = Group { uri: g.resource.uri, name: g.resource.name, member_count: g.resource.member_count };
        progress(SaveStage::GroupCreated { group: group.clone() });
        created.push(group);
    }

    // The digest is computed after the groups exist, from the same snapshot, so the server's
    // check still catches an organization that changed since the preview.
    let snap = snap.with_groups(&created);
    let mapping = with_created(mapping, &created);
    let digest = plan(&snap, &mapping).digest(&snap);
    let path = format!("/organizations/{}/group_mapping", wire::uuid_of(&snap.organization));
    progress(SaveStage::Saving { version: saved.version });
    let resp = client
        .send_json(Method::PUT, &path, &[("if-match", etag.to_owned())], &body(&mapping, digest))
        .await
        .map_err(|e| match e.status() {
            Some(412) => SaveError::MappingChanged { endpoint: path.clone() },
            Some(409) => SaveError::PreviewStale { endpoint: path.clone() },
            _ => SaveError::Api(e),
        })?;
    let put: PutGroupMappingResponse = client.decode(&Method::PUT, &path, &resp.body)?;
    let version = put.resource.version;
    progress(SaveStage::Saved { version, job: put.job.clone() });

    let job = match &put.job {
        Some(uri) => Some(follow_job(client, uri, version, &progress).await?),
        None => None,
    };

    progress(SaveStage::Verifying);
    let loaded = load(client, reload, None).await?;
    let after = loaded.snapshot(&reload.fields).map_err(LoadError::from)?;
    let replan = plan(&after, &mapping);
    if mapping.enabled && mapping.apply_to_existing && !replan.is_empty() {
        return Err(SaveError::NotVerified { version, remaining: replan.changes.len() });
    }
    Ok(SaveOutcome { version, created, job, snapshot: after })
}

async fn follow_job(client: &Client, uri: &str, version: u64, progress: &SaveProgress) -> Result<Job, SaveError> {
    loop {
        let job: Resource<Job> = client.get(uri, &[]).await?;
        let job = job.resource;
        progress(SaveStage::Job { completed: job.completed, failed: job.failed, total: job.total });
        if job.status == "failed" || (job.finished() && job.failed > 0) {
            let errors: String =
                job.errors.iter().take(10).map(|e| format!("\n  - {}: {}", e.owner, e.message)).collect();
            return Err(SaveError::JobFailed {
                version,
                job: uri.to_owned(),
                completed: job.completed,
                failed: job.failed,
                total: job.total,
                errors,
            });
        }
        if job.finished() {
            return Ok(job);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
