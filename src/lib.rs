//! groupmap: map identity-provider group values to Calendly groups, preview, and save safely.
//!
//! The flow, the same for the CLI and the editor:
//! load (`engine` reads a `service` and an `idp` values source) → `Organization`, one value
//! → edit (`app::update`, pure) → plan (`domain::plan`, pure: who moves where, the digest)
//! → apply (`engine`: groups created, table saved with the digest, job followed)
//! → verify (reload and re-plan: success means nobody is left to move).

pub mod app;
pub mod bounded_body;
pub mod cli;
pub mod config;
pub mod debug_seam;
pub mod domain;
pub mod engine;
pub mod idp;
pub mod logging;
pub mod private_file;
pub mod redraw;
pub mod report;
pub mod runtime;
pub mod sandbox;
pub mod service;
pub mod store;
pub mod terminal;
pub mod ui;
