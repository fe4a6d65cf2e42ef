//! Fuzzing Okta's answer decoders with proptest: arbitrary bytes, and valid pages of users and
//! error bodies with values replaced by any JSON. Never a panic; an error names the endpoint and
//! shows no raw control characters; a page that decodes always becomes a table whose rows have
//! as many fields as its header; any `Link` header text is parsed without a panic.
//! `PROPTEST_CASES=100000 cargo test --test fuzz_okta` for a long run.

mod common;

use common::fuzz::{any_json, config, replaced, unsafe_char};
use groupmap::idp::okta::{table, wire};
use proptest::prelude::*;
use serde_json::{Value, json};

const EP: &str = "GET /api/v1/apps/0oa1/users?limit=200";

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

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        check(&body);
    }

    #[test]
    fn a_valid_page_with_any_value_replaced_never_panics(at in any::<prop::sample::Index>(), with in any_json()) {
        let page = replaced(json!([app_user(1), app_user(2)]), &at, with);
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
