//! Reconciling `index.json` with the example folders when a store is opened.

use super::index::{Entry, Index, Origin};
use super::{io_err, validate_label, Problem, StoreError};
use crate::fsutil::clean_temp_files;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Brings the index in line with the example folders: drops entries whose files are all gone,
/// adds example files the index lacks (a crash between writing files and index). Returns
/// whether the index changed.
pub(super) fn reconcile(root: &Path, index: &mut Index, problems: &mut Vec<Problem>) -> Result<bool, StoreError> {
    let examples_dir = root.join("examples");
    let mut on_disk: BTreeMap<(String, String), PathBuf> = BTreeMap::new(); // (label, id) → image
    let dirs = std::fs::read_dir(&examples_dir).map_err(io_err(&examples_dir))?;
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
        clean_temp_files(&path);
        let files = std::fs::read_dir(&path).map_err(io_err(&path))?;
        for f in files.flatten() {
            let p = f.path();
            if crate::imageio::is_image_path(&p) {
                let id = p.file_stem().unwrap_or_default().to_string_lossy().to_string();
                on_disk.insert((label.clone(), id), p);
            }
        }
    }
    let before = index.examples.len();
    index.examples.retain(|e| {
        let keep = on_disk.contains_key(&(e.label.clone(), e.id.clone()));
        if !keep {
            problems.push(Problem {
                path: examples_dir.join(&e.label).join(&e.image),
                reason: "listed in index.json but its image is gone; dropped from the index".into(),
            });
        }
        keep
    });
    let mut changed = index.examples.len() != before;
    let known: std::collections::HashSet<(String, String)> =
        index.examples.iter().map(|e| (e.label.clone(), e.id.clone())).collect();
    for ((label, id), path) in on_disk {
        if known.contains(&(label.clone(), id.clone())) {
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        problems
            .push(Problem { path: path.clone(), reason: "not in index.json (interrupted write?); recovered".into() });
        index.examples.push(Entry {
            id,
            label,
            image: path.file_name().unwrap_or_default().to_string_lossy().to_string(),
            sha256: hex::encode(Sha256::digest(&bytes)),
            origin: Origin::Recovered,
            added: 0,
        });
        changed = true;
    }
    index.examples.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(changed)
}
