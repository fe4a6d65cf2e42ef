//! Progress of long work, defined once and told the same way by the CLI and the editor.

use std::fmt;
use std::sync::Arc;

use crate::domain::Group;
use crate::domain::text::quoted;

/// Called with (what, rows so far) while lists are read.
pub type Progress = Arc<dyn Fn(&str, usize) + Send + Sync>;

/// The stages of a save, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SaveStage {
    CreatingGroup { name: String, done: usize, total: usize },
    GroupCreated { group: Group },
    Saving { version: u64 },
    Saved { version: u64, job: Option<String> },
    Job { completed: u64, failed: u64, total: u64 },
    Verifying,
}

pub type SaveProgress = Arc<dyn Fn(SaveStage) + Send + Sync>;

impl fmt::Display for SaveStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaveStage::CreatingGroup { name, done, total } => {
                write!(f, "creating group {}/{total}: {}", done + 1, quoted(name))
            }
            SaveStage::GroupCreated { group } => write!(f, "created group {}", quoted(&group.name)),
            SaveStage::Saving { version } => write!(f, "saving the mapping (If-Match version {version})"),
            SaveStage::Saved { version, job } => {
                write!(f, "saved as version {version}{}", if job.is_some() { "; moving users" } else { "" })
            }
            SaveStage::Job { completed, failed, total } => {
                write!(f, "moving users: {completed}/{total} moved, {failed} failed")
            }
            SaveStage::Verifying => f.write_str("verifying: reloading and re-planning"),
        }
    }
}
