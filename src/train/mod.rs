//! Training: a seeded, stratified 80/20 split to measure the head honestly (metrics,
//! best-F1 thresholds, the original model's zero-shot baseline), then the final head on all
//! examples.

pub mod advice;
pub mod background;
mod examples;

pub use examples::load_examples;

use crate::embed::imagenet::labels_are_cat_dog;
use crate::embed::ModelInfo;
use crate::head::{fit, Baseline, Head, HeadConfig, OpenSet, Row, TrainReport};
use crate::metrics::{best_f1_threshold, evaluate};
use crate::store::Example;
use background::BackgroundSet;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::time::Instant;

/// The one label order of a training: the taught labels (those in `taught`, which may
/// repeat) that the config lists, in config order, then the other taught labels in name
/// order. The daemon's detector puts a head into the full config order with
/// [`crate::head::Head::aligned`], so that class `k` is button and LED `k`.
pub fn class_order<'a>(config_labels: &[String], taught: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut taught: Vec<&str> = taught.into_iter().collect();
    taught.sort_unstable();
    taught.dedup();
    let listed = config_labels.iter().filter(|c| taught.contains(&c.as_str())).cloned();
    let others = taught.iter().filter(|l| !config_labels.iter().any(|c| c == *l)).map(|l| l.to_string());
    listed.chain(others).collect()
}

/// Why training could not run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Fewer than two labels have examples.
    #[error("need examples of at least 2 labels to train, found {0}")]
    TooFewLabels(String),
    /// More labels than the head supports.
    #[error("at most 16 labels are supported, found {0}")]
    TooManyLabels(usize),
    /// An example's label is not in the label order given.
    #[error("an example is labelled {0:?}, which is not among the labels trained")]
    Unlisted(String),
    /// An example's embedding holds NaN or infinite values (a damaged cache or a broken model).
    #[error(
        "example {id} ({label}) has a damaged embedding (NaN or infinite values); nothing was trained: re-embed it from its image (`teachcam train` does) or remove it"
    )]
    NonFinite {
        /// The example's id.
        id: String,
        /// Its label.
        label: String,
    },
}

/// True when every value `e` trains on (its vector, and its mirror when `mirrored`) is finite.
pub fn finite_embedding(e: &crate::embed::Embedding, mirrored: bool) -> bool {
    let finite = |v: &[f32]| v.iter().all(|x| x.is_finite());
    finite(&e.vector) && (!mirrored || e.mirrored.as_deref().is_none_or(finite))
}

/// Trains a head whose classes are `labels` (see [`class_order`]; every example's label must
/// be among them) on `examples`, embeddings of the backbone `model`. Labels without examples
/// become classes that are never predicted. With a `background` set, the head also gets its
/// open-set part ("nothing known"), and the report its rejected and background-lit rates.
pub fn train(
    examples: &[Example],
    labels: &[String],
    model: &ModelInfo,
    cfg: &HeadConfig,
    background: Option<&BackgroundSet>,
) -> Result<Head, TrainError> {
    let started = Instant::now();
    let mut by_label: Vec<Vec<&Example>> = vec![Vec::new(); labels.len()];
    if let Some(e) = examples.iter().find(|e| !finite_embedding(&e.embedding, cfg.use_mirrored)) {
        return Err(TrainError::NonFinite { id: e.entry.id.clone(), label: e.entry.label.clone() });
    }
    for e in examples {
        let k = labels
            .iter()
            .position(|l| *l == e.entry.label)
            .ok_or_else(|| TrainError::Unlisted(e.entry.label.clone()))?;
        by_label[k].push(e);
    }
    let taught: Vec<&str> =
        (0..labels.len()).filter(|&k| !by_label[k].is_empty()).map(|k| labels[k].as_str()).collect();
    if taught.len() < 2 {
        return Err(TrainError::TooFewLabels(if taught.is_empty() { "none".into() } else { taught.join(", ") }));
    }
    if labels.len() > 16 {
        return Err(TrainError::TooManyLabels(labels.len()));
    }
    let counts: Vec<usize> = by_label.iter().map(Vec::len).collect();

    // Seeded stratified split (examples sorted by id first, so the split is reproducible).
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(cfg.seed);
    let holdout_possible = counts.iter().all(|&n| n == 0 || n >= cfg.min_examples_for_holdout.max(2));
    let (mut train_set, mut held) = (Vec::new(), Vec::new());
    for (k, group) in by_label.iter().enumerate().filter(|(_, g)| !g.is_empty()) {
        let mut g: Vec<&Example> = group.clone();
        g.sort_by(|a, b| a.entry.id.cmp(&b.entry.id));
        g.shuffle(&mut rng);
        let n_held =
            if holdout_possible { ((g.len() as f32 * cfg.holdout).round() as usize).clamp(1, g.len() - 1) } else { 0 };
        held.extend(g[..n_held].iter().map(|e| (*e, k)));
        train_set.extend(g[n_held..].iter().map(|e| (*e, k)));
    }

    let mut report = TrainReport {
        labels: labels.to_vec(),
        counts,
        n_train: train_set.len(),
        n_holdout: held.len(),
        mirrored: cfg.use_mirrored && examples.iter().any(|e| e.embedding.mirrored.is_some()),
        ..Default::default()
    };
    let fitter = Fitter { labels, model, cfg, background: background.map(|bg| (bg, bg.sha256())) };
    let mut thresholds = vec![cfg.default_threshold; labels.len()];
    if held.is_empty() {
        report.note = Some(format!(
            "no held-out metrics: every label needs at least {} examples",
            cfg.min_examples_for_holdout.max(2)
        ));
        report.n_train = examples.len();
    } else {
        thresholds = measure(&fitter.head(&train_set), &held, taught.len(), &mut report);
    }
    let all: Vec<(&Example, usize)> = train_set.iter().chain(&held).copied().collect();
    let mut head = fitter.head(&all);
    report.background_lit_rate = head.open_set.as_ref().map(OpenSet::background_known_rate);
    report.thresholds = thresholds.clone();
    report.train_ms = started.elapsed().as_secs_f64() * 1e3;
    head.thresholds = thresholds;
    head.report = report;
    Ok(head)
}

