//! `teachcam import --label LABEL PATH...`
//!
//! Files are read, embedded and stored batch by batch (a few files per core, embedded in
//! parallel, stored in order), so memory stays bounded and an interrupted import keeps every
//! example it finished. A file that cannot be used is listed at the end and the others go on;
//! only a data folder that cannot be written at all stops the import.

use super::{collect_images, open_embedder, open_store};
use crate::config::Config;
use crate::embed::{Embedder, Embedding};
use crate::imageio::{decode_checked, read_bytes, ImageLimits};
use crate::store::{validate_label, Entry, NewExample, Origin, Store, StoreError, DB_FILE};
use anyhow::{bail, Result};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// Files read ahead per core: the bytes of at most this many files per core are in memory.
const FILES_PER_CORE: usize = 2;

/// Failed writes in a row after which the data folder is taken to be unwritable.
const STORE_FAILURES_IN_A_ROW: usize = 3;

/// `import` options beyond the label and paths.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Images already stored under another label are relabelled instead of skipped.
    pub relabel: bool,
    /// Print JSON instead of text (and no progress bar).
    pub json: bool,
}

/// What became of the files so far.
#[derive(Debug, Default)]
struct Tally {
    added: usize,
    duplicates: Vec<String>,
    /// Files whose image is stored under another label: the file and that example.
    other_label: Vec<(PathBuf, Entry)>,
    /// How many of `other_label` were given the imported label (`--relabel`).
    relabelled: usize,
    failed: Vec<String>,
    store_failures_in_a_row: usize,
}

impl Tally {
    /// Records the outcome of one `Store::add`; returns the reason to stop importing, if the
    /// data folder cannot take any more examples.
    fn stored(&mut self, path: &Path, r: Result<(), StoreError>) -> Option<String> {
        let Err(e) = r else {
            self.added += 1;
            self.store_failures_in_a_row = 0;
            return None;
        };
        self.failed.push(format!("{}: not stored: {e}", path.display()));
        self.store_failures_in_a_row += 1;
        if store_unwritable(&e) {
            Some(format!("the data folder cannot be written ({e})"))
        } else if self.store_failures_in_a_row >= STORE_FAILURES_IN_A_ROW {
            Some(format!("{STORE_FAILURES_IN_A_ROW} files in a row could not be stored (the last: {e})"))
        } else {
            None
        }
    }
}

/// True when a store error means no further example can be written (disk full, quota, a
/// read-only, inaccessible or damaged data folder) rather than a problem with this one file.
fn store_unwritable(e: &StoreError) -> bool {
    use std::io::ErrorKind::*;
    match e {
        StoreError::Full { .. }
        | StoreError::ReadOnly { .. }
        | StoreError::NotWritable { .. }
        | StoreError::Corrupt { .. }
        | StoreError::Missing(_) => true,
        StoreError::Io { source, .. } => {
            matches!(source.kind(), StorageFull | QuotaExceeded | ReadOnlyFilesystem | PermissionDenied)
        }
        _ => false,
    }
}

/// A progress bar on stderr when it is a terminal, else a hidden one.
pub(super) fn progress_bar(len: usize) -> indicatif::ProgressBar {
    progress_bar_unless(len, false)
}

/// A progress bar on stderr when it is a terminal and not `quiet`, else a hidden one.
fn progress_bar_unless(len: usize, quiet: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let style = indicatif::ProgressStyle::with_template("importing {pos}/{len} [{bar:30}] {eta} left")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
    indicatif::ProgressBar::new(len as u64).with_style(style)
}

/// Decodes and embeds one file's bytes.
pub(super) fn embed(
    embedder: &Embedder,
    bytes: &[u8],
    limits: &ImageLimits,
    mirrored: bool,
) -> Result<Embedding, String> {
    let img = decode_checked(bytes, limits).map_err(|e| e.to_string())?;
    embedder.embed(&img, mirrored).map_err(|e| e.to_string())
}

/// Adds the images under `paths` as examples of `label`, skipping duplicates (and relabelling
/// images stored under another label, with `opts.relabel`); files that cannot be used are
/// listed at the end, and make the command fail. A data folder this import created is removed
/// again when the import fails with nothing stored.
pub fn run(config: &Config, label: &str, paths: &[PathBuf], opts: Options) -> Result<()> {
    validate_label(label)?;
    let files = collect_images(paths)?;
    if files.is_empty() {
        bail!(
            "no images (.jpg, .jpeg, .png) found in {}",
            paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    let existed = config.data_dir.exists();
    let result = import(config, label, &files, opts);
    if result.is_err() && !existed {
        remove_if_empty(&config.data_dir);
    }
    result
}

/// Removes a data folder that holds no examples and nothing but the database teachcam made.
fn remove_if_empty(dir: &Path) {
    if !Store::open_read_only(dir).is_ok_and(|s| s.is_empty()) {
        return;
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("{DB_FILE}{suffix}")));
    }
    // Fails, leaving it, when anything else is in it.
    let _ = std::fs::remove_dir(dir);
}

