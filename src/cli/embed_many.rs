//! Decoding and embedding many image files on all cores (one tract inference per core).

use crate::embed::{Embedder, Embedding, FileEmbedError};
use rayon::prelude::*;
use std::path::PathBuf;

/// Reads, decodes and embeds `files` in parallel (within the embedder's image limits); results
/// are in `files` order. Only the embeddings are kept, not the image bytes.
pub fn embed_files(embedder: &Embedder, files: &[PathBuf], mirrored: bool) -> Vec<Result<Embedding, FileEmbedError>> {
    files.par_iter().map(|path| embedder.embed_file(path, mirrored).map(|(_, e)| e)).collect()
}
