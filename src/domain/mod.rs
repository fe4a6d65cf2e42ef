//! The pure core: what an organization looks like, what a mapping is, and what it would do.

pub mod columns;
pub mod coverage;
pub mod digest;
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

/// Maps and sets keyed by the organization's strings, looked up thousands of times on every
/// edit: foldhash (seeded per process) hashes a short string several times faster than the
/// standard library's SipHash.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

pub use export::{Export, FieldChoice};
pub use mapping::{Mapping, Row, Target};
pub use people::{OwnerKind, People, Person};
pub use plan::{Change, Dest, Plan};
pub use review::plan;
pub use snapshot::{Group, GroupId, Owner, OwnerId, SavedMapping, Snapshot, TableOrigin, ValueId};
