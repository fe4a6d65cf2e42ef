//! groupmap: map identity-provider group values to Calendly groups, preview, and save safely.

pub mod api;
pub mod app;
pub mod cache;
pub mod cli;
pub mod config;
pub mod domain;
pub mod private_file;
pub mod report;
pub mod runtime;
pub mod sandbox;
pub mod terminal;
pub mod ui;
