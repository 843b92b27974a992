//! Training: a seeded, stratified 80/20 split to measure the head honestly (metrics,
//! best-F1 thresholds, the original model's zero-shot baseline), then the final head on all
//! examples.

mod examples;

pub use examples::load_examples;

use crate::embed::imagenet::labels_are_cat_dog;
use crate::embed::l2_normalised;
use crate::head::softmax::{fit, FitParams};
use crate::head::{featurise, Head, VERSION};
use crate::metrics::{best_f1_threshold, evaluate, Metrics};
use crate::store::Example;
use ndarray::Array2;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;

/// The `[head]` section of the configuration.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HeadConfig {
    /// L2 penalty on the weights.
    pub l2: f32,
    /// Upper bound on gradient steps.
    pub max_iters: usize,
    /// Seed of the held-out split.
    pub seed: u64,
    /// Fraction of each label held out for the metrics.
    pub holdout: f32,
    /// Labels with fewer examples than this get no held-out part (and the metrics are skipped).
    pub min_examples_for_holdout: usize,
    /// Threshold for labels the held-out part cannot calibrate.
    pub default_threshold: f32,
    /// Train on the cached mirrored embeddings too, when present.
    pub use_mirrored: bool,
}

impl Default for HeadConfig {
    fn default() -> Self {
        Self {
            l2: 1e-2,
            max_iters: 300,
            seed: 42,
            holdout: 0.2,
            min_examples_for_holdout: 5,
            default_threshold: 0.6,
            use_mirrored: true,
        }
    }
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
}

/// The original model's zero-shot accuracy on the held-out images.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Accuracy of "dog if P(dog breeds) > P(cats)".
    pub accuracy: f32,
    /// Its full metrics.
    pub metrics: Metrics,
}

/// What training measured; saved inside the head.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// Labels, in class order.
    pub labels: Vec<String>,
    /// Examples per label.
    pub counts: Vec<usize>,
    /// Examples used to fit the measured head.
    pub n_train: usize,
    /// Examples held out to measure it.
    pub n_holdout: usize,
    /// Held-out metrics; `None` when a label had too few examples to hold any out.
    pub holdout: Option<Metrics>,
    /// Per-label thresholds: the lowest with the best F1 on the held-out part.
    pub thresholds: Vec<f32>,
    /// The original ImageNet model on the same held-out images (cat/dog labels only).
    pub baseline: Option<Baseline>,
    /// Whether mirrored embeddings were used as extra training examples.
    pub mirrored: bool,
    /// Milliseconds to fit the measured head and the final one.
    pub train_ms: f64,
    /// Why metrics are missing, if they are.
    pub note: Option<String>,
}

/// Trains a head on `examples` (embeddings from the model `model_sha256`, `dims` long).
pub fn train(examples: &[Example], model_sha256: &str, dims: usize, cfg: &HeadConfig) -> Result<Head, TrainError> {
    let started = Instant::now();
    let mut by_label: BTreeMap<&str, Vec<&Example>> = BTreeMap::new();
    for e in examples {
        by_label.entry(&e.entry.label).or_default().push(e);
    }
    if by_label.len() < 2 {
        let found = if by_label.is_empty() {
            "none".to_string()
        } else {
            by_label.keys().cloned().collect::<Vec<_>>().join(", ")
        };
        return Err(TrainError::TooFewLabels(found));
    }
    if by_label.len() > 16 {
        return Err(TrainError::TooManyLabels(by_label.len()));
    }
    let labels: Vec<String> = by_label.keys().map(|s| s.to_string()).collect();
    let counts: Vec<usize> = by_label.values().map(Vec::len).collect();

    // Seeded stratified split (examples sorted by id first, so the split is reproducible).
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(cfg.seed);
    let holdout_possible = counts.iter().all(|&n| n >= cfg.min_examples_for_holdout.max(2));
    let (mut train_set, mut held) = (Vec::new(), Vec::new());
    for (k, group) in by_label.values().enumerate() {
        let mut g: Vec<&Example> = group.clone();
        g.sort_by(|a, b| a.entry.id.cmp(&b.entry.id));
        g.shuffle(&mut rng);
        let n_held =
            if holdout_possible { ((g.len() as f32 * cfg.holdout).round() as usize).clamp(1, g.len() - 1) } else { 0 };
        held.extend(g[..n_held].iter().map(|e| (*e, k)));
        train_set.extend(g[n_held..].iter().map(|e| (*e, k)));
    }

    let mut report = TrainReport {
        labels: labels.clone(),
        counts,
        n_train: train_set.len(),
        n_holdout: held.len(),
        mirrored: cfg.use_mirrored && examples.iter().any(|e| e.embedding.mirrored.is_some()),
        ..Default::default()
    };
    let mut thresholds = vec![cfg.default_threshold; labels.len()];
    if held.is_empty() {
        report.note = Some(format!(
            "no held-out metrics: every label needs at least {} examples",
            cfg.min_examples_for_holdout.max(2)
        ));
        report.n_train = examples.len();
    } else {
        let measured = fit_head(&train_set, &labels, model_sha256, dims, cfg);
        let truth: Vec<usize> = held.iter().map(|(_, k)| *k).collect();
        let preds: Vec<_> = held.iter().map(|(e, _)| measured.predict(&e.embedding.vector)).collect();
        let top: Vec<usize> = preds.iter().map(|p| p.index).collect();
        let conf: Vec<f32> = preds.iter().map(|p| p.confidence).collect();
        for (k, t) in thresholds.iter_mut().enumerate() {
            if let Some(best) = best_f1_threshold(k, &truth, &top, &conf, 1.0 / labels.len() as f32) {
                *t = best;
            }
        }
        report.holdout = Some(evaluate(&labels, &truth, &top));
        report.baseline = baseline(&labels, &held);
    }
    let mut head =
        fit_head(&train_set.iter().chain(&held).copied().collect::<Vec<_>>(), &labels, model_sha256, dims, cfg);
    report.thresholds = thresholds.clone();
    report.train_ms = started.elapsed().as_secs_f64() * 1e3;
    head.thresholds = thresholds;
    head.report = report;
    Ok(head)
}

