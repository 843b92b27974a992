//! `teachcam import --label LABEL PATH...`

use super::{collect_images, embed_many::embed_files, open_embedder, open_store};
use crate::config::Config;
use crate::store::{validate_label, NewExample, Origin};
use anyhow::{bail, Result};
use sha2::{Digest, Sha256};

/// Adds the images under `paths` as examples of `label`, skipping duplicates and unreadable files.
pub fn run(config: &Config, label: &str, paths: &[std::path::PathBuf]) -> Result<()> {
    validate_label(label)?;
    let files = collect_images(paths)?;
    if files.is_empty() {
        bail!(
            "no images (.jpg, .jpeg, .png) found in {}",
            paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    let mut store = open_store(config)?;
    let embedder = open_embedder(config)?;

    // Skip files whose content is already stored before spending an inference on them.
    let (mut duplicates, mut failed): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    let mut todo = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for f in files {
        let digest = std::fs::read(&f).map(|b| hex::encode(Sha256::digest(&b)));
        match digest {
            Ok(d) if !seen.insert(d.clone()) => {
                duplicates.push(format!("{}: same image as another file in this import", f.display()))
            }
            Ok(d) => match store.find_by_sha256(&d) {
                Some(e) => duplicates.push(format!("{}: already stored as {}/{}", f.display(), e.label, e.id)),
                None => todo.push(f),
            },
            Err(e) => failed.push(format!("{}: {e}", f.display())),
        }
    }
    let results = embed_files(&embedder, &todo, config.model.mirror_augment);
    let mut added = 0;
    for (path, r) in todo.iter().zip(results) {
        match r {
            Ok((bytes, emb)) => {
                let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("jpg");
                let new = NewExample { label, image: &bytes, ext, embedding: &emb, origin: Origin::File(path.clone()) };
                store.add(new, embedder.info())?;
                added += 1;
            }
            Err(e) => failed.push(e.to_string()),
        }
    }
    let now = store.counts().get(label).copied().unwrap_or(0);
    println!("{label}: added {added}, skipped {} ({now} stored)", duplicates.len() + failed.len());
    for s in duplicates.iter().chain(&failed) {
        println!("  skipped {s}");
    }
    if !failed.is_empty() {
        bail!("{} file(s) could not be read (listed above); the other images were imported", failed.len());
    }
    Ok(())
}
