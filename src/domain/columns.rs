//! Which column of an export holds the login email and which the IdP group value: found in each
//! file by its header, or named by the admin, for every file (`HEADER`) or for one
//! (`FILE=HEADER`), since the Active and Pending exports need not have the same columns.

use std::path::Path;

use super::export::{Export, ExportError, norm_header};
use super::text::{quoted, sanitize};

/// Which column holds what. Detected per file from its headers, overridable by the admin.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldChoice {
    /// Header of the login email column in every file that has it (the others detect theirs);
    /// None means detect.
    pub email: Option<String>,
    /// Header of the IdP group column, likewise.
    pub idp_value: Option<String>,
    /// Headers named for one export (its `file`), which beat the ones above there.
    pub by_file: Vec<FileFields>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileFields {
    pub file: String,
    pub email: Option<String>,
    pub idp_value: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Email,
    Idp,
}

const EMAIL_HEADERS: &[&str] =
    &["login email", "email", "email address", "username", "user name", "login", "primary email", "work email", "mail"];
const IDP_HEADERS: &[&str] = &[
    "identity provider group",
    "idp group",
    "identity provider group value",
    "value in identity provider",
    "scim group",
    "department",
];
/// Tried after the exact names: a header containing one of these (e.g. `User Email`,
/// `Identity Provider Group Name`). A bare `Groups` is never taken: it may list Calendly groups.
const EMAIL_PARTS: &[&str] = &["email"];
const IDP_PARTS: &[&str] = &["identity provider", "idp "];

/// What the options are called on the command line.
pub const FLAGS: [&str; 2] = ["--email-column", "--idp-column"];

impl Field {
    fn what(self) -> &'static str {
        match self {
            Field::Email => "login email",
            Field::Idp => "Identity Provider Group",
        }
    }

    fn flag(self) -> &'static str {
        match self {
            Field::Email => "--email-column",
            Field::Idp => "--idp-column",
        }
    }
}

impl FileFields {
    fn get(&self, f: Field) -> Option<&str> {
        match f {
            Field::Email => self.email.as_deref(),
            Field::Idp => self.idp_value.as_deref(),
        }
    }

    fn slot(&mut self, f: Field) -> &mut Option<String> {
        match f {
            Field::Email => &mut self.email,
            Field::Idp => &mut self.idp_value,
        }
    }
}

impl FieldChoice {
    fn shared(&self, f: Field) -> Option<&str> {
        match f {
            Field::Email => self.email.as_deref(),
            Field::Idp => self.idp_value.as_deref(),
        }
    }

    fn own(&self, file: &str, f: Field) -> Option<&str> {
        self.by_file.iter().find(|b| b.file == file).and_then(|b| b.get(f))
    }

    /// The Fields screen's choice: `header` in every file that has it, in place of a header
    /// named for one of those files alone.
    pub fn choose(&mut self, email: bool, header: &str, exports: &[Export]) {
        let f = if email { Field::Email } else { Field::Idp };
        match f {
            Field::Email => self.email = Some(header.to_owned()),
            Field::Idp => self.idp_value = Some(header.to_owned()),
        }
        for b in &mut self.by_file {
            if exports.iter().any(|e| e.file == b.file && e.named(header).is_some()) {
                *b.slot(f) = None;
            }
        }
        self.by_file.retain(|b| b.email.is_some() || b.idp_value.is_some());
    }

    /// A header asked for every file must be in one of them at least (else it is misspelt).
    pub fn check(&self, exports: &[Export]) -> Result<(), ExportError> {
        for f in [Field::Email, Field::Idp] {
            let Some(h) = self.shared(f) else { continue };
            if exports.is_empty() || exports.iter().any(|e| e.named(h).is_some()) {
                continue;
            }
            let found: Vec<String> =
                exports.iter().map(|e| format!("{} has [{}]", e.file, e.headers.join(", "))).collect();
            return Err(ExportError::ColumnInNoExport {
                header: h.to_owned(),
                flag: f.flag(),
                found: found.join("; "),
            });
        }
        Ok(())
    }

