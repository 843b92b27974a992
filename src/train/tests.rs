use super::*;
use crate::embed::{Embedding, ZeroShot};
use crate::head::HeadConfig;
use crate::store::{Entry, Origin};
use rand::Rng;

/// `n` examples of `label` around the axis `axis` in 16 dims; zero-shot says cat for even ids.
fn examples(label: &str, axis: usize, n: usize, rng: &mut impl Rng) -> Vec<Example> {
    (0..n)
        .map(|i| {
            let mut v: Vec<f32> = (0..16).map(|_| rng.random_range(0.0..0.6)).collect();
            v[axis] += 2.0;
            let zero_shot =
                Some(if i % 2 == 0 { ZeroShot { dog: 0.1, cat: 0.8 } } else { ZeroShot { dog: 0.7, cat: 0.2 } });
            Example {
                entry: Entry {
                    id: format!("{label}-{i:04}"),
                    label: label.into(),
                    ext: "jpg".into(),
                    sha256: String::new(),
                    origin: Origin::Camera,
                    added: 0,
                },
                embedding: Embedding { vector: v.clone(), mirrored: Some(v), zero_shot },
            }
        })
        .collect()
}

fn model() -> ModelInfo {
    ModelInfo { path: "m.onnx".into(), sha256: "sha".into(), dims: 16, classes: None, preprocess: String::new() }
}

/// Trains in the order `class_order` gives for these examples and no config labels.
fn fit(examples: &[Example]) -> Result<Head, TrainError> {
    let labels = class_order(&[], examples.iter().map(|e| e.entry.label.as_str()));
    train(examples, &labels, &model(), &HeadConfig::default(), None)
}

fn dataset(n: usize) -> Vec<Example> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut all = examples("cat", 0, n, &mut rng);
    all.extend(examples("dog", 1, n, &mut rng));
    all
}

#[test]
fn separable_examples_train_to_perfect_holdout() {
    let head = fit(&dataset(25)).unwrap();
    let r = &head.report;
    assert_eq!(r.labels, ["cat", "dog"]);
    assert_eq!((r.n_train, r.n_holdout), (40, 10), "5 of 25 per label held out");
    let m = r.holdout.as_ref().unwrap();
    assert_eq!(m.accuracy, 1.0);
    assert_eq!(m.confusion, vec![vec![5, 0], vec![0, 5]]);
    assert!(r.mirrored);
    // The zero-shot stand-in is right for half the images at most: the baseline is reported and worse.
    let b = r.baseline.as_ref().unwrap();
    assert!(b.accuracy < 1.0);
    assert_eq!(b.metrics.n, 10);
    assert!(head.thresholds.iter().all(|t| (0.5..=1.0).contains(t)), "{:?}", head.thresholds);
}

#[test]
fn training_is_deterministic_for_a_seed_and_split_depends_on_it() {
    let data = dataset(20);
    let strip = |mut h: Head| {
        h.trained_at = 0;
        h.report.train_ms = 0.0;
        h
    };
    let a = strip(fit(&data).unwrap());
    let b = strip(fit(&data).unwrap());
    assert_eq!(a, b);
    let mut reversed = data.clone();
    reversed.reverse();
    assert_eq!(a, strip(fit(&reversed).unwrap()), "input order does not matter");
}

#[test]
fn few_examples_train_without_holdout_and_say_why() {
    let head = fit(&dataset(3)).unwrap();
    assert!(head.report.holdout.is_none());
    assert!(head.report.note.as_ref().unwrap().contains("at least 5"));
    assert_eq!(head.thresholds, vec![0.6, 0.6]);
    assert_eq!(head.predict(&dataset(3)[0].embedding.vector).index, 0);
}

#[test]
fn one_label_is_an_error() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let e = fit(&examples("cat", 0, 5, &mut rng)).unwrap_err();
    assert!(e.to_string().contains("at least 2 labels") && e.to_string().contains("cat"), "{e}");
    assert!(fit(&[]).is_err());
}

#[test]
fn no_baseline_for_other_labels() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut data = examples("apple", 0, 10, &mut rng);
    data.extend(examples("pear", 1, 10, &mut rng));
    let head = fit(&data).unwrap();
    assert!(head.report.baseline.is_none());
    assert!(head.report.holdout.is_some());
}

#[test]
fn class_order_puts_the_config_labels_first_then_the_others_by_name() {
    let config = ["dog".to_string(), "cat".to_string(), "none".to_string()];
    assert_eq!(class_order(&config, ["zebra", "cat", "apple", "dog", "cat"]), ["dog", "cat", "apple", "zebra"]);
    assert_eq!(class_order(&config, ["cat", "dog"]), ["dog", "cat"], "config labels without examples are left out");
    assert_eq!(class_order(&[], ["b", "a"]), ["a", "b"]);
}

