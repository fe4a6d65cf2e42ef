//! Query parameters and cursor pagination. A page token names the last (or first) record seen
//! by its sort key, sealed with a keyed transform so that clients cannot treat it as an offset;
//! records added or removed between pages (a running job) never shift what a token points at.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use super::error::{ApiError, ApiResult};
use crate::service::calendly::wire::Pagination;

pub const DEFAULT_COUNT: usize = 20;
pub const MAX_COUNT: usize = 100;

/// The query string, decoded, in order.
#[derive(Clone, Debug, Default)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A filter's value; an empty value counts as absent.
    pub fn filter(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> ApiResult<&str> {
        self.filter(name).ok_or_else(|| ApiError::param(name, format!("{name} is required"), "required"))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map(|Query(v)| Params(v))
            .map_err(|e| ApiError::invalid(format!("The query string is malformed: {}", e.body_text()), Vec::new()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    After,
    Before,
}

/// A position in a list: strictly after or before the record with this sort key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub dir: Dir,
    pub created_at: String,
    pub uuid: String,
}

impl Cursor {
    fn key(&self) -> (&str, &str) {
        (&self.created_at, &self.uuid)
    }
}

/// Seals and opens page tokens. Tokens are bound to one list, so one cannot page another.
pub struct PageKey([u8; 32]);

impl PageKey {
    pub fn new(secret: &[&str]) -> PageKey {
        let mut h = Sha256::new();
        for s in secret {
            h.update(s.as_bytes());
            h.update([0]);
        }
        PageKey(h.finalize().into())
    }

    fn hash(&self, label: &[u8], data: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.0);
        h.update(label);
        h.update(data);
        h.finalize().into()
    }

    fn xor(&self, data: &mut [u8]) {
        for (i, chunk) in data.chunks_mut(32).enumerate() {
            let ks = self.hash(b"stream", &(i as u64).to_be_bytes());
            chunk.iter_mut().zip(ks).for_each(|(b, k)| *b ^= k);
        }
    }

    pub fn seal(&self, list: &str, c: &Cursor) -> String {
        let dir = if c.dir == Dir::After { "n" } else { "p" };
        let mut payload = format!("{list}\x1f{dir}\x1f{}\x1f{}", c.created_at, c.uuid).into_bytes();
        let tag = self.hash(b"tag", &payload);
        self.xor(&mut payload);
        tag[..8].iter().chain(&payload).map(|b| format!("{b:02x}")).collect()
    }

    pub fn open(&self, list: &str, token: &str) -> Option<Cursor> {
        if token.len() % 2 != 0 || token.len() < 18 || !token.is_ascii() {
            return None;
        }
        let mut bytes = (0..token.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&token[i..i + 2], 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        let mut payload = bytes.split_off(8);
        self.xor(&mut payload);
        if self.hash(b"tag", &payload)[..8] != bytes[..] {
            return None;
        }
        let text = String::from_utf8(payload).ok()?;
        let mut parts = text.split('\x1f');
        let (l, dir, created_at, uuid) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let dir = match dir {
            "n" => Dir::After,
            "p" => Dir::Before,
            _ => return None,
        };
        (l == list).then(|| Cursor { dir, created_at: created_at.to_owned(), uuid: uuid.to_owned() })
    }
}

pub struct PageReq {
    pub count: usize,
    pub cursor: Option<Cursor>,
}

pub fn page_req(params: &Params, list: &str, key: &PageKey) -> ApiResult<PageReq> {
    let count = match params.get("count") {
        None => DEFAULT_COUNT,
        Some(c) => c.parse::<usize>().ok().filter(|n| (1..=MAX_COUNT).contains(n)).ok_or_else(|| {
            ApiError::param("count", format!("count must be an integer between 1 and {MAX_COUNT}"), "invalid")
        })?,
    };
    let cursor = match params.filter("page_token") {
        None => None,
        Some(t) => Some(key.open(list, t).ok_or_else(|| {
            ApiError::param("page_token", "page_token is invalid or belongs to another list", "invalid")
        })?),
    };
    Ok(PageReq { count, cursor })
}

pub struct Page<'a, T> {
    pub items: Vec<&'a T>,
    pub next: Option<Cursor>,
    pub prev: Option<Cursor>,
}

/// One page of `items` (sorted by `key`) that `keep` accepts.
pub fn page<'a, T>(
    items: &'a [T],
    key: impl Fn(&T) -> (&str, &str),
    keep: impl Fn(&T) -> bool,
    req: &PageReq,
) -> Page<'a, T> {
    let cursor_at = |it: &T, dir| {
        let (c, u) = key(it);
        Cursor { dir, created_at: c.to_owned(), uuid: u.to_owned() }
    };
    match &req.cursor {
        Some(c) if c.dir == Dir::Before => {
            let end = items.partition_point(|it| key(it) < c.key());
            let mut out: Vec<&T> = items[..end].iter().rev().filter(|it| keep(it)).take(req.count + 1).collect();
            let more_before = out.len() > req.count;
            out.truncate(req.count);
            out.reverse();
            let more_after = items[end..].iter().any(&keep);
            Page {
                next: out.last().filter(|_| more_after).map(|it| cursor_at(it, Dir::After)),
                prev: out.first().filter(|_| more_before).map(|it| cursor_at(it, Dir::Before)),
                items: out,
            }
        }
        _ => {
            let start = req.cursor.as_ref().map_or(0, |c| items.partition_point(|it| key(it) <= c.key()));
            let mut out: Vec<&T> = items[start..].iter().filter(|it| keep(it)).take(req.count + 1).collect();
            let more_after = out.len() > req.count;
            out.truncate(req.count);
            let more_before = items[..start].iter().any(&keep);
            Page {
                next: out.last().filter(|_| more_after).map(|it| cursor_at(it, Dir::After)),
                prev: out.first().filter(|_| more_before).map(|it| cursor_at(it, Dir::Before)),
                items: out,
            }
        }
    }
}

