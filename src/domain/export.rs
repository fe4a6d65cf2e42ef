//! The admin-center user export: parsing, finding the columns by header, and joining to people.

use std::collections::HashMap;

pub use super::columns::{FieldChoice, FileFields};
use super::text::{quoted, sanitize};

/// One parsed CSV export, kept raw so that the columns can be re-chosen without re-reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Export {
    /// Where it came from, for messages: a file path or an endpoint.
    pub file: String,
    pub headers: Vec<String>,
    /// Each record with the 1-based line it starts on.
    pub records: Vec<(u64, Record)>,
}

/// One CSV record in one allocation: a header (the width of the offsets, the field count), where
/// each field ends, then the fields' text. Offsets take 2 bytes each in a record under 64 KiB
/// (every real one), so a short row costs little more than its text.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Record {
    bytes: Box<[u8]>,
}

const RECORD_HEADER: usize = 5;

impl Record {
    /// None when the fields add up to 4 GiB or more.
    pub fn new<S: AsRef<str>>(fields: &[S]) -> Option<Record> {
        let len: usize = fields.iter().map(|f| f.as_ref().len()).sum();
        u32::try_from(len).ok()?;
        let n = u32::try_from(fields.len()).ok()?;
        let width: usize = if len <= usize::from(u16::MAX) { 2 } else { 4 };
        let mut bytes = Vec::with_capacity(RECORD_HEADER + width * fields.len() + len);
        bytes.push(width as u8);
        bytes.extend_from_slice(&n.to_le_bytes());
        let mut end = 0u32;
        for f in fields {
            end += f.as_ref().len() as u32;
            bytes.extend_from_slice(&end.to_le_bytes()[..width]);
        }
        for f in fields {
            bytes.extend_from_slice(f.as_ref().as_bytes());
        }
        Some(Record { bytes: bytes.into_boxed_slice() })
    }

    pub fn len(&self) -> usize {
        match self.bytes.get(1..RECORD_HEADER) {
            Some(n) => u32::from_le_bytes(n.try_into().expect("4 bytes")) as usize,
            None => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where the i-th field ends in the text.
    fn end(&self, i: usize) -> usize {
        let width = usize::from(self.bytes[0]);
        let at = RECORD_HEADER + i * width;
        let mut le = [0u8; 4];
        le[..width].copy_from_slice(&self.bytes[at..at + width]);
        u32::from_le_bytes(le) as usize
    }

    pub fn get(&self, i: usize) -> Option<&str> {
        if i >= self.len() {
            return None;
        }
        let text = RECORD_HEADER + self.len() * usize::from(self.bytes[0]);
        let start = if i == 0 { 0 } else { self.end(i - 1) };
        let field = &self.bytes[text + start..text + self.end(i)];
        // Built from whole `str`s, split where they were joined: always UTF-8.
        Some(std::str::from_utf8(field).expect("a record's fields are UTF-8"))
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).map(|i| &self[i])
    }
}

impl std::ops::Index<usize> for Record {
    type Output = str;
    fn index(&self, i: usize) -> &str {
        self.get(i).unwrap_or_else(|| panic!("field {i} of a record with {} fields", self.len()))
    }
}

impl std::fmt::Debug for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExportError {
    #[error("{}: the file is empty (expected a header row such as `Name,Login email,...`)", sanitize(.file))]
    Empty { file: String },
    #[error("{}: line {line}: {message}", sanitize(.file))]
    Malformed { file: String, line: u64, message: String },
    #[error(
        "{}: line 1: column {} appears twice (columns {first} and {second}); rename or remove one, \
         or export again from Calendly's admin center",
        sanitize(.file), quoted(.header)
    )]
    DuplicateHeader { file: String, header: String, first: usize, second: usize },
    /// A column that is not there: the one asked for (`asked`), else none found by its header.
    #[error("{}: line 1: {}", sanitize(.file), super::columns::missing(.what, .asked.as_deref(), .found, .hint))]
    MissingColumn { file: String, what: &'static str, asked: Option<String>, found: String, hint: String },
    /// A column asked for every file that no file has.
    #[error("no export has the column {} ({flag}): {}; check the spelling", quoted(.header), sanitize(.found))]
    ColumnInNoExport { header: String, flag: &'static str, found: String },
    /// An identity provider's users have no such attribute (its table has no lines to name).
    #[error(
        "{}: no user has the attribute {}; attributes seen: {}. Name one with --idp-attribute NAME (or attribute in [idp]), \
         or choose it on the Fields screen (f)",
        sanitize(.table), quoted(.wanted), sanitize(.found)
    )]
    MissingAttribute { table: String, wanted: String, found: String },
}