    /// The choice the options name: each value of `--email-column` / `--idp-column` is a
    /// header for every file, or `FILE=HEADER` for the export `FILE` (one of `files`, named by
    /// its path or its last components). A value whose part before `=` names no export is a
    /// header with `=` in it, unless that part ends in `.csv`: then it is an error.
    /// `names` are what the two options are called where they were given (the flags, or the
    /// config file's keys), for errors.
    pub fn from_specs(
        email: &[String],
        idp: &[String],
        files: &[String],
        names: [&str; 2],
    ) -> Result<FieldChoice, String> {
        let mut c = FieldChoice::default();
        for ((f, specs), name) in [(Field::Email, email), (Field::Idp, idp)].into_iter().zip(names) {
            for spec in specs {
                let (file, header) = parse_spec(spec, files, name)?;
                let whom = file.as_deref().map_or_else(|| "every file".to_owned(), |f| sanitize(f).into_owned());
                let slot = match file {
                    None => match f {
                        Field::Email => &mut c.email,
                        Field::Idp => &mut c.idp_value,
                    },
                    Some(file) => {
                        if !c.by_file.iter().any(|b| b.file == file) {
                            c.by_file.push(FileFields { file: file.clone(), ..FileFields::default() });
                        }
                        let b = c.by_file.iter_mut().find(|b| b.file == file).expect("just added");
                        b.slot(f)
                    }
                };
                if let Some(before) = slot.replace(header.to_owned()) {
                    return Err(format!(
                        "{name} {}: a column for {whom} was already given ({}); give one",
                        quoted(spec),
                        quoted(&before)
                    ));
                }
            }
        }
        Ok(c)
    }

    /// In a few words, for the status line: `login email detected, IdP group "X"; pending.csv: …`.
    pub fn describe(&self) -> String {
        let column = |h: Option<&str>| h.map_or_else(|| "detected".to_owned(), quoted);
        let mut out =
            format!("login email {}, IdP group {}", column(self.email.as_deref()), column(self.idp_value.as_deref()));
        for b in &self.by_file {
            let mut own = Vec::new();
            if let Some(h) = &b.email {
                own.push(format!("login email {}", quoted(h)));
            }
            if let Some(h) = &b.idp_value {
                own.push(format!("IdP group {}", quoted(h)));
            }
            out.push_str(&format!("; {}: {}", sanitize(&b.file), own.join(", ")));
        }
        out
    }
}

/// The export a spec's `FILE=` part names, if it names one.
fn file_of(spec: &str, files: &[String]) -> Option<String> {
    let (file, _) = spec.split_once('=')?;
    let named = file.strip_prefix("./").unwrap_or(file);
    let hits: Vec<&String> = files
        .iter()
        .filter(|f| Path::new(f.as_str()) == Path::new(named) || Path::new(f.as_str()).ends_with(named))
        .collect();
    (hits.len() == 1).then(|| hits[0].clone())
}

fn parse_spec<'a>(spec: &'a str, files: &[String], flag: &str) -> Result<(Option<String>, &'a str), String> {
    let Some((file, header)) = spec.split_once('=') else { return Ok((None, spec)) };
    if let Some(found) = file_of(spec, files) {
        return Ok((Some(found), header));
    }
    let named = file.strip_prefix("./").unwrap_or(file);
    let several = files.iter().filter(|f| Path::new(f.as_str()).ends_with(named)).count() > 1;
    let given = if files.is_empty() {
        "none is given; pass the files with --users-csv".to_owned()
    } else {
        format!("they are {}", files.join(", "))
    };
    if several {
        return Err(format!(
            "{flag} {}: {} names several exports ({given}); give more of its path",
            quoted(spec),
            quoted(file)
        ));
    }
    if file.to_ascii_lowercase().ends_with(".csv") {
        return Err(format!("{flag} {}: {} is not one of the exports ({given})", quoted(spec), quoted(file)));
    }
    Ok((None, spec))
}

