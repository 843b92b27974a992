//! `teachcam train [--json]`

use super::{open_embedder, open_store, report};
use crate::config::Config;
use crate::embed::Embedder;
use crate::imageio::read_image;
use crate::store::{Loaded, Store};
use anyhow::Result;

/// Trains on the stored examples and saves the head.
pub fn run(config: &Config, json: bool) -> Result<()> {
    let store = open_store(config)?;
    let embedder = open_embedder(config)?;
    let loaded = load_examples(&store, &embedder, config.model.mirror_augment)?;
    let head = crate::train::train(
        &loaded.examples,
        &embedder.info().sha256,
        embedder.info().dims,
        &config.head,
    )?;
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

/// Loads all examples, re-embedding (and re-caching) those whose embedding is missing, damaged
/// or from another model; examples that cannot be recovered are reported and skipped.
pub fn load_examples(store: &Store, embedder: &Embedder, mirrored: bool) -> Result<Loaded> {
    let sha = &embedder.info().sha256;
    let mut loaded = store.load(sha);
    for p in &loaded.problems {
        log::warn!("{p}");
    }
    if !loaded.stale.is_empty() {
        log::info!(
            "re-embedding {} stored example(s) from their images",
            loaded.stale.len()
        );
    }
    for stale in std::mem::take(&mut loaded.stale) {
        let result = read_image(&stale.image)
            .map_err(|e| e.to_string())
            .and_then(|(_, img)| embedder.embed(&img, mirrored).map_err(|e| e.to_string()));
        match result {
            Ok(embedding) => {
                store.update_embedding(&stale.entry, &embedding, sha)?;
                loaded.examples.push(crate::store::Example {
                    entry: stale.entry,
                    embedding,
                });
            }
            Err(e) => log::warn!(
                "{}: cannot re-embed ({e}); example skipped",
                stale.image.display()
            ),
        }
    }
    Ok(loaded)
}
