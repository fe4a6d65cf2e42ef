//! The engine: the one place that loads, plans, applies and verifies, for the CLI and the
//! editor alike. It ties a service (people, groups, the table) to a source of IdP values.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::domain::export::ExportError;
use crate::domain::lint::Severity;
use crate::domain::mapping_file::MappingFile;
use crate::domain::sync::ValuesFrom;
use crate::domain::text::fold_name;
use crate::domain::{Export, FieldChoice, Group, Mapping, SavedMapping, Snapshot, Target, plan};
use crate::idp::{self, ValueSource};
use crate::service::calendly::{Calendly, Client};
use crate::service::{
    Capabilities, Directory, JobReport, LoadError, Progress, SaveError, SaveProgress, SaveStage, Service, TableSaved,
};
use crate::store::Store;

/// What to load: the organization (or the token's own), and hand-exported CSVs if any.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    pub organization: Option<String>,
    pub users_csv: Vec<PathBuf>,
    pub fields: FieldChoice,
    /// Values read from an identity provider (`fields` are then its table's columns, and the
    /// export, when there is one, is Calendly's record to compare with).
    pub idp: Option<idp::IdpLoad>,
}

/// One load, whole: what the service holds and what the source of IdP values read. Everything
/// else (the snapshot, the plan) is derived from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organization {
    pub directory: Directory,
    pub exports: Vec<Export>,
    /// The table of record, where the service shows no table of its own (`Engine::with_records`).
    pub recorded: Option<SavedMapping>,
    /// Set when `exports` are an identity provider's.
    pub idp: Option<IdpRead>,
}

/// What was read beside an identity provider's values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdpRead {
    /// `Okta acme.okta.com`.
    pub provider: String,
    /// Calendly's record of the values (its user export); None when the service has none to give.
    pub recorded: Option<Vec<Export>>,
    pub record_fields: FieldChoice,
    pub values_from: ValuesFrom,
}

impl Organization {
    pub fn new(directory: Directory, exports: Vec<Export>) -> Organization {
        Organization { directory, exports, idp: None, recorded: None }
    }

    pub fn uri(&self) -> &str {
        &self.directory.organization
    }

    pub fn base_url(&self) -> &str {
        &self.directory.base_url
    }

    pub fn capabilities(&self) -> Capabilities {
        self.directory.capabilities
    }

    /// The saved table's version, where the service holds one.
    pub fn version(&self) -> Option<u64> {
        self.directory.table.as_ref().map(|t| t.version)
    }

    /// Joins the people with the source's values under `fields`; a table lacking the chosen
    /// columns is an error naming it.
    pub fn snapshot(&self, fields: &FieldChoice) -> Result<Snapshot, ExportError> {
        let d = &self.directory;
        if let Some(idp) = &self.idp {
            let tables = crate::domain::sync::Tables {
                provider: &idp.provider,
                idp: &self.exports,
                idp_fields: fields,
                recorded: idp.recorded.as_deref(),
                record_fields: &idp.record_fields,
                values_from: idp.values_from,
            };
            let mut snap = crate::domain::sync::snapshot(
                &d.base_url,
                &d.organization,
                d.groups.clone(),
                &d.people,
                d.table.clone().or_else(|| self.recorded.clone()),
                &tables,
            )?;
            snap.membership_conflicts = d.membership_conflicts.clone();
            return Ok(snap);
        }
        fields.check(&self.exports)?;
        for e in &self.exports {
            e.columns(fields)?;
        }
        let mut snap = Snapshot::from_parts(
            &d.base_url,
            &d.organization,
            d.groups.clone(),
            &d.people,
            &self.exports,
            fields,
            // One table to compare with: the service's own, else the one recorded for it.
            d.table.clone().or_else(|| self.recorded.clone()),
        );
        snap.membership_conflicts = d.membership_conflicts.clone();
        Ok(snap)
    }
}

/// A save that went through and was verified.
#[derive(Clone, Debug)]
pub struct SaveOutcome {
    pub version: u64,
    pub created: Vec<Group>,
    /// How the job that moved members ended, when there was one to follow.
    pub job: Option<JobReport>,
    /// Users moved into their target group, verified by the empty re-plan (also known when the
    /// job's answer was lost).
    pub moved: usize,
    /// The organization as reloaded after the save.
    pub organization: Arc<Organization>,
}

#[derive(Clone)]
pub struct Engine {
    service: Arc<dyn Service>,
    source: Arc<dyn ValueSource>,
    idp: Option<IdpSide>,
    organization: Option<String>,
    /// Where tables of record are kept, for a service that shows no table of its own.
    records: Option<Store>,
}

