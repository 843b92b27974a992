//! The example store: every taught example (label, image, cached embedding) in one SQLite
//! database, `DATA/teachcam.db` (see [`db`] for why and how it is durable).
//!
//! - Each capture is one transaction, durable when [`Store::add`] returns (one fsync of the
//!   journal): only then is it acknowledged.
//! - Opening never needs to write: on a full or read-only disk the store opens read-only and
//!   says why ([`Store::read_only`]), so the daemon still detects with its saved head.
//! - A data folder in the older file layout ([`legacy`]) is migrated on first writable open,
//!   in one transaction, then its files are moved to `DATA/migrated-files/` (never deleted).
//! - Damaged examples are moved to `DATA/quarantine/` with a note ([`Store::quarantine`]),
//!   never deleted; nothing is deleted except by an explicit [`Store::remove`],
//!   [`Store::remove_many`] or [`Store::reset`].

mod check;
mod db;
mod edit;
pub mod embfile;
mod error;
pub mod index;
pub mod legacy;
mod migrate;
mod quarantine;
mod rows;

pub use check::CheckReport;
pub use db::DB_FILE;
pub use error::StoreError;
pub use index::Origin;

use crate::embed::{Embedding, ModelInfo};
use crate::fsutil::{clean_temp_files, create_dir_durable, OsFs};
use rusqlite::Connection;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Something wrong with one stored file or example: reported, skipped, never fatal to the rest.
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

/// One stored example's identity.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Unique id; ids sort in capture order.
    pub id: String,
    /// The label it is an example of.
    pub label: String,
    /// The image format's file extension (`jpg`, `png`).
    pub ext: String,
    /// Hex sha256 of the image bytes (duplicate detection, damage detection).
    pub sha256: String,
    /// Where it came from.
    pub origin: Origin,
    /// Seconds since the Unix epoch when it was added (0 when unknown).
    pub added: u64,
}

/// A stored example with its embedding loaded.
#[derive(Debug, Clone)]
pub struct Example {
    /// The entry.
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
    /// The image format's extension (`jpg`, `png`).
    pub ext: &'a str,
    /// Its embedding.
    pub embedding: &'a Embedding,
    /// Where it came from.
    pub origin: Origin,
}

/// An example whose embedding must be (re)computed from its image ([`Store::image`]).
#[derive(Debug, Clone)]
pub struct Stale {
    /// The entry.
    pub entry: Entry,
    /// Why: missing, damaged, non-finite, or made by another model or preprocessing.
    pub reason: String,
}

/// What [`Store::load`] found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Examples with a valid embedding from the current model and preprocessing.
    pub examples: Vec<Example>,
    /// Examples to re-embed from their image.
    pub stale: Vec<Stale>,
    /// Examples whose image is damaged (its hash differs from the one taken when stored):
    /// to [`Store::quarantine`].
    pub damaged: Vec<Stale>,
}

/// An open data folder.
pub struct Store {
    root: PathBuf,
    conn: Connection,
    read_only: Option<String>,
    problems: Vec<Problem>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("root", &self.root).field("read_only", &self.read_only).finish()
    }
}

/// Checks a label can be used (it names folders in exports and the old layout).
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

