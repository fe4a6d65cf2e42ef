//! This project's provisioning endpoints (assets/openapi.yaml, this project's own part): the group mapping with
//! its version check and preview digest, mapping jobs, and creating groups.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ApiResult, detail};
use super::scope::{check_org_path, check_org_uri};
use super::state::{MappingRec, OrgState, RowRec, Uris};
use super::{Shared, jobs, render};
use crate::domain::{Dest, Mapping, plan};
use crate::service::calendly::wire::{CreateGroup, ErrorDetail, PutGroupMapping, PutGroupMappingResponse, Resource};

fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits and quotes")
}

fn mapping_response(status: StatusCode, body: impl serde::Serialize, version: u64) -> Response {
    let mut res = (status, Json(body)).into_response();
    res.headers_mut().insert(header::ETAG, etag(version));
    res
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid(format!("The request body is not valid JSON for this endpoint: {e}"), Vec::new())
    })
}

pub async fn get_mapping(State(s): State<Arc<Shared>>, Path(org): Path<String>) -> ApiResult<Response> {
    s.provisioning()?;
    check_org_path(s.uris(), &org)?;
    let st = s.state();
    let body = Resource { resource: render::mapping(&st.mapping, s.uris()) };
    Ok(mapping_response(StatusCode::OK, body, st.mapping.version))
}

/// The version an `If-Match` names (`"7"`, `W/"7"` or `7`); `*` matches any version.
fn if_match(headers: &HeaderMap) -> ApiResult<Option<u64>> {
    let value = headers.get(header::IF_MATCH).ok_or_else(|| {
        ApiError::new(
            StatusCode::PRECONDITION_REQUIRED,
            "If-Match is required: send the ETag of the mapping version you edited.",
        )
    })?;
    let text = value.to_str().unwrap_or("").trim();
    if text == "*" {
        return Ok(None);
    }
    let bare = text.trim_start_matches("W/").trim_matches('"');
    bare.parse::<u64>().map(Some).map_err(|_| {
        ApiError::new(StatusCode::PRECONDITION_FAILED, format!("If-Match {text} names no version of this mapping."))
    })
}

/// One detail per problem, in body order: the row count, each row's value and group, then the
/// default group.
fn problems(st: &OrgState, u: Uris<'_>, body: &PutGroupMapping, mapping: &Mapping) -> Vec<ErrorDetail> {
    let known = |uri: &str| u.parse("groups", uri).is_some_and(|id| st.group(id).is_some());
    let mut out: Vec<(usize, u8, ErrorDetail)> = Vec::new();
    for p in mapping.problems() {
        let row =
            p.parameter.strip_prefix("rows[").and_then(|r| r.split(']').next()).and_then(|i| i.parse::<usize>().ok());
        let code = if p.parameter == "rows" {
            "too_many"
        } else if p.message.starts_with("duplicate") {
            "duplicate"
        } else {
            "blank"
        };
        out.push((row.map_or(0, |i| i + 1), 0, detail(&p.parameter, p.message, code)));
    }
    for (i, r) in body.rows.iter().enumerate() {
        if !known(&r.group) {
            let d = detail(
                &format!("rows[{i}].group"),
                format!("no group {:?} in this organization", r.group),
                "not_found",
            );
            out.push((i + 1, 1, d));
        }
    }
    if let Some(g) = &body.default_group
        && !known(g)
    {
        out.push((usize::MAX, 0, detail("default_group", format!("no group {g:?} in this organization"), "not_found")));
    }
    out.sort_by_key(|(row, field, _)| (*row, *field));
    out.into_iter().map(|(_, _, d)| d).collect()
}

pub async fn put_mapping(
    State(s): State<Arc<Shared>>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    s.provisioning()?;
    let (res, job) = put_locked(&s, &org, &headers, &body)?;
    s.persist();
    if let Some(job) = job {
        jobs::spawn(&s, job);
    }
    Ok(res)
}

