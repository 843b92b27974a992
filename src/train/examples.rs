//! Loading stored examples for training: re-embedding the ones whose cached embedding is stale
//! and quarantining the ones whose image is damaged.

use super::finite_embedding;
use crate::embed::Embedder;
use crate::imageio::decode_checked;
use crate::store::{Example, Loaded, Store, StoreError};
use rayon::prelude::*;

/// Stale examples re-embedded per batch: bounds the image bytes held in memory at once.
const BATCH: usize = 32;

/// Loads all examples, re-embedding (and re-caching, when the store is writable) those whose
/// embedding is missing, damaged or from another model or preprocessing, on all cores.
/// Damaged images are moved to the quarantine (when writable); examples that cannot be
/// recovered are reported and skipped. A cached embedding with NaN or infinite values is stale
/// (the store says so) and is re-embedded; a re-embedding that is not finite either (a broken
/// model) is skipped, so what is returned is always fit to train on.
pub fn load_examples(store: &mut Store, embedder: &Embedder, mirrored: bool) -> Result<Loaded, StoreError> {
    let model = embedder.info().clone();
    let mut loaded = store.load(&model);
    for d in std::mem::take(&mut loaded.damaged) {
        set_aside(store, &d.entry, &d.reason);
    }
    let stale = std::mem::take(&mut loaded.stale);
    if !stale.is_empty() {
        log::info!("re-embedding {} stored example(s) from their images ({})", stale.len(), stale[0].reason);
    }
    // On a terminal only: a bar on stderr (stdout, e.g. `train --json`, stays clean).
    let bar = crate::cli::progress_bar(stale.len(), "re-embedding", false);
    for batch in stale.chunks(BATCH) {
        let images: Vec<_> = batch.iter().map(|s| store.image(&s.entry.id)).collect();
        let embedded: Vec<_> = batch
            .par_iter()
            .zip(images)
            .map(|(s, image)| {
                let what = format!("stored example {} ({})", s.entry.id, s.entry.label);
                let decoded = image
                    .map_err(|e| e.to_string())
                    .and_then(|b| decode_checked(&b, embedder.image_limits()).map_err(|e| format!("{what}: {e}")));
                let img = match decoded {
                    Ok(img) => img,
                    Err(e) => return Reembed::Undecodable(e),
                };
                match embedder.embed(&img, mirrored) {
                    Ok(e) if finite_embedding(&e, true) => Reembed::Done(e),
                    Ok(_) => Reembed::Failed(format!("{what}: the model gives NaN or infinite values for its image")),
                    Err(e) => Reembed::Failed(format!("{what}: {e}")),
                }
            })
            .collect();
        for (s, result) in batch.iter().zip(embedded) {
            match result {
                Reembed::Done(embedding) => {
                    if store.read_only().is_none() {
                        store.update_embedding(&s.entry, &embedding, &model)?;
                    }
                    loaded.examples.push(Example { entry: s.entry.clone(), embedding });
                }
                Reembed::Undecodable(e) => set_aside(store, &s.entry, &format!("image cannot be decoded ({e})")),
                Reembed::Failed(e) => log::warn!("cannot re-embed a stored example ({e}); example skipped"),
            }
        }
        bar.inc(batch.len() as u64);
    }
    bar.finish_and_clear();
    loaded.examples.sort_by(|a, b| a.entry.id.cmp(&b.entry.id));
    Ok(loaded)
}

/// What re-embedding one stored example gave.
enum Reembed {
    Done(crate::embed::Embedding),
    /// The image is damaged: quarantine it.
    Undecodable(String),
    /// The backbone failed: skip it this time.
    Failed(String),
}

/// Moves a damaged example to the quarantine (when the store is writable) and says so.
fn set_aside(store: &mut Store, entry: &crate::store::Entry, reason: &str) {
    let what = format!("example {} ({})", entry.id, entry.label);
    if store.read_only().is_some() {
        log::warn!("{what}: {reason}; skipped");
        return;
    }
    match store.quarantine(entry, reason) {
        Ok(to) => log::warn!("{what}: {reason}; moved to {}", to.display()),
        Err(e) => log::warn!("{what}: {reason}; skipped ({e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::fake::FakeBackbone;
    use crate::embed::{Embedding, ModelConfig};
    use crate::store::{NewExample, Origin};

    #[test]
    fn stale_examples_are_re_embedded_and_undecodable_ones_quarantined() {
        let dir = tempfile::tempdir().unwrap();
        let embedder = FakeBackbone::embedder(&ModelConfig::default());
        let other = crate::embed::ModelInfo { sha256: "0".repeat(64), ..embedder.info().clone() };
        let mut store = Store::open(dir.path()).unwrap();
        let png = crate::imageio::encode_jpeg(&image::RgbImage::from_pixel(8, 8, image::Rgb([200, 10, 10])), 90);
        let e = Embedding { vector: vec![0.0; 16], mirrored: None, zero_shot: None };
        for (label, bytes) in [("cat", &png[..]), ("dog", b"not an image")] {
            let new = NewExample { label, image: bytes, ext: "jpg", embedding: &e, origin: Origin::Camera };
            store.add(new, &other).unwrap(); // made by another model: stale
        }
        let loaded = load_examples(&mut store, &embedder, false).unwrap();
        assert_eq!(loaded.examples.len(), 1);
        assert_eq!(loaded.examples[0].entry.label, "cat");
        assert_eq!(store.len(), 1, "the undecodable dog left the store");
        let kept: Vec<_> = std::fs::read_dir(dir.path().join("quarantine")).unwrap().flatten().collect();
        assert_eq!(kept.len(), 2, "its image and a note");
        assert_eq!(store.load(embedder.info()).examples.len(), 1, "the new embedding was cached");
    }
}