pub(super) fn norm_header(h: &str) -> String {
    h.trim().to_ascii_lowercase().replace(['_', '-'], " ")
}

impl Export {
    /// Parses an export. Accepts a UTF-8 BOM, CRLF line ends and quoted fields.
    pub fn parse(source: &str, bytes: &[u8]) -> Result<Export, ExportError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
        // A line a record (quoted line breaks aside): reserved once, never regrown and copied.
        let mut records = Vec::with_capacity(bytes.iter().filter(|&&b| b == b'\n').count());
        let mut headers: Option<Vec<String>> = None;
        let mut raw = csv::ByteRecord::new();
        let mut lines = LineCounter::default();
        loop {
            match reader.read_byte_record(&mut raw) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    return Err(ExportError::Malformed {
                        file: source.to_owned(),
                        line: e.position().map_or(reader.position().line(), |p| p.line()),
                        message: e.to_string(),
                    });
                }
            }
            let line = raw.position().map_or(reader.position().line(), |p| lines.line_of_record(bytes, p.byte()));
            let malformed = |message: String| ExportError::Malformed { file: source.to_owned(), line, message };
            let mut fields: Vec<&str> = Vec::with_capacity(raw.len());
            for (col, field) in raw.iter().enumerate() {
                match std::str::from_utf8(field) {
                    Ok(s) => fields.push(s),
                    Err(e) => {
                        let name = headers
                            .as_ref()
                            .and_then(|h| h.get(col))
                            .map(|h| format!(" ({})", quoted(h)))
                            .unwrap_or_default();
                        return Err(malformed(format!(
                            "column {}{name}: byte {} of the field is not valid UTF-8; save the export as UTF-8 CSV",
                            col + 1,
                            e.valid_up_to() + 1
                        )));
                    }
                }
            }
            if fields.iter().all(|f| f.is_empty()) {
                continue;
            }
            match &headers {
                None => headers = Some(fields.iter().map(|f| (*f).to_owned()).collect()),
                Some(h) => {
                    if fields.len() > h.len() {
                        return Err(malformed(format!(
                            "column {}: {} fields but the header has {} (a field with a comma needs quotes)",
                            h.len() + 1,
                            fields.len(),
                            h.len()
                        )));
                    }
                    let record =
                        Record::new(&fields).ok_or_else(|| malformed("the record is larger than 4 GiB".to_owned()))?;
                    records.push((line, record));
                }
            }
        }
        let headers = headers.ok_or_else(|| ExportError::Empty { file: source.to_owned() })?;
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, h) in headers.iter().enumerate() {
            if let Some(first) = seen.insert(norm_header(h), i) {
                return Err(ExportError::DuplicateHeader {
                    file: source.to_owned(),
                    header: h.clone(),
                    first: first + 1,
                    second: i + 1,
                });
            }
        }
        Ok(Export { file: source.to_owned(), headers, records })
    }

    /// A few distinct non-empty values of a column, for the field-matching screen.
    pub fn samples(&self, column: usize, max: usize) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for (_, r) in &self.records {
            if let Some(v) = r.get(column)
                && !v.is_empty()
                && !out.contains(&v)
            {
                out.push(v);
                if out.len() == max {
                    break;
                }
            }
        }
        out
    }
}

/// The line a record starts on, counting `\n`, `\r\n` and a lone `\r` (old Mac exports) as one
/// line end each. Records come in order, so the count only moves forward.
#[derive(Default)]
struct LineCounter {
    at: usize,
    line: u64,
}

