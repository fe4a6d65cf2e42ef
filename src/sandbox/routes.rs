//! The router and the Calendly v2 read endpoints (as assets/openapi.yaml describes them).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::error::{ApiError, ApiResult};
use super::paging::{PageReq, Params, page, page_req, pagination};
use super::scope::{check_org_path, check_org_uri};
use super::state::{OrgState, OwnerRef, Uris};
use super::{Shared, export, faults, gate, provisioning, render};
use crate::service::calendly::wire::{Collection, Resource};

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/users/me", get(me))
        .route("/users/{uuid}", get(user))
        .route("/organization_memberships", get(memberships))
        .route("/organization_memberships/{uuid}", get(membership))
        .route("/organizations/{org}/invitations", get(invitations))
        .route("/organizations/{org}/invitations/{uuid}", get(invitation))
        .route("/groups", get(groups).post(provisioning::create_group))
        .route("/groups/{uuid}", get(group))
        .route("/group_relationships", get(relationships))
        .route("/group_relationships/{uuid}", get(relationship))
        .route("/organizations/{org}/user_export", get(export::user_export))
        .route("/organizations/{org}/group_mapping", get(provisioning::get_mapping).put(provisioning::put_mapping))
        .route("/group_mapping_jobs/{uuid}", get(provisioning::job))
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(shared.clone(), gate::gate))
        .with_state(shared)
}

async fn not_found() -> ApiError {
    ApiError::not_found("The requested resource was not found.")
}

/// A filter that takes a resource URI: its UUID, or 400 naming the parameter.
fn uri_filter<'p>(u: Uris<'_>, params: &'p Params, name: &str, kind: &str) -> ApiResult<Option<&'p str>> {
    params
        .filter(name)
        .map(|v| u.parse(kind, v).ok_or_else(|| ApiError::param(name, format!("{v:?} is not a {kind} URI"), "invalid")))
        .transpose()
}

fn owner_filter(u: Uris<'_>, params: &Params) -> ApiResult<Option<OwnerRef>> {
    let Some(v) = params.filter("owner") else {
        return Ok(None);
    };
    if let Some(id) = u.parse("organization_memberships", v) {
        return Ok(Some(OwnerRef::Membership(id.to_owned())));
    }
    let invitations = format!("{}/invitations/", u.org());
    match v.strip_prefix(&invitations) {
        Some(id) if !id.is_empty() && !id.contains('/') => Ok(Some(OwnerRef::Invitation(id.to_owned()))),
        _ => Err(ApiError::param("owner", format!("{v:?} is not a membership or invitation URI"), "invalid")),
    }
}

fn list<T: serde::Serialize>(collection: Vec<T>, pagination: crate::service::calendly::wire::Pagination) -> Response {
    Json(Collection { collection, pagination }).into_response()
}

fn one<T: serde::Serialize>(resource: T) -> Response {
    Json(Resource { resource }).into_response()
}

async fn me(State(s): State<Arc<Shared>>) -> Response {
    let st = s.state();
    one(render::user(&st.me().user, s.uris(), true))
}

async fn user(State(s): State<Arc<Shared>>, Path(uuid): Path<String>) -> ApiResult<Response> {
    let st = s.state();
    let m = st.member_by_user(&uuid).ok_or_else(|| ApiError::not_found("No user with that UUID."))?;
    Ok(one(render::user(&m.user, s.uris(), m.user.uuid == st.me)))
}

/// The common shape of a list endpoint: check `organization`, read paging, filter, render.
fn paged<T, W: serde::Serialize>(
    s: &Shared,
    params: &Params,
    path: &str,
    items: &[T],
    key: impl Fn(&T) -> (&str, &str),
    keep: impl Fn(&T) -> bool,
    render: impl Fn(&T) -> Option<W>,
) -> ApiResult<Response> {
    // Paging faults: a token they handed out starts the list over.
    let faults = s.faults();
    let restart = params.filter("page_token").is_some_and(faults::is_fault_token);
    let params = &if restart {
        Params(params.0.iter().filter(|(k, _)| k != "page_token").cloned().collect())
    } else {
        params.clone()
    };
    let req: PageReq = page_req(params, path, &s.page_key)?;
    let p = page(items, key, keep, &req);
    let url = format!("{}{path}", s.base);
    let mut pag = pagination(&url, params, &req, path, &s.page_key, &p);
    let fault_token = if faults.page_loop {
        Some(faults::LOOP_TOKEN.to_owned())
    } else if faults.endless_pages && pag.next_page_token.is_none() {
        Some(faults::endless_token())
    } else {
        None
    };
    if let Some(t) = fault_token {
        pag.next_page = Some(format!("{url}?count={}&page_token={t}", req.count));
        pag.next_page_token = Some(t);
    }
    Ok(list(p.items.iter().filter_map(|it| render(it)).collect(), pag))
}

