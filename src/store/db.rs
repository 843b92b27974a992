//! The SQLite database behind the store: one file, `DATA/teachcam.db`, in WAL mode with
//! `synchronous = FULL`, so that each capture is one transaction made durable by one fsync of
//! the journal, and a power cut at any instant leaves the last committed state.
//!
//! One row per example: its identity and the image and embedding blobs (last, so that listing
//! examples never reads the blobs).

use super::StoreError;
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// The database file inside the data folder.
pub const DB_FILE: &str = "teachcam.db";

/// Schema version (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS examples (
    id        TEXT PRIMARY KEY,   -- sorts in capture order
    label     TEXT NOT NULL,
    ext       TEXT NOT NULL,      -- image format: jpg, png
    sha256    TEXT NOT NULL,      -- of the image bytes
    origin    TEXT NOT NULL,      -- camera, recovered, or the imported file's path
    added     INTEGER NOT NULL,   -- seconds since the Unix epoch
    embed_key TEXT NOT NULL,      -- the preprocessing the embedding was made with ('' = none)
    embedding BLOB NOT NULL,      -- see store::embfile ('' = none)
    image     BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS examples_label ON examples(label);
CREATE INDEX IF NOT EXISTS examples_sha256 ON examples(sha256);
";

/// Wraps an SQLite error with the database path; a full disk and a read-only file system get
/// their own variants.
pub fn err(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| {
        let code = e.sqlite_error_code();
        match code {
            Some(ErrorCode::DiskFull) => StoreError::Full { path: path.to_path_buf() },
            Some(ErrorCode::ReadOnly) => StoreError::ReadOnly { path: path.to_path_buf(), reason: e.to_string() },
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
                StoreError::Corrupt { path: path.to_path_buf(), reason: e.to_string() }
            }
            _ => StoreError::Db { path: path.to_path_buf(), reason: e.to_string() },
        }
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(())
}

/// Opens (creating if needed) the database for reading and writing, in WAL mode with full
/// sync, with the schema in place.
pub fn open_rw(path: &Path) -> Result<Connection, StoreError> {
    let e = err(path);
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(&e)?;
    configure(&conn).map_err(&e)?;
    if conn.is_readonly(rusqlite::MAIN_DB).map_err(&e)? {
        // SQLite falls back to reading when the file or its file system cannot be written.
        let reason = "the file or its file system is read-only".to_string();
        return Err(StoreError::ReadOnly { path: path.to_path_buf(), reason });
    }
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(&e)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Db { path: path.into(), reason: format!("cannot use WAL mode (got {mode})") });
    }
    conn.pragma_update(None, "synchronous", "FULL").map_err(&e)?;
    if check_version(&conn, path)? != SCHEMA_VERSION {
        // Only a new (or older) file is written to on open.
        conn.execute_batch(SCHEMA).map_err(&e)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(&e)?;
    }
    Ok(conn)
}

/// Opens an existing database without writing to it; on a read-only file system where SQLite
/// cannot share the journal, opens it as immutable (changes still only in the journal of a
/// crashed writer are then not seen).
pub fn open_ro(path: &Path) -> Result<Connection, StoreError> {
    let e = err(path);
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let try_open = |conn: Connection| -> rusqlite::Result<Connection> {
        configure(&conn)?;
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))?;
        Ok(conn)
    };
    let conn = match Connection::open_with_flags(path, flags).and_then(try_open) {
        Ok(c) => c,
        Err(first) => {
            let uri = format!("file:{}?immutable=1", path.display());
            Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
                .and_then(try_open)
                .map_err(|_| e(first))?
        }
    };
    check_version(&conn, path)?;
    Ok(conn)
}

/// An in-memory database with the schema (a read-only view of an old-layout folder).
pub fn open_memory() -> Result<Connection, StoreError> {
    let path = Path::new(":memory:");
    let conn = Connection::open_in_memory().map_err(err(path))?;
    conn.execute_batch(SCHEMA).map_err(err(path))?;
    Ok(conn)
}

/// The file's schema version, refusing a newer one.
fn check_version(conn: &Connection, path: &Path) -> Result<i64, StoreError> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(err(path))?;
    if v > SCHEMA_VERSION {
        return Err(StoreError::Db {
            path: path.into(),
            reason: format!("made by a newer teachcam (schema {v}, this one knows {SCHEMA_VERSION}); update teachcam"),
        });
    }
    Ok(v)
}

/// A meta value.
pub fn meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    use rusqlite::OptionalExtension;
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()
}