impl LineCounter {
    fn line_of_record(&mut self, bytes: &[u8], byte: u64) -> u64 {
        // The reader may report the position before the previous line's end: skip line ends.
        let mut start = byte as usize;
        while let Some(b'\r' | b'\n') = bytes.get(start) {
            start += 1;
        }
        let start = start.min(bytes.len());
        if start < self.at {
            return self.line + 1;
        }
        for i in self.at..start {
            match bytes[i] {
                b'\r' => self.line += 1,
                b'\n' if i == 0 || bytes[i - 1] != b'\r' => self.line += 1,
                _ => {}
            }
        }
        self.at = start;
        self.line + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_gives_back_its_fields_in_short_and_long_records() {
        let long = "é".repeat(40_000);
        for fields in [vec!["a", "", "Sales EMEA ", "zoë@x.test", ""], vec![""], vec![long.as_str(), "b", ""], vec![]]
        {
            let r = Record::new(&fields).unwrap();
            assert_eq!(r.len(), fields.len());
            assert_eq!(r.iter().collect::<Vec<_>>(), fields);
            assert_eq!(r.get(fields.len()), None);
        }
        assert_eq!(Record::default().len(), 0);
        assert_eq!(Record::default().get(0), None);
    }

    #[test]
    fn parses_bom_crlf_quotes_and_finds_columns_by_header() {
        let csv = "\u{feff}Name,Role,Login email,Identity Provider Group,Extra\r\n\"Lopez, Ana\",user,ANA@x.com,\"Sales, EMEA\",1\r\nBo,admin,bo@x.com,,2\r\n";
        let e = Export::parse("a.csv", csv.as_bytes()).unwrap();
        assert_eq!(e.headers[0], "Name");
        let (em, idp) = e.columns(&FieldChoice::default()).unwrap();
        assert_eq!((em, idp), (2, 3));
        assert_eq!(&e.records[0].1[3], "Sales, EMEA");
        assert_eq!(e.records[1].0, 3);
    }

    #[test]
    fn missing_column_names_file_and_found_headers() {
        let e = Export::parse("x.csv", b"Name,Email\nA,a@x\n").unwrap();
        let err = e.columns(&FieldChoice::default()).unwrap_err().to_string();
        assert!(err.contains("x.csv: line 1: no Identity Provider Group column"), "{err}");
        assert!(err.contains("Name, Email"), "{err}");
    }

    #[test]
    fn invalid_utf8_and_empty_files_are_clear_errors() {
        let err = Export::parse("f.csv", b"Email,Department\na@x,\xff\n").unwrap_err();
        assert!(err.to_string().starts_with("f.csv: line 2: column 2 (\"Department\"): byte 1 of"), "{err}");
        let err = Export::parse("e.csv", b"").unwrap_err();
        assert_eq!(err, ExportError::Empty { file: "e.csv".into() });
        let err = Export::parse("d.csv", b"Email,email\n").unwrap_err().to_string();
        assert!(err.contains("appears twice"), "{err}");
    }
}

#[cfg(test)]
mod line_tests {
    use super::*;

    /// Found by tests/fuzz_csv.rs: with lone CR line ends (Excel's "CSV (Macintosh)") every
    /// record was reported on line 1.
    #[test]
    fn lone_cr_crlf_and_lf_line_ends_all_count() {
        let e = Export::parse("m.csv", b"Email,Group\ra@x,A\rb@x,\"B\rC\"\rc@x,D\r").unwrap();
        let lines: Vec<u64> = e.records.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [2, 3, 5]);
        let e = Export::parse("m.csv", b"Email,Group\r\na@x,A\n\nb@x,B\r\n").unwrap();
        let lines: Vec<u64> = e.records.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [2, 4]);
    }
}

#[cfg(test)]
mod header_tests {
    use super::*;

    #[test]
    fn columns_are_found_by_exact_names_then_by_what_they_contain() {
        let e = Export::parse("a.csv", b"Full Name,User Email,IdP Group Name,Groups\nA,a@x,S,G\n").unwrap();
        assert_eq!(e.columns(&FieldChoice::default()).unwrap(), (1, 2));
        let e = Export::parse("b.csv", b"Name,Email,Groups\nA,a@x,G\n").unwrap();
        let err = e.columns(&FieldChoice::default()).unwrap_err().to_string();
        assert!(err.contains("no Identity Provider Group column"), "a bare Groups column is not taken: {err}");
        let e = Export::parse("c.csv", b"userName,department\na@x,Sales\n").unwrap();
        assert_eq!(e.columns(&FieldChoice::default()).unwrap(), (0, 1));
    }
}