/// With an identity provider as the source: Calendly's record to read beside it.
#[derive(Clone)]
struct IdpSide {
    provider: String,
    record: Arc<dyn ValueSource>,
    record_fields: FieldChoice,
    values_from: ValuesFrom,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("base_url", &self.service.base_url()).finish_non_exhaustive()
    }
}

impl Engine {
    pub fn new(service: Arc<dyn Service>, source: Arc<dyn ValueSource>, organization: Option<String>) -> Engine {
        Engine { service, source, idp: None, organization, records: None }
    }

    /// Loads also read the table of record from `store` where the service shows no table.
    pub fn with_records(mut self, store: Store) -> Engine {
        self.records = Some(store);
        self
    }

    /// A Calendly-style API, with the values source the options name.
    pub fn calendly(client: Client, opts: &LoadOptions) -> Engine {
        let export = idp::from_options(&opts.users_csv, &client);
        let service = Arc::new(Calendly::new(client));
        match &opts.idp {
            None => Engine::new(service, export, opts.organization.clone()),
            Some(load) => Engine {
                service,
                source: load.idp.source.clone(),
                idp: Some(IdpSide {
                    provider: load.idp.provider.clone(),
                    record: export,
                    record_fields: load.record_fields.clone(),
                    values_from: load.values_from,
                }),
                organization: opts.organization.clone(),
                records: None,
            },
        }
    }

    pub fn base_url(&self) -> &str {
        self.service.base_url()
    }

    /// The values come from an identity provider, not from Calendly's export.
    pub fn reads_idp(&self) -> bool {
        self.idp.is_some()
    }

    /// The organization asked for, when one was (else it comes from the service at load).
    pub fn configured_organization(&self) -> Option<&str> {
        self.organization.as_deref()
    }

    /// Loads the organization: the service's lists and the source's values, concurrently.
    pub async fn load(&self, progress: Option<Progress>) -> Result<Organization, LoadError> {
        let organization = self.service.organization(self.organization.as_deref()).await?;
        self.load_from(&organization, progress).await
    }

    async fn load_from(&self, organization: &str, progress: Option<Progress>) -> Result<Organization, LoadError> {
        let exports = async {
            let exports = self.source.read_with_progress(organization, progress.as_ref()).await?;
            // The export lists every user, active and pending: the members and invitations to read.
            if let Some(p) = progress.as_ref().filter(|_| self.idp.is_none()) {
                p.users_total(exports.iter().map(|e| e.records.len()).sum());
            }
            Ok::<_, LoadError>(exports)
        };
        let (directory, exports, idp) = tokio::try_join!(
            self.service.load(organization, progress.as_ref()),
            exports,
            self.read_record(organization)
        )?;
        let mut org = Organization { directory, exports, idp, recorded: None };
        self.read_table_of_record(&mut org)?;
        Ok(org)
    }

    /// Loads the service's lists only, without the source of IdP values: enough to resolve and
    /// write a table (no user is in scope in its snapshot).
    pub async fn load_directory(&self, progress: Option<Progress>) -> Result<Organization, LoadError> {
        let organization = self.service.organization(self.organization.as_deref()).await?;
        let directory = self.service.load(&organization, progress.as_ref()).await?;
        let mut org = Organization::new(directory, Vec::new());
        self.read_table_of_record(&mut org)?;
        Ok(org)
    }

    /// `org` with its table of record, read afresh from the store (a cached load gets it too),
    /// where the service shows no table of its own. A recording that cannot be read or no longer
    /// resolves is an error naming its file, never silently left out.
    pub fn read_table_of_record(&self, org: &mut Organization) -> Result<(), LoadError> {
        org.recorded = None;
        let Some(store) = self.records.as_ref().filter(|_| org.directory.table.is_none()) else { return Ok(()) };
        let Some(found) = store.table_of_record(org.uri()).map_err(LoadError::TableOfRecord)? else {
            return Ok(());
        };
        let d = &org.directory;
        let groups = Snapshot::new(&d.base_url, &d.organization, d.groups.clone(), Vec::new(), None);
        let shown = found.path.display().to_string();
        let mapping = MappingFile::parse(&shown, &found.text)
            .and_then(|f| f.resolve(&groups))
            .map_err(|e| LoadError::TableOfRecord(e.to_string()))?;
        org.recorded = Some(SavedMapping::recorded(mapping, found.recorded_at, found.path));
        Ok(())
    }

    /// Calendly's record of the values beside an identity provider's: the export, when the
    /// service offers one (Calendly's public API does not; then there is nothing to compare).
    async fn read_record(&self, organization: &str) -> Result<Option<IdpRead>, LoadError> {
        let Some(side) = &self.idp else { return Ok(None) };
        let recorded = match side.record.read(organization).await {
            Ok(exports) => Some(exports),
            Err(LoadError::NoExportEndpoint { .. }) => None,
            Err(e) => return Err(e),
        };
        Ok(Some(IdpRead {
            provider: side.provider.clone(),
            recorded,
            record_fields: side.record_fields.clone(),
            values_from: side.values_from,
        }))
    }

