//! The admin-center user export as CSV: Calendly's columns plus `Group`, CRLF line ends.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::Shared;
use super::error::{ApiError, ApiResult};
use super::paging::Params;
use super::render::scheduling_url;
use super::scope::check_org_path;
use super::state::{OrgState, OwnerRef};
use crate::service::calendly::wire::EXPORT_HEADERS;

/// Some addresses come out of the IdP capitalized: the export must be joined case-insensitively.
fn as_exported(email: &str, n: usize) -> String {
    if n % 17 != 5 {
        return email.to_owned();
    }
    let mut chars = email.chars();
    chars.next().map_or_else(String::new, |c| c.to_ascii_uppercase().to_string() + chars.as_str())
}

pub fn render_csv(st: &OrgState, active: bool, pending: bool) -> Vec<u8> {
    let current = st.member_groups();
    let group_name = |owner: &OwnerRef| current.get(owner).and_then(|g| st.group(g)).map_or("", |g| g.name.as_str());
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    let mut row = |fields: [&str; 6]| w.write_record(fields).expect("writing to memory");
    row(EXPORT_HEADERS);
    if active {
        for (n, m) in st.members.iter().enumerate() {
            let owner = OwnerRef::Membership(m.uuid.clone());
            let email = as_exported(&m.user.email, n);
            let link = scheduling_url(&m.user.slug);
            let value = m.idp_value.as_deref().unwrap_or("");
            row([&m.user.name, &email, &m.role, &link, value, group_name(&owner)]);
        }
        for s in &st.stale {
            row([&s.name, &s.email, &s.role, "", &s.idp_value, &s.group]);
        }
    }
    if pending {
        for i in st.invitations.iter().filter(|i| i.status == "pending") {
            let owner = OwnerRef::Invitation(i.uuid.clone());
            let value = i.idp_value.as_deref().unwrap_or("");
            row(["", &i.email, "user", "", value, group_name(&owner)]);
        }
    }
    w.into_inner().expect("writing to memory")
}

pub async fn user_export(State(s): State<Arc<Shared>>, Path(org): Path<String>, params: Params) -> ApiResult<Response> {
    s.provisioning()?;
    check_org_path(s.uris(), &org)?;
    let (active, pending) = match params.filter("status") {
        None => (true, true),
        Some("active") => (true, false),
        Some("pending") => (false, true),
        Some(_) => {
            return Err(ApiError::param("status", "status must be active or pending", "invalid"));
        }
    };
    let csv = render_csv(&s.state(), active, pending);
    let name = match (active, pending) {
        (true, false) => "users-active.csv",
        (false, true) => "users-pending.csv",
        _ => "users.csv",
    };
    let mut res = csv.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    let disposition = format!("attachment; filename=\"{name}\"");
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).expect("ASCII"));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Export, FieldChoice, Snapshot, plan};

    #[test]
    fn the_export_joined_as_a_client_does_gives_the_servers_digest() {
        let st = crate::sandbox::seed::demo();
        let (server, _) = st.snapshot("http://h", true);
        let people = server.people().clone();
        let active = Export::parse("active", &render_csv(&st, true, false)).unwrap();
        let pending = Export::parse("pending", &render_csv(&st, false, true)).unwrap();
        assert!(String::from_utf8(render_csv(&st, true, false)).unwrap().contains("\r\n"));
        let client = Snapshot::from_parts(
            "http://h",
            &server.organization,
            server.groups.clone(),
            &people,
            &[active, pending],
            &FieldChoice::default(),
            server.saved.clone(),
        );
        assert_eq!(client.values, server.values);
        assert_eq!(client.stale_rows.len(), st.stale.len());
        let m = server.saved_mapping();
        assert_eq!(plan(&client, &m).digest(&client), plan(&server, &m).digest(&server));
    }
}
