//! Decoding and embedding many image files on all cores (one tract inference per core).

use crate::embed::{Embedder, Embedding, FileEmbedError};
use rayon::prelude::*;
use std::io::IsTerminal as _;
use std::path::PathBuf;

/// Reads, decodes and embeds `files` in parallel (within the embedder's image limits); results
/// are in `files` order. Only the embeddings are kept, not the image bytes.
pub fn embed_files(embedder: &Embedder, files: &[PathBuf], mirrored: bool) -> Vec<Result<Embedding, FileEmbedError>> {
    embed_files_showing(embedder, files, mirrored, &indicatif::ProgressBar::hidden())
}

/// [`embed_files`], advancing `bar` by one per file.
pub fn embed_files_showing(
    embedder: &Embedder,
    files: &[PathBuf],
    mirrored: bool,
    bar: &indicatif::ProgressBar,
) -> Vec<Result<Embedding, FileEmbedError>> {
    files
        .par_iter()
        .map(|path| {
            let r = embedder.embed_file(path, mirrored).map(|(_, e)| e);
            bar.inc(1);
            r
        })
        .collect()
}

/// A progress bar on stderr for `len` images, `verb` saying what is done to them ("evaluating"):
/// shown only when stderr is a terminal and `quiet` is false (`--json`), hidden otherwise so
/// piped output stays parseable. Call `finish_and_clear` before printing the results.
pub fn progress_bar(len: usize, verb: &str, quiet: bool) -> indicatif::ProgressBar {
    if quiet || len == 0 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let template = format!("{verb} {{pos}}/{{len}} [{{bar:30}}] {{eta}} left");
    let style = indicatif::ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
    indicatif::ProgressBar::new(len as u64).with_style(style)
}
