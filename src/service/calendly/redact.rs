//! Keeping the token out of every text a server can make groupmap show.

const REDACTED: &str = "[redacted]";

/// `text` without the token, without any run of 8 or more of its leading characters (what is
/// left of it where a server cut its echo short), and without anything shaped like a bearer
/// token or a JWT (the token as some proxy rewrote it, or another credential).
pub fn redact(token: &str, text: &str) -> String {
    let mut out = if token.len() >= 6 { text.replace(token, REDACTED) } else { text.to_owned() };
    if let Some((head_end, _)) = token.char_indices().nth(8) {
        let head = &token[..head_end];
        let runs: Vec<_> = out
            .match_indices(head)
            .map(|(start, _)| {
                let same = out[start..].bytes().zip(token.bytes()).take_while(|(a, b)| a == b).count();
                let mut end = start + same;
                while !out.is_char_boundary(end) {
                    end -= 1;
                }
                start..end
            })
            .collect();
        out = splice(&out, runs);
    }
    // `Bearer ` and 20 or more non-space characters.
    let lower = out.to_ascii_lowercase();
    let bearers: Vec<_> = lower
        .match_indices("bearer ")
        .filter_map(|(i, m)| {
            let rest = &out[i + m.len()..];
            let start = i + m.len() + (rest.len() - rest.trim_start_matches(' ').len());
            let end = out[start..].find(char::is_whitespace).map_or(out.len(), |n| start + n);
            (out[start..end].chars().count() >= 20).then_some(start..end)
        })
        .collect();
    out = splice(&out, bearers);
    // `xxx.yyy.zzz` in base64url, 20 characters or more. Requiring an upper-case letter spares
    // host names (lower-case in URLs and errors); base64 of 20 characters almost always has one.
    let b64 = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut jwts = Vec::new();
    let mut at = 0;
    while let Some(start) = out[at..].find(b64).map(|n| at + n) {
        let end = out[start..].find(|c: char| !b64(c) && c != '.').map_or(out.len(), |n| start + n);
        let run = out[start..end].trim_end_matches('.');
        let parts: Vec<&str> = run.split('.').collect();
        if run.len() >= 20
            && parts.len() == 3
            && parts.iter().all(|p| !p.is_empty())
            && run.contains(|c: char| c.is_ascii_uppercase())
        {
            jwts.push(start..start + run.len());
        }
        at = end;
    }
    splice(&out, jwts)
}

/// `text` with each range (in order; overlapping ones merge) replaced by `[redacted]`.
fn splice(text: &str, ranges: Vec<std::ops::Range<usize>>) -> String {
    if ranges.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for r in ranges {
        if r.start < at {
            at = at.max(r.end);
            continue;
        }
        out.push_str(&text[at..r.start]);
        out.push_str(REDACTED);
        at = r.end;
    }
    out.push_str(&text[at..]);
    out
}
