//! Fuzzing the API answer decoders (serde_path_to_error over the wire types) with proptest:
//! arbitrary bytes, and structured mutations of valid answers (a value replaced by any JSON, a
//! key removed, an unknown key added). Never a panic; an error always names the endpoint and,
//! for a wrong shape, the field; unknown keys never break decoding.
//! `PROPTEST_CASES=100000 cargo test --test fuzz_wire` for a long run.

use groupmap::service::calendly::ApiError;
use groupmap::service::calendly::client::decode;
use groupmap::service::calendly::wire::*;
use proptest::prelude::*;
use serde_json::{Value, json};

fn config() -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var("PROPTEST_CASES").is_err() {
        c.cases = 128;
    }
    c
}

const EP: &str = "GET /fuzz";

fn unsafe_char(c: char) -> bool {
    c.is_control() && c != '\n'
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

fn check<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let r = decode::<T>(EP, body);
    if let Err(e) = &r {
        let text = e.to_string();
        assert!(text.starts_with("GET /fuzz: "), "{text}");
        assert!(!text.chars().any(unsafe_char), "raw control in {text:?}");
        match e {
            ApiError::Decode { syntax: false, .. } => assert!(text.contains("unexpected answer: "), "{text}"),
            ApiError::Decode { syntax: true, .. } => assert!(text.contains("not valid JSON"), "{text}"),
            other => panic!("decode gave {other:?}"),
        }
    }
    r
}

/// Every decoder the client has, on the same body.
fn decode_all(body: &[u8]) {
    let _ = check::<Resource<User>>(body);
    let _ = check::<Collection<Membership>>(body);
    let _ = check::<Collection<Invitation>>(body);
    let _ = check::<Collection<Group>>(body);
    let _ = check::<Collection<GroupRelationship>>(body);
    let _ = check::<Resource<GroupMapping>>(body);
    let _ = check::<PutGroupMappingResponse>(body);
    let _ = check::<Resource<Job>>(body);
    let _ = check::<Resource<Group>>(body);
    let _ = check::<ApiErrorBody>(body);
}

fn user(n: u32) -> Value {
    json!({"uri": format!("https://h/users/U{n}"), "name": "Ana", "slug": "ana", "email": "ana@x.test",
        "scheduling_url": "https://calendly.com/ana", "timezone": "Europe/Oslo", "avatar_url": null, "locale": "en",
        "created_at": "2024-05-03T10:00:00.000000Z", "updated_at": "2024-05-03T10:00:00.000000Z"})
}

fn pagination() -> Value {
    json!({"count": 1, "next_page": null, "previous_page": null, "next_page_token": null, "previous_page_token": null})
}

/// Valid answers of each endpoint, as a real server sends them.
fn samples() -> Vec<Value> {
    let membership = json!({"uri": "https://h/organization_memberships/M1", "role": "user",
        "organization": "https://h/organizations/O", "created_at": "2024", "updated_at": "2024", "user": user(1)});
    let invitation = json!({"uri": "https://h/organizations/O/invitations/I1", "organization": "https://h/organizations/O",
        "email": "bo@x.test", "status": "pending", "created_at": "2024", "updated_at": "2024", "last_sent_at": null});
    let group = json!({"uri": "https://h/groups/G1", "name": "Sales", "organization": "https://h/organizations/O",
        "created_at": "2024", "updated_at": "2024", "member_count": 3});
    let mapping = json!({"uri": "https://h/organizations/O/group_mapping", "organization": "https://h/organizations/O",
        "enabled": true, "rows": [{"idp_value": "Sales", "group": "https://h/groups/G1"}], "default_group": null,
        "version": 7, "updated_at": "2024", "updated_by": "https://h/users/U1"});
    let mut me = user(1);
    me["current_organization"] = json!("https://h/organizations/O");
    me["resource_type"] = json!("User");
    vec![
        json!({"resource": me}),
        json!({"collection": [membership.clone(), membership], "pagination": pagination()}),
        json!({"collection": [invitation.clone()], "pagination": pagination()}),
        json!({"collection": [group.clone()], "pagination": pagination()}),
        json!({"collection": [
            {"uri": "https://h/group_relationships/R1", "role": "member", "organization": "https://h/organizations/O",
             "group": "https://h/groups/G1", "created_at": "2024", "updated_at": "2024",
             "owner": {"type": "OrganizationInvitation", "uri": "https://h/organizations/O/invitations/I1", "email": "bo@x.test"}},
            {"uri": "https://h/group_relationships/R2", "role": "admin", "organization": "https://h/organizations/O",
             "group": "https://h/groups/G1", "created_at": "2024", "updated_at": "2024",
             "owner": {"type": "OrganizationMembership", "uri": "https://h/organization_memberships/M1", "user": user(2)}}],
         "pagination": pagination()}),
        json!({"resource": mapping.clone()}),
        json!({"resource": mapping, "job": "https://h/group_mapping_jobs/J1"}),
        json!({"resource": {"uri": "https://h/group_mapping_jobs/J1", "status": "running", "total": 10, "completed": 3,
            "failed": 1, "errors": [{"owner": "https://h/organization_memberships/M1", "message": "gone"}],
            "created_at": "2024", "updated_at": "2024"}}),
        json!({"resource": group}),
        json!({"title": "Invalid Argument", "message": "bad", "details": [{"parameter": "rows[0].group", "message": "x"}]}),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<String>().prop_map(Value::String),
        Just(json!("\u{1b}[2J\u{202e}")),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// JSON pointers of every node.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| pointers(x, format!("{at}/{i}"), out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| pointers(x, format!("{at}/{k}"), out)),
        _ => {}
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Replace(prop::sample::Index, Value),
    Remove(prop::sample::Index),
    AddUnknown(prop::sample::Index, Value),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<prop::sample::Index>(), any_json()).prop_map(|(i, v)| Edit::Replace(i, v)),
        any::<prop::sample::Index>().prop_map(Edit::Remove),
        (any::<prop::sample::Index>(), any_json()).prop_map(|(i, v)| Edit::AddUnknown(i, v)),
    ]
}

