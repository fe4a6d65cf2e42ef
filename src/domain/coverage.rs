//! Which people the exports cover, and what the plan says when one kind has no export: the
//! admin center exports Active users and Pending users as two files, and a plan from one of them
//! leaves the other kind out without a word unless this says so.

use super::finding::{Finding, LintKind, Severity};
use super::people::OwnerKind;

/// Which people the exports cover. Calendly's admin center exports Active and Pending users as
/// two files with the same columns, so a file is told apart by whom its emails match: members
/// (an Active export) or pending invitations (a Pending export).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    pub files: Vec<FileCoverage>,
    /// The people the service lists, and how many of each kind no export row names.
    pub members: usize,
    pub invitees: usize,
    pub members_without_row: usize,
    pub invitees_without_row: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileCoverage {
    pub file: String,
    /// Rows whose email is a member's, and rows whose email is a pending invitation's.
    pub members: usize,
    pub invitees: usize,
}

/// An export kind none of the given files is, while the service lists people of that kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingExport {
    /// The kind whose people have no export: they are left out of the plan.
    pub missing: OwnerKind,
    /// How many of them the service lists.
    pub people: usize,
    /// The files given, each with the rows of the other kind it matched.
    pub given: Vec<(String, usize)>,
}

impl Coverage {
    /// Whether only the Active (or only the Pending) export was given: no row of any file names
    /// a person of one kind, though the service lists some and the files name the other kind.
    pub fn missing_export(&self) -> Option<MissingExport> {
        let sum = |f: fn(&FileCoverage) -> usize| self.files.iter().map(f).sum::<usize>();
        let (to_members, to_invitees) = (sum(|f| f.members), sum(|f| f.invitees));
        let (missing, people, matched): (OwnerKind, usize, fn(&FileCoverage) -> usize) =
            if to_invitees == 0 && self.invitees > 0 && to_members > 0 {
                (OwnerKind::Invitee, self.invitees, |f| f.members)
            } else if to_members == 0 && self.members > 0 && to_invitees > 0 {
                (OwnerKind::Member, self.members, |f| f.invitees)
            } else {
                return None;
            };
        Some(MissingExport {
            missing,
            people,
            given: self.files.iter().map(|f| (f.file.clone(), matched(f))).collect(),
        })
    }
}

