//! The example store: a data folder holding, per label, each example's image and its cached
//! embedding, plus `index.json`.
//!
//! ```text
//! DATA/index.json
//! DATA/examples/<label>/<id>.jpg   the image as captured or imported
//! DATA/examples/<label>/<id>.emb   its embedding(s), see [`embfile`]
//! ```
//! Every file is written with [`crate::fsutil::write_atomic`], image first, embedding second,
//! index last, so a crash at any point leaves a readable store: on open, examples missing from
//! the index are recovered from the folders, and an image whose embedding is missing or damaged
//! is reported by [`Store::load`] for re-embedding. Nothing is ever deleted except by an
//! explicit [`Store::remove`].

pub mod embfile;
pub mod index;
mod reconcile;

use crate::embed::{Embedding, ModelInfo};
use crate::fsutil::{clean_temp_files, create_dir_durable, write_atomic};
use index::Index;
pub use index::{Entry, Origin};
use reconcile::reconcile;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Why the store could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file or folder of the store could not be read or written.
    #[error("data folder {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A label name cannot be used (it names a folder).
    #[error("invalid label {0:?}: use 1-32 letters, digits, '-' or '_', starting with a letter or digit")]
    BadLabel(String),
}

/// Something wrong with one stored file: reported, skipped, never fatal to the rest.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The file concerned.
    pub path: PathBuf,
    /// What is wrong and what was done about it.
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

/// A stored example with its embedding loaded.
#[derive(Debug, Clone)]
pub struct Example {
    /// The index entry.
    pub entry: Entry,
    /// The cached embedding.
    pub embedding: Embedding,
}

/// An example to add: what [`Store::add`] writes.
#[derive(Debug, Clone)]
pub struct NewExample<'a> {
    /// The label it shows.
    pub label: &'a str,
    /// The image bytes, stored as given.
    pub image: &'a [u8],
    /// The image file's extension (`jpg`, `png`).
    pub ext: &'a str,
    /// Its embedding.
    pub embedding: &'a Embedding,
    /// Where it came from.
    pub origin: Origin,
}

/// An example whose embedding must be (re)computed from its image.
#[derive(Debug, Clone)]
pub struct Stale {
    /// The index entry.
    pub entry: Entry,
    /// The image file to embed.
    pub image: PathBuf,
    /// Why: missing, damaged, or made by another model.
    pub reason: String,
}

/// What [`Store::load`] found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Examples with a valid embedding from the current model.
    pub examples: Vec<Example>,
    /// Examples to re-embed from their image.
    pub stale: Vec<Stale>,
    /// Files that could not be used at all.
    pub problems: Vec<Problem>,
}

/// An open data folder.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    index: Index,
    problems: Vec<Problem>,
}

/// Checks a label can be used as a folder name.
pub fn validate_label(label: &str) -> Result<(), StoreError> {
    let ok = (1..=32).contains(&label.len())
        && label.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadLabel(label.to_string()))
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_path_buf(), source }
}

