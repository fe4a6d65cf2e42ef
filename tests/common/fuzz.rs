//! What the decoder fuzz tests share: the case count, any JSON value (hostile text included),
//! every place in a document, and the characters an error must never show raw.

use proptest::prelude::*;
use serde_json::{Value, json};

/// 256 cases, unless `PROPTEST_CASES` says otherwise.
pub fn config() -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var("PROPTEST_CASES").is_err() {
        c.cases = 256;
    }
    c
}

pub fn unsafe_char(c: char) -> bool {
    c.is_control() && c != '\n' || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

pub fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
        Just(json!("\u{1b}[2J\u{202e}")),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z_@.]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every JSON pointer in `v`, the root included.
pub fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| pointers(x, format!("{at}/{i}"), out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| pointers(x, format!("{at}/{k}"), out)),
        _ => {}
    }
}

/// `doc` with the value at one of its places (chosen by `at`) replaced by `with`.
pub fn replaced(mut doc: Value, at: &prop::sample::Index, with: Value) -> Value {
    let mut all = Vec::new();
    pointers(&doc, String::new(), &mut all);
    let p = at.get(&all).clone();
    if let Some(slot) = doc.pointer_mut(&p) {
        *slot = with;
    }
    doc
}
