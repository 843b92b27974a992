//! The analysed-model cache (`model.cache`): a cached start gives exactly the embeddings of an
//! uncached one, and a damaged or unwritable cache only costs time.

mod common;
use teachcam::embed::cache::ModelCache;
use teachcam::embed::{Embedder, ModelConfig};

fn config(cache: &str) -> ModelConfig {
    ModelConfig {
        path: common::repo().join("models/efficientnet-lite0-int8.onnx"),
        cache: cache.into(),
        ..Default::default()
    }
}

fn embedding(cfg: &ModelConfig) -> Vec<f32> {
    let dir = common::repo().join("tests/fixtures/reference");
    let (_, rgb) = teachcam::imageio::read_image(&dir.join("b.png"), &Default::default()).unwrap();
    let out = Embedder::open(cfg).unwrap().run(&rgb, false).unwrap();
    out.embedding.into_iter().chain(out.logits.unwrap()).collect()
}

/// The cache files `dir` holds.
fn files(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn a_cached_start_gives_the_same_embeddings() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    let uncached = embedding(&config("off"));
    let first = embedding(&config(dir.to_str().unwrap()));
    let names = files(&dir);
    assert_eq!(names.len(), 3, "one model file, its key and the model's noted sha256: {names:?}");
    assert!(names.iter().any(|n| n.ends_with(".nnef.tar")), "{names:?}");
    let cached = embedding(&config(dir.to_str().unwrap()));
    assert_eq!(first, uncached, "the first (writing) start");
    assert_eq!(cached, uncached, "the start from the cache");
}

#[test]
fn a_damaged_cache_is_ignored_and_rewritten() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let cfg = config(dir.to_str().unwrap());
    let expected = embedding(&cfg);
    let tar = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".nnef.tar"))
        .unwrap();
    // Flip one byte in the middle (a weight): the checksum catches it.
    let mut bytes = std::fs::read(&tar).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&tar, &bytes).unwrap();
    assert_eq!(embedding(&cfg), expected, "a flipped byte");
    assert_ne!(std::fs::read(&tar).unwrap(), bytes, "rewritten after the damage");
    // Truncated, and garbage in place of the model.
    std::fs::write(&tar, &bytes[..1000]).unwrap();
    assert_eq!(embedding(&cfg), expected, "a truncated file");
    std::fs::write(&tar, b"not a tar").unwrap();
    assert_eq!(embedding(&cfg), expected, "garbage");
    assert!(ModelCache::new(&dir, "0", &[1], &[]).load().is_none(), "no entry for another model");
}

#[test]
fn an_unusable_cache_folder_is_no_error() {
    let tmp = tempfile::tempdir().unwrap();
    // A file where the folder should be: nothing can be written there.
    let blocker = tmp.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let expected = embedding(&config("off"));
    assert_eq!(embedding(&config(blocker.join("cache").to_str().unwrap())), expected);
}

#[test]
fn the_noted_sha256_follows_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, model) = (tmp.path().join("cache"), tmp.path().join("m.onnx"));
    std::fs::write(&model, b"first contents").unwrap();
    let first = teachcam::embed::cache::model_sha256(Some(&dir), &model).unwrap();
    assert_eq!(first, teachcam::embed::tract_backend::file_sha256(&model).unwrap());
    assert_eq!(teachcam::embed::cache::model_sha256(Some(&dir), &model).unwrap(), first, "from the note");
    // The same size, written again: a new sha256, not the noted one.
    std::fs::write(&model, b"other contents").unwrap();
    let second = teachcam::embed::cache::model_sha256(Some(&dir), &model).unwrap();
    assert_ne!(second, first);
    assert_eq!(second, teachcam::embed::tract_backend::file_sha256(&model).unwrap());
    // A damaged note is recomputed over.
    for note in std::fs::read_dir(&dir).unwrap() {
        std::fs::write(note.unwrap().path(), b"garbage").unwrap();
    }
    assert_eq!(teachcam::embed::cache::model_sha256(Some(&dir), &model).unwrap(), second);
}
