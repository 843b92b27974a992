//! `teachcam background --out FILE PATH...`: makes a background set (see
//! [`crate::train::background`]) from photos that show none of the things users will teach.

use super::{collect_images, embed_many::embed_files, open_embedder};
use crate::config::Config;
use crate::train::background::BackgroundSet;
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// Embeds the images under `paths` with the configured backbone and saves them as a set.
pub fn run(config: &Config, out: &Path, paths: &[PathBuf]) -> Result<()> {
    let files = collect_images(paths)?;
    if files.is_empty() {
        bail!("no images (.jpg, .jpeg, .png) found in the given paths");
    }
    let embedder = open_embedder(config)?;
    let mut vectors = Vec::with_capacity(files.len());
    for r in embed_files(&embedder, &files, false) {
        match r {
            Ok(e) => vectors.push(e.vector),
            Err(e) => bail!("{e}; a background set is made from every given photo, so fix or remove it"),
        }
    }
    let set = BackgroundSet {
        model_sha256: embedder.info().sha256.clone(),
        preprocess: embedder.info().preprocess.clone(),
        vectors,
    };
    set.save(out)?;
    let size = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    println!(
        "{}: {} background embeddings of {}, {size} bytes",
        out.display(),
        set.vectors.len(),
        config.model.path.display()
    );
    Ok(())
}
