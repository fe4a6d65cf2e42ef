//! Talking to the API: wire types, the HTTP client, loading a snapshot and saving a mapping.

pub mod wire;
