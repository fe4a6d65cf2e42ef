//! Progress of long work, defined once and told the same way by the CLI and the editor.

use std::fmt;
use std::sync::Arc;

use crate::domain::Group;
use crate::domain::text::quoted;

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

/// What is known of a save stopped part-way, from the stages it reached, for the admin.
pub fn interrupted(stages: &[SaveStage]) -> String {
    let created: Vec<String> = stages
        .iter()
        .filter_map(|s| match s {
            SaveStage::GroupCreated { group } => Some(quoted(&group.name)),
            _ => None,
        })
        .collect();
    let mut known = Vec::new();
    if !created.is_empty() {
        known.push(format!("created group(s) {}", created.join(", ")));
    }
    let saved = stages.iter().rev().find_map(|s| match s {
        SaveStage::Saved { version, job } => Some((*version, job.is_some())),
        _ => None,
    });
    let sending = stages.iter().rev().find_map(|s| match s {
        SaveStage::Saving { version } => Some(*version),
        _ => None,
    });
    let moved = stages.iter().rev().find_map(|s| match s {
        SaveStage::Job { completed, total, .. } => Some((*completed, *total)),
        _ => None,
    });
    match (saved, sending) {
        (Some((version, job)), _) => {
            known.push(format!("the mapping was saved as version {version}"));
            if job {
                let so_far = moved.map(|(c, t)| format!(" ({c} of {t} moved so far)")).unwrap_or_default();
                known.push(format!("its job moving users runs on at the server{so_far}"));
            }
        }
        (None, Some(version)) => {
            known.push(format!("the mapping was being sent (on version {version}): it may or may not have been saved"))
        }
        (None, None) if created.is_empty() => known.push("nothing had been sent yet".to_owned()),
        (None, None) => known.push("the mapping itself was not sent".to_owned()),
    }
    format!("{}. Run `groupmap plan` to see what the server holds and who is left to move", known.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupted_save_says_what_is_known() {
        assert_eq!(interrupted(&[]).split('.').next(), Some("nothing had been sent yet"));
        let g = Group { uri: "u".into(), name: "Ops".into(), member_count: None };
        let stages = [
            SaveStage::GroupCreated { group: g },
            SaveStage::Saving { version: 3 },
            SaveStage::Saved { version: 4, job: Some("j".into()) },
            SaveStage::Job { completed: 2, failed: 0, total: 9 },
        ];
        let text = interrupted(&stages);
        assert!(text.starts_with("created group(s) \"Ops\"; the mapping was saved as version 4; its job"), "{text}");
        assert!(text.contains("(2 of 9 moved so far)"), "{text}");
        assert!(interrupted(&stages[..2]).contains("may or may not have been saved"));
    }
}
