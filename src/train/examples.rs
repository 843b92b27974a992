//! Loading stored examples for training, recovering the ones whose cached embedding is stale.

use crate::embed::Embedder;
use crate::store::{Example, Loaded, Store, StoreError};
use rayon::prelude::*;

/// Loads all examples, re-embedding (and re-caching) those whose embedding is missing, damaged
/// or from another model, on all cores; examples that cannot be recovered are reported and
/// skipped.
pub fn load_examples(store: &Store, embedder: &Embedder, mirrored: bool) -> Result<Loaded, StoreError> {
    let model = embedder.info();
    let mut loaded = store.load(model);
    for p in &loaded.problems {
        log::warn!("{p}");
    }
    let stale = std::mem::take(&mut loaded.stale);
    if !stale.is_empty() {
        log::info!("re-embedding {} stored example(s) from their images", stale.len());
    }
    let embedded: Vec<_> = stale.into_par_iter().map(|s| (embedder.embed_file(&s.image, mirrored), s)).collect();
    for (result, stale) in embedded {
        match result {
            Ok((_, embedding)) => {
                store.update_embedding(&stale.entry, &embedding, model)?;
                loaded.examples.push(Example { entry: stale.entry, embedding });
            }
            Err(e) => log::warn!("cannot re-embed a stored example ({e}); example skipped"),
        }
    }
    Ok(loaded)
}
