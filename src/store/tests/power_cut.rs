//! Power cuts through SQLite's own journal: captures and undos are committed to the WAL, each
//! acknowledged only once its commit is durable. A power cut keeps a prefix of the WAL (what
//! was fsynced, possibly followed by a torn, partly written tail). For every cut point in the
//! journal, the reopened store must hold exactly the state after the last acknowledged
//! operation before the cut: nothing acknowledged lost, nothing half-applied, nothing damaged.

use super::*;
use std::collections::BTreeSet;

/// The committed WAL bytes and the ids stored after each acknowledged operation.
struct Trace {
    db: Vec<u8>,
    wal: Vec<u8>,
    acks: Vec<(usize, BTreeSet<String>)>,
}

fn wal_len(root: &Path) -> usize {
    std::fs::metadata(root.join(format!("{DB_FILE}-wal"))).map(|m| m.len() as usize).unwrap_or(0)
}

/// Captures of growing size, undos and re-embeddings, checkpoints off so that every change
/// stays in the journal.
fn run_sequence() -> Trace {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path()).unwrap();
    s.conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    let mut ids = BTreeSet::new();
    let mut acks = vec![(0, ids.clone())]; // before the schema, as after it: nothing stored
    for i in 0..24u32 {
        let image: Vec<u8> = (0..(300 * i + 50)).map(|j| (j * 7 + i) as u8).collect();
        let label = ["cat", "dog", "none"][i as usize % 3];
        let e = add(&mut s, label, &image, "jpg", &emb(i as f32), "t").unwrap();
        ids.insert(e.id.clone());
        acks.push((wal_len(dir.path()), ids.clone()));
        if i % 5 == 4 {
            let last = s.last().unwrap();
            s.remove(&last.id).unwrap();
            ids.remove(&last.id);
            acks.push((wal_len(dir.path()), ids.clone()));
        }
        if i % 7 == 3 {
            s.update_embedding(&e, &emb(100.0 + i as f32), &model(SHA)).unwrap();
            acks.push((wal_len(dir.path()), ids.clone()));
        }
    }
    let db = std::fs::read(dir.path().join(DB_FILE)).unwrap();
    let wal = std::fs::read(dir.path().join(format!("{DB_FILE}-wal"))).unwrap();
    assert_eq!(wal.len(), acks.last().unwrap().0);
    Trace { db, wal, acks }
}

/// Reboots onto `db` plus the first `cut` bytes of the journal and `tail` garbage bytes.
fn reboot(t: &Trace, cut: usize, tail: &[u8]) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(DB_FILE), &t.db).unwrap();
    let mut wal = t.wal[..cut].to_vec();
    wal.extend_from_slice(tail);
    std::fs::write(dir.path().join(format!("{DB_FILE}-wal")), wal).unwrap();
    let s = Store::open(dir.path()).unwrap();
    (dir, s)
}

#[test]
fn every_cut_point_in_the_journal_keeps_exactly_what_was_acknowledged() {
    let t = run_sequence();
    assert!(t.acks.len() > 30, "{} acknowledged operations", t.acks.len());
    // Around every commit (just before, at, just after) and inside frames all along.
    let mut cuts: BTreeSet<usize> = (0..t.wal.len()).step_by(4111).collect();
    for (len, _) in &t.acks {
        cuts.extend([len.saturating_sub(1), *len, (*len + 1).min(t.wal.len())]);
    }
    let garbage: Vec<u8> = (0..3000u32).map(|i| (i * 31 + 7) as u8).collect();
    let mut runs = 0;
    for &cut in &cuts {
        let expected = &t.acks.iter().rev().find(|(len, _)| *len <= cut).unwrap().1;
        let torn = t.acks.iter().any(|(len, _)| *len == cut);
        for tail in if torn { vec![&[][..], &garbage[..]] } else { vec![&[][..]] } {
            let (_dir, s) = reboot(&t, cut, tail);
            let ids: BTreeSet<String> = s.entries().into_iter().map(|e| e.id).collect();
            assert_eq!(&ids, expected, "cut at byte {cut} of {}, torn tail {}", t.wal.len(), tail.len());
            let report = s.check(Some(&model(SHA)), false);
            assert!(report.ok() && report.stale == 0, "cut at {cut}: {report:?}");
            runs += 1;
        }
    }
    println!("power cuts simulated in the journal: {runs} (acknowledged operations: {})", t.acks.len() - 1);
}
