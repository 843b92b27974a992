use super::*;
use crate::embed::ZeroShot;

mod legacy;
mod power_cut;

const SHA: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const PRE: &str = "224px nchw center mean 127,127,127 std 128,128,128";

fn model(sha: &str) -> ModelInfo {
    ModelInfo { path: "m.onnx".into(), sha256: sha.into(), dims: 3, classes: None, preprocess: PRE.into() }
}

/// Adds an example imported from `from`.
fn add(s: &mut Store, label: &str, image: &[u8], ext: &str, e: &Embedding, from: &str) -> Result<Entry, StoreError> {
    s.add(NewExample { label, image, ext, embedding: e, origin: Origin::File(from.into()) }, &model(SHA))
}

fn emb(x: f32) -> Embedding {
    Embedding {
        vector: vec![x, 1.0, 2.0],
        mirrored: Some(vec![x, -1.0, 0.0]),
        zero_shot: Some(ZeroShot { dog: 0.1, cat: 0.9 }),
    }
}

fn store_with_two() -> (tempfile::TempDir, Store, Entry, Entry) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path()).unwrap();
    let a = add(&mut s, "cat", b"jpeg-a", "jpg", &emb(1.0), "a.jpg").unwrap();
    let b = add(&mut s, "dog", b"jpeg-b", "JPG", &emb(2.0), "b.jpg").unwrap();
    (dir, s, a, b)
}

/// Runs SQL on the store's database from outside, as damage would.
fn tamper(dir: &Path, sql: &str) {
    rusqlite::Connection::open(dir.join(DB_FILE)).unwrap().execute_batch(sql).unwrap();
}

#[test]
fn added_examples_survive_reopen() {
    let (dir, s, a, b) = store_with_two();
    drop(s);
    let s = Store::open(dir.path()).unwrap();
    assert!(s.problems().is_empty(), "{:?}", s.problems());
    assert!(s.read_only().is_none());
    assert_eq!(s.counts().into_iter().collect::<Vec<_>>(), vec![("cat".into(), 1), ("dog".into(), 1)]);
    let loaded = s.load(&model(SHA));
    assert_eq!(loaded.examples.len(), 2);
    assert_eq!(loaded.examples[0].embedding, emb(1.0));
    assert_eq!(loaded.examples[0].entry, a);
    assert_eq!(s.find_by_sha256(&a.sha256).unwrap().id, a.id);
    assert_eq!(loaded.examples[1].entry.ext, "jpg", "extension lower-cased");
    assert_eq!(s.image(&b.id).unwrap(), b"jpeg-b");
    assert_eq!(s.last().unwrap(), b);
    assert_eq!(s.len(), 2);
}

#[test]
fn damaged_embedding_is_stale_and_others_still_load() {
    let (dir, s, a, _) = store_with_two();
    tamper(dir.path(), &format!("UPDATE examples SET embedding = substr(embedding, 1, 20) WHERE id = '{}'", a.id));
    let loaded = s.load(&model(SHA));
    assert_eq!(loaded.examples.len(), 1, "the dog still loads");
    assert_eq!(loaded.examples[0].entry.label, "dog");
    assert_eq!(loaded.stale.len(), 1, "the cat is queued for re-embedding from its image");
    assert!(loaded.stale[0].reason.contains("damaged"), "{}", loaded.stale[0].reason);
}

#[test]
fn embeddings_from_another_model_or_preprocessing_are_stale_not_lost() {
    let (_dir, s, _, _) = store_with_two();
    let loaded = s.load(&model(&"2".repeat(64)));
    assert!(loaded.examples.is_empty());
    assert_eq!(loaded.stale.len(), 2);
    assert!(loaded.stale[0].reason.contains("different model"));
    let other = ModelInfo { preprocess: "192px nchw center mean 0,0,0 std 1,1,1".into(), ..model(SHA) };
    let loaded = s.load(&other);
    assert_eq!(loaded.stale.len(), 2);
    assert!(loaded.stale[0].reason.contains("preprocessing"), "{}", loaded.stale[0].reason);
}

