//! `teachcam import DIR|FILE.tar`: reads back what `teachcam export-dataset` wrote.
//!
//! The whole export is checked first (manifest, every file's sha256, nothing extra): a bad
//! export changes nothing. Then its images are embedded and stored batch by batch, like
//! `import --label`, duplicates of stored images skipped.

use super::import::{embed, progress_bar};
use super::{open_embedder, open_store};
use crate::config::Config;
use crate::embed::Embedder;
use crate::export::dataset::{self, FileEntry, Target};
use crate::export::ExportError;
use crate::store::{NewExample, Origin, Store};
use anyhow::{bail, Result};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// Examples per label added and skipped.
#[derive(Debug, Default)]
struct Counts {
    added: usize,
    duplicates: usize,
}

/// Imports the dataset export at `path`, or says why it is not one.
pub fn run(config: &Config, path: &Path) -> Result<()> {
    let Some(target) = Target::detect(path) else {
        bail!(
            "{} is not a dataset export (a folder with {} or a .tar file from `teachcam export-dataset`); \
             to import images, use `teachcam import --label LABEL PATH...`",
            path.display(),
            dataset::MANIFEST
        );
    };
    let limits = config.model.image_limits();
    // Checked completely before the data folder is opened: a bad export changes nothing.
    let export = dataset::verify(target, limits.max_bytes)?;
    let store = open_store(config)?;
    if let Some(why) = store.read_only() {
        bail!("data folder {} cannot be written ({why}); nothing was imported", config.data_dir.display());
    }
    let mut importer = Importer {
        embedder: open_embedder(config)?,
        store,
        config,
        root: export.source.path(),
        bar: progress_bar(export.manifest.files.len()),
        counts: BTreeMap::new(),
        seen: HashSet::new(),
        batch: Vec::new(),
        size: rayon::current_num_threads().max(1) * 2,
    };
    let result = export.for_each(limits.max_bytes, &mut |f, bytes| importer.file(f, bytes));
    let result = result.and_then(|()| importer.flush());
    importer.bar.finish_and_clear();
    for (label, c) in &importer.counts {
        let now = importer.store.counts().get(label).copied().unwrap_or(0);
        println!("{label}: added {}, skipped {} already stored ({now} stored)", c.added, c.duplicates);
    }
    Ok(result?)
}

/// Embeds and stores an export's files batch by batch.
struct Importer<'a> {
    embedder: Embedder,
    store: Store,
    config: &'a Config,
    root: &'a Path,
    bar: indicatif::ProgressBar,
    counts: BTreeMap<String, Counts>,
    seen: HashSet<String>,
    batch: Vec<(FileEntry, Vec<u8>)>,
    size: usize,
}

impl Importer<'_> {
    /// Queues one file unless its image is already stored (or queued).
    fn file(&mut self, f: &FileEntry, bytes: Vec<u8>) -> Result<(), ExportError> {
        if self.store.find_by_sha256(&f.sha256).is_some() || !self.seen.insert(f.sha256.clone()) {
            self.bar.inc(1);
            self.counts.entry(f.label.clone()).or_default().duplicates += 1;
            return Ok(());
        }
        self.batch.push((f.clone(), bytes));
        if self.batch.len() >= self.size {
            self.flush()?;
        }
        Ok(())
    }

    /// Embeds the queued files in parallel and stores them in order.
    fn flush(&mut self) -> Result<(), ExportError> {
        let todo = std::mem::take(&mut self.batch);
        let (embedder, model) = (&self.embedder, &self.config.model);
        let limits = model.image_limits();
        let embedded: Vec<_> =
            todo.par_iter().map(|(_, bytes)| embed(embedder, bytes, &limits, model.mirror_augment)).collect();
        for ((f, bytes), r) in todo.iter().zip(embedded) {
            self.bar.inc(1);
            let embedding = r.map_err(|reason| ExportError::Unusable { path: self.root.join(&f.path), reason })?;
            let ext = f.path.rsplit_once('.').map_or("jpg", |(_, e)| e);
            let origin = Origin::from(f.origin.clone());
            let new = NewExample { label: &f.label, image: bytes, ext, embedding: &embedding, origin };
            self.store.add(new, self.embedder.info())?;
            self.counts.entry(f.label.clone()).or_default().added += 1;
        }
        Ok(())
    }
}
