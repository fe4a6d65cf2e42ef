//! Saving a mapping: create new groups, PUT with If-Match and the preview digest, follow the
//! job, then reload and re-plan. Success means the re-plan is empty.

use std::sync::Arc;
use std::time::Instant;

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
        "the mapping was saved as version {version}, but the job {job} failed: {completed} of {total} users moved, {failed} failed{errors}\n\
         Run `groupmap plan` to see who is left to move, fix what the errors name, and apply again"
    )]
    JobFailed { version: u64, job: String, completed: u64, failed: u64, total: u64, errors: String },
    #[error(
        "the mapping was saved as version {version}, but verification found {remaining} user(s) still to move; run `groupmap plan` to see them"
    )]
    NotVerified { version: u64, remaining: usize },
    #[error(
        "the mapping was saved as version {version}, but the job {job} has made no progress for {secs} s: \
         {completed} of {total} users moved, {failed} failed. The job may still finish: run `groupmap plan` \
         later to see who is left to move"
    )]
    JobStalled { version: u64, job: String, completed: u64, failed: u64, total: u64, secs: u64 },
    #[error(
        "the mapping was saved as version {version}, but following the job {job} failed: {cause}\n\
         Run `groupmap plan` later to see who is left to move"
    )]
    JobUnknown { version: u64, job: String, cause: String },
    #[error(
        "{endpoint}: the save's answer was lost ({cause}); re-reading the mapping shows it was not saved \
         (still version {version}) and trying again failed too. Nothing was saved and no user moved; save again \
         when the server is reachable"
    )]
    NotSaved { endpoint: String, cause: String, version: u64 },
    #[error(
        "{endpoint}: the save's answer was lost ({cause}), but re-reading shows the mapping was saved as version \
         {version}, exactly as sent. Of the {planned} planned move(s), {done} are done and {remaining} are not yet: \
         the job's address was in the lost answer, so it cannot be followed. Run `groupmap plan` in a minute: \
         an empty plan means everything was applied"
    )]
    SavedUnconfirmed { endpoint: String, cause: String, version: u64, planned: usize, done: usize, remaining: usize },
    #[error(
        "{endpoint}: the save's answer was lost ({cause}), and re-reading the mapping failed too ({check}). \
         It is not known whether the mapping was saved: when the server is reachable, run `groupmap plan`; \
         saved version {expected} with your rows means it was saved, version {previous} means it was not"
    )]
    Unknown { endpoint: String, cause: String, check: String, previous: u64, expected: u64 },
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(
        "the mapping was saved, but reloading to verify failed: {0}\n\
         Run `groupmap plan` to check that nobody is left to move"
    )]
    Reload(#[from] LoadError),
}

#[derive(Clone, Debug)]
pub struct SaveOutcome {
    pub version: u64,
    pub created: Vec<Group>,
    pub job: Option<Job>,
    /// Users moved into their target group, verified by the empty re-plan (also known when the
    /// job's answer was lost).
    pub moved: usize,
    /// The organization as reloaded after the save.
    pub snapshot: Snapshot,
}

/// The mapping with new groups replaced by the URIs they were created with.
pub fn with_created(mapping: &Mapping, created: &[Group]) -> Mapping {
    let fix = |t: &Target| match t {
        Target::New(name) => created
            .iter()
            .find(|g| crate::domain::text::fold_name(&g.name) == crate::domain::text::fold_name(name))
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
        let group = create_group(client, &snap.organization, name).await?;
        progress(SaveStage::GroupCreated { group: group.clone() });
        created.push(group);
    }

    // The digest is computed after the groups exist, from the same snapshot, so the server's
    // check still catches an organization that changed since the preview.
    let snap = snap.with_groups(&created);
    let mapping = with_created(mapping, &created);
    let planned = plan(&snap, &mapping);
    let digest = planned.digest(&snap);
    let path = format!("/organizations/{}/group_mapping", wire::uuid_of(&snap.organization));
    let endpoint = format!("PUT {path}");
    let body = body(&mapping, digest);
    progress(SaveStage::Saving { version: saved.version });
    let put = match put_mapping(client, &snap.organization, etag, &body, saved.version).await? {
        Put::Answered(put) => put,
        Put::Lost { version, cause } => {
            // Saved, but the job's address was in the lost answer: verify by re-planning.
            progress(SaveStage::Saved { version, job: None });
            return verify_lost(
                client,
                reload,
                &mapping,
                created,
                endpoint,
                cause,
                version,
                planned.changes.len(),
                &progress,
            )
            .await;
        }
    };
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
    let moved = if mapping.enabled && mapping.apply_to_existing { planned.changes.len() } else { 0 };
    Ok(SaveOutcome { version, created, job, moved, snapshot: after })
}

