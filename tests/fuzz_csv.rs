//! Fuzzing the user-export CSV parser with proptest (cargo fuzz needs a nightly toolchain and
//! cargo-fuzz, which CI does not have). Arbitrary bytes, byte-level mutations of a valid export,
//! and generated exports that must read back exactly (fields and line numbers). Small case
//! counts by default; `PROPTEST_CASES=200000 cargo test --test fuzz_csv` for a long run.

use groupmap::domain::text::sanitize;
use groupmap::domain::{Export, FieldChoice};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var("PROPTEST_CASES").is_err() {
        c.cases = 128;
    }
    c
}

/// Errors name the source and a line (or say the file is empty); they never panic.
fn check_error(e: &groupmap::domain::export::ExportError) {
    let text = e.to_string();
    assert!(text.starts_with("f.csv: "), "{text}");
    assert!(text.contains("line ") || text.contains("the file is empty"), "{text}");
}

fn parse_any(bytes: &[u8]) {
    match Export::parse("f.csv", bytes) {
        Ok(e) => {
            for (line, r) in &e.records {
                assert!(*line >= 2, "a record after the header: {line}");
                assert!(r.len() <= e.headers.len());
                assert!(r.iter().any(|f| !f.is_empty()), "empty rows are skipped");
            }
            // Column lookups and samples never panic either.
            let _ = e.columns(&FieldChoice::default());
            for c in 0..e.headers.len() + 1 {
                let _ = e.samples(c, 3);
            }
        }
        Err(e) => check_error(&e),
    }
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9 @._-]{0,12}",
        2 => prop::collection::vec(prop::sample::select(vec![',', '"', '\r', '\n', ' ', '\u{feff}', 'é', '東', '\u{1b}', '\u{202e}', '\t', 'x']), 0..8)
            .prop_map(|v| v.into_iter().collect()),
        1 => any::<String>(),
    ]
}

fn header_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "Name",
        "Login email",
        "Role",
        "Calendly link",
        "Identity Provider Group",
        "Group",
        "Extra, quoted",
        "Zoë \"x\"",
        "multi\nline",
    ])
    .prop_map(str::to_owned)
}

#[derive(Debug, Clone)]
struct Doc {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    crlf: bool,
    bom: bool,
}

fn doc() -> impl Strategy<Value = Doc> {
    prop::collection::btree_set(header_name(), 1..6).prop_flat_map(|headers| {
        let headers: Vec<String> = headers.into_iter().collect();
        let n = headers.len();
        (Just(headers), prop::collection::vec(prop::collection::vec(field(), n), 0..12), any::<bool>(), any::<bool>())
            .prop_map(|(headers, rows, crlf, bom)| Doc { headers, rows, crlf, bom })
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        parse_any(&bytes);
    }

    #[test]
    fn csv_like_bytes_never_panic(parts in prop::collection::vec(prop::sample::select(vec![
        &b","[..], b"\"", b"\r\n", b"\n", b"\r", b"a", b"Login email", b"Identity Provider Group", b"\xEF\xBB\xBF", b"\xff", b"\xc3", b"\"\"", b" ",
    ]), 0..80)) {
        parse_any(&parts.concat());
    }

    #[test]
    fn mutated_exports_never_panic(d in doc(), edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6)) {
        let mut bytes = write(&d).0;
        for (at, byte, op) in edits {
            let i = if bytes.is_empty() { 0 } else { at.index(bytes.len()) };
            match op {
                0 if !bytes.is_empty() => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ if !bytes.is_empty() => { bytes.remove(i); }
                _ => {}
            }
        }
        parse_any(&bytes);
    }

    /// What the csv crate writes (quoting commas, quotes and line breaks), the parser reads back
    /// exactly, with the line each record starts on.
    #[test]
    fn generated_exports_read_back_exactly(d in doc()) {
        let (bytes, lines) = write(&d);
        let e = Export::parse("f.csv", &bytes).expect("a well-formed export parses");
        prop_assert_eq!(&e.headers, &d.headers);
        let want: Vec<(u64, Vec<String>)> = d.rows.iter().zip(&lines)
            .filter(|(r, _)| r.iter().any(|f| !f.is_empty()))
            .map(|(r, l)| (*l, r.clone()))
            .collect();
        let got: Vec<(u64, Vec<String>)> = e.records.iter().map(|(l, r)| (*l, r.iter().map(str::to_owned).collect())).collect();
        prop_assert_eq!(got, want);
    }

    /// Whatever goes in, what sanitize gives back is safe for a terminal.
    #[test]
    fn sanitized_text_has_no_terminal_controls(s in any::<String>()) {
        let out = sanitize(&s);
        let bad = out.chars().find(|c| unsafe_char(*c));
        prop_assert!(bad.is_none(), "{:?} in {:?}", bad, out);
    }
}

fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// The export's bytes and the line each row starts on.
fn write(d: &Doc) -> (Vec<u8>, Vec<u64>) {
    let term = if d.crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') };
    let mut out: Vec<u8> = if d.bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
    let mut lines = Vec::new();
    let mut w = csv::WriterBuilder::new().terminator(term).from_writer(Vec::new());
    w.write_record(&d.headers).unwrap();
    out.extend(w.into_inner().unwrap());
    for r in &d.rows {
        lines.push(line_ends(&out) + 1);
        let mut w = csv::WriterBuilder::new().terminator(term).from_writer(Vec::new());
        w.write_record(r).unwrap();
        out.extend(w.into_inner().unwrap());
    }
    (out, lines)
}

/// Line ends as an editor counts them: `\n`, `\r\n` and a lone `\r`.
fn line_ends(b: &[u8]) -> u64 {
    (0..b.len()).filter(|&i| b[i] == b'\r' || (b[i] == b'\n' && (i == 0 || b[i - 1] != b'\r'))).count() as u64
}
