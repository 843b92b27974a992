//! The SQL behind [`super::Store`]'s methods, one function per statement.

use super::{embfile, Entry, Example, Loaded, NewExample, Origin, Stale};
use crate::embed::{Embedding, ModelInfo};
use rusqlite::{params, Connection, OptionalExtension, Params, Row};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// The `embed_key` of embeddings migrated from the old file layout, which did not record the
/// preprocessing: they are taken as made with the current one (re-embedding thousands of
/// examples on a Pi at the first start after an update would take many minutes).
pub const LEGACY_KEY: &str = "legacy";

const ENTRY_COLUMNS: &str = "id, label, ext, sha256, origin, added";

fn entry(r: &Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        id: r.get(0)?,
        label: r.get(1)?,
        ext: r.get(2)?,
        sha256: r.get(3)?,
        origin: Origin::from(r.get::<_, String>(4)?),
        added: r.get::<_, i64>(5)?.max(0) as u64,
    })
}

/// Entries matching `tail` (a WHERE / ORDER BY / LIMIT clause; id order when it has none).
pub fn entries<P: Params>(conn: &Connection, tail: &str, params: P) -> rusqlite::Result<Vec<Entry>> {
    let order = if tail.contains("ORDER BY") { "" } else { " ORDER BY id" };
    let sql = format!("SELECT {ENTRY_COLUMNS} FROM examples {tail}{order}");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params, entry)?;
    rows.collect()
}

/// Number of examples.
pub fn count(conn: &Connection) -> rusqlite::Result<usize> {
    conn.query_row("SELECT count(*) FROM examples", [], |r| r.get::<_, i64>(0)).map(|n| n as usize)
}

/// Examples per label.
pub fn counts(conn: &Connection) -> rusqlite::Result<BTreeMap<String, usize>> {
    let mut stmt = conn.prepare_cached("SELECT label, count(*) FROM examples GROUP BY label")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as usize)))?;
    rows.collect()
}

/// A new id: milliseconds since the epoch and a counter, unused so far.
fn new_id(conn: &Connection, millis: u128) -> rusqlite::Result<String> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM examples WHERE id = ?1")?;
    for n in 0.. {
        let id = format!("{millis:013}-{n:03}");
        if !stmt.exists([&id])? {
            return Ok(id);
        }
    }
    unreachable!("some counter value is free")
}

/// A row as stored.
pub struct RowData<'a> {
    /// The entry.
    pub entry: &'a Entry,
    /// The preprocessing key of the embedding ('' for none).
    pub embed_key: &'a str,
    /// The encoded embedding ('' for none).
    pub embedding: &'a [u8],
    /// The image bytes.
    pub image: &'a [u8],
}

/// Inserts a row (ignored when the id exists: migrations can be re-run).
pub fn insert(conn: &Connection, row: &RowData<'_>) -> rusqlite::Result<()> {
    let e = row.entry;
    conn.prepare_cached(
        "INSERT OR IGNORE INTO examples (id, label, ext, sha256, origin, added, embed_key, embedding, image)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        e.id,
        e.label,
        e.ext,
        e.sha256,
        String::from(e.origin.clone()),
        e.added as i64,
        row.embed_key,
        row.embedding,
        row.image
    ])?;
    Ok(())
}

/// Adds an example in one (durable) transaction.
pub fn add(conn: &Connection, new: NewExample<'_>, model: &ModelInfo) -> rusqlite::Result<Entry> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let entry = Entry {
        id: new_id(conn, now.as_millis())?,
        label: new.label.to_string(),
        ext: new.ext.to_ascii_lowercase(),
        sha256: hex::encode(Sha256::digest(new.image)),
        origin: new.origin,
        added: now.as_secs(),
    };
    let embedding = embfile::encode(&model.sha256, new.embedding);
    insert(conn, &RowData { entry: &entry, embed_key: &model.preprocess, embedding: &embedding, image: new.image })?;
    Ok(entry)
}

/// Replaces an example's embedding.
pub fn update_embedding(conn: &Connection, id: &str, e: &Embedding, model: &ModelInfo) -> rusqlite::Result<()> {
    let blob = embfile::encode(&model.sha256, e);
    conn.prepare_cached("UPDATE examples SET embed_key = ?1, embedding = ?2 WHERE id = ?3")?.execute(params![
        model.preprocess,
        blob,
        id
    ])?;
    Ok(())
}

/// Removes an example, recording the change (one transaction); returns its entry.
pub fn remove(conn: &Connection, id: &str) -> rusqlite::Result<Option<Entry>> {
    let Some(e) = entries(conn, "WHERE id = ?1", [id])?.pop() else { return Ok(None) };
    let tx = conn.unchecked_transaction()?;
    tx.prepare_cached("DELETE FROM examples WHERE id = ?1")?.execute([id])?;
    super::edit::mark_changed(&tx)?;
    tx.commit()?;
    Ok(Some(e))
}

/// An example's image bytes.
pub fn image(conn: &Connection, id: &str) -> rusqlite::Result<Vec<u8>> {
    conn.query_row("SELECT image FROM examples WHERE id = ?1", [id], |r| r.get(0))
        .optional()?
        .ok_or(rusqlite::Error::QueryReturnedNoRows)
}

/// Why a stored embedding cannot be used with `model`, if it cannot.
pub fn unusable(key: &str, blob: &[u8], model: &ModelInfo) -> Result<Embedding, String> {
    if blob.is_empty() {
        return Err("no cached embedding".into());
    }
    let f = embfile::decode(blob).map_err(|e| format!("cached embedding damaged: {e}"))?;
    if f.model_sha256 != model.sha256 {
        return Err("embedded by a different model".into());
    }
    if key != model.preprocess && key != LEGACY_KEY {
        return Err(format!("embedded with other preprocessing ({key})"));
    }
    let e = f.embedding;
    if !e.vector.iter().chain(e.mirrored.iter().flatten()).all(|x| x.is_finite()) {
        return Err("cached embedding has non-finite values".into());
    }
    Ok(e)
}

/// True when `image` still has the hash taken when it was stored.
pub fn intact(entry: &Entry, image: &[u8]) -> bool {
    entry.sha256.is_empty() || hex::encode(Sha256::digest(image)) == entry.sha256
}

/// Every example with a usable embedding, the stale ones and the damaged ones.
pub fn load(conn: &Connection, model: &ModelInfo) -> rusqlite::Result<Loaded> {
    let mut stmt =
        conn.prepare(&format!("SELECT {ENTRY_COLUMNS}, embed_key, embedding, image FROM examples ORDER BY id"))?;
    let mut rows = stmt.query([])?;
    let mut out = Loaded::default();
    while let Some(r) = rows.next()? {
        let e = entry(r)?;
        let (key, blob, image): (String, Vec<u8>, Vec<u8>) = (r.get(6)?, r.get(7)?, r.get(8)?);
        if !intact(&e, &image) {
            out.damaged
                .push(Stale { entry: e, reason: "image damaged: its content differs from what was stored".into() });
            continue;
        }
        match unusable(&key, &blob, model) {
            Ok(embedding) => out.examples.push(Example { entry: e, embedding }),
            Err(reason) => out.stale.push(Stale { entry: e, reason }),
        }
    }
    Ok(out)
}
