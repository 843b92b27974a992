//! `DATA/quarantine/`: where damaged things go instead of being deleted, each with a note
//! saying what it was and why it was moved.

use super::{db, rows, Entry, Problem, StoreError};
use crate::fsutil::{create_dir_durable, write_atomic_with, Fs, OsFs};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The quarantine folder's name inside the data folder.
pub const QUARANTINE: &str = "quarantine";

fn io(p: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: p.to_path_buf(), source }
}

/// Writes the example's image and a note into the quarantine (durably), then deletes its row.
/// A crash in between leaves the example in the store and perhaps a copy in quarantine.
pub fn example(
    fs: &dyn Fs,
    root: &Path,
    conn: &Connection,
    entry: &Entry,
    reason: &str,
) -> Result<PathBuf, StoreError> {
    let db_path = root.join(db::DB_FILE);
    let image = rows::image(conn, &entry.id).map_err(db::err(&db_path))?;
    let dir = root.join(QUARANTINE);
    create_dir_durable(fs, &dir).map_err(io(&dir))?;
    let stem = format!("{}-{}", entry.id, entry.label);
    let image_path = dir.join(format!("{stem}.{}", entry.ext));
    write_atomic_with(fs, &image_path, &image).map_err(io(&image_path))?;
    let note = format!(
        "example {} of label {:?}, origin {}, image sha256 {} when stored\nquarantined: {reason}\n",
        entry.id,
        entry.label,
        String::from(entry.origin.clone()),
        entry.sha256
    );
    let note_path = dir.join(format!("{stem}.txt"));
    write_atomic_with(fs, &note_path, note.as_bytes()).map_err(io(&note_path))?;
    rows::remove(conn, &entry.id).map_err(db::err(&db_path))?;
    Ok(image_path)
}

/// Opens the database for writing; a file that is not a database (or is damaged beyond
/// SQLite's reading) is moved into the quarantine with its journal and a note, and a new one
/// is started.
pub fn open_or_set_aside(root: &Path, problems: &mut Vec<Problem>) -> Result<Connection, StoreError> {
    let path = root.join(db::DB_FILE);
    match db::open_rw(&path) {
        Err(StoreError::Corrupt { reason, .. }) => {
            let dir = root.join(QUARANTINE);
            create_dir_durable(&OsFs, &dir).map_err(io(&dir))?;
            let stamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
            for suffix in ["", "-wal", "-shm"] {
                let from = root.join(format!("{}{suffix}", db::DB_FILE));
                if from.exists() {
                    let to = dir.join(format!("{}-{stamp}{suffix}", db::DB_FILE));
                    OsFs.rename(&from, &to).map_err(io(&from))?;
                }
            }
            let note = dir.join(format!("{}-{stamp}.txt", db::DB_FILE));
            write_atomic_with(&OsFs, &note, format!("set aside because SQLite says: {reason}\n").as_bytes())
                .map_err(io(&note))?;
            OsFs.sync_dir(root).map_err(io(root))?;
            problems.push(Problem {
                path: path.clone(),
                reason: format!("damaged ({reason}); moved to {} and a new database started", dir.display()),
            });
            db::open_rw(&path)
        }
        other => other,
    }
}