/// The zero-shot baseline on held-out examples, when the labels are cat and dog and every
/// held-out example has zero-shot scores.
fn baseline(labels: &[String], held: &[(&Example, usize)]) -> Option<Baseline> {
    if !labels_are_cat_dog(labels) {
        return None;
    }
    let index = |name: &str| labels.iter().position(|l| l.eq_ignore_ascii_case(name)).expect("cat/dog present");
    let zs: Option<Vec<usize>> = held.iter().map(|(e, _)| e.embedding.zero_shot.map(|z| index(z.label()))).collect();
    let truth: Vec<usize> = held.iter().map(|(_, k)| *k).collect();
    let metrics = evaluate(labels, &truth, &zs?);
    Some(Baseline { accuracy: metrics.accuracy, metrics })
}

/// Fits a head on `(example, class)` pairs.
fn fit_head(set: &[(&Example, usize)], labels: &[String], model_sha256: &str, dims: usize, cfg: &HeadConfig) -> Head {
    let mut rows: Vec<(&[f32], usize)> = Vec::new();
    for (e, k) in set {
        rows.push((&e.embedding.vector, *k));
        if let (true, Some(m)) = (cfg.use_mirrored, &e.embedding.mirrored) {
            rows.push((m, *k));
        }
    }
    let normalised: Vec<Vec<f32>> = rows.iter().map(|(v, _)| l2_normalised(v)).collect();
    let mut centre = vec![0f32; dims];
    for v in &normalised {
        centre.iter_mut().zip(v).for_each(|(c, x)| *c += x / normalised.len() as f32);
    }
    let mean_sq =
        normalised.iter().map(|v| v.iter().zip(&centre).map(|(x, c)| (x - c) * (x - c)).sum::<f32>()).sum::<f32>()
            / normalised.len() as f32;
    let scale = if mean_sq > 0.0 { 1.0 / mean_sq.sqrt() } else { 1.0 };
    let mut x = Array2::<f32>::zeros((rows.len(), dims));
    for (i, (v, _)) in rows.iter().enumerate() {
        x.row_mut(i).assign(&featurise(v, &centre, scale));
    }
    let y: Vec<usize> = rows.iter().map(|(_, k)| *k).collect();
    let params = FitParams { l2: cfg.l2, max_iters: cfg.max_iters, tolerance: 1e-4 };
    let f = fit(x.view(), &y, labels.len(), params);
    Head {
        version: VERSION,
        labels: labels.to_vec(),
        model_sha256: model_sha256.to_string(),
        dims,
        centre,
        scale,
        weights: f.w.rows().into_iter().map(|r| r.to_vec()).collect(),
        bias: f.b.to_vec(),
        thresholds: vec![cfg.default_threshold; labels.len()],
        trained_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        report: TrainReport::default(),
    }
}

#[cfg(test)]
mod tests;
