use super::*;
use crate::embed::ZeroShot;

const SHA: &str = "1111111111111111111111111111111111111111111111111111111111111111";

fn model(sha: &str) -> ModelInfo {
    ModelInfo { path: "m.onnx".into(), sha256: sha.into(), dims: 3, classes: None }
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

#[test]
fn added_examples_survive_reopen() {
    let (dir, s, a, _) = store_with_two();
    drop(s);
    let s = Store::open(dir.path()).unwrap();
    assert!(s.problems().is_empty(), "{:?}", s.problems());
    assert_eq!(s.counts().into_iter().collect::<Vec<_>>(), vec![("cat".into(), 1), ("dog".into(), 1)]);
    let loaded = s.load(&model(SHA));
    assert_eq!(loaded.examples.len(), 2);
    assert_eq!(loaded.examples[0].embedding, emb(1.0));
    assert_eq!(loaded.examples[0].entry, a);
    assert_eq!(s.find_by_sha256(&a.sha256).unwrap().id, a.id);
    assert!(loaded.examples[1].entry.image.ends_with(".jpg"), "extension lower-cased");
}

#[test]
fn damaged_embedding_is_reported_and_others_still_load() {
    let (dir, s, a, _) = store_with_two();
    let p = dir.path().join("examples/cat").join(format!("{}.emb", a.id));
    let mut bytes = std::fs::read(&p).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    std::fs::write(&p, bytes).unwrap();
    let loaded = s.load(&model(SHA));
    assert_eq!(loaded.examples.len(), 1, "the dog still loads");
    assert_eq!(loaded.examples[0].entry.label, "dog");
    assert_eq!(loaded.stale.len(), 1, "the cat is queued for re-embedding from its image");
    assert_eq!(loaded.problems.len(), 1);
    assert!(loaded.problems[0].to_string().contains("checksum"), "{}", loaded.problems[0]);
    assert!(dir.path().join("examples/cat").join(&a.image).exists(), "the image is never deleted");
}

#[test]
fn embeddings_from_another_model_are_stale_not_lost() {
    let (_dir, s, _, _) = store_with_two();
    let loaded = s.load(&model(&"2".repeat(64)));
    assert!(loaded.examples.is_empty());
    assert_eq!(loaded.stale.len(), 2);
    assert!(loaded.problems.is_empty());
}

#[test]
fn crash_before_index_write_is_recovered() {
    let (dir, s, _, _) = store_with_two();
    drop(s);
    // A capture interrupted after its image and embedding but before the index was rewritten.
    let cat = dir.path().join("examples/cat");
    std::fs::write(cat.join("9999999999999-000.jpg"), b"late").unwrap();
    std::fs::write(cat.join("9999999999999-000.emb"), embfile::encode(SHA, &emb(3.0))).unwrap();
    // And a temp file left by a write that never got renamed.
    std::fs::write(cat.join(".x.emb.1.tmp"), b"half").unwrap();
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(s.counts()["cat"], 2);
    assert!(s.problems().iter().any(|p| p.reason.contains("recovered")));
    assert!(!cat.join(".x.emb.1.tmp").exists());
    assert_eq!(s.load(&model(SHA)).examples.len(), 3);
    // The recovery was written back: a second open finds nothing to fix.
    assert!(Store::open(dir.path()).unwrap().problems().is_empty());
}

#[test]
fn image_without_embedding_is_stale() {
    let (dir, s, _, _) = store_with_two();
    drop(s);
    std::fs::write(dir.path().join("examples/dog/9999999999999-000.png"), b"img").unwrap();
    let s = Store::open(dir.path()).unwrap();
    let loaded = s.load(&model(SHA));
    assert_eq!(loaded.examples.len(), 2);
    assert_eq!(loaded.stale.len(), 1);
    assert!(loaded.stale[0].reason.contains("missing"));
}

#[test]
fn damaged_index_is_rebuilt_from_folders() {
    let (dir, s, _, _) = store_with_two();
    drop(s);
    std::fs::write(dir.path().join("index.json"), b"{ not json").unwrap();
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(s.entries().len(), 2);
    assert!(s.problems()[0].to_string().contains("index.json"));
    assert_eq!(s.load(&model(SHA)).examples.len(), 2);
}

#[test]
fn index_entry_without_files_is_dropped() {
    let (dir, s, a, _) = store_with_two();
    drop(s);
    std::fs::remove_file(dir.path().join("examples/cat").join(&a.image)).unwrap();
    let s = Store::open(dir.path()).unwrap();
    assert_eq!(s.entries().len(), 1);
    assert!(s.problems()[0].reason.contains("gone"));
}

#[test]
fn remove_deletes_files_and_entry() {
    let (dir, mut s, a, b) = store_with_two();
    assert_eq!(s.remove(&a.id).unwrap().unwrap().id, a.id);
    assert!(s.remove(&a.id).unwrap().is_none());
    assert!(!dir.path().join("examples/cat").join(&a.image).exists());
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
}
