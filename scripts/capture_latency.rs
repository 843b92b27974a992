//! Capture latency against store size: times `Store::add` (one durable transaction per
//! capture) with 10 and with 5 000 examples already stored, with camera-sized images and
//! 1280-dimension embeddings plus their mirrored view, as the daemon stores them.
//!
//!     cargo run --release --example capture_latency [-- DIR]
//!
//! DIR (default: a temporary folder) should be on the disk to measure: on a Pi, the SD card.
//! Prints the median and the 95th percentile per store size.

use std::time::Instant;
use teachcam::embed::{Embedding, ModelInfo};
use teachcam::store::{NewExample, Origin, Store};

const IMAGE_BYTES: usize = 30_000;

fn example(i: usize) -> (Vec<u8>, Embedding) {
    let image: Vec<u8> = (0..IMAGE_BYTES).map(|j| (j * 31 + i * 7) as u8).collect();
    let v: Vec<f32> = (0..1280).map(|j| ((i + j) % 97) as f32 / 97.0).collect();
    (image, Embedding { vector: v.clone(), mirrored: Some(v), zero_shot: None })
}

fn add(store: &mut Store, model: &ModelInfo, i: usize) -> f64 {
    let (image, e) = example(i);
    let label = if i.is_multiple_of(2) { "cat" } else { "dog" };
    let t = Instant::now();
    let new = NewExample { label, image: &image, ext: "jpg", embedding: &e, origin: Origin::Camera };
    store.add(new, model).expect("stored");
    t.elapsed().as_secs_f64() * 1e3
}

fn main() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let root = std::env::args().nth(1).map(std::path::PathBuf::from).unwrap_or_else(|| tmp.path().join("data"));
    let model =
        ModelInfo { path: "m".into(), sha256: "0".repeat(64), dims: 1280, classes: None, preprocess: "p".into() };
    let mut store = Store::open(&root).expect("store");
    let mut i = store.len();
    for target in [10, 5_000] {
        while i < target {
            add(&mut store, &model, i);
            i += 1;
        }
        let mut ms: Vec<f64> = (0..60).map(|k| add(&mut store, &model, i + k)).collect();
        for e in store.entries().iter().rev().take(60) {
            store.remove(&e.id).expect("removed");
        }
        ms.sort_by(f64::total_cmp);
        println!(
            "capture with {target:>5} stored: median {:6.2} ms, p95 {:6.2} ms ({})",
            ms[30],
            ms[57],
            root.display()
        );
    }
}