async fn memberships(State(s): State<Arc<Shared>>, params: Params) -> ApiResult<Response> {
    let u = s.uris();
    check_org_uri(u, params.required("organization")?)?;
    let user = uri_filter(u, &params, "user", "users")?;
    let email = params.filter("email");
    let role = params.filter("role");
    if let Some(r) = role
        && !matches!(r, "user" | "admin" | "owner")
    {
        return Err(ApiError::param("role", "role must be one of user, admin, owner", "invalid"));
    }
    let st = s.state();
    paged(
        &s,
        &params,
        "/organization_memberships",
        &st.members,
        |m| (&m.created_at, &m.uuid),
        |m| {
            user.is_none_or(|id| m.user.uuid == id)
                && email.is_none_or(|e| m.user.email.eq_ignore_ascii_case(e))
                && role.is_none_or(|r| m.role == r)
        },
        |m| Some(render::membership(m, u)),
    )
}

async fn membership(State(s): State<Arc<Shared>>, Path(uuid): Path<String>) -> ApiResult<Response> {
    let st = s.state();
    let m = st.member(&uuid).ok_or_else(|| ApiError::not_found("No organization membership with that UUID."))?;
    Ok(one(render::membership(m, s.uris())))
}

async fn invitations(State(s): State<Arc<Shared>>, Path(org): Path<String>, params: Params) -> ApiResult<Response> {
    let u = s.uris();
    check_org_path(u, &org)?;
    let status = params.filter("status");
    if let Some(v) = status
        && !matches!(v, "pending" | "accepted" | "declined")
    {
        return Err(ApiError::param("status", "status must be one of pending, accepted, declined", "invalid"));
    }
    let email = params.filter("email");
    let st = s.state();
    paged(
        &s,
        &params,
        &format!("/organizations/{org}/invitations"),
        &st.invitations,
        |i| (&i.created_at, &i.uuid),
        |i| status.is_none_or(|v| i.status == v) && email.is_none_or(|e| i.email.eq_ignore_ascii_case(e)),
        |i| Some(render::invitation(i, u)),
    )
}

async fn invitation(State(s): State<Arc<Shared>>, Path((org, uuid)): Path<(String, String)>) -> ApiResult<Response> {
    check_org_path(s.uris(), &org)?;
    let st = s.state();
    let i = st.invitation(&uuid).ok_or_else(|| ApiError::not_found("No invitation with that UUID."))?;
    Ok(one(render::invitation(i, s.uris())))
}

async fn groups(State(s): State<Arc<Shared>>, params: Params) -> ApiResult<Response> {
    let u = s.uris();
    check_org_uri(u, params.required("organization")?)?;
    let st = s.state();
    let counts = st.member_counts();
    paged(
        &s,
        &params,
        "/groups",
        &st.groups,
        |g| (&g.created_at, &g.uuid),
        |_| true,
        |g| Some(render::group(g, u, counts.get(g.uuid.as_str()).copied().unwrap_or(0))),
    )
}

fn group_resource(st: &OrgState, u: Uris<'_>, uuid: &str) -> ApiResult<Response> {
    let g = st.group(uuid).ok_or_else(|| ApiError::not_found("No group with that UUID."))?;
    let count = st.member_counts().get(uuid).copied().unwrap_or(0);
    Ok(one(render::group(g, u, count)))
}

async fn group(State(s): State<Arc<Shared>>, Path(uuid): Path<String>) -> ApiResult<Response> {
    group_resource(&s.state(), s.uris(), &uuid)
}

async fn relationships(State(s): State<Arc<Shared>>, params: Params) -> ApiResult<Response> {
    let u = s.uris();
    check_org_uri(u, params.required("organization")?)?;
    let group = uri_filter(u, &params, "group", "groups")?;
    let owner = owner_filter(u, &params)?;
    let st = s.state();
    paged(
        &s,
        &params,
        "/group_relationships",
        &st.relationships,
        |r| (&r.created_at, &r.uuid),
        |r| group.is_none_or(|g| r.group == g) && owner.as_ref().is_none_or(|o| r.owner == *o),
        |r| render::relationship(r, &st, u),
    )
}

async fn relationship(State(s): State<Arc<Shared>>, Path(uuid): Path<String>) -> ApiResult<Response> {
    let st = s.state();
    let not_found = || ApiError::not_found("No group relationship with that UUID.");
    let r = st.relationships.iter().find(|r| r.uuid == uuid).ok_or_else(not_found)?;
    Ok(one(render::relationship(r, &st, s.uris()).ok_or_else(not_found)?))
}
