//! Talking to the API: wire types, the HTTP client, loading a snapshot and saving a mapping.

pub mod client;
pub mod load;
pub mod save;
pub mod wire;

pub use client::{ApiError, Client, Progress, Secret};
pub use load::{LoadError, LoadOptions, Loaded, load};