    /// Saves `mapping` on the organization it was previewed on (`snap` is `org` joined under
    /// `fields`): creates new groups, saves the table with the preview digest, follows the job,
    /// then reloads and re-plans. Success means the re-plan is empty.
    pub async fn apply(
        &self,
        org: &Organization,
        snap: &Snapshot,
        fields: &FieldChoice,
        mapping: &Mapping,
        progress: SaveProgress,
    ) -> Result<SaveOutcome, SaveError> {
        if !org.capabilities().save_table {
            return Err(SaveError::ReadOnly);
        }
        // A group created meanwhile under a name the mapping would create is that group.
        let (mapping, _) = snap.adopt_new_groups(mapping);
        let mapping = &mapping;
        let first = plan(snap, mapping);
        let invalid: Vec<String> =
            first.lint.iter().filter(|f| f.severity == Severity::Error).map(|f| format!("  - {}", f.message)).collect();
        if !invalid.is_empty() {
            return Err(SaveError::Invalid(invalid.join("\n")));
        }

        if !first.new_groups.is_empty() && !org.capabilities().create_groups {
            let names: Vec<String> = first.new_groups.iter().map(|n| crate::domain::text::quoted(n)).collect();
            return Err(SaveError::Invalid(format!(
                "  - this service cannot create groups; create {} first, then save again",
                names.join(", ")
            )));
        }
        let mut created = Vec::new();
        let total = first.new_groups.len();
        for (done, name) in first.new_groups.iter().enumerate() {
            progress(SaveStage::CreatingGroup { name: name.clone(), done, total });
            let group = self.service.create_group(org.uri(), name).await?;
            progress(SaveStage::GroupCreated { group: group.clone() });
            created.push(group);
        }

        // The digest is computed after the groups exist, from the same snapshot, so the
        // service's check still catches an organization that changed since the preview.
        let snap = snap.with_groups(&created);
        let mapping = with_created(mapping, &created);
        let planned = plan(&snap, &mapping);
        let digest = planned.digest(&snap);
        progress(SaveStage::Saving { version: org.version().unwrap_or(0) });
        let (version, job) = match self.service.save_table(&org.directory, &mapping, digest).await? {
            TableSaved::Answered { version, job } => (version, job),
            TableSaved::Lost { version, endpoint, cause } => {
                // Saved, but the job's address was in the lost answer: verify by re-planning.
                progress(SaveStage::Saved { version, job: None });
                let lost = Lost { endpoint, cause, version, planned: planned.changes.len() };
                return self.verify_lost(org.uri(), fields, &mapping, created, lost, &progress).await;
            }
        };
        progress(SaveStage::Saved { version, job: job.clone() });
        let job = match &job {
            Some(uri) => Some(self.service.follow_job(uri, version, planned.changes.len(), &progress).await?),
            None => None,
        };

        progress(SaveStage::Verifying);
        let after = self.load_from(org.uri(), None).await?;
        let replan = plan(&after.snapshot(fields).map_err(LoadError::from)?, &mapping);
        let applies = mapping.enabled && mapping.apply_to_existing;
        if applies && !replan.is_empty() {
            return Err(SaveError::NotVerified { version, remaining: replan.changes.len() });
        }
        let moved = if applies { planned.changes.len() } else { 0 };
        Ok(SaveOutcome { version, created, job, moved, organization: Arc::new(after) })
    }

