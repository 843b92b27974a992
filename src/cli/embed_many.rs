//! Decoding and embedding many image files on all cores (one tract inference per core).

use crate::embed::{Embedder, Embedding, FileEmbedError};
use rayon::prelude::*;
use std::path::PathBuf;

/// One file's bytes and embedding, or why it could not be embedded.
pub type Embedded = Result<(Vec<u8>, Embedding), FileEmbedError>;

/// Reads, decodes and embeds `files` in parallel; results are in `files` order.
pub fn embed_files(embedder: &Embedder, files: &[PathBuf], mirrored: bool) -> Vec<Embedded> {
    files.par_iter().map(|path| embedder.embed_file(path, mirrored)).collect()
}
