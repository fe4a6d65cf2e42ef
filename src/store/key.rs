//! The one naming rule for every file groupmap keeps about an organization.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// `{uuid}-{tag}`: the organization's UUID (made safe for a file name) for people reading the
/// directory, and a tag hashed from the place (the service's base URL, or the bundled sandbox)
/// and the UUID, so that two servers' organizations never share a file.
pub fn key(place: &str, organization: &str) -> String {
    let uuid = crate::service::calendly::wire::uuid_of(organization);
    let safe: String = uuid.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').take(64).collect();
    format!("{safe}-{}", tag(place, uuid))
}

/// 16 hex digits hashed from a place and a name within it.
pub fn tag(place: &str, name: &str) -> String {
    let mut h = Sha256::new();
    h.update(place.trim_end_matches('/').as_bytes());
    h.update([0]);
    h.update(name.as_bytes());
    h.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The file for an organization in `dir`, with extension `ext`.
pub fn path_in(dir: &Path, place: &str, organization: &str, ext: &str) -> PathBuf {
    dir.join(format!("{}.{ext}", key(place, organization)))
}