    /// After a lost answer to a save that went through: reload and re-plan until nobody is left
    /// to move, while the (unknown) job makes progress.
    async fn verify_lost(
        &self,
        organization: &str,
        fields: &FieldChoice,
        mapping: &Mapping,
        created: Vec<Group>,
        lost: Lost,
        progress: &SaveProgress,
    ) -> Result<SaveOutcome, SaveError> {
        let Lost { endpoint, cause, version, planned } = lost;
        let timing = self.service.job_timing();
        let applies = mapping.enabled && mapping.apply_to_existing;
        let mut best = usize::MAX;
        let started = Instant::now();
        let mut progressed = Instant::now();
        loop {
            progress(SaveStage::Verifying);
            let after = self.load_from(organization, None).await?;
            let snap = after.snapshot(fields).map_err(LoadError::from)?;
            let remaining = if applies { plan(&snap, mapping).changes.len() } else { 0 };
            if remaining == 0 {
                let moved = if applies { planned } else { 0 };
                return Ok(SaveOutcome { version, created, job: None, moved, organization: Arc::new(after) });
            }
            if remaining < best {
                best = remaining;
                progressed = Instant::now();
            }
            // The unseen job gets the same limits as a followed one: no progress for the stall
            // limit, or the deadline reached, and the admin is told what is known.
            if progressed.elapsed() >= timing.stall || started.elapsed() >= timing.deadline {
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
            tokio::time::sleep((timing.poll * 4).min(timing.deadline.saturating_sub(started.elapsed()))).await;
        }
    }
}

/// A save whose answer was lost after it went through.
struct Lost {
    endpoint: String,
    cause: String,
    version: u64,
    planned: usize,
}

/// The mapping with new groups replaced by the URIs they were created with.
pub fn with_created(mapping: &Mapping, created: &[Group]) -> Mapping {
    let fix = |t: &Target| match t {
        Target::New(name) => created
            .iter()
            .find(|g| fold_name(&g.name) == fold_name(name))
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

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;
    use futures_util::future::BoxFuture;

    use super::*;
    use crate::domain::{OwnerKind, Person, TableOrigin};
    use crate::service::{JobReport, JobTiming};

    /// A service that can save the table but not create groups, and fails the test if asked to.
    struct NoGroupCreation;

    impl Service for NoGroupCreation {
        fn base_url(&self) -> &str {
            "https://svc.test"
        }
        fn job_timing(&self) -> JobTiming {
            let s = std::time::Duration::from_secs(1);
            JobTiming { poll: s, stall: s, deadline: s }
        }
        fn organization<'a>(&'a self, _: Option<&'a str>) -> BoxFuture<'a, Result<String, LoadError>> {
            async { Ok("https://svc.test/organizations/O".to_owned()) }.boxed()
        }
        fn load<'a>(&'a self, org: &'a str, _: Option<&'a Progress>) -> BoxFuture<'a, Result<Directory, LoadError>> {
            let person = Person {
                kind: OwnerKind::Member,
                uri: "https://svc.test/m/1".into(),
                name: "A".into(),
                email: "a@x.test".into(),
                group: None,
            };
            let table = SavedMapping {
                mapping: Mapping::default(),
                version: 1,
                updated_at: None,
                updated_by: None,
                origin: TableOrigin::Service,
            };
            let directory = Directory {
                base_url: "https://svc.test".into(),
                organization: org.to_owned(),
                groups: Vec::new(),
                people: std::sync::Arc::new(vec![person]),
                table: Some(table),
                capabilities: Capabilities {
                    save_table: true,
                    create_groups: false,
                    move_members: true,
                    revision: true,
                },
                revision: Some("\"1\"".into()),
                membership_conflicts: Vec::new(),
            };
            async move { Ok(directory) }.boxed()
        }
        fn create_group<'a>(&'a self, _: &'a str, _: &'a str) -> BoxFuture<'a, Result<Group, SaveError>> {
            panic!("a service without create_groups was asked to create a group")
        }
        fn save_table<'a>(
            &'a self,
            _: &'a Directory,
            _: &'a Mapping,
            _: String,
        ) -> BoxFuture<'a, Result<TableSaved, SaveError>> {
            panic!("nothing may be saved when a group cannot be created")
        }
        fn follow_job<'a>(
            &'a self,
            _: &'a str,
            _: u64,
            _: usize,
            _: &'a SaveProgress,
        ) -> BoxFuture<'a, Result<JobReport, SaveError>> {
            panic!("no job")
        }
    }

    struct OneExport;

    impl ValueSource for OneExport {
        fn describe(&self) -> String {
            "one.csv".into()
        }
        fn read_with_progress<'a>(
            &'a self,
            _: &'a str,
            _: Option<&'a crate::service::Progress>,
        ) -> BoxFuture<'a, Result<Vec<Export>, LoadError>> {
            let e = Export::parse("one.csv", b"Login email,Identity Provider Group\na@x.test,Ops\n").unwrap();
            async move { Ok(vec![e]) }.boxed()
        }
    }

    /// The engine asks the service's capabilities: a table naming a new group is refused, before
    /// anything is sent, where the service cannot create groups.
    #[tokio::test]
    async fn a_new_group_is_refused_where_the_service_cannot_create_groups() {
        let engine = Engine::new(Arc::new(NoGroupCreation), Arc::new(OneExport), None);
        let org = engine.load(None).await.unwrap();
        let snap = org.snapshot(&FieldChoice::default()).unwrap();
        let mut m = Mapping { enabled: true, ..Mapping::default() };
        m.set("Ops", Target::New("Ops Team".into()));
        let err = engine.apply(&org, &snap, &FieldChoice::default(), &m, Arc::new(|_| {})).await.unwrap_err();
        assert!(err.to_string().contains("cannot create groups; create \"Ops Team\" first"), "{err}");
    }
}
