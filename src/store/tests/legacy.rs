//! Migration from the old file layout, and reading it without writing.

use super::*;
use crate::fsutil::sim::SimFs;
use std::collections::BTreeSet;

/// An old-layout folder: two cats and a dog with index entries and `.emb` files, a cat the
/// index lacks (interrupted write), an orphan `.emb`, a stray temp file that is not ours.
pub(super) fn old_folder(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut images = Vec::new();
    let mut index = index::Index { version: 1, examples: Vec::new() };
    for (i, label) in ["cat", "cat", "dog", "cat"].iter().enumerate() {
        let dir = root.join("examples").join(label);
        std::fs::create_dir_all(&dir).unwrap();
        let id = format!("170000000000{i}-000");
        let bytes = format!("image {i}").into_bytes();
        std::fs::write(dir.join(format!("{id}.jpg")), &bytes).unwrap();
        std::fs::write(dir.join(format!("{id}.emb")), embfile::encode(SHA, &emb(i as f32))).unwrap();
        if i < 3 {
            index.examples.push(index::IndexEntry {
                id: id.clone(),
                label: label.to_string(),
                image: format!("{id}.jpg"),
                sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
                origin: Origin::Camera,
                added: 1_700_000_000,
            });
        }
        images.push((id, bytes));
    }
    std::fs::write(root.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    std::fs::write(root.join("examples/dog/1699999999999-000.emb"), b"orphan").unwrap();
    std::fs::write(root.join("examples/dog/notes.tmp"), b"mine").unwrap();
    images
}

/// Every file under `root`, relative, with its content.
pub(super) fn tree(root: &Path) -> BTreeSet<(PathBuf, Vec<u8>)> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().strip_prefix(root).unwrap().to_path_buf(), std::fs::read(e.path()).unwrap()))
        .collect()
}

#[test]
fn an_old_folder_is_migrated_once_and_its_files_kept() {
    let dir = tempfile::tempdir().unwrap();
    let images = old_folder(dir.path());
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(s.len(), 4);
    let reasons: Vec<String> = s.problems().iter().map(|p| p.to_string()).collect();
    assert!(reasons.iter().any(|r| r.contains("recovered")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("orphan")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("notes.tmp") && r.contains("left alone")), "{reasons:?}");
    let loaded = s.load(&model(SHA));
    assert_eq!(loaded.examples.len(), 4, "old embeddings are used as they are: {:?}", loaded.stale);
    for (id, bytes) in &images {
        assert_eq!(&s.image(id).unwrap(), bytes);
    }
    assert!(!dir.path().join("examples").exists() && !dir.path().join("index.json").exists());
    assert!(dir.path().join("migrated-files/examples/cat").is_dir());
    assert!(dir.path().join("migrated-files/index.json").is_file());
    drop(s);
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(s.len(), 4);
    assert!(s.problems().is_empty(), "{:?}", s.problems());
}

#[test]
fn an_old_folder_read_only_is_shown_without_a_single_write() {
    let dir = tempfile::tempdir().unwrap();
    old_folder(dir.path());
    let before = tree(dir.path());
    let s = Store::open_read_only(dir.path()).unwrap();
    assert_eq!(s.len(), 4);
    assert_eq!(s.counts()["cat"], 3);
    assert_eq!(s.load(&model(SHA)).examples.len(), 4);
    drop(s);
    assert_eq!(tree(dir.path()), before);
}

fn sqlite_files(name: &str) -> bool {
    name.starts_with(DB_FILE)
}

/// A power cut at every file operation of the migration: after the reboot every old example
/// is in the database or still in its old place (usually both), none twice, none damaged, and
/// no file of the old folder is lost.
#[test]
fn migration_survives_a_power_cut_at_every_file_operation() {
    let count_ops = {
        let dir = tempfile::tempdir().unwrap();
        old_folder(dir.path());
        let fs = SimFs::new(dir.path(), None, sqlite_files);
        let mut conn = db::open_rw(&dir.path().join(DB_FILE)).unwrap();
        migrate::migrate(&fs, dir.path(), &mut conn, &mut Vec::new()).unwrap();
        fs.ops()
    };
    assert!(count_ops >= 6, "{count_ops} operations");
    for k in 1..=count_ops + 1 {
        let dir = tempfile::tempdir().unwrap();
        let images = old_folder(dir.path());
        let original: BTreeSet<Vec<u8>> = tree(dir.path()).into_iter().map(|(_, b)| b).collect();
        let fs = SimFs::new(dir.path(), Some(k), sqlite_files);
        let mut conn = db::open_rw(&dir.path().join(DB_FILE)).unwrap();
        let done = migrate::migrate(&fs, dir.path(), &mut conn, &mut Vec::new()).is_ok();
        drop(conn);
        fs.crash();
        assert_eq!(done, k > count_ops, "crash point {k}");
        let after: BTreeSet<Vec<u8>> = tree(dir.path()).into_iter().map(|(_, b)| b).collect();
        assert!(original.is_subset(&after), "crash point {k}: an old file was lost");
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.len(), images.len(), "crash point {k}");
        for (id, bytes) in &images {
            assert_eq!(&s.image(id).unwrap(), bytes, "crash point {k}");
        }
        assert!(s.check(Some(&model(SHA)), false).ok(), "crash point {k}");
        assert!(!dir.path().join("examples").exists(), "crash point {k}: the reopen finished the move");
    }
}