/// What a missing column's error says after `FILE: line 1: `.
pub(super) fn missing(what: &str, asked: Option<&str>, found: &str, hint: &str) -> String {
    match asked {
        Some(h) => {
            format!("no column {} (asked for as the {what} column) among [{}]; {hint}", quoted(h), sanitize(found))
        }
        None => format!("no {what} column found among [{}]; {hint}", sanitize(found)),
    }
}

impl Export {
    /// The column with this header (compared ignoring case, spaces and `_`/`-`).
    pub fn named(&self, header: &str) -> Option<usize> {
        let name = norm_header(header);
        self.headers.iter().position(|h| norm_header(h) == name)
    }

    fn detected(&self, f: Field) -> Option<usize> {
        let (candidates, parts) = match f {
            Field::Email => (EMAIL_HEADERS, EMAIL_PARTS),
            Field::Idp => (IDP_HEADERS, IDP_PARTS),
        };
        candidates
            .iter()
            .find_map(|c| self.headers.iter().position(|h| norm_header(h) == *c))
            .or_else(|| parts.iter().find_map(|p| self.headers.iter().position(|h| norm_header(h).contains(p))))
    }

    /// This file's column for `f`: the one named for it, else the one named for every file if
    /// it has it, else the one its headers show.
    fn column(&self, fields: &FieldChoice, f: Field) -> Result<usize, ExportError> {
        let flag = f.flag();
        let file = sanitize(&self.file);
        let error = |asked: Option<&str>, hint: String| ExportError::MissingColumn {
            file: self.file.clone(),
            what: f.what(),
            asked: asked.map(str::to_owned),
            found: self.headers.join(", "),
            hint,
        };
        if let Some(h) = fields.own(&self.file, f) {
            return self.named(h).ok_or_else(|| error(Some(h), format!("check the spelling of `{flag} {file}={h}`")));
        }
        let shared = fields.shared(f);
        if let Some(i) = shared.and_then(|h| self.named(h)) {
            return Ok(i);
        }
        self.detected(f).ok_or_else(|| {
            error(
                None,
                match shared {
                    Some(h) => format!(
                        "nor the column {} asked for with {flag}; name this file's own with {flag} {file}=HEADER",
                        quoted(h)
                    ),
                    None => format!("name it with {flag} HEADER, or {flag} {file}=HEADER for this file alone"),
                },
            )
        })
    }

