//! What reading an identity provider can fail with, each worded for the admin: the endpoint,
//! the provider's own error code and summary, and what to do.

use crate::domain::text::{quoted, sanitize};

#[derive(Debug, thiserror::Error)]
pub enum IdpError {
    /// The provider's settings are missing or wrong (before anything is sent).
    #[error("{0}")]
    Settings(String),
    /// A source the command line names that groupmap cannot read yet.
    #[error(
        "--idp {kind}: reading values from {name} is not built yet; use --idp export (Calendly's user export) \
         or --idp okta"
    )]
    NotBuilt { kind: &'static str, name: &'static str },
    /// The provider answered with an error status.
    #[error("{0}")]
    Status(Box<StatusError>),
    #[error("{endpoint}: {message} (after {attempts} attempt{}); check --idp-url and the network, then retry", if *.attempts == 1 { "" } else { "s" })]
    Transport { endpoint: String, message: String, attempts: u32 },
    #[error("{endpoint}: unexpected answer: {}{}", if .path.is_empty() || .path == "." { String::new() } else { format!("at {}: ", sanitize(.path)) }, sanitize(.message))]
    Decode { endpoint: String, path: String, message: String },
    #[error(
        "{endpoint}: {how} {origin}; groupmap sends the identity provider's token only to {base}, so nothing was \
         sent there. Check --idp-url (it must be the provider's own address)"
    )]
    ForeignOrigin { endpoint: String, how: &'static str, origin: String, base: String },
    #[error("{endpoint}: the answer exceeds {} MiB; stopped reading. Check that --idp-url points at the identity provider", .cap >> 20)]
    TooLarge { endpoint: String, cap: u64 },
    #[error(
        "{endpoint}: the next page {} was offered again after {pages} page(s): a pagination loop. Stopped; nothing was changed",
        quoted(.url)
    )]
    PageLoop { endpoint: String, url: String, pages: usize },
    #[error(
        "{endpoint}: stopped after {pages} pages ({rows} users) and the provider still offers more; nothing was changed"
    )]
    TooManyPages { endpoint: String, pages: usize, rows: usize },
}

/// An error status with the provider's own error body (Okta's `errorCode`, `errorSummary`,
/// `errorId`, `errorCauses`) and what to do about it.
#[derive(Debug, thiserror::Error)]
#[error(
    "{endpoint}: {status}{}{}{}{}{}",
    .code.as_deref().map(|c| format!(" {}", sanitize(c))).unwrap_or_default(),
    .summary.as_deref().map(|s| format!(": {}", sanitize(s))).unwrap_or_default(),
    causes_text(.causes),
    .id.as_deref().map(|i| format!(" (error id {})", sanitize(i))).unwrap_or_default(),
    .hint.as_deref().map(|h| format!("\n  {h}")).unwrap_or_default()
)]
pub struct StatusError {
    pub endpoint: String,
    pub status: u16,
    pub code: Option<String>,
    pub summary: Option<String>,
    pub id: Option<String>,
    pub causes: Vec<String>,
    pub hint: Option<String>,
}

fn causes_text(causes: &[String]) -> String {
    if causes.is_empty() {
        return String::new();
    }
    let shown: Vec<String> = causes.iter().map(|c| sanitize(c).into_owned()).collect();
    format!(" ({})", shown.join("; "))
}
