//! Verifying a store (`teachcam check`): SQLite's own consistency check, then every example's
//! image against its hash (and, on request, that it decodes) and its cached embedding.

use super::{rows, Store};
use crate::embed::ModelInfo;
use serde::Serialize;

/// What [`Store::check`] found.
#[derive(Debug, Default, Serialize)]
pub struct CheckReport {
    /// Number of examples.
    pub examples: usize,
    /// Every example's id, in capture order.
    pub ids: Vec<String>,
    /// Examples whose image is damaged or does not decode, with the reason.
    pub damaged: Vec<Damage>,
    /// Examples whose cached embedding must be recomputed from the image (missing, damaged,
    /// non-finite; with a model, also made by another model or preprocessing). Not damage:
    /// training does it by itself.
    pub stale: usize,
    /// Problems with the store as a whole (SQLite's integrity check, files found on open).
    pub problems: Vec<String>,
}

/// One damaged example.
#[derive(Debug, Serialize)]
pub struct Damage {
    /// Its id.
    pub id: String,
    /// Its label.
    pub label: String,
    /// What is wrong.
    pub reason: String,
}

impl CheckReport {
    /// True when nothing is damaged and the database is consistent.
    pub fn ok(&self) -> bool {
        self.damaged.is_empty() && self.problems.is_empty()
    }
}

pub(super) fn check(store: &Store, model: Option<&ModelInfo>, decode: bool) -> CheckReport {
    let mut report =
        CheckReport { problems: store.problems().iter().map(|p| p.to_string()).collect(), ..Default::default() };
    match store.conn.query_row("PRAGMA quick_check", [], |r| r.get::<_, String>(0)) {
        Ok(s) if s == "ok" => {}
        Ok(s) => report.problems.push(format!("database: {s}")),
        Err(e) => report.problems.push(format!("database: {e}")),
    }
    for entry in store.entries() {
        report.examples += 1;
        report.ids.push(entry.id.clone());
        let damage = |reason: String| Damage { id: entry.id.clone(), label: entry.label.clone(), reason };
        let image = match store.image(&entry.id) {
            Ok(i) => i,
            Err(e) => {
                report.damaged.push(damage(e.to_string()));
                continue;
            }
        };
        if !rows::intact(&entry, &image) {
            report.damaged.push(damage("image differs from what was stored (hash mismatch)".into()));
            continue;
        }
        if decode {
            if let Err(e) = crate::imageio::decode_checked(&image, &Default::default()) {
                report.damaged.push(damage(e.to_string()));
                continue;
            }
        }
        let (key, blob): (String, Vec<u8>) = store
            .conn
            .query_row("SELECT embed_key, embedding FROM examples WHERE id = ?1", [&entry.id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap_or_default();
        let usable = match model {
            Some(model) => rows::unusable(&key, &blob, model).is_ok(),
            None => super::embfile::decode(&blob).is_ok_and(|f| {
                let e = f.embedding;
                e.vector.iter().chain(e.mirrored.iter().flatten()).all(|x| x.is_finite())
            }),
        };
        if !usable {
            report.stale += 1;
        }
    }
    report
}
