//! Saving on Calendly-style endpoints: create a group, PUT the table with If-Match and the
//! preview digest (finding out what happened when the answer is lost), follow the job.

use std::time::Instant;

use reqwest::Method;

use super::client::{ApiError, Client};
use super::wire::{self, CreateGroup, Job, MappingRow, PutGroupMapping, PutGroupMappingResponse, Resource};
use crate::domain::text::{fold_name, sanitize};
use crate::domain::{Group, Mapping, Target};
use crate::service::{SaveError, SaveProgress, SaveStage, TableSaved};

pub fn body(mapping: &Mapping, digest: String) -> PutGroupMapping {
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

/// Creates a group. When the answer is lost, the groups are listed to see whether it exists
/// (then it is used) before trying once more.
pub async fn create_group(client: &Client, organization: &str, name: &str) -> Result<Group, SaveError> {
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
        let folded = fold_name(name);
        if let Some(g) = groups.into_iter().find(|g| fold_name(&g.name) == folded) {
            return Ok(Group { uri: g.uri, name: g.name, member_count: g.member_count });
        }
    }
}

/// PUTs the mapping. When the answer is lost (a dropped connection, a timeout, a 5xx), the
/// mapping is re-read to find out what the server has instead of guessing: saved as sent (the
/// version moved on and the rows are ours), not saved (then the PUT is tried again: If-Match
/// makes that safe), or changed by someone else.
pub async fn put_mapping(
    client: &Client,
    organization: &str,
    etag: &str,
    body: &PutGroupMapping,
    previous: u64,
) -> Result<TableSaved, SaveError> {
    let path = &format!("/organizations/{}/group_mapping", wire::uuid_of(organization));
    let endpoint = format!("PUT {path}");
    let mut tries = 0;
    loop {
        tries += 1;
        let e = match client.send_json(Method::PUT, path, &[("if-match", etag.to_owned())], body).await {
            Ok(resp) => {
                let put: PutGroupMappingResponse = client.decode(&Method::PUT, path, &resp.body)?;
                return Ok(TableSaved::Answered { version: put.resource.version, job: put.job });
            }
            Err(e) if e.status() == Some(412) => return Err(SaveError::MappingChanged { endpoint: path.to_owned() }),
            Err(e) if e.status() == Some(409) => return Err(SaveError::PreviewStale { endpoint: path.to_owned() }),
            Err(e) if e.outcome_unknown() => e,
            Err(e) => return Err(e.into()),
        };
        let cause = lost_cause(&e);
        let now = match super::load::fetch_mapping(client, organization).await {
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
            return Ok(TableSaved::Lost { version: now.version, endpoint, cause });
        }
        return Err(SaveError::MappingChanged { endpoint: path.to_owned() });
    }
}

/// What a lost answer's error says, without the endpoint (the message names it once).
fn lost_cause(e: &ApiError) -> String {
    match e {
        ApiError::Transport { message, .. } => message.clone(),
        ApiError::Status { status, body, .. } => {
            format!("{status} {}", sanitize(&body.title))
        }
        other => other.to_string(),
    }
}

/// Follows a job until it finishes, fails, stalls, passes the deadline, or claims work the plan
/// does not have (`planned` moves): a server's numbers are checked, not trusted, so a job that
/// always seems to progress cannot be followed for ever.
pub async fn follow_job(
    client: &Client,
    uri: &str,
    version: u64,
    planned: u64,
    progress: &SaveProgress,
) -> Result<Job, SaveError> {
    let opts = client.options();
    let name = || sanitize(uri).into_owned();
    let started = Instant::now();
    // Progress is what moves forward: a count that goes back and forth, or a status that flips
    // between queued and running, must not pass for progress and hold off the stall limit.
    let (mut best_done, mut best_rank) = (None, 0u8);
    let mut progressed = Instant::now();
    loop {
        let job: Resource<Job> = client.get(uri, &[]).await.map_err(|e| SaveError::JobUnknown {
            version,
            job: name(),
            cause: e.to_string(),
        })?;
        let job = job.resource;
        let (completed, failed, total) = (job.completed, job.failed, job.total);
        let done = completed.saturating_add(failed);
        if total != planned || done > planned {
            return Err(SaveError::JobMismatch { version, job: name(), planned, completed, failed, total });
        }
        progress(SaveStage::Job { completed, failed, total });
        if job.status == "failed" || (job.finished() && failed > 0) {
            let errors: String = job
                .errors
                .iter()
                .take(10)
                .map(|e| format!("\n  - {}: {}", sanitize(&e.owner), sanitize(&e.message)))
                .collect();
            return Err(SaveError::JobFailed { version, job: name(), completed, failed, total, errors });
        }
        if job.finished() {
            return Ok(job);
        }
        let rank = u8::from(job.status != "queued");
        if best_done.is_none_or(|b| done > b) || rank > best_rank {
            best_done = Some(best_done.map_or(done, |b: u64| b.max(done)));
            best_rank = best_rank.max(rank);
            progressed = Instant::now();
        } else if progressed.elapsed() >= opts.job_stall {
            let secs = progressed.elapsed().as_secs();
            return Err(SaveError::JobStalled { version, job: name(), completed, failed, total, secs });
        }
        let left = opts.job_deadline.saturating_sub(started.elapsed());
        if left.is_zero() {
            let secs = opts.job_deadline.as_secs_f64();
            return Err(SaveError::JobDeadline { version, job: name(), completed, failed, total, secs });
        }
        tokio::time::sleep(opts.job_poll.min(left)).await;
    }
}
