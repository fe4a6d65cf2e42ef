//! The people of an organization (members and pending invitees) and how each gets the group
//! value a source of IdP values holds for them: joined by email, ASCII case-insensitively.

use std::borrow::Cow;

use super::coverage::{Coverage, FileCoverage};
use super::export::{Export, FieldChoice};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerKind {
    Member,
    Invitee,
}

/// A member or pending invitee as read from the API, before the export is joined.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub kind: OwnerKind,
    /// Organization membership URI for a member, invitation URI for an invitee. (Boxed: 8 bytes
    /// a string less than `String`, a person at a time.)
    pub uri: Box<str>,
    pub name: Box<str>,
    pub email: Box<str>,
    /// Current `member` group URI, shared by everyone in the group.
    pub group: Option<std::sync::Arc<str>>,
}

/// The people of an organization as loaded, shared (never copied) by every snapshot of it.
pub type People = std::sync::Arc<Vec<Person>>;

/// An owner before interning: the value and group as strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnerInput {
    pub kind: OwnerKind,
    pub uri: String,
    pub name: String,
    pub email: String,
    pub value: Option<String>,
    pub group: Option<String>,
}

/// An export row that could not be used, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaleRow {
    pub file: String,
    pub line: u64,
    pub email: String,
    pub value: String,
}

impl StaleRow {
    /// Where the row is, for a message, so that the line number cannot be read as part of the
    /// source: `active.csv, line 302`, or for the export endpoint `line 302 of the active-user
    /// export (GET /organizations/…/user_export?status=active)`.
    pub fn place(&self) -> String {
        let Some(request) = self.file.strip_prefix("GET ") else {
            return format!("{}, line {}", self.file, self.line);
        };
        let status = request.rsplit_once("status=").map(|(_, s)| s).filter(|s| !s.is_empty() && !s.contains('&'));
        let which = status.map_or_else(|| "the user export".to_owned(), |s| format!("the {s}-user export"));
        format!("line {} of {which} ({})", self.line, self.file)
    }
}

/// An owner the service lists in several `member` groups, against Calendly's rule of one.
///
/// The owner is taken as in the group whose URI sorts first: whatever order the pages came in,
/// two loads of the same organization plan alike, and the plan moves (or keeps) the owner from a
/// group they really are in. (Taking them as in no group would plan a move even for an owner
/// already in their target.) The lint names the conflict so that the assumption is seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembershipConflict {
    /// The membership or invitation URI.
    pub owner: String,
    pub email: String,
    /// Every member group, sorted and distinct; the first is the one the plan takes.
    pub groups: Vec<String>,
}

pub struct Joined {
    pub owners: Vec<OwnerInput>,
    pub stale: Vec<StaleRow>,
    pub conflicting: Vec<StaleRow>,
    pub coverage: Coverage,
}

/// The join as `Snapshot::from_parts` takes it: nothing of a person copied.
pub struct JoinedValues<'a> {
    /// Each person's value (in the order of `people`), borrowed from the exports.
    pub values: Vec<Option<&'a str>>,
    pub stale: Vec<StaleRow>,
    pub conflicting: Vec<StaleRow>,
    pub coverage: Coverage,
}

/// An email as the join compares it: ASCII-lowercased, copied only when it has capitals.
fn email_key(email: &str) -> Cow<'_, str> {
    if email.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(email.to_ascii_lowercase())
    } else {
        Cow::Borrowed(email)
    }
}

/// Joins export rows to people by email (ASCII case-insensitive). Exports whose columns cannot
/// be found must be rejected by the caller first (see `Export::columns`); here they are skipped.
pub fn join(people: &[Person], exports: &[Export], fields: &FieldChoice) -> Joined {
    let j = join_values(people, exports, fields);
    let owners = people
        .iter()
        .zip(j.values)
        .map(|(p, value)| OwnerInput {
            kind: p.kind,
            uri: p.uri.to_string(),
            name: p.name.to_string(),
            email: p.email.to_string(),
            value: value.map(str::to_owned),
            group: p.group.as_deref().map(str::to_owned),
        })
        .collect();
    Joined { owners, stale: j.stale, conflicting: j.conflicting, coverage: j.coverage }
}

