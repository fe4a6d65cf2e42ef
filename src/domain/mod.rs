//! The pure core: what an organization looks like, what a mapping is, and what it would do.

pub mod export;
pub mod lint;
pub mod mapping;
pub mod mapping_file;
pub mod plan;
pub mod snapshot;
pub mod suggest;
pub mod text;

pub use export::{Export, FieldChoice};
pub use mapping::{Mapping, Row, Target};
pub use plan::{Change, Dest, Plan, plan};
pub use snapshot::{Group, GroupId, Owner, OwnerId, OwnerKind, Person, SavedMapping, Snapshot, ValueId};
