//! Group-mapping jobs: apply the changes planned at PUT time, a batch per step, with progress
//! readable in between (queued → running → succeeded).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::state::{OrgState, OwnerRef};
use super::{JOB_BATCH, Shared};

/// How often a big job rewrites the state file while it runs (it always does at the end).
const PERSIST_EVERY: Duration = Duration::from_secs(5);

pub fn spawn(shared: &Arc<Shared>, uuid: String) {
    let s = shared.clone();
    shared.spawn(tokio::spawn(async move { run(s, uuid).await }));
}

async fn run(shared: Arc<Shared>, uuid: String) {
    let mut written = Instant::now();
    loop {
        tokio::time::sleep(shared.job_step).await;
        let faults = shared.faults();
        if faults.runaway_job {
            // Its reads move it on (see `run_away`).
            continue;
        }
        // A stalled job starts running and then never moves on.
        let batch = if faults.stalled_job { 0 } else { JOB_BATCH };
        let finished = advance(&mut shared.state(), &uuid, batch);
        if batch == 0 && finished == Some(false) {
            continue;
        }
        match finished {
            None => return,
            Some(true) => {
                shared.persist();
                return;
            }
            Some(false) if written.elapsed() >= PERSIST_EVERY => {
                shared.persist();
                written = Instant::now();
            }
            Some(false) => {}
        }
    }
}

/// One step of a job: a queued job starts running; a running one applies up to `batch` changes.
/// Returns whether the job is finished (None: no such job).
pub fn advance(st: &mut OrgState, uuid: &str, batch: usize) -> Option<bool> {
    let at = st.stamp();
    let job = st.job_mut(uuid)?;
    if job.finished() {
        return Some(true);
    }
    if job.status == "queued" {
        job.status = "running".into();
        job.updated_at = at;
        return Some(false);
    }
    // Clamped: the runaway fault counts past the planned changes.
    let from = ((job.completed + job.failed) as usize).min(job.todo.len());
    let to = (from + batch).min(job.todo.len());
    let step: Vec<(OwnerRef, String)> = job.todo[from..to].to_vec();
    let (ok, bad): (Vec<_>, Vec<_>) = step.into_iter().partition(|(owner, group)| {
        let owner_exists = match owner {
            OwnerRef::Membership(id) => st.member(id).is_some(),
            OwnerRef::Invitation(id) => st.invitation(id).is_some_and(|i| i.status == "pending"),
        };
        owner_exists && st.group(group).is_some()
    });
    st.move_members(&ok);
    let at = st.stamp();
    let job = st.job_mut(uuid)?;
    job.completed += ok.len() as u64;
    job.failed += bad.len() as u64;
    job.errors
        .extend(bad.into_iter().map(|(owner, _)| (owner, "the user or the target group no longer exists".to_owned())));
    job.updated_at = at;
    let done = to == job.todo.len();
    if done {
        job.status = if job.failed == 0 { "succeeded" } else { "failed" }.into();
        job.todo = Vec::new();
    }
    Some(done)
}

/// The runaway fault, on each read of a job: one more change reported done, none made.
pub fn run_away(st: &mut OrgState, uuid: &str) {
    let at = st.stamp();
    if let Some(job) = st.job_mut(uuid).filter(|j| !j.finished()) {
        job.status = "running".into();
        job.completed += 1;
        job.updated_at = at;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::seed;
    use crate::sandbox::state::RelRole;

    #[test]
    fn a_job_moves_members_in_batches_and_leaves_admin_relationships() {
        let mut st = seed::demo();
        let admins_before = st.relationships.iter().filter(|r| r.role == RelRole::Admin).count();
        let group = st.groups[0].uuid.clone();
        let todo: Vec<_> =
            st.members.iter().take(30).map(|m| (OwnerRef::Membership(m.uuid.clone()), group.clone())).collect();
        let job = st.add_job(todo);
        assert_eq!(advance(&mut st, &job, 25), Some(false));
        assert_eq!(st.job(&job).unwrap().status, "running");
        assert_eq!(advance(&mut st, &job, 25), Some(false));
        assert_eq!(st.job(&job).unwrap().completed, 25);
        assert_eq!(advance(&mut st, &job, 25), Some(true));
        let j = st.job(&job).unwrap();
        assert_eq!((j.status.as_str(), j.completed, j.total), ("succeeded", 30, 30));
        // Each moved member has exactly one member relationship, to the target.
        let moved: Vec<OwnerRef> = st.members.iter().take(30).map(|m| OwnerRef::Membership(m.uuid.clone())).collect();
        let rels: Vec<_> =
            st.relationships.iter().filter(|r| r.role == RelRole::Member && moved.contains(&r.owner)).collect();
        assert_eq!(rels.len(), 30);
        assert!(rels.iter().all(|r| r.group == group));
        let admins_after = st.relationships.iter().filter(|r| r.role == RelRole::Admin).count();
        assert_eq!(admins_before, admins_after);
        // Lists stay sorted by (created_at, uuid).
        assert!(st.relationships.windows(2).all(|w| (&w[0].created_at, &w[0].uuid) < (&w[1].created_at, &w[1].uuid)));
    }
}
