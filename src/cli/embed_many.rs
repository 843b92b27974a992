//! Decoding and embedding many image files on all cores (one tract inference per core).

use crate::embed::{Embedder, Embedding};
use crate::imageio::read_image;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// One file's bytes and embedding, or why it could not be embedded.
pub type Embedded = Result<(Vec<u8>, Embedding), String>;

/// Reads, decodes and embeds `files` in parallel; results are in `files` order.
pub fn embed_files(embedder: &Embedder, files: &[PathBuf], mirrored: bool) -> Vec<Embedded> {
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(files.len().max(1));
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Embedded>>> = Mutex::new(vec![None; files.len()]);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(i) else { break };
                let r = read_image(path).map_err(|e| e.to_string()).and_then(|(bytes, img)| {
                    embedder.embed(&img, mirrored).map(|e| (bytes, e)).map_err(|e| format!("{}: {e}", path.display()))
                });
                results.lock().expect("no worker panics while holding the lock")[i] = Some(r);
            });
        }
    });
    results.into_inner().expect("workers finished").into_iter().map(|r| r.expect("every file processed")).collect()
}
