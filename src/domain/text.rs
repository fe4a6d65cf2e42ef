//! Making untrusted text safe to show in a terminal.

use std::borrow::Cow;

/// Control characters, escapes, bidi overrides and zero-width characters shown as `\u{..}`
/// (or `\t`, `\n`, `\r`), so data from the API or a CSV cannot move the cursor or reorder text.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    // Printable ASCII is the common case, and a byte scan finds it quickest.
    if s.bytes().all(|b| (b' '..=b'~').contains(&b)) || !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// A value quoted so that leading/trailing whitespace is visible: `"Sales "`; Unicode spaces
/// are escaped as in `visible`.
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    out.push_str(&spaces_shown(sanitize(s)));
    out.push('"');
    out
}

/// A Unicode space that is not ASCII (NBSP, U+2000..U+200A, U+3000, ...): invisible as such.
pub fn is_unicode_space(c: char) -> bool {
    c.is_whitespace() && !c.is_ascii()
}

/// Sanitized text with every Unicode space that is not ASCII (NBSP, thin, ideographic, ...)
/// escaped as `\u{a0}`: two values that differ only by one must not look the same.
fn spaces_shown(clean: Cow<'_, str>) -> Cow<'_, str> {
    if clean.is_ascii() || !clean.chars().any(is_unicode_space) {
        return clean;
    }
    let mut out = String::with_capacity(clean.len() + 8);
    for c in clean.chars() {
        if is_unicode_space(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// How group names compare: case, surrounding whitespace and runs of whitespace inside do not
/// count (`Sales  EMEA ` is `sales emea`). Every comparison of group names goes through this.
pub fn fold_name(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Resource URIs name the same resource when equal, or when both are on this machine's
/// loopback (sandboxes, which listen on a new port each run) with the same path.
pub fn same_resource(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim_end_matches('/'), b.trim_end_matches('/'));
    a == b || matches!((loopback_path(a), loopback_path(b)), (Some(x), Some(y)) if x == y)
}

/// The path of an `http://127.0.0.1:PORT/...` or `http://localhost:PORT/...` URI.
fn loopback_path(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix("http://127.0.0.1").or_else(|| uri.strip_prefix("http://localhost"))?;
    let rest = rest.strip_prefix(':').map_or(rest, |r| r.trim_start_matches(|c: char| c.is_ascii_digit()));
    rest.starts_with('/').then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls_and_bidi() {
        assert_eq!(sanitize("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(sanitize("x\u{202e}y\u{200b}"), "x\\u{202e}y\\u{200b}");
        assert_eq!(sanitize("Zoë 東京"), "Zoë 東京");
        assert!(matches!(sanitize("plain"), Cow::Borrowed(_)));
    }
}

/// Sanitized, with leading and trailing spaces shown as `␣` and Unicode spaces escaped (the
/// IdP value keeps them, and `Marketing ` must not look like `Marketing`, nor `Marketing\u{a0}`).
pub fn visible(s: &str) -> String {
    let clean = spaces_shown(sanitize(s));
    let start = clean.len() - clean.trim_start_matches(' ').len();
    let end = clean.trim_end_matches(' ').len().max(start);
    format!("{}{}{}", "␣".repeat(start), &clean[start..end], "␣".repeat(clean.len() - end))
}

#[cfg(test)]
mod visible_tests {
    #[test]
    fn marks_surrounding_spaces() {
        assert_eq!(super::visible("Marketing "), "Marketing␣");
        assert_eq!(super::visible(" a b "), "␣a b␣");
        assert_eq!(super::visible("   "), "␣␣␣");
    }

    #[test]
    fn marks_every_unicode_space() {
        assert_eq!(super::visible("Marketing\u{a0}"), "Marketing\\u{a0}");
        assert_eq!(super::visible(" Sales\u{3000}EMEA\u{2009}"), "␣Sales\\u{3000}EMEA\\u{2009}");
        assert_ne!(super::visible("a\u{a0}b"), super::visible("a b"));
        assert_eq!(super::quoted("Ops\u{202f}"), "\"Ops\\u{202f}\"");
    }
}
