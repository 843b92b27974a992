//! 20-shot cat/dog accuracy of one backbone variant (model file × input size), mean over 10
//! disjoint training subsets, as the model tables in `models/README.md` report it.
//!
//! Import the photos with the variant's configuration (its `model.path` and `model.input_size`),
//! into one store for training photos and one for test photos:
//! ```text
//! printf 'data_dir = "/tmp/v/train"\n[model]\npath = "V.onnx"\ninput_size = 192\n' > /tmp/v.toml
//! for l in cat dog; do
//!   teachcam --config /tmp/v.toml --data /tmp/v/train import --label $l ../shared/data/catsdogs/train/$l/$l.{0..199}.jpg
//!   teachcam --config /tmp/v.toml --data /tmp/v/test  import --label $l ../shared/data/catsdogs/test/$l
//! done
//! cargo run --release --example variant_accuracy -- /tmp/v.toml /tmp/v/train /tmp/v/test 20
//! ```
//! Training subset `s` holds the photos numbered `[s·shots, (s+1)·shots)` of each label (from
//! the imported file name `label.N.jpg`, as `head_sweep`); each head is trained with the
//! configuration's `[head]` settings and no background set, and scored on the whole test store.
//! Only embeddings made by this model file with this preprocessing are used.

use teachcam::config::Config;
use teachcam::embed::tract_backend::file_sha256;
use teachcam::embed::ModelInfo;
use teachcam::store::{Example, Origin, Store};
use teachcam::train::{class_order, train};

/// The photo number of an imported `label.N.jpg`, if it has one.
fn photo_number(e: &Example) -> Option<usize> {
    let Origin::File(path) = &e.entry.origin else { return None };
    path.file_name()?.to_str()?.split('.').nth(1)?.parse().ok()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, config, train_dir, test_dir, rest @ ..] = args.as_slice() else {
        eprintln!("usage: variant_accuracy CONFIG TRAIN_STORE TEST_STORE [SHOTS]");
        std::process::exit(2);
    };
    let fail = |what: String| -> ! {
        eprintln!("variant_accuracy: {what}");
        std::process::exit(1)
    };
    let shots: usize = rest.first().map_or(Ok(20), |s| s.parse()).unwrap_or_else(|_| fail("SHOTS is a number".into()));
    let config = Config::load(config.as_ref()).unwrap_or_else(|e| fail(format!("{e}")));
    let path = config.model.path.clone();
    let sha256 = file_sha256(&path).unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
    let model =
        ModelInfo { path, sha256, dims: 1280, classes: Some(1000), preprocess: config.model.preprocess().key() };
    let load = |dir: &str| {
        let store = Store::open(dir.as_ref()).unwrap_or_else(|e| fail(format!("{dir}: {e}")));
        let loaded = store.load(&model);
        if !loaded.stale.is_empty() {
            eprintln!("{dir}: {} examples not made by this model and preprocessing, left out", loaded.stale.len());
        }
        loaded.examples
    };
    let all = load(train_dir);
    let test = load(test_dir);
    if all.is_empty() || test.is_empty() {
        fail("no usable examples (were the stores imported with this configuration?)".into());
    }
    let labels = class_order(&[], all.iter().map(|e| e.entry.label.as_str()));
    let largest = all.iter().filter_map(photo_number).max().unwrap_or(0) + 1;
    let subsets = (largest / shots).min(10);
    let accs: Vec<f64> = (0..subsets)
        .map(|s| {
            let range = s * shots..(s + 1) * shots;
            let sub: Vec<Example> =
                all.iter().filter(|e| photo_number(e).is_some_and(|n| range.contains(&n))).cloned().collect();
            let head = train(&sub, &labels, &model, &config.head, None).unwrap_or_else(|e| fail(format!("{e}")));
            let correct = test.iter().filter(|e| head.labels[head.predict(&e.embedding.vector).index] == e.entry.label);
            correct.count() as f64 / test.len() as f64
        })
        .collect();
    let n = accs.len() as f64;
    let mean = accs.iter().sum::<f64>() / n;
    let worst = accs.iter().copied().fold(1.0, f64::min);
    println!(
        "{} @ {}px: {shots}-shot accuracy mean {:.2}% worst {:.2}% over {subsets} subsets, {} test images",
        model.path.display(),
        config.model.input_size,
        mean * 100.0,
        worst * 100.0,
        test.len()
    );
}
