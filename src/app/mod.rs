//! The interactive editor's state machine: model, messages, effects and the pure `update`.

pub mod filter;
pub mod findings;
pub mod handoff;
pub mod keymap;
pub mod layout;
pub mod model;
pub mod msg;
pub mod notes;
pub mod update;

pub use model::Model;
pub use msg::{Effect, Msg};
pub use update::update;