#[test]
fn non_finite_embeddings_are_stale() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path()).unwrap();
    let mut bad = emb(0.0);
    bad.vector[1] = f32::NAN;
    add(&mut s, "cat", b"x", "jpg", &bad, "t").unwrap();
    bad.vector[1] = f32::INFINITY;
    add(&mut s, "cat", b"y", "jpg", &bad, "t").unwrap();
    let loaded = s.load(&model(SHA));
    assert!(loaded.examples.is_empty());
    assert_eq!(loaded.stale.len(), 2);
    assert!(loaded.stale.iter().all(|s| s.reason.contains("non-finite")));
}

#[test]
fn damaged_image_is_detected_and_quarantined_not_deleted() {
    let (dir, mut s, a, _) = store_with_two();
    tamper(dir.path(), &format!("UPDATE examples SET image = X'00ff' WHERE id = '{}'", a.id));
    let loaded = s.load(&model(SHA));
    assert_eq!(loaded.damaged.len(), 1);
    assert_eq!(loaded.examples.len(), 1);
    let report = s.check(Some(&model(SHA)), false);
    assert_eq!(report.damaged.len(), 1);
    assert!(!report.ok());
    let to = s.quarantine(&loaded.damaged[0].entry, &loaded.damaged[0].reason).unwrap();
    assert_eq!(std::fs::read(&to).unwrap(), [0x00, 0xff], "the bytes are kept");
    let note = std::fs::read_to_string(to.with_extension("txt")).unwrap();
    assert!(note.contains(&a.id) && note.contains("cat") && note.contains("damaged"), "{note}");
    assert_eq!(s.len(), 1);
    assert!(s.check(Some(&model(SHA)), false).ok());
}

#[test]
fn remove_deletes_the_row() {
    let (dir, mut s, a, b) = store_with_two();
    assert_eq!(s.remove(&a.id).unwrap().unwrap().id, a.id);
    assert!(s.remove(&a.id).unwrap().is_none());
    drop(s);
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(s.entries().iter().map(|e| &e.id).collect::<Vec<_>>(), vec![&b.id]);
}

#[test]
fn bad_labels_are_refused_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path()).unwrap();
    for bad in ["", "../x", "a/b", ".hidden", "with space", &"x".repeat(33)] {
        assert!(matches!(add(&mut s, bad, b"i", "jpg", &emb(0.0), "t"), Err(StoreError::BadLabel(_))), "{bad:?}");
    }
    assert!(s.entries().is_empty());
    assert!(validate_label("None_1-b").is_ok());
}

#[test]
fn ids_are_unique_and_in_capture_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path()).unwrap();
    let ids: Vec<String> = (0..20).map(|i| add(&mut s, "cat", &[i], "jpg", &emb(i as f32), "t").unwrap().id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted);
    assert_eq!(s.entries().into_iter().map(|e| e.id).collect::<Vec<_>>(), ids);
}

#[test]
fn read_only_open_creates_nothing_and_refuses_changes() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo");
    assert!(matches!(Store::open_read_only(&missing), Err(StoreError::Missing(_))));
    assert!(!missing.exists(), "a read-only open created the folder");
    let (dir, s, a, _) = store_with_two();
    drop(s);
    let mut ro = Store::open_read_only(dir.path()).unwrap();
    assert_eq!(ro.len(), 2);
    assert!(ro.read_only().is_some());
    assert!(matches!(ro.remove(&a.id), Err(StoreError::NotWritable { .. })));
    assert!(matches!(add(&mut ro, "cat", b"z", "jpg", &emb(0.0), "t"), Err(StoreError::NotWritable { .. })));
}

#[test]
fn a_full_database_refuses_the_capture_then_takes_the_next_once_there_is_room() {
    let (_dir, mut s, _, _) = store_with_two();
    let pages: i64 = s.conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
    s.conn.pragma_update(None, "max_page_count", pages).unwrap();
    let big = vec![7u8; 64 * 1024];
    let e = add(&mut s, "cat", &big, "jpg", &emb(3.0), "t").unwrap_err();
    assert!(matches!(e, StoreError::Full { .. }), "{e}");
    assert!(e.to_string().contains("disk is full"), "{e}");
    assert_eq!(s.len(), 2, "nothing half-stored");
    s.conn.pragma_update(None, "max_page_count", 1_000_000).unwrap();
    add(&mut s, "cat", &big, "jpg", &emb(3.0), "t").unwrap();
    assert_eq!(s.len(), 3);
}

