//! Fitting a head: featurisation, then softmax regression on the taught classes. A class of
//! the label order with no examples gets zero weights and [`UNTAUGHT_BIAS`], so its
//! probability is exactly 0 and it is never predicted, while the class indices stay those of
//! the label order.

use super::softmax::{fit_weighted, FitParams};
use super::{Features, Head, TrainReport, VERSION};
use crate::config::{check_f32, check_int, BadValue};
use crate::embed::ModelInfo;
use ndarray::Array2;
use serde::Deserialize;
use std::path::PathBuf;

/// Where the background set training uses as "nothing taught" comes from (`head.background`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(from = "String")]
pub enum BackgroundSource {
    /// `"builtin"`: the set shipped next to the model (`<model>.background.bin`).
    #[default]
    Builtin,
    /// `"off"`: no background set.
    Off,
    /// Any other value: a set file of the user's (made with `teachcam background`).
    File(PathBuf),
}

impl From<String> for BackgroundSource {
    fn from(s: String) -> Self {
        match s.as_str() {
            "builtin" => Self::Builtin,
            "off" => Self::Off,
            _ => Self::File(PathBuf::from(s)),
        }
    }
}

/// Bias of a class with no examples: `exp(-1e4)` is 0 in f32, so its probability is 0.
pub const UNTAUGHT_BIAS: f32 = -1e4;

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
    /// The background set: `"builtin"`, `"off"` or a file.
    pub background: BackgroundSource,
    /// Open-set margin: a frame is "nothing known" when its similarity to the nearest taught
    /// class minus that to the nearest background photo is below this (0 by default; higher
    /// rejects more, lower fewer; −2 never rejects).
    pub reject_margin: f32,
    /// Weight each label equally in the loss, however many examples it has (each example of
    /// a label with `n` of the `N` examples, `K` labels, counts `N / (K·n)` times), so that
    /// a label with fewer examples is not simply predicted less often.
    pub balance: bool,
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
            background: BackgroundSource::Builtin,
            reject_margin: 0.0,
            balance: true,
        }
    }
}

impl HeadConfig {
    /// Checks every value is in range; the error names the key (`head.…`).
    pub fn validate(&self) -> Result<(), BadValue> {
        check_f32("head.l2", self.l2, 0.0, 100.0, "")?;
        check_int("head.max_iters", self.max_iters, 1, 100_000, "gradient steps")?;
        check_f32("head.holdout", self.holdout, 0.01, 0.9, " (a fraction)")?;
        check_int("head.min_examples_for_holdout", self.min_examples_for_holdout, 2, 10_000, "examples")?;
        check_f32("head.default_threshold", self.default_threshold, 0.0, 1.0, "")?;
        check_f32("head.reject_margin", self.reject_margin, -2.0, 2.0, " (0 is the default; -2 never rejects)")?;
        if self.background == BackgroundSource::File(PathBuf::new()) {
            return Err(BadValue::new("head.background", "\"\"", "must be \"builtin\", \"off\" or a file"));
        }
        Ok(())
    }
}

/// One training row: a raw embedding and its class index in the label order.
pub type Row<'a> = (&'a [f32], usize);

/// Per-row weights that give each of the `k` classes the same total weight: a row of a class
/// with `n_c` of the `N` rows weighs `N / (k·n_c)` (1 for every row when the classes are
/// balanced).
pub fn balanced_weights(y: &[usize], k: usize) -> Vec<f32> {
    let mut n = vec![0usize; k];
    y.iter().for_each(|&c| n[c] += 1);
    y.iter().map(|&c| y.len() as f32 / (k * n[c]) as f32).collect()
}

/// Fits a head with classes `labels` on `rows` (embeddings of the backbone `model`). The
/// thresholds are `cfg.default_threshold` and the report is empty: training fills both in.
pub fn fit(rows: &[Row<'_>], labels: &[String], model: &ModelInfo, cfg: &HeadConfig) -> Head {
    let features = Features::fit(rows.iter().map(|(v, _)| *v), model.dims);
    let taught: Vec<usize> = (0..labels.len()).filter(|k| rows.iter().any(|(_, c)| c == k)).collect();
    let mut x = Array2::<f32>::zeros((rows.len(), model.dims));
    for (i, (v, _)) in rows.iter().enumerate() {
        x.row_mut(i).assign(&features.apply(v));
    }
    let y: Vec<usize> =
        rows.iter().map(|(_, k)| taught.iter().position(|t| t == k).expect("taught lists every row's class")).collect();
    let params = FitParams { l2: cfg.l2, max_iters: cfg.max_iters, tolerance: 1e-4 };
    let weights = if cfg.balance { balanced_weights(&y, taught.len()) } else { vec![1.0; y.len()] };
    let fitted = fit_weighted(x.view(), &y, &weights, taught.len(), params);
    let mut weights = vec![vec![0.0; model.dims]; labels.len()];
    let mut bias = vec![UNTAUGHT_BIAS; labels.len()];
    for (j, &k) in taught.iter().enumerate() {
        weights[k] = fitted.w.row(j).to_vec();
        bias[k] = fitted.b[j];
    }
    Head {
        version: VERSION,
        labels: labels.to_vec(),
        model_sha256: model.sha256.clone(),
        preprocess: Some(model.preprocess.clone()),
        dims: model.dims,
        features,
        weights,
        bias,
        thresholds: vec![cfg.default_threshold; labels.len()],
        trained_at: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        report: TrainReport::default(),
        open_set: None,
    }
}