/// Creates a group. When the answer is lost, the groups are listed to see whether it exists
/// (then it is used) before trying once more.
async fn create_group(client: &Client, organization: &str, name: &str) -> Result<Group, SaveError> {
    let req = CreateGroup { organization: organization.to_owned(), name: name.to_owned() };
    let mut tries = 0;
    loop {
        tries += 1;
        let e = match client.send_json(Method::POST, "/groups", &[], &req).await {
            Ok(resp) => {
                let g: Resource<wire::Group> = client.decode(&Method::POST, "/groups", &resp.body)?;
                return Ok(Group { uri: g.resource.uri, name: g.resource.name, member_count: g.resource.member_count });
            }
            Err(e) if e.status() == Some(409) => return Err(SaveError::GroupExists { name: name.to_owned() }),
            Err(e) if e.outcome_unknown() && tries < client.options().max_attempts => e,
            Err(e) => return Err(e.into()),
        };
        let groups: Vec<wire::Group> =
            client.get_all("/groups", &[("organization", organization)], "groups", None).await.map_err(|_| e)?;
        let folded = crate::domain::text::fold_name(name);
        if let Some(g) = groups.into_iter().find(|g| crate::domain::text::fold_name(&g.name) == folded) {
            return Ok(Group { uri: g.uri, name: g.name, member_count: g.member_count });
        }
    }
}

enum Put {
    Answered(PutGroupMappingResponse),
    /// The answer was lost but re-reading shows the mapping saved as this version.
    Lost {
        version: u64,
        cause: String,
    },
}

/// PUTs the mapping. When the answer is lost (a dropped connection, a timeout, a 5xx), the
/// mapping is re-read to find out what the server has instead of guessing: saved as sent (the
/// version moved on and the rows are ours), not saved (then the PUT is tried again: If-Match
/// makes that safe), or changed by someone else.
async fn put_mapping(
    client: &Client,
    organization: &str,
    etag: &str,
    body: &PutGroupMapping,
    previous: u64,
) -> Result<Put, SaveError> {
    let path = &format!("/organizations/{}/group_mapping", wire::uuid_of(organization));
    let endpoint = format!("PUT {path}");
    let mut tries = 0;
    loop {
        tries += 1;
        let e = match client.send_json(Method::PUT, path, &[("if-match", etag.to_owned())], body).await {
            Ok(resp) => return Ok(Put::Answered(client.decode(&Method::PUT, path, &resp.body)?)),
            Err(e) if e.status() == Some(412) => return Err(SaveError::MappingChanged { endpoint: path.to_owned() }),
            Err(e) if e.status() == Some(409) => return Err(SaveError::PreviewStale { endpoint: path.to_owned() }),
            Err(e) if e.outcome_unknown() => e,
            Err(e) => return Err(e.into()),
        };
        let cause = lost_cause(&e);
        let now = match crate::api::load::fetch_mapping(client, organization).await {
            Ok(Some((m, _))) => m,
            Ok(None) => return Err(e.into()),
            Err(check) => {
                return Err(SaveError::Unknown {
                    endpoint,
                    cause,
                    check: check.to_string(),
                    previous,
                    expected: previous + 1,
                });
            }
        };
        if now.version == previous {
            if tries < client.options().max_attempts {
                continue;
            }
            return Err(SaveError::NotSaved { endpoint, cause, version: previous });
        }
        let ours = now.enabled == body.enabled && now.rows == body.rows && now.default_group == body.default_group;
        if ours {
            return Ok(Put::Lost { version: now.version, cause });
        }
        return Err(SaveError::MappingChanged { endpoint: path.to_owned() });
    }
}

