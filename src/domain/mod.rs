//! The pure core: what an organization looks like, what a mapping is, and what it would do.

pub mod columns;
pub mod coverage;
pub mod draft;
pub mod export;
pub mod finding;
pub mod group_names;
pub mod infer;
pub mod lint;
pub mod lookalike;
pub mod mapping;
pub mod mapping_file;
pub mod people;
pub mod plan;
pub mod review;
pub mod snapshot;
pub mod suggest;
pub mod sync;
pub mod text;

pub use export::{Export, FieldChoice};
pub use mapping::{Mapping, Row, Target};
pub use people::{OwnerKind, Person};
pub use plan::{Change, Dest, Plan};
pub use review::plan;
pub use snapshot::{Group, GroupId, Owner, OwnerId, SavedMapping, Snapshot, TableOrigin, ValueId};
