//! `teachcam status`: examples per label with a progress bar, head age and metrics.

use super::{open_store_read_only, report};
use crate::config::Config;
use crate::head::{Head, HeadError};
use crate::train::advice::{self, plural};
use anyhow::Result;
use serde::Serialize;

/// Examples per label that make a good start (Lobe and Teachable Machine suggest 10–20).
const SUGGESTED: usize = 20;

/// Fewer examples than this get the "(10–20 suggested)" hint.
const FEW: usize = 10;

/// Width of the bars in characters.
const BAR: usize = 20;

/// A bar of [`BAR`] characters filled in proportion to `n / scale` (at least one character
/// for any example).
fn bar(n: usize, scale: usize) -> String {
    let filled = if n == 0 { 0 } else { (n * BAR).div_ceil(scale.max(1)).clamp(1, BAR) };
    format!("{}{}", "█".repeat(filled), "░".repeat(BAR - filled))
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

/// One label's line of `status --json`.
#[derive(Serialize)]
struct LabelJson<'a> {
    label: &'a str,
    examples: usize,
    /// Listed in the config's `labels` (has a button and LED).
    in_config: bool,
}

/// The head's part of `status --json`.
#[derive(Serialize, Default)]
struct HeadJson {
    /// `missing`, `trained`, `other_model` or `unreadable`.
    state: &'static str,
    /// Seconds since the Unix epoch.
    trained_at: Option<u64>,
    trained_on: Option<usize>,
    /// The examples changed since it was trained: train again.
    out_of_date: bool,
    holdout_accuracy: Option<f32>,
    holdout_n: Option<usize>,
    /// What is wrong, when `unreadable`.
    error: Option<String>,
}

/// `status --json`.
#[derive(Serialize)]
struct Json<'a> {
    data_dir: String,
    examples: usize,
    labels: Vec<LabelJson<'a>>,
    warnings: Vec<String>,
    head: HeadJson,
}

/// Prints the store and head state, as text or JSON; changes nothing (a missing data folder
/// is an error, not created).
pub fn run(config: &Config, json: bool) -> Result<()> {
    let store = open_store_read_only(config)?;
    let counts = store.counts();
    let total = store.len();
    let mut labels: Vec<String> = config.labels.clone();
    labels.extend(counts.keys().filter(|l| !config.labels.contains(l)).cloned());
    let count = |l: &str| counts.get(l).copied().unwrap_or(0);
    let taught: Vec<&str> = counts.iter().filter(|(_, n)| **n > 0).map(|(l, _)| l.as_str()).collect();
    let warnings: Vec<String> = advice::label_mismatch(&config.labels, &taught)
        .into_iter()
        .chain(advice::imbalance(counts.iter().map(|(l, n)| (l.as_str(), *n))))
        .collect();
    let head = head_state(config, &store);
    if json {
        let labels = labels
            .iter()
            .map(|l| LabelJson { label: l, examples: count(l), in_config: config.labels.contains(l) })
            .collect();
        let data_dir = config.data_dir.display().to_string();
        println!(
            "{}",
            serde_json::to_string_pretty(&Json { data_dir, examples: total, labels, warnings, head: head.0 })?
        );
        return Ok(());
    }
    println!(
        "data folder {}: {}, {}",
        config.data_dir.display(),
        plural(total, "example"),
        plural(counts.len(), "label")
    );
    let w = labels.iter().map(|l| l.len()).max().unwrap_or(5);
    let scale = counts.values().copied().max().unwrap_or(0).max(SUGGESTED);
    for l in &labels {
        let n = count(l);
        let hint = if n >= FEW { "" } else { "  (10–20 suggested)" };
        println!("  {l:w$}  {}  {n:>4}{hint}", bar(n, scale));
    }
    if scale > SUGGESTED {
        println!("  (bars to scale: a full bar is {scale} examples)");
    }
    for warning in &warnings {
        println!("warning: {warning}");
    }
    for line in head.1 {
        println!("{line}");
    }
    Ok(())
}

/// The head's state, for JSON and as text lines.
fn head_state(config: &Config, store: &crate::store::Store) -> (HeadJson, Vec<String>) {
    let mut lines = Vec::new();
    let taught = store.counts().values().filter(|n| **n > 0).count();
    let json = match Head::read(&config.head_path()) {
        Ok(h) if !made_for_config(&h, config) => {
            lines.push("head: trained for another model or preprocessing than configured: not used; press TRAIN or run `teachcam train`".into());
            HeadJson { state: "other_model", trained_at: Some(h.trained_at), ..Default::default() }
        }
        Ok(h) => {
            let r = &h.report;
            let trained: usize = r.counts.iter().sum();
            let now = store.len();
            let out_of_date = now != trained || changed_since(store, config, h.trained_at);
            lines.push(format!(
                "head: trained {} on {} ({})",
                age(h.trained_at),
                plural(trained, "example"),
                h.labels.join(", ")
            ));
            if out_of_date {
                lines.push(format!(
                    "  the examples changed since (now {}): train again (press TRAIN or run `teachcam train`)",
                    plural(now, "example")
                ));
            }
            match &r.holdout {
                Some(m) => lines.push(format!(
                    "  held-out {}",
                    report::accuracy_line(m.accuracy, m.n, r.baseline.as_ref().map(|b| b.accuracy))
                )),
                None => lines.push(format!("  {}", r.note.as_deref().unwrap_or("no held-out metrics"))),
            }
            match report::open_set_line(r) {
                Some(line) => lines.push(format!("  {line}")),
                None => lines.push("  \"nothing known\" is off (trained without a background set)".into()),
            }
            HeadJson {
                state: "trained",
                trained_at: Some(h.trained_at),
                trained_on: Some(trained),
                out_of_date,
                holdout_accuracy: r.holdout.as_ref().map(|m| m.accuracy),
                holdout_n: r.holdout.as_ref().map(|m| m.n),
                error: None,
            }
        }
        Err(HeadError::Missing(_)) => {
            lines.push(if taught >= 2 {
                "head: not trained yet: press TRAIN or run `teachcam train`".to_string()
            } else {
                format!(
                    "head: not trained yet (needs examples of at least 2 labels, {} so far; then `teachcam train`)",
                    if taught == 1 { "1" } else { "none" }
                )
            });
            HeadJson { state: "missing", ..Default::default() }
        }
        Err(e) => {
            lines.push(format!("head: {e}"));
            HeadJson { state: "unreadable", error: Some(e.to_string()), ..Default::default() }
        }
    };
    (json, lines)
}

/// True when the examples changed after the head was saved (its file's modification time,
/// else the end of the second it was trained in).
fn changed_since(store: &crate::store::Store, config: &Config, trained_at: u64) -> bool {
    let saved_ms = std::fs::metadata(config.head_path())
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(trained_at * 1000 + 999, |d| d.as_millis() as u64);
    store.changed_at_ms().is_some_and(|t| t > saved_ms)
}

/// True when `head` was trained on the configured model file and preprocessing (checked
/// without loading the model).
fn made_for_config(head: &Head, config: &Config) -> bool {
    use sha2::{Digest, Sha256};
    let Ok(bytes) = std::fs::read(&config.model.path) else { return false };
    let same_model = hex::encode(Sha256::digest(bytes)) == head.model_sha256;
    same_model && head.preprocess.as_ref().is_none_or(|p| *p == config.model.preprocess().key())
}