/// What a lost answer's error says, without the endpoint (the message names it once).
fn lost_cause(e: &ApiError) -> String {
    match e {
        ApiError::Transport { message, .. } => message.clone(),
        ApiError::Status { status, body, .. } => {
            format!("{status} {}", crate::domain::text::sanitize(&body.title))
        }
        other => other.to_string(),
    }
}

/// After a lost answer to a save that went through: reload and re-plan until nobody is left to
/// move, while the (unknown) job makes progress.
#[allow(clippy::too_many_arguments)]
async fn verify_lost(
    client: &Client,
    reload: &LoadOptions,
    mapping: &Mapping,
    created: Vec<Group>,
    endpoint: String,
    cause: String,
    version: u64,
    planned: usize,
    progress: &SaveProgress,
) -> Result<SaveOutcome, SaveError> {
    let applies = mapping.enabled && mapping.apply_to_existing;
    let mut best = usize::MAX;
    let mut progressed = Instant::now();
    loop {
        progress(SaveStage::Verifying);
        let loaded = load(client, reload, None).await?;
        let after = loaded.snapshot(&reload.fields).map_err(LoadError::from)?;
        let remaining = if applies { plan(&after, mapping).changes.len() } else { 0 };
        if remaining == 0 {
            let moved = if applies { planned } else { 0 };
            return Ok(SaveOutcome { version, created, job: None, moved, snapshot: after });
        }
        if remaining < best {
            best = remaining;
            progressed = Instant::now();
        }
        if progressed.elapsed() >= client.options().job_stall {
            return Err(SaveError::SavedUnconfirmed {
                endpoint,
                cause,
                version,
                planned,
                done: planned.saturating_sub(remaining),
                remaining,
            });
        }
        progress(SaveStage::Job {
            completed: planned.saturating_sub(remaining) as u64,
            failed: 0,
            total: planned as u64,
        });
        tokio::time::sleep(client.options().job_poll * 4).await;
    }
}

async fn follow_job(client: &Client, uri: &str, version: u64, progress: &SaveProgress) -> Result<Job, SaveError> {
    let mut last = None;
    let mut progressed = Instant::now();
    loop {
        let job: Resource<Job> = client.get(uri, &[]).await.map_err(|e| SaveError::JobUnknown {
            version,
            job: crate::domain::text::sanitize(uri).into_owned(),
            cause: e.to_string(),
        })?;
        let job = job.resource;
        progress(SaveStage::Job { completed: job.completed, failed: job.failed, total: job.total });
        if job.status == "failed" || (job.finished() && job.failed > 0) {
            let errors: String = job
                .errors
                .iter()
                .take(10)
                .map(|e| {
                    format!(
                        "\n  - {}: {}",
                        crate::domain::text::sanitize(&e.owner),
                        crate::domain::text::sanitize(&e.message)
                    )
                })
                .collect();
            return Err(SaveError::JobFailed {
                version,
                job: crate::domain::text::sanitize(uri).into_owned(),
                completed: job.completed,
                failed: job.failed,
                total: job.total,
                errors,
            });
        }
        if job.finished() {
            return Ok(job);
        }
        let now = (job.status.clone(), job.completed + job.failed);
        if last.as_ref() != Some(&now) {
            last = Some(now);
            progressed = Instant::now();
        } else if progressed.elapsed() >= client.options().job_stall {
            return Err(SaveError::JobStalled {
                version,
                job: crate::domain::text::sanitize(uri).into_owned(),
                completed: job.completed,
                failed: job.failed,
                total: job.total,
                secs: progressed.elapsed().as_secs(),
            });
        }
        tokio::time::sleep(client.options().job_poll).await;
    }
}
