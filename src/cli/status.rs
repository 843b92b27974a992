//! `teachcam status`: examples per label with a progress bar, head age and metrics.

use super::{open_store_read_only, report};
use crate::config::Config;
use crate::head::{Head, HeadError};
use anyhow::Result;

/// Examples per label that make a good start (Lobe and Teachable Machine suggest 10–20).
const SUGGESTED: usize = 20;

/// A 20-character bar filled in proportion to `n / SUGGESTED`.
fn bar(n: usize) -> String {
    let filled = n.min(SUGGESTED);
    format!("{}{}", "█".repeat(filled), "░".repeat(SUGGESTED - filled))
}

/// Human age of a Unix timestamp.
fn age(then: u64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(then);
    let s = now.saturating_sub(then);
    match s {
        0..=89 => format!("{s} s ago"),
        90..=5399 => format!("{} min ago", s / 60),
        5400..=172_799 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86_400),
    }
}

/// Prints the store and head state.
pub fn run(config: &Config) -> Result<()> {
    let store = open_store_read_only(config)?;
    let counts = store.counts();
    println!("data folder {}: {} examples, {} labels", config.data_dir.display(), store.entries().len(), counts.len());
    let mut labels: Vec<String> = config.labels.clone();
    labels.extend(counts.keys().filter(|l| !config.labels.contains(l)).cloned());
    let w = labels.iter().map(|l| l.len()).max().unwrap_or(5);
    for l in &labels {
        let n = counts.get(l).copied().unwrap_or(0);
        let hint = if n >= 10 { "" } else { "  (10–20 suggested)" };
        println!("  {l:w$}  {}  {n:>4}{hint}", bar(n));
    }
    match Head::read(&config.head_path()) {
        Ok(h) if !made_for_config(&h, config) => {
            println!("head: trained for another model or preprocessing than configured: not used; press TRAIN or run `teachcam train`")
        }
        Ok(h) => {
            let r = &h.report;
            let trained: usize = r.counts.iter().sum();
            let new = store.entries().len().saturating_sub(trained);
            println!("head: trained {} on {trained} examples ({})", age(h.trained_at), h.labels.join(", "));
            if new > 0 || store.entries().len() < trained {
                println!(
                    "  the examples changed since (now {}): press TRAIN or run `teachcam train`",
                    store.entries().len()
                );
            }
            match &r.holdout {
                Some(m) => println!(
                    "  held-out {}",
                    report::accuracy_line(m.accuracy, m.n, r.baseline.as_ref().map(|b| b.accuracy))
                ),
                None => println!("  {}", r.note.as_deref().unwrap_or("no held-out metrics")),
            }
            match report::open_set_line(r) {
                Some(line) => println!("  {line}"),
                None => println!("  \"nothing known\" is off (trained without a background set)"),
            }
        }
        Err(HeadError::Missing(_)) => {
            println!("head: not trained yet (needs examples of at least 2 labels, then `teachcam train`)")
        }
        Err(e) => println!("head: {e}"),
    }
    Ok(())
}

/// True when `head` was trained on the configured model file and preprocessing (checked
/// without loading the model).
fn made_for_config(head: &Head, config: &Config) -> bool {
    use sha2::{Digest, Sha256};
    let Ok(bytes) = std::fs::read(&config.model.path) else { return false };
    let same_model = hex::encode(Sha256::digest(bytes)) == head.model_sha256;
    same_model && head.preprocess.as_ref().is_none_or(|p| *p == config.model.preprocess().key())
}
