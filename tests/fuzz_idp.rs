//! Fuzzing Microsoft Graph's and OneLogin's answer decoders with proptest: arbitrary bytes, and
//! valid pages of users, token answers and error bodies with a value replaced by any JSON.
//! Never a panic; an error names the endpoint and shows no raw control characters; a page that
//! decodes always becomes a table whose rows have as many fields as its header.
//! `PROPTEST_CASES=100000 cargo test --test fuzz_idp` for a long run.

mod common;

use common::fuzz::{any_json, config, replaced, unsafe_char};
use groupmap::idp::error::{error_fields, status_error};
use groupmap::idp::oauth::decode_token;
use groupmap::idp::{entra, onelogin};
use proptest::prelude::*;
use serde_json::{Value, json};

const GRAPH: &str = "GET /v1.0/users?$select=id,mail&$top=999";
const OL: &str = "GET /api/2/users?limit=50";

fn decode_error_is_worded(endpoint: &str, text: String) {
    assert!(text.starts_with(&format!("{endpoint}: unexpected answer")), "{text}");
    assert!(!text.chars().any(unsafe_char), "raw control in {text:?}");
}

fn check_rows(t: &groupmap::domain::Export) {
    assert_eq!(t.headers[0], "userName");
    for (_, r) in &t.records {
        assert_eq!(r.len(), t.headers.len());
    }
}

fn check(body: &[u8]) {
    match entra::wire::decode_users(GRAPH, body) {
        Ok(page) => check_rows(&entra::users_table("Entra fuzz", page.value, None)),
        Err(e) => decode_error_is_worded(GRAPH, e.to_string()),
    }
    match entra::wire::decode::<entra::wire::Assignment>(GRAPH, body) {
        Ok(_) => {}
        Err(e) => decode_error_is_worded(GRAPH, e.to_string()),
    }
    match onelogin::decode_page(OL, body) {
        Ok(users) => check_rows(&onelogin::users_table("OneLogin fuzz", users)),
        Err(e) => decode_error_is_worded(OL, e.to_string()),
    }
    if let Err(e) = decode_token("POST /oauth2/v2.0/token", body) {
        decode_error_is_worded("POST /oauth2/v2.0/token", e.to_string());
    }
    let _ = error_fields(body);
    let text = status_error("GET /v1.0/users".into(), 400, body, &|s| s.to_owned(), None).to_string();
    assert!(!text.chars().any(unsafe_char), "raw control in {text:?}");
}

fn graph_user(n: u32) -> Value {
    json!({"id": format!("u-{n}"), "mail": if n % 2 == 0 { Value::Null } else { json!(format!("u{n}@x.test")) },
        "userPrincipalName": format!("u{n}@x.onmicrosoft.com"), "department": "Sales EMEA", "jobTitle": null,
        "onPremisesExtensionAttributes": {"extensionAttribute1": "A", "extensionAttribute2": null},
        "extension_0b7e3c52_costCenter": "CC-1", "businessPhones": ["+1 555"]})
}

fn onelogin_user(n: u64) -> Value {
    json!({"id": n, "email": format!("u{n}@x.test"), "firstname": "Zoë", "department": "Ventes", "status": 1,
        "role_ids": [1, 2], "custom_attributes": {"cost_center": "CC-1", "none": null}})
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        check(&body);
    }

    #[test]
    fn a_graph_page_with_any_value_replaced_never_panics(at in any::<prop::sample::Index>(), with in any_json()) {
        let page = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
            "@odata.nextLink": "https://graph.microsoft.com/v1.0/users?$skiptoken=X", "value": [graph_user(1), graph_user(2)]});
        check(&serde_json::to_vec(&replaced(page, &at, with)).unwrap());
    }

    #[test]
    fn a_onelogin_page_with_any_value_replaced_never_panics(at in any::<prop::sample::Index>(), with in any_json()) {
        let page = json!([onelogin_user(1), onelogin_user(2)]);
        check(&serde_json::to_vec(&replaced(page, &at, with)).unwrap());
    }

    #[test]
    fn token_answers_and_error_bodies_with_any_value_replaced_never_panic(at in any::<prop::sample::Index>(), with in any_json(), which in 0..4usize) {
        let doc = [
            json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "eyJ0"}),
            json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.", "error_codes": [7000215], "trace_id": "t"}),
            json!({"error": {"code": "TooManyRequests", "message": "Too many requests.", "innerError": {"request-id": "r"}}}),
            json!({"statusCode": 401, "name": "UnauthorizedError", "message": "Unauthorized"}),
        ][which].clone();
        check(&serde_json::to_vec(&replaced(doc, &at, with)).unwrap());
    }
}
