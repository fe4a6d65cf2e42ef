//! groupmap: map identity-provider group values to Calendly groups, preview, and save safely.

pub mod api;
pub mod domain;
pub mod sandbox;
