//! Fuzzing Okta's answer decoders with proptest: arbitrary bytes, and valid pages of users and
//! error bodies with values replaced by any JSON. Never a panic; an error names the endpoint and
//! shows no raw control characters; a page that decodes always becomes a table whose rows have
//! as many fields as its header; any `Link` header text is parsed without a panic.
//! `PROPTEST_CASES=100000 cargo test --test fuzz_okta` for a long run.

use groupmap::idp::okta::{table, wire};
use proptest::prelude::*;
use serde_json::{Value, json};

fn config() -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var("PROPTEST_CASES").is_err() {
        c.cases = 256;
    }
    c
}

const EP: &str = "GET /api/v1/apps/0oa1/users?limit=200";

fn unsafe_char(c: char) -> bool {
    c.is_control() && c != '\n' || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn check(body: &[u8]) {
    match wire::decode_page(EP, body) {
        Ok(items) => {
            let t = table("Okta fuzz", items, true);
            assert_eq!(t.headers[0], "userName");
            for (_, r) in &t.records {
                assert_eq!(r.len(), t.headers.len());
            }
        }
        Err(e) => {
            let text = e.to_string();
            assert!(text.starts_with(&format!("{EP}: unexpected answer")), "{text}");
            assert!(!text.chars().any(unsafe_char), "raw control in {text:?}");
        }
    }
    let _ = wire::decode_error(body);
}

fn app_user(n: u32) -> Value {
    json!({"id": format!("00u{n}"), "externalId": null, "scope": "USER", "status": "PROVISIONED",
        "syncState": "SYNCHRONIZED", "credentials": {"userName": format!("u{n}@x.test")},
        "profile": {"email": format!("u{n}@x.test"), "department": "Sales EMEA", "groups": ["a", "b"], "n": n,
                    "addr": {"city": "Oslo"}},
        "_links": {"user": {"href": "https://x.okta.com/api/v1/users/00u1"}}})
}

fn any_json() -> impl Strategy<Value = Value> {
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
            prop::collection::btree_map("[a-zA-Z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| pointers(x, format!("{at}/{i}"), out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| pointers(x, format!("{at}/{k}"), out)),
        _ => {}
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        check(&body);
    }

    #[test]
    fn a_valid_page_with_any_value_replaced_never_panics(at in any::<prop::sample::Index>(), with in any_json()) {
        let mut page = json!([app_user(1), app_user(2)]);
        let mut all = Vec::new();
        pointers(&page, String::new(), &mut all);
        let p = at.get(&all).clone();
        if let Some(slot) = page.pointer_mut(&p) {
            *slot = with;
        }
        check(&serde_json::to_vec(&page).unwrap());
    }

    #[test]
    fn an_error_body_with_any_value_replaced_never_panics(key in "errorCode|errorSummary|errorId|errorCauses|errorLink", with in any_json()) {
        let mut body = json!({"errorCode": "E0000047", "errorSummary": "API call exceeded rate limit due to too many requests.",
            "errorLink": "E0000047", "errorId": "oae1", "errorCauses": [{"errorSummary": "x"}]});
        body[key.as_str()] = with;
        let _ = wire::decode_error(&serde_json::to_vec(&body).unwrap());
    }

    #[test]
    fn any_link_header_parses_without_a_panic(value in "[ -~]{0,120}") {
        let mut h = reqwest::header::HeaderMap::new();
        if let Ok(v) = value.parse() {
            h.append(reqwest::header::LINK, v);
        }
        if let Some(next) = wire::next_link(&h) {
            prop_assert!(value.contains(&next));
        }
    }
}