fn import(config: &Config, label: &str, files: &[PathBuf], opts: Options) -> Result<()> {
    let mut store = open_store(config)?;
    if let Some(why) = store.read_only() {
        bail!("data folder {} cannot be written ({why}); nothing was imported", config.data_dir.display());
    }
    let embedder = open_embedder(config)?;
    let limits = config.model.image_limits();
    let bar = progress_bar_unless(files.len(), opts.json);
    let mut tally = Tally::default();
    let mut seen = HashSet::new();
    let mut stopped = None;
    let batch = rayon::current_num_threads().max(1) * FILES_PER_CORE;
    'batches: for chunk in files.chunks(batch) {
        // Read and skip duplicates first, so no inference is spent on them.
        let mut todo = Vec::new();
        for f in chunk {
            match read_new(f, label, &limits, &store, &mut seen) {
                Ok(bytes) => todo.push((f, bytes)),
                Err(Skip::OtherLabel(e)) => tally.other_label.push((f.clone(), *e)),
                Err(Skip::Duplicate(why)) => tally.duplicates.push(format!("{}: {why}", f.display())),
                Err(Skip::Failed(why)) => tally.failed.push(why),
            }
        }
        bar.inc((chunk.len() - todo.len()) as u64);
        let mirrored = config.model.mirror_augment;
        let embedded: Vec<_> = todo.par_iter().map(|(_, bytes)| embed(&embedder, bytes, &limits, mirrored)).collect();
        for ((path, bytes), r) in todo.iter().zip(embedded) {
            bar.inc(1);
            let embedding = match r {
                Ok(e) => e,
                Err(e) => {
                    tally.failed.push(format!("{}: {e}", path.display()));
                    continue;
                }
            };
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("jpg");
            let new =
                NewExample { label, image: bytes, ext, embedding: &embedding, origin: Origin::File((*path).clone()) };
            if let Some(why) = tally.stored(path, store.add(new, embedder.info()).map(|_| ())) {
                stopped = Some(why);
                break 'batches;
            }
        }
    }
    bar.finish_and_clear();
    if opts.relabel && !tally.other_label.is_empty() && stopped.is_none() {
        let ids: Vec<String> = tally.other_label.iter().map(|(_, e)| e.id.clone()).collect();
        tally.relabelled = store.relabel(&ids, label)?.len();
    }
    if opts.json {
        print_json(&store, label, &tally)?;
    } else {
        print_text(&store, label, &tally);
    }
    outcome(&tally, files.len(), stopped)
}

/// Why a file is not embedded.
enum Skip {
    /// Its content is already stored under this label, or is in this import twice.
    Duplicate(String),
    /// Its content is stored under another label: this example.
    OtherLabel(Box<Entry>),
    /// It cannot be read (the message names it).
    Failed(String),
}

/// Reads `f` unless its content is already stored or was seen in this import.
fn read_new(
    f: &Path,
    label: &str,
    limits: &ImageLimits,
    store: &Store,
    seen: &mut HashSet<String>,
) -> Result<Vec<u8>, Skip> {
    let bytes = read_bytes(f, limits).map_err(|e| Skip::Failed(e.to_string()))?;
    let digest = hex::encode(Sha256::digest(&bytes));
    if let Some(e) = store.find_by_sha256(&digest) {
        if e.label != label {
            return Err(Skip::OtherLabel(Box::new(e)));
        }
        return Err(Skip::Duplicate(format!("already stored as {}/{}", e.label, e.id)));
    }
    if !seen.insert(digest) {
        return Err(Skip::Duplicate("same image as another file in this import".into()));
    }
    Ok(bytes)
}

/// Files skipped in all: already stored (under either label, unless relabelled) or failed.
fn skipped(t: &Tally) -> usize {
    t.duplicates.len() + t.other_label.len() - t.relabelled + t.failed.len()
}

/// Prints what was imported and skipped.
fn print_text(store: &Store, label: &str, t: &Tally) {
    let now = store.counts().get(label).copied().unwrap_or(0);
    let relabelled = if t.relabelled > 0 { format!(", relabelled {}", t.relabelled) } else { String::new() };
    println!(
        "{label}: added {}{relabelled}, skipped {} ({} already stored, {} failed) ({now} stored)",
        t.added,
        skipped(t),
        t.duplicates.len() + t.other_label.len() - t.relabelled,
        t.failed.len()
    );
    for s in &t.duplicates {
        println!("  skipped {s}");
    }
    for (f, e) in &t.other_label {
        match t.relabelled {
            0 => println!("  skipped {}: already stored as {} (example {}), not {label}", f.display(), e.label, e.id),
            _ => println!("  relabelled {}: example {} was {}, now {label}", f.display(), e.id, e.label),
        }
    }
    if !t.other_label.is_empty() && t.relabelled == 0 {
        println!(
            "  {} stored under another label: if {} {label}, run the same import with --relabel (or `teachcam examples relabel ID... --to {label}`)",
            if t.other_label.len() == 1 { "1 image is".to_string() } else { format!("{} images are", t.other_label.len()) },
            if t.other_label.len() == 1 { "it shows" } else { "they show" }
        );
    }
    for s in &t.failed {
        println!("  failed {s}");
    }
    for w in warnings(store) {
        println!("warning: {w}");
    }
}