/// Applies an edit; says whether it only added unknown keys.
fn apply(v: &mut Value, e: &Edit) -> bool {
    let mut ps = Vec::new();
    pointers(v, String::new(), &mut ps);
    match e {
        Edit::Replace(i, new) => {
            let p = &ps[i.index(ps.len())];
            if let Some(n) = v.pointer_mut(p) {
                *n = new.clone();
            }
            false
        }
        Edit::Remove(i) => {
            let p = ps[i.index(ps.len())].clone();
            if let Some((parent, key)) = p.rsplit_once('/')
                && let Some(node) = v.pointer_mut(parent)
            {
                match node {
                    Value::Object(o) => {
                        o.remove(key);
                    }
                    Value::Array(a) => {
                        if let Ok(k) = key.parse::<usize>() {
                            a.remove(k);
                        }
                    }
                    _ => {}
                }
            }
            false
        }
        Edit::AddUnknown(i, new) => {
            let objects: Vec<&String> = ps.iter().filter(|p| v.pointer(p).is_some_and(Value::is_object)).collect();
            if objects.is_empty() {
                return false;
            }
            let p = objects[i.index(objects.len())].clone();
            if let Some(Value::Object(o)) = v.pointer_mut(&p) {
                o.insert("zz_unknown_field".into(), new.clone());
            }
            true
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        decode_all(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics(v in any_json()) {
        decode_all(&serde_json::to_vec(&v).unwrap());
    }

    #[test]
    fn mutated_answers_never_panic_and_errors_name_the_field(which in any::<prop::sample::Index>(), edits in prop::collection::vec(edit(), 1..4)) {
        let all = samples();
        let mut v = all[which.index(all.len())].clone();
        let mut only_unknown = true;
        for e in &edits {
            only_unknown &= apply(&mut v, e);
        }
        let body = serde_json::to_vec(&v).unwrap();
        decode_all(&body);
        if only_unknown {
            // Unknown keys anywhere are ignored (Calendly adds fields over time).
            let i = which.index(all.len());
            let ok = match i {
                0 => check::<Resource<User>>(&body).is_ok(),
                1 => check::<Collection<Membership>>(&body).is_ok(),
                2 => check::<Collection<Invitation>>(&body).is_ok(),
                3 => check::<Collection<Group>>(&body).is_ok(),
                4 => check::<Collection<GroupRelationship>>(&body).is_ok(),
                5 => check::<Resource<GroupMapping>>(&body).is_ok(),
                6 => check::<PutGroupMappingResponse>(&body).is_ok(),
                7 => check::<Resource<Job>>(&body).is_ok(),
                8 => check::<Resource<Group>>(&body).is_ok(),
                _ => check::<ApiErrorBody>(&body).is_ok(),
            };
            prop_assert!(ok, "unknown keys broke sample {}: {}", i, v);
        }
    }

    #[test]
    fn truncated_answers_are_syntax_errors(which in any::<prop::sample::Index>(), cut in any::<prop::sample::Index>()) {
        let all = samples();
        let body = serde_json::to_vec(&all[which.index(all.len())]).unwrap();
        let n = cut.index(body.len());
        match check::<Value>(&body[..n]) {
            Err(ApiError::Decode { syntax, .. }) => prop_assert!(syntax),
            other => prop_assert!(false, "{:?}", other),
        }
    }
}

#[test]
fn the_samples_decode() {
    let all = samples();
    assert!(check::<Resource<User>>(&serde_json::to_vec(&all[0]).unwrap()).is_ok());
    assert!(check::<Collection<Membership>>(&serde_json::to_vec(&all[1]).unwrap()).is_ok());
    assert!(check::<Collection<GroupRelationship>>(&serde_json::to_vec(&all[4]).unwrap()).is_ok());
    assert!(check::<PutGroupMappingResponse>(&serde_json::to_vec(&all[6]).unwrap()).is_ok());
    assert!(check::<Resource<Job>>(&serde_json::to_vec(&all[7]).unwrap()).is_ok());
}
