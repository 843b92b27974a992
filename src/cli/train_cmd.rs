//! `teachcam train [--json]`

use super::{open_embedder, open_store, report};
use crate::config::Config;
use crate::train::background::BackgroundSet;
use crate::train::class_order;
use anyhow::Result;

/// Trains on the stored examples and saves the head.
pub fn run(config: &Config, json: bool) -> Result<()> {
    let mut store = open_store(config)?;
    let embedder = open_embedder(config)?;
    let loaded = crate::train::load_examples(&mut store, &embedder, config.model.mirror_augment)?;
    let labels = class_order(&config.labels, loaded.examples.iter().map(|e| e.entry.label.as_str()));
    let background = BackgroundSet::for_config(config, embedder.info())?;
    let head = crate::train::train(&loaded.examples, &labels, embedder.info(), &config.head, background.as_ref())?;
    let path = config.head_path();
    head.save(&path)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&head.report)?);
    } else {
        print!("{}", report::train_report(&head.report));
        println!("saved {}", path.display());
    }
    Ok(())
}
