//! Loading stored examples for training, recovering the ones whose cached embedding is stale.

use crate::embed::Embedder;
use crate::imageio::read_image;
use crate::store::{Example, Loaded, Store, StoreError};

/// Loads all examples, re-embedding (and re-caching) those whose embedding is missing, damaged
/// or from another model; examples that cannot be recovered are reported and skipped.
pub fn load_examples(store: &Store, embedder: &Embedder, mirrored: bool) -> Result<Loaded, StoreError> {
    let sha = &embedder.info().sha256;
    let mut loaded = store.load(sha);
    for p in &loaded.problems {
        log::warn!("{p}");
    }
    if !loaded.stale.is_empty() {
        log::info!("re-embedding {} stored example(s) from their images", loaded.stale.len());
    }
    for stale in std::mem::take(&mut loaded.stale) {
        let result = read_image(&stale.image)
            .map_err(|e| e.to_string())
            .and_then(|(_, img)| embedder.embed(&img, mirrored).map_err(|e| e.to_string()));
        match result {
            Ok(embedding) => {
                store.update_embedding(&stale.entry, &embedding, sha)?;
                loaded.examples.push(Example { entry: stale.entry, embedding });
            }
            Err(e) => log::warn!("{}: cannot re-embed ({e}); example skipped", stale.image.display()),
        }
    }
    Ok(loaded)
}