    /// The (email, IdP value) column indices for this export.
    pub fn columns(&self, fields: &FieldChoice) -> Result<(usize, usize), ExportError> {
        Ok((self.column(fields, Field::Email)?, self.column(fields, Field::Idp)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn export(file: &str, header: &str) -> Export {
        Export::parse(file, format!("{header}\n").as_bytes()).unwrap()
    }

    /// The reported defect: `--idp-column "IdP Group"` for the Pending export made the Active
    /// one fail with "no Identity Provider Group column found among [..., Identity Provider
    /// Group, ...]; `IdP Group` was asked for".
    #[test]
    fn a_header_for_every_file_applies_where_it_exists_and_the_others_detect_theirs() {
        let active = export("active.csv", "Name,Login email,Identity Provider Group");
        let pending = export("pending.csv", "Login email,IdP Group,Identity Provider Group Name");
        let fields = FieldChoice { idp_value: Some("IdP Group".into()), ..FieldChoice::default() };
        assert_eq!(active.columns(&fields).unwrap(), (1, 2));
        assert_eq!(pending.columns(&fields).unwrap(), (0, 1));
        assert_eq!(fields.check(&[active.clone(), pending.clone()]), Ok(()));
        let typo = FieldChoice { idp_value: Some("IdP Grop".into()), ..FieldChoice::default() };
        assert_eq!(
            typo.check(&[active, pending]).unwrap_err().to_string(),
            "no export has the column \"IdP Grop\" (--idp-column): active.csv has [Name, Login email, Identity Provider \
             Group]; pending.csv has [Login email, IdP Group, Identity Provider Group Name]; check the spelling"
        );
    }

    #[test]
    fn a_header_for_one_file_beats_the_rest_and_its_error_names_the_file_and_its_columns() {
        let files = vec!["exports/active.csv".to_owned(), "exports/pending.csv".to_owned()];
        let specs = ["pending.csv=Dept".to_owned(), "Identity Provider Group".to_owned()];
        let fields = FieldChoice::from_specs(&[], &specs, &files, FLAGS).unwrap();
        assert_eq!(fields.idp_value.as_deref(), Some("Identity Provider Group"));
        assert_eq!(
            fields.by_file,
            [FileFields { file: "exports/pending.csv".into(), email: None, idp_value: Some("Dept".into()) }]
        );
        let pending = export("exports/pending.csv", "Login email,Identity Provider Group,Dept");
        assert_eq!(pending.columns(&fields).unwrap(), (0, 2));
        let wrong = export("exports/pending.csv", "Login email,Department");
        assert_eq!(
            wrong.columns(&fields).unwrap_err().to_string(),
            "exports/pending.csv: line 1: no column \"Dept\" (asked for as the Identity Provider Group column) among \
             [Login email, Department]; check the spelling of `--idp-column exports/pending.csv=Dept`"
        );
        // A header with `=` is a header; a `.csv` that is no export is an error naming them.
        let eq = FieldChoice::from_specs(&[], &["Group=Value".to_owned()], &files, FLAGS).unwrap();
        assert_eq!(eq.idp_value.as_deref(), Some("Group=Value"));
        let err = FieldChoice::from_specs(&[], &["other.csv=X".to_owned()], &files, FLAGS).unwrap_err();
        assert_eq!(
            err,
            "--idp-column \"other.csv=X\": \"other.csv\" is not one of the exports (they are exports/active.csv, \
             exports/pending.csv)"
        );
        let err = FieldChoice::from_specs(&["A".into(), "B".into()], &[], &files, FLAGS).unwrap_err();
        assert_eq!(err, "--email-column \"B\": a column for every file was already given (\"A\"); give one");
    }

    #[test]
    fn no_column_found_says_how_to_name_it_for_every_file_or_this_one() {
        let e = export("x.csv", "Name,Email");
        assert_eq!(
            e.columns(&FieldChoice::default()).unwrap_err().to_string(),
            "x.csv: line 1: no Identity Provider Group column found among [Name, Email]; name it with --idp-column \
             HEADER, or --idp-column x.csv=HEADER for this file alone"
        );
        let asked = FieldChoice { idp_value: Some("Team".into()), ..FieldChoice::default() };
        let err = e.columns(&asked).unwrap_err().to_string();
        assert!(err.ends_with("nor the column \"Team\" asked for with --idp-column; name this file's own with --idp-column x.csv=HEADER"), "{err}");
    }

    #[test]
    fn the_fields_screens_choice_replaces_a_files_own_header_where_that_file_has_it() {
        let a = export("a.csv", "Email,Team,Dept");
        let b = export("b.csv", "Email,Group");
        let mut c = FieldChoice {
            by_file: vec![
                FileFields { file: "a.csv".into(), email: None, idp_value: Some("Team".into()) },
                FileFields { file: "b.csv".into(), email: None, idp_value: Some("Group".into()) },
            ],
            ..FieldChoice::default()
        };
        c.choose(false, "Dept", &[a.clone(), b.clone()]);
        assert_eq!(c.idp_value.as_deref(), Some("Dept"));
        assert_eq!(a.columns(&c).unwrap().1, 2);
        assert_eq!(b.columns(&c).unwrap().1, 1, "b.csv has no Dept: its own header stays");
    }
}
