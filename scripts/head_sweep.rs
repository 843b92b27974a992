//! Measures the head's few-shot accuracy over many disjoint training subsets, for a grid of
//! L2 penalties, with and without the mirrored-view augmentation.
//!
//! Prepare two stores with mirrored views cached (`model.mirror_augment = true`):
//! ```text
//! printf '[model]\nmirror_augment = true\n' > /tmp/mirror.toml
//! for l in cat dog; do
//!   teachcam --config /tmp/mirror.toml --data /tmp/sweep-train import --label $l ../shared/data/catsdogs/train/$l
//!   teachcam --config /tmp/mirror.toml --data /tmp/sweep-test  import --label $l ../shared/data/catsdogs/test/$l
//! done
//! cargo run --release --example head_sweep -- /tmp/sweep-train /tmp/sweep-test 20
//! ```
//! Training subset `s` holds the photos numbered `[s·shots, (s+1)·shots)` of each label (the
//! number is read from the imported file name, `cat.N.jpg`); every head is scored on the
//! whole test store.

use teachcam::embed::tract_backend::file_sha256;
use teachcam::embed::ModelInfo;
use teachcam::head::HeadConfig;
use teachcam::store::{Example, Origin, Store};
use teachcam::train::{class_order, train};

/// The photo number of an imported `label.N.jpg`.
fn photo_number(e: &Example) -> usize {
    let Origin::File(path) = &e.entry.origin else { panic!("{} was not imported from a file", e.entry.id) };
    let file = path.file_name().and_then(|f| f.to_str()).unwrap_or_default();
    file.split('.').nth(1).and_then(|n| n.parse().ok()).expect("imported from label.N.jpg")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, train_dir, test_dir, rest @ ..] = args.as_slice() else {
        eprintln!("usage: head_sweep TRAIN_STORE TEST_STORE [SHOTS]");
        std::process::exit(2);
    };
    let shots: usize = rest.first().map(|s| s.parse().expect("SHOTS is a number")).unwrap_or(20);
    let path = std::path::PathBuf::from("models/efficientnet-lite0-int8.onnx");
    let sha256 = file_sha256(&path).expect("run from the repository root");
    let model = ModelInfo { path, sha256, dims: 1280, classes: Some(1000), preprocess: String::new() };
    let all = Store::open(train_dir.as_ref()).expect("train store").load(&model).examples;
    let test = Store::open(test_dir.as_ref()).expect("test store").load(&model).examples;
    let labels = class_order(&[], all.iter().map(|e| e.entry.label.as_str()));
    let largest = all.iter().map(photo_number).max().unwrap_or(0) + 1;
    let subsets = (largest / shots).min(10);
    println!("{shots} shots per label, {subsets} disjoint subsets, {} test images", test.len());
    for l2 in [1e-3f32, 1e-2, 3e-2, 1e-1] {
        for use_mirrored in [false, true] {
            let cfg = HeadConfig { l2, use_mirrored, ..Default::default() };
            let accs: Vec<(f64, f64)> = (0..subsets)
                .map(|s| {
                    let range = s * shots..(s + 1) * shots;
                    let sub: Vec<Example> = all.iter().filter(|e| range.contains(&photo_number(e))).cloned().collect();
                    let head = train(&sub, &labels, &model, &cfg, None).expect("two labels");
                    let (mut correct, mut sure) = (0, 0);
                    for e in &test {
                        let p = head.predict(&e.embedding.vector);
                        let right = head.labels[p.index] == e.entry.label;
                        correct += right as usize;
                        sure += (right && !p.unsure) as usize;
                    }
                    (correct as f64 / test.len() as f64, sure as f64 / test.len() as f64)
                })
                .collect();
            let n = accs.len() as f64;
            let mean = accs.iter().map(|a| a.0).sum::<f64>() / n;
            let min = accs.iter().map(|a| a.0).fold(1.0, f64::min);
            let sure = accs.iter().map(|a| a.1).sum::<f64>() / n;
            println!(
                "l2 {l2:<5} mirrored {use_mirrored:<5}  mean {:.2}%  worst {:.2}%  subset 0 {:.2}%  \
                 right and above threshold: mean {:.2}%, subset 0 {:.2}%",
                mean * 100.0,
                min * 100.0,
                accs[0].0 * 100.0,
                sure * 100.0,
                accs[0].1 * 100.0
            );
        }
    }
}