#[test]
fn a_label_without_examples_is_a_class_that_is_never_predicted() {
    let labels: Vec<String> = ["dog", "bird", "cat"].map(String::from).to_vec();
    let data = dataset(10);
    let head = train(&data, &labels, &model(), &HeadConfig::default(), None).unwrap();
    assert_eq!(head.labels, labels);
    assert_eq!(head.report.counts, [10, 0, 10]);
    let m = head.report.holdout.as_ref().unwrap();
    assert_eq!(m.confusion[1], [0, 0, 0], "nothing held out for bird");
    assert_eq!(m.accuracy, 1.0);
    for e in &data {
        let p = head.predict(&e.embedding.vector);
        assert_eq!(p.probs[1], 0.0);
        assert_eq!(head.labels[p.index], e.entry.label);
    }
    // Unlisted labels are refused rather than silently dropped.
    let e = train(&data, &labels[..2], &model(), &HeadConfig::default(), None).unwrap_err();
    assert!(matches!(e, TrainError::Unlisted(ref l) if l == "cat"), "{e}");
}

#[test]
fn a_nan_embedding_is_refused_naming_the_example() {
    let mut data = dataset(10);
    data[13].embedding.vector[4] = f32::NAN;
    let e = fit(&data).unwrap_err();
    assert!(matches!(e, TrainError::NonFinite { ref id, ref label } if id == "dog-0003" && label == "dog"), "{e}");
    assert!(e.to_string().contains("dog-0003 (dog)"), "{e}");
    // A damaged mirror counts only when mirrors are trained on.
    let mut data = dataset(10);
    data[0].embedding.mirrored.as_mut().unwrap()[0] = f32::INFINITY;
    assert!(matches!(fit(&data), Err(TrainError::NonFinite { .. })));
    let labels = class_order(&[], ["cat", "dog"]);
    let cfg = HeadConfig { use_mirrored: false, ..HeadConfig::default() };
    assert!(train(&data, &labels, &model(), &cfg, None).is_ok());
}

/// A cached embedding with a NaN in it (the case that once made `train` spin) is re-embedded
/// from its image by `load_examples`, the cache is repaired, and training runs.
#[test]
fn load_examples_re_embeds_a_nan_cache_from_its_image() {
    use crate::embed::fake::FakeBackbone;
    use crate::store::{NewExample, Store};
    let dir = tempfile::tempdir().unwrap();
    let embedder = FakeBackbone::embedder(&Default::default());
    let mut store = Store::open(dir.path()).unwrap();
    for (label, colour) in [("cat", [250, 20, 20]), ("dog", [20, 20, 250])] {
        let mut png = Vec::new();
        image::RgbImage::from_pixel(8, 8, image::Rgb(colour))
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let mut embedding = embedder.embed(&image::load_from_memory(&png).unwrap().to_rgb8(), true).unwrap();
        if label == "dog" {
            embedding.vector[0] = f32::NAN;
        }
        let new = NewExample { label, image: &png, ext: "png", embedding: &embedding, origin: Origin::Camera };
        store.add(new, embedder.info()).unwrap();
    }
    let loaded = load_examples(&mut store, &embedder, true).unwrap();
    assert_eq!(loaded.examples.len(), 2, "the damaged example is recovered, not lost");
    assert!(loaded.examples.iter().all(|e| finite_embedding(&e.embedding, true)));
    drop(store);
    let again = Store::open(dir.path()).unwrap().load(embedder.info());
    assert_eq!(again.examples.len(), 2, "the cache was rewritten: {:?}", again.stale);
    let labels = class_order(&[], ["cat", "dog"]);
    train(&loaded.examples, &labels, embedder.info(), &HeadConfig::default(), None).expect("trains");
}

/// `n` examples of `label` whose embedding leans `lean` towards axis 1 over axis 0, in a lot
/// of noise: the two labels overlap.
fn overlapping(label: &str, lean: f32, n: usize, rng: &mut impl Rng) -> Vec<Example> {
    let mut out = examples(label, 0, n, rng);
    for e in &mut out {
        let v: Vec<f32> = (0..16).map(|_| rng.random_range(0.0..2.0)).collect();
        e.embedding.vector = v;
        e.embedding.vector[0] += 1.0 - lean;
        e.embedding.vector[1] += lean;
        e.embedding.mirrored = None;
    }
    out
}

#[test]
fn balanced_training_keeps_finding_the_label_with_few_examples() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let mut taught = overlapping("cat", 0.0, 300, &mut rng);
    taught.extend(overlapping("dog", 1.0, 10, &mut rng));
    let fresh_dogs = overlapping("dog", 1.0, 200, &mut rng);
    let labels = class_order(&[], taught.iter().map(|e| e.entry.label.as_str()));
    let recall = |balance: bool| {
        let cfg = HeadConfig { balance, ..HeadConfig::default() };
        let head = train(&taught, &labels, &model(), &cfg, None).unwrap();
        fresh_dogs.iter().filter(|e| head.predict(&e.embedding.vector).index == 1).count()
    };
    let (plain, balanced) = (recall(false), recall(true));
    assert!(balanced >= 150 && plain + 50 <= balanced, "dogs found of 200: plain {plain}, balanced {balanced}");
}

#[test]
fn balanced_labels_train_exactly_as_before() {
    let all = dataset(20);
    let labels = class_order(&[], all.iter().map(|e| e.entry.label.as_str()));
    let head = |balance| {
        let h = train(&all, &labels, &model(), &HeadConfig { balance, ..HeadConfig::default() }, None).unwrap();
        (h.weights, h.bias, h.thresholds)
    };
    assert_eq!(head(true), head(false), "equal counts: every weight 1, the same fit bit for bit");
}
