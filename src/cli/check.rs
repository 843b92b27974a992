//! `teachcam check [--json]`: verifies the data folder without changing it.

use crate::config::Config;
use crate::store::Store;
use anyhow::{bail, Result};

/// Verifies every stored example (database consistency, image hash, image decodes, cached
/// embedding readable); fails when anything is damaged.
pub fn run(config: &Config, json: bool) -> Result<()> {
    let store = Store::open_read_only(&config.data_dir)?;
    let report = store.check(None, true);
    if json {
        let mut v = serde_json::to_value(&report)?;
        v["ok"] = report.ok().into();
        println!("{v}");
    } else {
        println!("data folder {}: {} examples", config.data_dir.display(), report.examples);
        for d in &report.damaged {
            println!("  damaged: example {} ({}): {}", d.id, d.label, d.reason);
        }
        for p in &report.problems {
            println!("  problem: {p}");
        }
        if report.stale > 0 {
            println!("  {} cached embeddings will be recomputed from their images at the next training", report.stale);
        }
        if report.ok() {
            println!("ok: nothing damaged");
        } else {
            println!(
                "training or the daemon moves damaged examples to {}",
                config.data_dir.join("quarantine").display()
            );
        }
    }
    if !report.ok() {
        bail!(
            "{} damaged examples, {} problems in {}",
            report.damaged.len(),
            report.problems.len(),
            config.data_dir.display()
        );
    }
    Ok(())
}