/// As `join`, each person's value borrowed from the exports instead of copied with the person.
pub fn join_values<'a>(people: &[Person], exports: &'a [Export], fields: &FieldChoice) -> JoinedValues<'a> {
    // Members win over invitees when the same address is both.
    let mut by_email: super::FastMap<Cow<'_, str>, usize> =
        super::FastMap::with_capacity_and_hasher(people.len(), Default::default());
    for (i, p) in people.iter().enumerate() {
        let key = email_key(&p.email);
        match by_email.get(&key) {
            Some(&j) if people[j].kind == OwnerKind::Member => {}
            _ => {
                by_email.insert(key, i);
            }
        }
    }
    let mut values: Vec<Option<&'a str>> = vec![None; people.len()];
    let mut stale = Vec::new();
    let mut conflicting = Vec::new();
    let mut coverage = Coverage::default();
    for export in exports {
        let Ok((email_col, idp_col)) = export.columns(fields) else {
            continue;
        };
        let mut file = FileCoverage { file: export.file.clone(), ..FileCoverage::default() };
        for (line, record) in &export.records {
            let email = record.get(email_col).map(|s| s.trim()).unwrap_or("");
            let value: &'a str = record.get(idp_col).unwrap_or_default();
            if email.is_empty() {
                continue;
            }
            let row = || StaleRow {
                file: export.file.clone(),
                line: *line,
                email: email.to_owned(),
                value: value.to_owned(),
            };
            match by_email.get(email_key(email).as_ref()) {
                None => stale.push(row()),
                Some(&i) => {
                    match people[i].kind {
                        OwnerKind::Member => file.members += 1,
                        OwnerKind::Invitee => file.invitees += 1,
                    }
                    match values[i] {
                        Some(prev) if prev != value => conflicting.push(row()),
                        Some(_) => {}
                        None => values[i] = Some(value),
                    }
                }
            }
        }
        coverage.files.push(file);
    }
    for (p, v) in people.iter().zip(&values) {
        let (listed, without) = match p.kind {
            OwnerKind::Member => (&mut coverage.members, &mut coverage.members_without_row),
            OwnerKind::Invitee => (&mut coverage.invitees, &mut coverage.invitees_without_row),
        };
        *listed += 1;
        *without += usize::from(v.is_none());
    }
    JoinedValues { values, stale, conflicting, coverage }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rows_place_reads_as_a_line_of_a_file_or_of_an_export_not_as_an_http_status() {
        let row = |file: &str| StaleRow { file: file.into(), line: 302, email: "d@x".into(), value: "V".into() };
        assert_eq!(row("active.csv").place(), "active.csv, line 302");
        assert_eq!(
            row("GET /organizations/O/user_export?status=active").place(),
            "line 302 of the active-user export (GET /organizations/O/user_export?status=active)"
        );
        assert_eq!(
            row("GET /organizations/O/user_export?status=pending").place(),
            "line 302 of the pending-user export (GET /organizations/O/user_export?status=pending)"
        );
        assert_eq!(row("GET /x").place(), "line 302 of the user export (GET /x)");
    }

    #[test]
    fn join_is_case_insensitive_on_email_and_reports_stale_rows() {
        let people = vec![Person {
            kind: OwnerKind::Member,
            uri: "m1".into(),
            name: "Ana".into(),
            email: "ana@x.com".into(),
            group: None,
        }];
        let e =
            Export::parse("a.csv", b"Login email,Identity Provider Group\nANA@X.com,Sales \ngone@x.com,Ops\n").unwrap();
        let exports = [e];
        let j = join(&people, &exports, &FieldChoice::default());
        assert_eq!(j.owners[0].value.as_deref(), Some("Sales "));
        assert_eq!(join_values(&people, &exports, &FieldChoice::default()).values, [Some("Sales ")]);
        assert_eq!(j.stale.len(), 1);
        assert_eq!((j.stale[0].line, j.stale[0].email.as_str()), (3, "gone@x.com"));
    }
}
