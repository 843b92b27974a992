//! `teachcam train [--json]`

use super::{open_embedder, open_store, report};
use crate::config::Config;
use crate::head::TrainReport;
use crate::train::background::BackgroundSet;
use crate::train::class_order;
use anyhow::Result;

/// `train --json`: the report with the warnings the text shows.
#[derive(serde::Serialize)]
struct Json<'a> {
    #[serde(flatten)]
    report: &'a TrainReport,
    /// Labels that differ from the config's, imbalanced labels, labels never recognised.
    warnings: Vec<String>,
}

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
    let warnings = report::train_warnings(&head.report, &config.labels);
    if json {
        let mut all = warnings;
        if let Some(m) = &head.report.holdout {
            all.extend(report::unrecognised(m).into_iter().chain(report::uneven(m)));
        }
        println!("{}", serde_json::to_string_pretty(&Json { report: &head.report, warnings: all })?);
    } else {
        print!("{}", report::train_report(&head.report, &warnings));
        println!("saved {}", path.display());
    }
    Ok(())
}