/// Percent-encodes a query component (everything but RFC 3986's unreserved characters).
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The `pagination` object: tokens, and full URLs that repeat the request's filters.
pub fn pagination<T>(
    url: &str,
    params: &Params,
    req: &PageReq,
    list: &str,
    key: &PageKey,
    page: &Page<'_, T>,
) -> Pagination {
    let link = |c: &Cursor| {
        let token = key.seal(list, c);
        let mut q = format!("count={}", req.count);
        for (k, v) in params.0.iter().filter(|(k, _)| k != "count" && k != "page_token") {
            q.push_str(&format!("&{}={}", enc(k), enc(v)));
        }
        q.push_str(&format!("&page_token={token}"));
        (format!("{url}?{q}"), token)
    };
    let next = page.next.as_ref().map(link);
    let prev = page.prev.as_ref().map(link);
    Pagination {
        count: page.items.len() as u32,
        next_page: next.as_ref().map(|n| n.0.clone()),
        previous_page: prev.as_ref().map(|p| p.0.clone()),
        next_page_token: next.map(|n| n.1),
        previous_page_token: prev.map(|p| p.1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(n: usize) -> Vec<(String, String)> {
        (0..n).map(|i| (format!("2024-01-01T00:00:{i:02}.000000Z"), format!("u{i}"))).collect()
    }
    fn key(it: &(String, String)) -> (&str, &str) {
        (&it.0, &it.1)
    }

    #[test]
    fn tokens_round_trip_and_reject_tampering_and_other_lists() {
        let k = PageKey::new(&["s"]);
        let c = Cursor { dir: Dir::After, created_at: "2024".into(), uuid: "abc".into() };
        let t = k.seal("groups", &c);
        assert_eq!(k.open("groups", &t), Some(c));
        assert_eq!(k.open("memberships", &t), None);
        let mut bad = t.clone().into_bytes();
        bad[20] = if bad[20] == b'0' { b'1' } else { b'0' };
        assert_eq!(k.open("groups", std::str::from_utf8(&bad).unwrap()), None);
        assert_eq!(k.open("groups", "20"), None);
        assert_eq!(k.open("groups", "zz"), None);
        assert!(t.parse::<u64>().is_err());
    }

    #[test]
    fn walking_forward_then_back_visits_each_filtered_item_once() {
        let all = items(25);
        let keep = |it: &(String, String)| !it.1.ends_with('3');
        let mut req = PageReq { count: 5, cursor: None };
        let mut seen = Vec::new();
        let mut pages = Vec::new();
        loop {
            let p = page(&all, key, keep, &req);
            assert_eq!(p.prev.is_some(), !pages.is_empty());
            seen.extend(p.items.iter().map(|it| it.1.clone()));
            pages.push(p.items.iter().map(|it| it.1.clone()).collect::<Vec<_>>());
            match p.next {
                Some(c) => req.cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen.len(), 22); // u3, u13 and u23 filtered out
        assert_eq!(pages.len(), 5);
        // Back from the last page gives the page before it.
        let last = page(&all, key, keep, &PageReq { count: 5, cursor: req.cursor.clone() });
        let back = page(&all, key, keep, &PageReq { count: 5, cursor: last.prev });
        assert_eq!(back.items.iter().map(|it| it.1.clone()).collect::<Vec<_>>(), pages[3]);
    }

    #[test]
    fn enc_keeps_unreserved_only() {
        assert_eq!(enc("http://h/a b"), "http%3A%2F%2Fh%2Fa%20b");
        assert_eq!(enc("Zoë"), "Zo%C3%AB");
    }
}
