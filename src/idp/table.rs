//! An identity provider's users as one table: the login email first (the column `userName`,
//! what the provider sends Calendly as the SCIM `userName`), then every attribute seen, sorted,
//! nested objects flattened to `outer.inner`.

use serde_json::{Map, Value};

use crate::domain::Export;
use crate::domain::export::Record;

/// The column holding the login email.
pub const USER_NAME: &str = "userName";

/// The table from each user's login email and attributes (an attribute itself named `userName`
/// must have been renamed by the caller).
pub fn table(source: &str, users: Vec<(String, Vec<(String, String)>)>) -> Export {
    let mut names: Vec<String> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for (_, attrs) in &users {
        for (k, _) in attrs {
            if !index.contains_key(k.as_str()) {
                index.insert(k.clone(), names.len());
                names.push(k.clone());
            }
        }
    }
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_by(|&a, &b| names[a].to_lowercase().cmp(&names[b].to_lowercase()).then(names[a].cmp(&names[b])));
    let mut column = vec![0; names.len()];
    for (pos, &i) in order.iter().enumerate() {
        column[i] = pos + 1;
    }
    let mut headers = vec![USER_NAME.to_owned()];
    headers.extend(order.iter().map(|&i| names[i].clone()));
    let records = users
        .into_iter()
        .enumerate()
        .filter_map(|(n, (email, attrs))| {
            let mut fields = vec![String::new(); headers.len()];
            fields[0] = email;
            for (k, v) in attrs {
                fields[column[index[k.as_str()]]] = v;
            }
            Some((n as u64 + 1, Record::new(&fields)?))
        })
        .collect();
    Export { file: source.to_owned(), headers, records }
}

/// Attributes as text: nested objects as `outer.inner`, a list as its items joined by `, `,
/// null as empty, numbers and booleans as written.
pub fn flatten(profile: &Map<String, Value>) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(profile.len());
    for (k, v) in profile {
        flatten_into(k, v, &mut out);
    }
    out
}

fn flatten_into(key: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, inner) in m {
                flatten_into(&format!("{key}.{k}"), inner, out);
            }
        }
        other => out.push((key.to_owned(), text(other))),
    }
}

/// A JSON value as text (see `flatten`).
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// A user's attributes (an object), with one named `userName` shown as `PREFIX.userName`.
pub fn attributes(user: &Map<String, Value>, prefix: &str) -> Vec<(String, String)> {
    let mut attrs = flatten(user);
    for (k, _) in &mut attrs {
        if k == USER_NAME {
            *k = format!("{prefix}.{USER_NAME}");
        }
    }
    attrs
}

/// An id as one path segment (an id with `/` or `?` must not change the request).
pub fn url_segment(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
