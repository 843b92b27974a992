//! `teachcam export --out FILE.onnx` and `teachcam export-dataset --out DIR|FILE.tar`.

use super::open_store_read_only;
use crate::config::Config;
use crate::export::dataset::{self, Target};
use crate::export::model;
use crate::head::Head;
use anyhow::Result;
use std::path::Path;

/// Writes the backbone with the trained head as one ONNX file and says what is in it.
pub fn run_model(config: &Config, out: &Path) -> Result<()> {
    let e = model::export(config, out)?;
    let shape: Vec<String> = e.input.1.iter().map(usize::to_string).collect();
    println!("wrote {} ({:.1} MB)", out.display(), e.bytes as f64 / 1e6);
    println!("input {:?} [{}] (see metadata teachcam.preprocessing)", e.input.0, shape.join(", "));
    println!("outputs {}; labels {}", e.outputs.join(", "), e.labels.join(", "));
    Ok(())
}

/// Writes the stored examples as image folders (or a tar file) with a manifest.
pub fn run_dataset(config: &Config, out: &Path) -> Result<()> {
    let store = open_store_read_only(config)?;
    // The head's class order when there is one, else the config's labels first.
    let labels = Head::read(&config.head_path()).map(|h| h.labels).unwrap_or_else(|_| config.labels.clone());
    let target = Target::for_output(out);
    let manifest = dataset::export(&store, &labels, &target)?;
    let counts: Vec<String> = manifest
        .labels
        .iter()
        .map(|l| format!("{l} {}", manifest.files.iter().filter(|f| &f.label == l).count()))
        .collect();
    println!("wrote {} examples to {} ({})", manifest.files.len(), out.display(), counts.join(", "));
    Ok(())
}
