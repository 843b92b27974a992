//! Migrating a data folder from the old file layout ([`super::legacy`]) into the database.
//!
//! Crash-safe in two steps:
//! 1. every old example goes into the database in **one** transaction that also records
//!    `legacy_migrated` in `meta`; a crash before its commit leaves the database without the
//!    mark and the old files untouched, so the next open simply migrates again;
//! 2. only then are `index.json` and `examples/` moved into `migrated-files/` (renames, then
//!    folder syncs); a crash in between leaves the mark set and some files still in place,
//!    and the next open finishes the moves. Nothing is deleted.

use super::legacy::{self, LegacyExample, EXAMPLES, INDEX};
use super::rows::{self, RowData, LEGACY_KEY};
use super::{db, index::IndexEntry, Entry, Problem, StoreError};
use crate::fsutil::{create_dir_durable, Fs};
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Where migrated files are moved.
pub const MIGRATED: &str = "migrated-files";

/// The `meta` key set by the migration's transaction.
const MARK: &str = "legacy_migrated";

/// True when an old-layout folder at `root` still needs its examples put into the database.
pub fn pending(root: &Path, db_path: &Path) -> bool {
    legacy::present(root) && db::open_ro(db_path).ok().and_then(|c| db::meta(&c, MARK).ok().flatten()).is_none()
}

/// Inserts the old layout's examples into `conn` (within the caller's transaction, if any).
/// Returns how many were inserted.
pub fn load_legacy(conn: &Connection, root: &Path, problems: &mut Vec<Problem>) -> Result<usize, StoreError> {
    let db_path = root.join(db::DB_FILE);
    let mut n = 0;
    for ex in legacy::read(root, problems) {
        let image = match std::fs::read(&ex.image) {
            Ok(b) => b,
            Err(e) => {
                problems.push(Problem {
                    path: ex.image.clone(),
                    reason: format!("unreadable ({e}); not migrated, left in place"),
                });
                continue;
            }
        };
        let entry = entry_of(&ex, &image, problems);
        let emb = std::fs::read(&ex.emb).unwrap_or_default();
        let key = if emb.is_empty() { "" } else { LEGACY_KEY };
        rows::insert(conn, &RowData { entry: &entry, embed_key: key, embedding: &emb, image: &image })
            .map_err(db::err(&db_path))?;
        n += 1;
    }
    Ok(n)
}

fn entry_of(ex: &LegacyExample, image: &[u8], problems: &mut Vec<Problem>) -> Entry {
    let IndexEntry { id, label, image: name, sha256, origin, added } = ex.entry.clone();
    let actual = hex::encode(Sha256::digest(image));
    if !sha256.is_empty() && sha256 != actual {
        problems.push(Problem {
            path: ex.image.clone(),
            reason: "differs from the hash recorded in index.json (damaged?); migrated, to be quarantined".into(),
        });
    }
    let ext =
        Path::new(&name).extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_else(|| "jpg".into());
    Entry { id, label, ext, sha256: if sha256.is_empty() { actual } else { sha256 }, origin, added }
}

/// Migrates the old layout at `root` into `conn`, if there is one; see the module docs.
pub fn migrate(fs: &dyn Fs, root: &Path, conn: &mut Connection, problems: &mut Vec<Problem>) -> Result<(), StoreError> {
    if !legacy::present(root) {
        return Ok(());
    }
    let db_path = root.join(db::DB_FILE);
    let e = db::err(&db_path);
    if db::meta(conn, MARK).map_err(&e)?.is_none() {
        let tx = conn.transaction().map_err(&e)?;
        let n = load_legacy(&tx, root, problems)?;
        tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", [MARK, &n.to_string()]).map_err(&e)?;
        tx.commit().map_err(&e)?;
        log::info!("moved {n} examples from the old file layout into {}", db_path.display());
    }
    move_aside(fs, root)
}

/// Moves the old layout's files into `migrated-files/` (or `migrated-files-N/` where an
/// earlier migration left the same name).
fn move_aside(fs: &dyn Fs, root: &Path) -> Result<(), StoreError> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| StoreError::Io { path: p, source }
    };
    for name in [EXAMPLES, INDEX] {
        let from = root.join(name);
        if !from.exists() {
            continue;
        }
        let dest = free_folder(root, name);
        create_dir_durable(fs, &dest).map_err(io(&dest))?;
        fs.rename(&from, &dest.join(name)).map_err(io(&from))?;
        fs.sync_dir(&dest).map_err(io(&dest))?;
        fs.sync_dir(root).map_err(io(root))?;
        log::info!("the old layout's {name} is kept in {} (delete it once you no longer need it)", dest.display());
    }
    Ok(())
}

/// The first of `migrated-files`, `migrated-files-2`, … without `name` in it.
fn free_folder(root: &Path, name: &str) -> PathBuf {
    std::iter::once(root.join(MIGRATED))
        .chain((2..).map(|n| root.join(format!("{MIGRATED}-{n}"))))
        .find(|p| !p.join(name).exists())
        .expect("a free name")
}