#[test]
fn a_damaged_database_file_is_set_aside_and_a_new_one_started() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(DB_FILE), vec![0x5a; 8192]).unwrap();
    let mut s = Store::open(dir.path()).unwrap();
    assert!(s.problems().iter().any(|p| p.reason.contains("damaged")), "{:?}", s.problems());
    let kept: Vec<_> =
        std::fs::read_dir(dir.path().join("quarantine")).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(kept.len(), 2, "the old file and a note: {kept:?}");
    add(&mut s, "cat", b"x", "jpg", &emb(0.0), "t").unwrap();
    assert_eq!(s.len(), 1);
}

#[test]
fn a_newer_schema_is_refused_with_a_message() {
    let (dir, s, _, _) = store_with_two();
    drop(s);
    tamper(dir.path(), "PRAGMA user_version = 99");
    let e = Store::open_read_only(dir.path()).unwrap_err();
    assert!(e.to_string().contains("newer teachcam"), "{e}");
}

#[test]
fn remove_many_and_relabel_are_all_or_nothing_and_durable() {
    let (dir, mut s, a, b) = store_with_two();
    let c = add(&mut s, "cat", b"jpeg-c", "jpg", &emb(3.0), "c.jpg").unwrap();
    // An unknown id among known ones: nothing changes, the error names it.
    let err = s.remove_many(&[a.id.clone(), "nope".into()]).unwrap_err();
    assert!(matches!(&err, StoreError::UnknownExamples(ids) if ids == &["nope".to_string()]), "{err}");
    assert!(s.relabel(&[b.id.clone(), "nope".into()], "cat").is_err());
    assert_eq!(s.counts(), [("cat".to_string(), 2), ("dog".to_string(), 1)].into());
    assert!(matches!(s.relabel(std::slice::from_ref(&a.id), "../x"), Err(StoreError::BadLabel(_))));

    let was = s.relabel(&[a.id.clone(), a.id.clone()], "dog").unwrap();
    assert_eq!((was.len(), was[0].label.as_str()), (1, "cat"));
    let gone = s.remove_many(&[c.id.clone(), b.id.clone()]).unwrap();
    assert_eq!(gone.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), [c.id.as_str(), b.id.as_str()]);
    drop(s);
    let s = Store::open_read_only(dir.path()).unwrap();
    assert_eq!(s.counts(), [("dog".to_string(), 1)].into(), "the edits survive reopening");
    assert_eq!(s.list(Some("dog")).unwrap()[0].id, a.id);
    assert!(s.list(Some("cat")).unwrap().is_empty());
}

#[test]
fn edits_move_changed_at_and_reset_empties_the_store() {
    let (dir, mut s, a, _) = store_with_two();
    let added = s.changed_at_ms().unwrap();
    assert!(added > 0 && added % 1000 == 0, "additions are dated to the second");
    // Pretend the examples were added long ago: a relabel dates the change now.
    tamper(dir.path(), "UPDATE examples SET added = 1000");
    assert_eq!(s.changed_at_ms(), Some(1_000_000));
    s.relabel(std::slice::from_ref(&a.id), "dog").unwrap();
    assert!(s.changed_at_ms().unwrap() >= added);
    tamper(dir.path(), "UPDATE meta SET value = '2000' WHERE key = 'examples_changed'");
    s.remove(&a.id).unwrap();
    assert!(s.changed_at_ms().unwrap() >= added, "UNDO counts as a change too");
    assert_eq!(s.reset().unwrap(), 1);
    assert!(s.is_empty() && s.changed_at_ms().unwrap() >= added);
    let ro = Store::open_read_only(dir.path()).unwrap();
    assert!(ro.is_empty());
    let mut ro = ro;
    assert!(matches!(ro.reset(), Err(StoreError::NotWritable { .. })));
}