impl Store {
    /// Opens the data folder at `root` for capturing and training, creating it if needed and
    /// migrating an old-layout folder. When it cannot be written (full or read-only disk,
    /// permissions) it opens read-only instead and says why in [`Store::read_only`]; only a
    /// folder that can be neither created nor read is an error.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        let writable = create_dir_durable(&OsFs, root).map_err(|e| e.to_string()).and_then(|()| {
            let mut problems = Vec::new();
            for name in clean_temp_files(root) {
                problems.push(Problem {
                    path: root.join(name),
                    reason: "a temporary file teachcam did not write; left alone".into(),
                });
            }
            let conn = quarantine::open_or_set_aside(root, &mut problems).map_err(|e| e.to_string())?;
            Ok((conn, problems))
        });
        match writable {
            Ok((mut conn, mut problems)) => match migrate::migrate(&OsFs, root, &mut conn, &mut problems) {
                Ok(()) => Ok(Self { root: root.to_path_buf(), conn, read_only: None, problems }),
                Err(e) => Self::read_only_after(root, e.to_string()),
            },
            Err(reason) if root.is_dir() => Self::read_only_after(root, reason),
            Err(reason) => Err(StoreError::Io { path: root.into(), source: std::io::Error::other(reason) }),
        }
    }

    fn read_only_after(root: &Path, reason: String) -> Result<Self, StoreError> {
        let mut store = Self::open_read_only(root)?;
        store.read_only = Some(reason);
        Ok(store)
    }

    /// Opens the data folder at `root` without creating or changing anything (for `status`,
    /// `predict`, `eval`, `check`). A folder in the old layout is read as it is.
    pub fn open_read_only(root: &Path) -> Result<Self, StoreError> {
        let db_path = root.join(DB_FILE);
        let mut problems = Vec::new();
        let conn = if db_path.is_file() && !migrate::pending(root, &db_path) {
            db::open_ro(&db_path)?
        } else if legacy::present(root) {
            let conn = db::open_memory()?;
            migrate::load_legacy(&conn, root, &mut problems)?;
            conn
        } else {
            return Err(StoreError::Missing(root.to_path_buf()));
        };
        let reason = "opened read-only".to_string();
        Ok(Self { root: root.to_path_buf(), conn, read_only: Some(reason), problems })
    }

    /// The data folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Why the store is read-only, when it is.
    pub fn read_only(&self) -> Option<&str> {
        self.read_only.as_deref()
    }

    /// Problems noticed when the store was opened (damaged files, strays, migration notes).
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    fn db_path(&self) -> PathBuf {
        self.root.join(DB_FILE)
    }

    fn writable(&self) -> Result<(), StoreError> {
        match &self.read_only {
            Some(reason) => Err(StoreError::NotWritable { root: self.root.clone(), reason: reason.clone() }),
            None => Ok(()),
        }
    }

    /// Every entry, in capture order.
    pub fn entries(&self) -> Vec<Entry> {
        rows::entries(&self.conn, "", []).unwrap_or_default()
    }

    /// Number of examples stored.
    pub fn len(&self) -> usize {
        rows::count(&self.conn).unwrap_or(0)
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The newest entry, if any.
    pub fn last(&self) -> Option<Entry> {
        rows::entries(&self.conn, "ORDER BY id DESC LIMIT 1", []).ok()?.pop()
    }

    /// Number of examples per label, labels in name order.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        rows::counts(&self.conn).unwrap_or_default()
    }

    /// The entry whose image has this sha256, if any.
    pub fn find_by_sha256(&self, sha256: &str) -> Option<Entry> {
        rows::entries(&self.conn, "WHERE sha256 = ?1", [sha256]).ok()?.into_iter().next()
    }

    /// Adds an example (image, embedding from the backbone `model`) in one transaction;
    /// returns its entry once it is durable.
    pub fn add(&mut self, new: NewExample<'_>, model: &ModelInfo) -> Result<Entry, StoreError> {
        self.writable()?;
        validate_label(new.label)?;
        rows::add(&self.conn, new, model).map_err(db::err(&self.db_path()))
    }

    /// Replaces the cached embedding of an existing example (after re-embedding it).
    pub fn update_embedding(&self, entry: &Entry, embedding: &Embedding, model: &ModelInfo) -> Result<(), StoreError> {
        self.writable()?;
        rows::update_embedding(&self.conn, &entry.id, embedding, model).map_err(db::err(&self.db_path()))
    }

    /// Removes an example (UNDO). Returns its entry, or `None` when there is no such id.
    pub fn remove(&mut self, id: &str) -> Result<Option<Entry>, StoreError> {
        self.writable()?;
        rows::remove(&self.conn, id).map_err(db::err(&self.db_path()))
    }

    /// Removes the examples `ids` in one transaction: all of them, or none (an error naming
    /// the unknown ids) when any is not stored. Returns their entries.
    pub fn remove_many(&mut self, ids: &[String]) -> Result<Vec<Entry>, StoreError> {
        self.writable()?;
        edit::remove(&mut self.conn, ids).map_err(self.edit_err())
    }

    /// Gives the examples `ids` the label `to` in one transaction: all of them, or none (an
    /// error naming the unknown ids) when any is not stored. Returns their entries as they were.
    pub fn relabel(&mut self, ids: &[String], to: &str) -> Result<Vec<Entry>, StoreError> {
        self.writable()?;
        validate_label(to)?;
        edit::relabel(&mut self.conn, ids, to).map_err(self.edit_err())
    }

    /// Removes every example in one transaction; returns how many there were.
    pub fn reset(&mut self) -> Result<usize, StoreError> {
        self.writable()?;
        edit::reset(&mut self.conn).map_err(db::err(&self.db_path()))
    }

    /// The entries of one label, or all, in capture order.
    pub fn list(&self, label: Option<&str>) -> Result<Vec<Entry>, StoreError> {
        edit::list(&self.conn, label).map_err(db::err(&self.db_path()))
    }

    /// When the examples last changed (an addition, to the second rounded down, a removal or
    /// a relabelling; milliseconds since the Unix epoch), if ever: a head saved before then is
    /// out of date.
    pub fn changed_at_ms(&self) -> Option<u64> {
        edit::changed_at_ms(&self.conn).ok().flatten()
    }

    fn edit_err(&self) -> impl Fn(edit::EditError) -> StoreError + '_ {
        move |e| match e {
            edit::EditError::Unknown(ids) => StoreError::UnknownExamples(ids),
            edit::EditError::Db(e) => db::err(&self.db_path())(e),
        }
    }

    /// The image bytes of an example.
    pub fn image(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        rows::image(&self.conn, id).map_err(db::err(&self.db_path()))
    }

    /// Reads every example's embedding, checking each image against its stored hash. Embeddings
    /// missing, damaged, non-finite, or made by another backbone or preprocessing than `model`
    /// are [`Loaded::stale`] (the image is intact: re-embed it); damaged images are
    /// [`Loaded::damaged`].
    pub fn load(&self, model: &ModelInfo) -> Loaded {
        rows::load(&self.conn, model).unwrap_or_else(|e| {
            log::error!("{}", db::err(&self.db_path())(e));
            Loaded::default()
        })
    }

    /// Moves an example out of the store into `DATA/quarantine/` (its image and a note saying
    /// why), then removes it from the database. Returns the image's new path.
    pub fn quarantine(&mut self, entry: &Entry, reason: &str) -> Result<PathBuf, StoreError> {
        self.writable()?;
        quarantine::example(&OsFs, &self.root, &self.conn, entry, reason)
    }

    /// Verifies every example (see [`CheckReport`]); with `decode`, also decodes every image.
    pub fn check(&self, model: Option<&ModelInfo>, decode: bool) -> CheckReport {
        check::check(self, model, decode)
    }
}

#[cfg(test)]
mod tests;