impl Store {
    /// Opens (creating if needed) the data folder at `root` and reconciles the index with the
    /// example folders. Problems found are available from [`Store::problems`].
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        let examples = root.join("examples");
        create_dir_durable(&examples).map_err(io_err(&examples))?;
        clean_temp_files(root);
        let mut problems = Vec::new();
        let index_path = root.join("index.json");
        let mut index = match std::fs::read(&index_path) {
            Ok(bytes) => match serde_json::from_slice::<Index>(&bytes) {
                Ok(ix) => ix,
                Err(e) => {
                    problems.push(Problem {
                        path: index_path.clone(),
                        reason: format!("unreadable ({e}); rebuilt from the example folders"),
                    });
                    Index::default()
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Index::default(),
            Err(e) => return Err(io_err(&index_path)(e)),
        };
        index.version = index::VERSION;
        let changed = reconcile(root, &mut index, &mut problems)?;
        let store = Self { root: root.to_path_buf(), index, problems };
        if changed {
            store.write_index()?;
        }
        Ok(store)
    }

    /// The data folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Problems noticed when the store was opened (damaged index, stray files).
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// All index entries, in capture order.
    pub fn entries(&self) -> &[Entry] {
        &self.index.examples
    }

    /// Number of examples per label, labels in name order.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for e in &self.index.examples {
            *m.entry(e.label.clone()).or_insert(0) += 1;
        }
        m
    }

    /// The entry whose image has this sha256, if any.
    pub fn find_by_sha256(&self, sha256: &str) -> Option<&Entry> {
        self.index.examples.iter().find(|e| e.sha256 == sha256)
    }

    /// Adds an example (image, then its embedding from the backbone `model`, then the index
    /// entry). Returns the new entry.
    pub fn add(&mut self, new: NewExample<'_>, model: &ModelInfo) -> Result<Entry, StoreError> {
        let NewExample { label, image, ext, embedding, origin } = new;
        validate_label(label)?;
        let dir = self.label_dir(label);
        create_dir_durable(&dir).map_err(io_err(&dir))?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let mut n = 0;
        let id = loop {
            let id = format!("{:013}-{n:03}", now.as_millis());
            if !self.index.examples.iter().any(|e| e.id == id) && !dir.join(format!("{id}.emb")).exists() {
                break id;
            }
            n += 1;
        };
        let image_name = format!("{id}.{}", ext.to_ascii_lowercase());
        let image_path = dir.join(&image_name);
        write_atomic(&image_path, image).map_err(io_err(&image_path))?;
        let emb_path = dir.join(format!("{id}.emb"));
        write_atomic(&emb_path, &embfile::encode(&model.sha256, embedding)).map_err(io_err(&emb_path))?;
        let entry = Entry {
            id,
            label: label.to_string(),
            image: image_name,
            sha256: hex::encode(Sha256::digest(image)),
            origin,
            added: now.as_secs(),
        };
        self.index.examples.push(entry.clone());
        self.write_index()?;
        Ok(entry)
    }

    /// Replaces the cached embedding of an existing example (after re-embedding it).
    pub fn update_embedding(&self, entry: &Entry, embedding: &Embedding, model: &ModelInfo) -> Result<(), StoreError> {
        let path = self.label_dir(&entry.label).join(format!("{}.emb", entry.id));
        write_atomic(&path, &embfile::encode(&model.sha256, embedding)).map_err(io_err(&path))
    }

    /// Removes an example's files and index entry (UNDO / CLEAR).
    pub fn remove(&mut self, id: &str) -> Result<Option<Entry>, StoreError> {
        let Some(pos) = self.index.examples.iter().position(|e| e.id == id) else {
            return Ok(None);
        };
        let entry = self.index.examples.remove(pos);
        // Index first: a crash after this leaves unindexed files, which reconcile re-adds,
        // never an index entry pointing at nothing.
        self.write_index()?;
        let dir = self.label_dir(&entry.label);
        for f in [entry.image.clone(), format!("{}.emb", entry.id)] {
            let p = dir.join(f);
            if let Err(e) = std::fs::remove_file(&p) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    return Err(io_err(&p)(e));
                }
            }
        }
        Ok(Some(entry))
    }

    /// Reads every example's embedding. Embeddings made by another backbone than `model`,
    /// missing or damaged are returned as [`Loaded::stale`] (their image is intact and can be
    /// re-embedded); examples whose image is gone are [`Loaded::problems`].
    pub fn load(&self, model: &ModelInfo) -> Loaded {
        let model_sha256 = &model.sha256;
        let mut out = Loaded::default();
        for entry in &self.index.examples {
            let dir = self.label_dir(&entry.label);
            let image = dir.join(&entry.image);
            let emb_path = dir.join(format!("{}.emb", entry.id));
            let stale = |reason: String| Stale { entry: entry.clone(), image: image.clone(), reason };
            match std::fs::read(&emb_path) {
                Ok(bytes) => match embfile::decode(&bytes) {
                    Ok(f) if f.model_sha256 == *model_sha256 => {
                        out.examples.push(Example { entry: entry.clone(), embedding: f.embedding });
                        continue;
                    }
                    Ok(_) => out.stale.push(stale("embedded by a different model".into())),
                    Err(e) => {
                        out.problems.push(Problem { path: emb_path.clone(), reason: e.to_string() });
                        out.stale.push(stale(e.to_string()));
                    }
                },
                Err(e) => out.stale.push(stale(format!("embedding missing ({e})"))),
            }
            if !image.is_file() {
                let s = out.stale.pop().expect("just pushed");
                out.problems
                    .push(Problem { path: image, reason: format!("image missing and {}; example skipped", s.reason) });
            }
        }
        out
    }

    fn label_dir(&self, label: &str) -> PathBuf {
        self.root.join("examples").join(label)
    }

    fn write_index(&self) -> Result<(), StoreError> {
        let path = self.root.join("index.json");
        let json = serde_json::to_vec_pretty(&self.index).expect("index serialises");
        write_atomic(&path, &json).map_err(io_err(&path))
    }
}

#[cfg(test)]
mod tests;