/// The whole check-and-save under one lock, so nothing changes between the digest check and
/// the save. Returns the response and the job to start.
fn put_locked(s: &Shared, org: &str, headers: &HeaderMap, body: &[u8]) -> ApiResult<(Response, Option<String>)> {
    let u = s.uris();
    check_org_path(u, org)?;
    let wanted = if_match(headers)?;
    let mut st = s.state();
    let (concurrent, move_first) = {
        let mut armed = super::lock(&s.faults_armed);
        (armed.concurrent_save(), armed.move_before_save())
    };
    if concurrent {
        s.bump_version_as_someone_else(&mut st);
    }
    if let Some(v) = wanted
        && v != st.mapping.version
    {
        return Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            format!(
                "The mapping changed since you read it: you sent version {v}, the current version is {}. Reload and reapply your edits.",
                st.mapping.version
            ),
        ));
    }
    let body: PutGroupMapping = parse_json(body)?;
    let mapping = crate::service::calendly::wire::mapping_of(
        body.enabled,
        &body.rows,
        body.default_group.as_deref(),
        body.apply_to_existing,
    );
    let details = problems(&st, u, &body, &mapping);
    if !details.is_empty() {
        return Err(ApiError::invalid(format!("The mapping has {} problem(s).", details.len()), details));
    }
    if move_first {
        move_someone(&mut st, &s.base, &mapping);
    }
    let (snap, refs) = st.snapshot(&s.base, true);
    let p = plan(&snap, &mapping);
    if body.apply_to_existing {
        let ours = p.digest(&snap);
        let theirs = body.preview_digest.as_deref().map(str::to_ascii_lowercase);
        match theirs {
            None => {
                return Err(ApiError::param(
                    "preview_digest",
                    "preview_digest is required when apply_to_existing is true",
                    "required",
                ));
            }
            Some(t) if t != ours => {
                let mut e = ApiError::new(
                    StatusCode::CONFLICT,
                    format!(
                        "The organization changed since the preview: {} change(s) would apply now. Nothing was saved; reload and preview again.",
                        p.changes.len()
                    ),
                );
                e.body.details = vec![detail(
                    "preview_digest",
                    format!("does not match the current plan (digest {ours}, you sent {t})"),
                    "stale",
                )];
                return Err(e);
            }
            Some(_) => {}
        }
    }
    let group_uuid = |uri: &str| u.parse("groups", uri).expect("validated above").to_owned();
    let updated_at = st.stamp();
    st.mapping = MappingRec {
        enabled: body.enabled,
        rows: body
            .rows
            .iter()
            .map(|r| RowRec { idp_value: r.idp_value.clone(), group: group_uuid(&r.group) })
            .collect(),
        default_group: body.default_group.as_deref().map(group_uuid),
        version: st.mapping.version + 1,
        updated_at: Some(updated_at),
        updated_by: Some(st.me.clone()),
    };
    let job = (body.apply_to_existing && p.applies()).then(|| {
        let todo = p
            .changes
            .iter()
            .filter_map(|c| match c.to {
                Dest::Group(g) => Some((refs[c.owner.0 as usize].clone(), group_uuid(&snap.group(g).uri))),
                Dest::New(_) => None,
            })
            .collect();
        st.add_job(todo)
    });
    let out =
        PutGroupMappingResponse { resource: render::mapping(&st.mapping, u), job: job.as_deref().map(|j| u.job(j)) };
    Ok((mapping_response(StatusCode::OK, out, st.mapping.version), job))
}

/// The `move_before_save` fault: someone else moves one person this save would move (into
/// their target, so the change disappears), or else someone it leaves alone, so that the plan
/// the client previewed is no longer the server's.
fn move_someone(st: &mut OrgState, base: &str, mapping: &Mapping) {
    let (snap, refs) = st.snapshot(base, true);
    let p = plan(&snap, mapping);
    let u = st.uris(base);
    let group_uuid = |uri: &str| u.parse("groups", uri).map(str::to_owned);
    let by_change = p.changes.iter().find_map(|c| match c.to {
        Dest::Group(g) => Some((refs[c.owner.0 as usize].clone(), group_uuid(&snap.group(g).uri)?)),
        Dest::New(_) => None,
    });
    let by_unchanged = || {
        let other = st.groups.first()?.uuid.clone();
        let current = st.member_groups();
        refs.iter().find(|r| current.get(r).is_some_and(|g| *g != other)).map(|r| (r.clone(), other))
    };
    if let Some(m) = by_change.or_else(by_unchanged) {
        st.move_members(&[m]);
    }
}

pub async fn job(State(s): State<Arc<Shared>>, Path(uuid): Path<String>) -> ApiResult<Response> {
    s.provisioning()?;
    let runaway = s.faults().runaway_job;
    let mut st = s.state();
    if runaway {
        jobs::run_away(&mut st, &uuid);
    }
    let job = st.job(&uuid).ok_or_else(|| ApiError::not_found("No group mapping job with that UUID."))?;
    Ok(Json(Resource { resource: render::job(job, s.uris()) }).into_response())
}

pub const MAX_GROUP_NAME: usize = 100;

pub async fn create_group(State(s): State<Arc<Shared>>, body: Bytes) -> ApiResult<Response> {
    s.provisioning()?;
    let res = {
        let u = s.uris();
        let body: CreateGroup = parse_json(&body)?;
        if body.organization.is_empty() {
            return Err(ApiError::param("organization", "organization is required", "required"));
        }
        check_org_uri(u, &body.organization)?;
        if body.name.trim().is_empty() {
            return Err(ApiError::param("name", "name must not be empty", "blank"));
        }
        let chars = body.name.chars().count();
        if chars > MAX_GROUP_NAME {
            return Err(ApiError::param(
                "name",
                format!("name is {chars} characters; at most {MAX_GROUP_NAME} are allowed"),
                "too_long",
            ));
        }
        let mut st = s.state();
        if let Some(g) = st.group_by_name(&body.name) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("A group named {:?} already exists in this organization ({}).", g.name, u.group(&g.uuid)),
            ));
        }
        let g = render::group(st.add_group(&body.name), u, 0);
        let mut res = (StatusCode::CREATED, Json(Resource { resource: &g })).into_response();
        res.headers_mut().insert(header::LOCATION, HeaderValue::from_str(&g.uri).expect("an ASCII URI"));
        res
    };
    s.persist();
    Ok(res)
}
