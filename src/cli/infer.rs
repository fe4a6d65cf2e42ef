//! `groupmap mapping infer`: the table inferred from where users already are, as a mapping file.

use std::path::Path;

use anyhow::{Context, Result};

use super::args::Global;
use super::connection::Connection;
use crate::domain::finding::Severity;
use crate::domain::infer::{Inference, to_toml};

pub async fn infer(global: &Global, output: Option<&Path>) -> Result<u8> {
    let conn = Connection::open(global).await?;
    let result = async {
        let (_, snap) = conn.load().await?;
        let inference = Inference::new(&snap);
        let text = to_toml(&snap, &inference);
        let rows = inference.values.iter().filter(|p| p.agreed().is_some());
        let (inferred, placed) = (rows.clone().count(), rows.map(|p| p.users).sum::<u32>());
        let undecided: Vec<_> = inference.undecided().collect();
        let left: u32 = undecided.iter().map(|p| p.users).sum();
        if let Some(saved) = &snap.saved {
            eprintln!(
                "{}: this organization has a saved table (version {}); the inferred one is made from where users \
                 are, not from it",
                Severity::Info.label(),
                saved.version
            );
        }
        let whither = match output {
            Some(path) => {
                std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
                path.display().to_string()
            }
            None => {
                super::emit(&text)?;
                "FILE".to_owned()
            }
        };
        eprintln!(
            "Inferred {inferred} row(s) for {placed} user(s), each already in its row's group (planning it moves \
             nobody); {} value(s) of {left} user(s) in several groups or none are left unmapped, listed at the end. \
             Check it before you enter it: groupmap mapping check {whither}",
            undecided.len()
        );
        Ok::<u8, anyhow::Error>(0)
    }
    .await;
    conn.close().await;
    result
}
