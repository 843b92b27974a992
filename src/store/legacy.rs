//! Reading a data folder in the file layout used before the SQLite store, without writing:
//!
//! ```text
//! DATA/index.json
//! DATA/examples/<label>/<id>.jpg   the image
//! DATA/examples/<label>/<id>.emb   its cached embedding (see [`super::embfile`])
//! ```
//! The folders are the truth; `index.json` adds origin, time and content hash. An example in
//! the folders but not in the index (a crash between the two writes) is recovered; an index
//! entry whose image is gone is reported and left out.

use super::index::{Index, IndexEntry, Origin};
use super::{validate_label, Problem};
use crate::fsutil::temp_files;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Name of the old index file.
pub const INDEX: &str = "index.json";
/// Name of the old examples folder.
pub const EXAMPLES: &str = "examples";

/// One example found in an old data folder.
#[derive(Debug, Clone)]
pub struct LegacyExample {
    /// Its index entry (recovered entries have no hash and time).
    pub entry: IndexEntry,
    /// The image file.
    pub image: PathBuf,
    /// The embedding file (may be missing).
    pub emb: PathBuf,
}

/// True when `root` holds data in the old layout.
pub fn present(root: &Path) -> bool {
    root.join(INDEX).is_file() || root.join(EXAMPLES).is_dir()
}

/// Lists the examples of the old layout at `root`, reconciling index and folders in memory.
pub fn read(root: &Path, problems: &mut Vec<Problem>) -> Vec<LegacyExample> {
    let index_path = root.join(INDEX);
    let mut index = match std::fs::read(&index_path) {
        Ok(bytes) => serde_json::from_slice::<Index>(&bytes).unwrap_or_else(|e| {
            problems.push(Problem {
                path: index_path.clone(),
                reason: format!("unreadable ({e}); examples taken from the example folders"),
            });
            Index::default()
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Index::default(),
        Err(e) => {
            problems
                .push(Problem { path: index_path.clone(), reason: format!("{e}; examples taken from the folders") });
            Index::default()
        }
    };
    let on_disk = scan(&root.join(EXAMPLES), problems);
    index.examples.retain(|e| {
        let keep = on_disk.contains_key(&(e.label.clone(), e.id.clone()));
        if !keep {
            problems.push(Problem {
                path: root.join(EXAMPLES).join(&e.label).join(&e.image),
                reason: "listed in index.json but its image is gone; left out".into(),
            });
        }
        keep
    });
    let known: std::collections::HashSet<(String, String)> =
        index.examples.iter().map(|e| (e.label.clone(), e.id.clone())).collect();
    for ((label, id), path) in &on_disk {
        if !known.contains(&(label.clone(), id.clone())) {
            problems.push(Problem {
                path: path.clone(),
                reason: "not in index.json (interrupted write?); recovered".into(),
            });
            index.examples.push(IndexEntry {
                id: id.clone(),
                label: label.clone(),
                image: path.file_name().unwrap_or_default().to_string_lossy().to_string(),
                sha256: String::new(),
                origin: Origin::Recovered,
                added: 0,
            });
        }
    }
    index.examples.sort_by(|a, b| (&a.id, &a.label).cmp(&(&b.id, &b.label)));
    index.examples.dedup_by(|a, b| a.id == b.id && a.label == b.label);
    // The image is the file found on disk: the index's file name may differ from it (or point
    // elsewhere entirely), and the folders are the truth.
    index
        .examples
        .into_iter()
        .filter_map(|mut entry| {
            let image = on_disk.get(&(entry.label.clone(), entry.id.clone()))?.clone();
            entry.image = image.file_name().unwrap_or_default().to_string_lossy().to_string();
            let emb = image.with_file_name(format!("{}.emb", entry.id));
            Some(LegacyExample { image, emb, entry })
        })
        .collect()
}

/// The example images under `examples/<label>/`, by (label, id).
fn scan(examples: &Path, problems: &mut Vec<Problem>) -> BTreeMap<(String, String), PathBuf> {
    let mut found = BTreeMap::new();
    let Ok(dirs) = std::fs::read_dir(examples) else { return found };
    for label_dir in dirs.flatten() {
        let path = label_dir.path();
        let label = label_dir.file_name().to_string_lossy().to_string();
        if !path.is_dir() {
            continue;
        }
        if validate_label(&label).is_err() {
            problems.push(Problem { path, reason: "not a valid label folder; ignored".into() });
            continue;
        }
        for (name, _) in temp_files(&path).into_iter().filter(|(_, ours)| !ours) {
            problems.push(Problem {
                path: path.join(name),
                reason: "a temporary file teachcam did not write; left alone".into(),
            });
        }
        let Ok(files) = std::fs::read_dir(&path) else { continue };
        let mut embs = Vec::new();
        for f in files.flatten() {
            let p = f.path();
            let stem = p.file_stem().unwrap_or_default().to_string_lossy().to_string();
            if crate::imageio::is_image_path(&p) {
                found.insert((label.clone(), stem), p);
            } else if p.extension().is_some_and(|e| e == "emb") {
                embs.push((stem, p));
            }
        }
        for (stem, p) in embs {
            if !found.contains_key(&(label.clone(), stem)) {
                problems.push(Problem { path: p, reason: "embedding without an image (orphan); left alone".into() });
            }
        }
    }
    found
}
