//! Fixing what was taught: removing, relabelling and resetting examples, each as one
//! transaction (all of it or none of it, durable when it returns), recording when the
//! examples last changed so that a head trained before can be seen to be out of date.

use super::rows;
use super::Entry;
use rusqlite::{params, Connection, Transaction};
use std::time::{SystemTime, UNIX_EPOCH};

/// The `meta` key holding when examples were last removed or relabelled (milliseconds since
/// the Unix epoch). Additions are dated by their own `added` column (seconds).
pub const CHANGED: &str = "examples_changed";

/// Why an edit was refused (nothing was changed).
#[derive(Debug)]
pub enum EditError {
    /// These ids are not stored.
    Unknown(Vec<String>),
    /// The database failed.
    Db(rusqlite::Error),
}

impl From<rusqlite::Error> for EditError {
    fn from(e: rusqlite::Error) -> Self {
        EditError::Db(e)
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Records, within `tx`, that the examples changed now.
pub fn mark_changed(tx: &Connection) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2")?
        .execute(params![CHANGED, now_ms().to_string()])?;
    Ok(())
}

/// When the examples last changed: the newest addition (to the second, rounded down),
/// removal or relabelling, in milliseconds since the Unix epoch, if any.
pub fn changed_at_ms(conn: &Connection) -> rusqlite::Result<Option<u64>> {
    let added: Option<i64> = conn.query_row("SELECT max(added) FROM examples", [], |r| r.get(0))?;
    let edited = super::db::meta(conn, CHANGED)?.and_then(|v| v.parse::<i64>().ok());
    Ok(added.map(|s| s.saturating_mul(1000)).max(edited).map(|t| t.max(0) as u64))
}

/// The entries of `ids` (in the order given, duplicates once), or the ids not stored.
fn find(tx: &Transaction<'_>, ids: &[String]) -> Result<Vec<Entry>, EditError> {
    let mut found = Vec::new();
    let mut unknown = Vec::new();
    for id in ids {
        if found.iter().any(|e: &Entry| e.id == *id) || unknown.contains(id) {
            continue;
        }
        match rows::entries(tx, "WHERE id = ?1", [id])?.pop() {
            Some(e) => found.push(e),
            None => unknown.push(id.clone()),
        }
    }
    if unknown.is_empty() {
        Ok(found)
    } else {
        Err(EditError::Unknown(unknown))
    }
}

/// Removes the examples `ids`: all of them, or none when any is not stored.
pub fn remove(conn: &mut Connection, ids: &[String]) -> Result<Vec<Entry>, EditError> {
    let tx = conn.transaction()?;
    let found = find(&tx, ids)?;
    for e in &found {
        tx.prepare_cached("DELETE FROM examples WHERE id = ?1")?.execute([&e.id])?;
    }
    mark_changed(&tx)?;
    tx.commit()?;
    Ok(found)
}

/// Gives the examples `ids` the label `to`: all of them, or none when any is not stored.
/// Returns their entries as they were.
pub fn relabel(conn: &mut Connection, ids: &[String], to: &str) -> Result<Vec<Entry>, EditError> {
    let tx = conn.transaction()?;
    let found = find(&tx, ids)?;
    for e in &found {
        tx.prepare_cached("UPDATE examples SET label = ?1 WHERE id = ?2")?.execute([to, &e.id])?;
    }
    mark_changed(&tx)?;
    tx.commit()?;
    Ok(found)
}

/// Removes every example; returns how many there were.
pub fn reset(conn: &mut Connection) -> rusqlite::Result<usize> {
    let tx = conn.transaction()?;
    let n = tx.execute("DELETE FROM examples", [])?;
    mark_changed(&tx)?;
    tx.commit()?;
    Ok(n)
}

/// Every entry, or those of one label.
pub fn list(conn: &Connection, label: Option<&str>) -> rusqlite::Result<Vec<Entry>> {
    match label {
        Some(l) => rows::entries(conn, "WHERE label = ?1", [l]),
        None => rows::entries(conn, "", []),
    }
}