/// Fits heads (and their open-set part, with a background set) for one training.
struct Fitter<'a> {
    labels: &'a [String],
    model: &'a ModelInfo,
    cfg: &'a HeadConfig,
    /// The background set and its sha256.
    background: Option<(&'a BackgroundSet, String)>,
}

impl Fitter<'_> {
    /// A head fitted on `set`.
    fn head(&self, set: &[(&Example, usize)]) -> Head {
        let rows = rows(set, self.cfg);
        let mut head = fit(&rows, self.labels, self.model, self.cfg);
        head.open_set = (self.background.as_ref())
            .map(|(bg, sha)| OpenSet::fit(&rows, self.labels.len(), &bg.vectors, sha, self.cfg.reject_margin));
        head
    }
}

/// Measures `measured` on the `held` out examples: fills in the report's held-out metrics,
/// baseline and rejected rate, and returns the best-F1 thresholds (floor `1/taught`).
fn measure(measured: &Head, held: &[(&Example, usize)], taught: usize, report: &mut TrainReport) -> Vec<f32> {
    let labels = &measured.labels;
    let truth: Vec<usize> = held.iter().map(|(_, k)| *k).collect();
    let preds: Vec<_> = held.iter().map(|(e, _)| measured.predict(&e.embedding.vector)).collect();
    let top: Vec<usize> = preds.iter().map(|p| p.index).collect();
    let conf: Vec<f32> = preds.iter().map(|p| p.confidence).collect();
    let thresholds = (0..labels.len())
        .map(|k| best_f1_threshold(k, &truth, &top, &conf, 1.0 / taught as f32).unwrap_or(measured.thresholds[k]))
        .collect();
    if measured.open_set.is_some() {
        report.rejected_rate = Some(preds.iter().filter(|p| !p.known()).count() as f32 / preds.len() as f32);
    }
    report.holdout = Some(evaluate(labels, &truth, &top));
    let taught_labels: Vec<&str> =
        report.counts.iter().zip(labels).filter(|(n, _)| **n > 0).map(|(_, l)| l.as_str()).collect();
    report.baseline = baseline(labels, &taught_labels, held);
    thresholds
}

/// The zero-shot baseline on held-out examples, when the taught labels are cat and dog and
/// every held-out example has zero-shot scores.
fn baseline(labels: &[String], taught: &[&str], held: &[(&Example, usize)]) -> Option<Baseline> {
    if !labels_are_cat_dog(taught) {
        return None;
    }
    let index = |name: &str| labels.iter().position(|l| l.eq_ignore_ascii_case(name)).expect("cat/dog present");
    let zs: Option<Vec<usize>> = held.iter().map(|(e, _)| e.embedding.zero_shot.map(|z| index(z.label()))).collect();
    let truth: Vec<usize> = held.iter().map(|(_, k)| *k).collect();
    let metrics = evaluate(labels, &truth, &zs?);
    Some(Baseline { accuracy: metrics.accuracy, metrics })
}

/// The training rows of `(example, class)` pairs: each embedding, and its mirror when used.
fn rows<'a>(set: &[(&'a Example, usize)], cfg: &HeadConfig) -> Vec<Row<'a>> {
    let mut rows = Vec::new();
    for (e, k) in set {
        rows.push((e.embedding.vector.as_slice(), *k));
        if let (true, Some(m)) = (cfg.use_mirrored, &e.embedding.mirrored) {
            rows.push((m.as_slice(), *k));
        }
    }
    rows
}

#[cfg(test)]
mod tests;
