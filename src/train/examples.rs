//! Loading stored examples for training: re-embedding the ones whose cached embedding is stale
//! and quarantining the ones whose image is damaged.

use crate::embed::Embedder;
use crate::imageio::decode_rgb;
use crate::store::{Example, Loaded, Store, StoreError};
use rayon::prelude::*;

/// Stale examples re-embedded per batch: bounds the image bytes held in memory at once.
const BATCH: usize = 32;

/// Loads all examples, re-embedding (and re-caching, when the store is writable) those whose
/// embedding is missing, damaged or from another model or preprocessing, on all cores.
/// Damaged images are moved to the quarantine (when writable); examples that cannot be
/// recovered are reported and skipped.
pub fn load_examples(store: &mut Store, embedder: &Embedder, mirrored: bool) -> Result<Loaded, StoreError> {
    let model = embedder.info().clone();
    let mut loaded = store.load(&model);
    for d in std::mem::take(&mut loaded.damaged) {
        let what = format!("example {} ({})", d.entry.id, d.entry.label);
        if store.read_only().is_some() {
            log::warn!("{what}: {}; skipped", d.reason);
            continue;
        }
        match store.quarantine(&d.entry, &d.reason) {
            Ok(to) => log::warn!("{what}: {}; moved to {}", d.reason, to.display()),
            Err(e) => log::warn!("{what}: {}; skipped ({e})", d.reason),
        }
    }
    let stale = std::mem::take(&mut loaded.stale);
    if !stale.is_empty() {
        log::info!("re-embedding {} stored example(s) from their images ({})", stale.len(), stale[0].reason);
    }
    for batch in stale.chunks(BATCH) {
        let images: Vec<_> = batch.iter().map(|s| store.image(&s.entry.id)).collect();
        let embedded: Vec<_> = batch
            .par_iter()
            .zip(images)
            .map(|(s, image)| {
                let what = format!("stored example {} ({})", s.entry.id, s.entry.label);
                let img = decode_rgb(&image.map_err(|e| e.to_string())?, &what).map_err(|e| e.to_string())?;
                embedder.embed(&img, mirrored).map_err(|e| format!("{what}: {e}"))
            })
            .collect::<Vec<Result<_, String>>>();
        for (s, result) in batch.iter().zip(embedded) {
            match result {
                Ok(embedding) => {
                    if store.read_only().is_none() {
                        store.update_embedding(&s.entry, &embedding, &model)?;
                    }
                    loaded.examples.push(Example { entry: s.entry.clone(), embedding });
                }
                Err(e) => log::warn!("cannot re-embed a stored example ({e}); example skipped"),
            }
        }
    }
    loaded.examples.sort_by(|a, b| a.entry.id.cmp(&b.entry.id));
    Ok(loaded)
}
