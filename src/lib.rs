//! groupmap: map identity-provider group values to Calendly groups, preview, and save safely.

pub mod api;
pub mod cli;
pub mod config;
pub mod domain;
pub mod sandbox;