/// The findings about coverage: a missing export (a warning: people are left out of the plan),
/// or people of a kind whose export was given but has no row for them (a note).
pub fn findings(c: &Coverage) -> Vec<Finding> {
    let finding = |severity, message| Finding { kind: LintKind::MissingExport, severity, message, values: Vec::new() };
    let mut out = Vec::new();
    let missing = c.missing_export();
    if let Some(m) = &missing {
        let (given, other, these, matched, none) = match m.missing {
            OwnerKind::Invitee => {
                ("Active", "Pending", plural(m.people, "pending invitation"), "members", "a pending invitation")
            }
            OwnerKind::Member => ("Pending", "Active", plural(m.people, "member"), "pending invitations", "a member"),
        };
        let files: Vec<String> = m
            .given
            .iter()
            .map(|(f, n)| match n {
                0 => format!("{}: no row matches anyone listed", super::text::sanitize(f)),
                n => format!("{}: its {n} row(s) match {matched}", super::text::sanitize(f)),
            })
            .collect();
        // A file that matches nobody (a stale export) is not taken for the other kind's.
        let opening = if m.given.iter().all(|(_, n)| *n > 0) {
            format!("only the {given} users export was given")
        } else {
            format!("no export given is the {other} users export")
        };
        out.push(finding(
            Severity::Warning,
            format!(
                "{opening} ({}; none matches {none}): the {these} Calendly lists have no IdP value here and are left \
                 out of the plan; pass the {other} users export too with --users-csv",
                files.join("; ")
            ),
        ));
    }
    let sum = |f: fn(&FileCoverage) -> usize| c.files.iter().map(f).sum::<usize>();
    let gaps = [
        (OwnerKind::Member, c.members, c.members_without_row, sum(|f| f.members), "Active", "member"),
        (OwnerKind::Invitee, c.invitees, c.invitees_without_row, sum(|f| f.invitees), "Pending", "pending invitation"),
    ];
    for (kind, listed, without, matched, export, what) in gaps {
        if without == 0 || matched == 0 || missing.as_ref().is_some_and(|m| m.missing == kind) {
            continue;
        }
        out.push(finding(
            Severity::Info,
            format!(
                "{without} of the {} Calendly lists have no row in the exports given, so they are left out of the plan \
                 (added since the {export} users export was downloaded?); export the {export} users again to include them",
                plural(listed, what)
            ),
        ));
    }
    out
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 { format!("{n} {what}") } else { format!("{n} {what}s") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::people::{Person, join};
    use crate::domain::{Export, FieldChoice};

    fn people() -> Vec<Person> {
        let p = |kind, n: u32| Person {
            kind,
            uri: format!("u{n}").into(),
            name: Box::default(),
            email: format!("p{n}@x").into(),
            group: None,
        };
        vec![p(OwnerKind::Member, 1), p(OwnerKind::Member, 2), p(OwnerKind::Invitee, 3), p(OwnerKind::Invitee, 4)]
    }

    fn export(file: &str, emails: &[u32]) -> Export {
        let rows: String = emails.iter().map(|n| format!("p{n}@x,V\n")).collect();
        Export::parse(file, format!("Login email,Identity Provider Group\n{rows}").as_bytes()).unwrap()
    }

    #[test]
    fn only_the_active_export_says_who_is_left_out_and_how_the_file_was_recognised() {
        let j = join(&people(), &[export("active.csv", &[1, 2])], &FieldChoice::default());
        let f = findings(&j.coverage);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(
            f[0].message,
            "only the Active users export was given (active.csv: its 2 row(s) match members; none matches a pending \
             invitation): the 2 pending invitations Calendly lists have no IdP value here and are left out of the plan; \
             pass the Pending users export too with --users-csv"
        );
    }

    #[test]
    fn only_the_pending_export_says_the_members_are_left_out() {
        let j = join(&people(), &[export("pending.csv", &[3])], &FieldChoice::default());
        let f = findings(&j.coverage);
        assert!(
            f[0].message.starts_with(
                "only the Pending users export was given (pending.csv: its 1 row(s) match pending invitations"
            ),
            "{f:?}"
        );
        assert!(f[0].message.contains("the 2 members Calendly lists"), "{f:?}");
        assert!(f[0].message.ends_with("pass the Active users export too with --users-csv"), "{f:?}");
        // The one pending invitation without a row is said too, as a note.
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f[1].message.starts_with("1 of the 2 pending invitations Calendly lists have no row"), "{f:?}");
    }

    #[test]
    fn a_pending_export_that_matches_nobody_is_not_called_absent_but_named() {
        let exports = [export("active.csv", &[1, 2]), export("old-pending.csv", &[9])];
        let f = findings(&join(&people(), &exports, &FieldChoice::default()).coverage);
        assert!(
            f[0].message.starts_with(
                "no export given is the Pending users export (active.csv: its 2 row(s) match members; old-pending.csv: \
                 no row matches anyone listed; none matches a pending invitation): the 2 pending invitations"
            ),
            "{f:?}"
        );
    }

    #[test]
    fn both_exports_or_a_combined_one_say_nothing() {
        for exports in
            [vec![export("a.csv", &[1, 2]), export("p.csv", &[3, 4])], vec![export("all.csv", &[4, 3, 2, 1])]]
        {
            let j = join(&people(), &exports, &FieldChoice::default());
            assert_eq!(findings(&j.coverage), [], "{exports:?}");
        }
        // No pending invitation in the organization: one export is all there is.
        let members = &people()[..2];
        let j = join(members, &[export("active.csv", &[1, 2])], &FieldChoice::default());
        assert_eq!(findings(&j.coverage), []);
    }
}
