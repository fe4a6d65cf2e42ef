//! Which organization a request may touch: the one the sandbox serves, named by URI or UUID.

use super::error::{ApiError, ApiResult};
use super::state::Uris;

/// An `organization` filter must name this organization.
pub fn check_org_uri(u: Uris<'_>, uri: &str) -> ApiResult<()> {
    match u.parse("organizations", uri) {
        Some(id) if id == u.org => Ok(()),
        Some(_) => Err(ApiError::forbidden()),
        None => Err(ApiError::param("organization", format!("{uri:?} is not an organization URI"), "invalid")),
    }
}

/// An organization UUID in a path must be this organization.
pub fn check_org_path(u: Uris<'_>, uuid: &str) -> ApiResult<()> {
    if uuid == u.org { Ok(()) } else { Err(ApiError::forbidden()) }
}