/// Warnings about the examples now stored (imbalanced labels).
fn warnings(store: &Store) -> Vec<String> {
    let counts = store.counts();
    crate::train::advice::imbalance(counts.iter().map(|(l, n)| (l.as_str(), *n))).into_iter().collect()
}

/// `import --json`.
#[derive(serde::Serialize)]
struct Json<'a> {
    /// The imported label: added, relabelled, skipped, stored now.
    labels: BTreeMap<&'a str, LabelJson>,
    /// Files already stored under this label (or twice in this import), with why.
    already_stored: &'a [String],
    /// Files stored under another label: the file, that example's id and label.
    other_label: Vec<OtherJson>,
    /// Files that could not be imported, with why.
    failed: &'a [String],
    /// About the examples now stored (imbalanced labels).
    warnings: Vec<String>,
}

#[derive(serde::Serialize)]
struct LabelJson {
    added: usize,
    relabelled: usize,
    skipped: usize,
    stored: usize,
}

#[derive(serde::Serialize)]
struct OtherJson {
    file: String,
    id: String,
    label: String,
    relabelled: bool,
}

fn print_json(store: &Store, label: &str, t: &Tally) -> Result<()> {
    let stored = store.counts().get(label).copied().unwrap_or(0);
    let counts = LabelJson { added: t.added, relabelled: t.relabelled, skipped: skipped(t), stored };
    let other_label = t
        .other_label
        .iter()
        .map(|(f, e)| OtherJson {
            file: f.display().to_string(),
            id: e.id.clone(),
            label: e.label.clone(),
            relabelled: t.relabelled > 0,
        })
        .collect();
    let json = Json {
        labels: [(label, counts)].into(),
        already_stored: &t.duplicates,
        other_label,
        failed: &t.failed,
        warnings: warnings(store),
    };
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(())
}

/// Fails when the import stopped or any file could not be imported.
fn outcome(t: &Tally, total: usize, stopped: Option<String>) -> Result<()> {
    if let Some(why) = stopped {
        let done = t.added + t.duplicates.len() + t.other_label.len() + t.failed.len();
        bail!(
            "import stopped, {why}; {} of the {total} files were added before that, the other {} were not tried",
            t.added,
            total - done
        );
    }
    if !t.failed.is_empty() {
        let others = match total - t.failed.len() {
            0 => "nothing was imported".to_string(),
            n => format!("the other {n} were added or already stored"),
        };
        bail!("{} of {total} files could not be imported (listed above); {others}", t.failed.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io(kind_or_os: std::io::Error) -> StoreError {
        StoreError::Io { path: PathBuf::from("data/examples/cat/1.jpg"), source: kind_or_os }
    }

    #[test]
    fn disk_full_stops_at_once_naming_the_cause() {
        let mut t = Tally::default();
        assert_eq!(t.stored(Path::new("a.jpg"), Ok(())), None);
        let why = t.stored(Path::new("b.jpg"), Err(io(std::io::Error::from_raw_os_error(28)))).unwrap();
        assert!(why.contains("cannot be written") && why.contains("os error 28"), "{why}");
        let full = StoreError::Full { path: PathBuf::from("data/teachcam.db") };
        assert!(t.stored(Path::new("c.jpg"), Err(full)).unwrap().contains("the disk is full"));
        assert_eq!((t.added, t.failed.len()), (1, 2));
        assert!(t.failed[0].starts_with("b.jpg: not stored: "), "{:?}", t.failed);
        for os in [30, 13] {
            // Read-only file system, permission denied.
            assert!(store_unwritable(&io(std::io::Error::from_raw_os_error(os))), "errno {os}");
        }
    }

    #[test]
    fn one_failed_write_goes_on_three_in_a_row_stop() {
        let mut t = Tally::default();
        let odd = || Err(io(std::io::Error::other("odd")));
        assert_eq!(t.stored(Path::new("a.jpg"), odd()), None);
        assert_eq!(t.stored(Path::new("b.jpg"), odd()), None);
        assert_eq!(t.stored(Path::new("c.jpg"), Ok(())), None, "a success resets the count");
        assert_eq!(t.stored(Path::new("d.jpg"), odd()), None);
        assert_eq!(t.stored(Path::new("e.jpg"), odd()), None);
        let why = t.stored(Path::new("f.jpg"), odd()).unwrap();
        assert!(why.contains("3 files in a row") && why.contains("odd"), "{why}");
        assert_eq!((t.added, t.failed.len()), (1, 5));
    }
}
