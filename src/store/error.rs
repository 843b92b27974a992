//! The store's error type.

use super::DB_FILE;
use std::path::PathBuf;

/// Why the store could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file or folder of the store could not be read or written.
    #[error("data folder {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A label name cannot be used.
    #[error("invalid label {0:?}: use 1-32 letters, digits, '-' or '_', starting with a letter or digit")]
    BadLabel(String),
    /// The database reported an error.
    #[error("database {path}: {reason}")]
    Db {
        /// The database file.
        path: PathBuf,
        /// SQLite's message.
        reason: String,
    },
    /// The disk holding the data folder is full.
    #[error("database {path}: the disk is full; nothing was stored (free some space: captures resume by themselves)")]
    Full {
        /// The database file.
        path: PathBuf,
    },
    /// The data folder cannot be written (read-only file system or permissions).
    #[error("database {path} cannot be written: {reason}")]
    ReadOnly {
        /// The database file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The database file is damaged or not a database.
    #[error("database {path} is damaged: {reason}")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// SQLite's message.
        reason: String,
    },
    /// A read-only command was pointed at a folder that holds no examples.
    #[error("no teachcam data in {0} (no {DB_FILE}); check --data or data_dir in the config")]
    Missing(PathBuf),
    /// The store was opened read-only (see [`Store::read_only`]) and a change was asked for.
    #[error("data folder {root} is read-only ({reason}); nothing was stored")]
    NotWritable {
        /// The data folder.
        root: PathBuf,
        /// Why it is read-only.
        reason: String,
    },
    /// Examples asked for by id are not stored (nothing was changed).
    #[error("no example with id {}; see `teachcam examples list`; nothing was changed", .0.join(", "))]
    UnknownExamples(Vec<String>),
}
