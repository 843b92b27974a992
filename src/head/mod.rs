//! The classification head trained on the device: softmax regression on centred,
//! L2-normalised embeddings, saved with its labels, thresholds and the backbone it belongs to.

mod features;
mod fit;
pub mod openset;
mod report;
pub mod softmax;

pub use features::Features;
pub use fit::{fit, BackgroundSource, HeadConfig, Row, UNTAUGHT_BIAS};
pub use openset::{Novelty, OpenSet};
pub use report::{Baseline, TrainReport};

use crate::embed::ModelInfo;
use crate::fsutil::{write_atomic_with, Fs, OsFs};
use ndarray::{Array2, ArrayView1};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Head file format version.
pub const VERSION: u32 = 1;

/// Why a head could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum HeadError {
    /// No head has been trained yet.
    #[error("no trained head at {0} (run `teachcam train` first)")]
    Missing(PathBuf),
    /// The head file cannot be read or written.
    #[error("head file {path}: {source}")]
    Io {
        /// The head file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The head file is not a valid head.
    #[error("head file {path} is damaged: {reason} (retrain with `teachcam train`)")]
    Damaged {
        /// The head file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The head was trained on embeddings made with other preprocessing settings.
    #[error("head file {path} was trained on embeddings made with other preprocessing ({head}; now {now}): retrain with `teachcam train` (stored examples are re-embedded automatically)")]
    WrongPreprocess {
        /// The head file.
        path: PathBuf,
        /// The preprocessing recorded in the head.
        head: String,
        /// The preprocessing configured now.
        now: String,
    },
    /// The head was trained on another backbone's embeddings.
    #[error("head file {path} was trained with model sha256 {head_sha:.12}…, but the loaded model is {model_sha:.12}…; retrain with `teachcam train` (stored examples are re-embedded automatically)")]
    WrongModel {
        /// The head file.
        path: PathBuf,
        /// Model hash recorded in the head.
        head_sha: String,
        /// Hash of the model loaded now.
        model_sha: String,
    },
}

/// One prediction of the head.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// Index of the most probable label.
    pub index: usize,
    /// Its probability.
    pub confidence: f32,
    /// Probability of every label, in [`Head::labels`] order.
    pub probs: Vec<f32>,
    /// True when `confidence` is below the label's threshold.
    pub unsure: bool,
    /// The open-set verdict, when the head has an open-set part: `known` is false when the
    /// image is closer to the background than to anything taught ("nothing known").
    pub novelty: Option<Novelty>,
}

impl Prediction {
    /// False when the open-set part says the image shows nothing taught.
    pub fn known(&self) -> bool {
        self.novelty.is_none_or(|n| n.known)
    }
}

/// A trained head, as stored in `DATA/head.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Head {
    /// Format version.
    pub version: u32,
    /// Label names; index order is the class order.
    pub labels: Vec<String>,
    /// sha256 of the backbone whose embeddings the head was trained on.
    pub model_sha256: String,
    /// The preprocessing of those embeddings ([`crate::embed::Preprocess::key`]); absent in
    /// heads from before it was recorded, which are taken as made with the current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preprocess: Option<String>,
    /// Embedding length.
    pub dims: usize,
    /// How an embedding becomes the feature vector the weights apply to.
    #[serde(flatten)]
    pub features: Features,
    /// `[labels][dims]` weights.
    pub weights: Vec<Vec<f32>>,
    /// Per-label bias.
    pub bias: Vec<f32>,
    /// Per-label confidence threshold (the held-out best-F1 one, or the default).
    pub thresholds: Vec<f32>,
    /// Seconds since the Unix epoch when trained.
    pub trained_at: u64,
    /// What training measured.
    pub report: TrainReport,
    /// Open-set rejection ("nothing known"), when trained with a background set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_set: Option<OpenSet>,
}

impl Head {
    /// Label probabilities for a raw embedding.
    pub fn probabilities(&self, embedding: &[f32]) -> Vec<f32> {
        let x = self.features.apply(embedding);
        let mut z = Array2::<f32>::zeros((1, self.labels.len()));
        for (k, (w, b)) in self.weights.iter().zip(&self.bias).enumerate() {
            z[[0, k]] = ArrayView1::from(w.as_slice()).dot(&x) + b;
        }
        softmax::softmax_rows(&mut z);
        z.row(0).to_vec()
    }

    /// Predicts a label for a raw embedding, flagging it unsure below the label's threshold.
    pub fn predict(&self, embedding: &[f32]) -> Prediction {
        let probs = self.probabilities(embedding);
        let (index, &confidence) =
            probs.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).expect("at least two labels");
        let novelty = self.open_set.as_ref().map(|o| o.assess(embedding));
        Prediction { index, confidence, unsure: confidence < self.thresholds[index], probs, novelty }
    }

    /// Index of a label by name.
    pub fn label_index(&self, label: &str) -> Option<usize> {
        self.labels.iter().position(|l| l == label)
    }

    /// Saves the head atomically: after a crash at any instant the file holds the old head or
    /// this one.
    pub fn save(&self, path: &Path) -> Result<(), HeadError> {
        self.save_with(&OsFs, path)
    }

    /// [`Head::save`] through the file operations `fs` (crash tests use a simulated one).
    pub fn save_with(&self, fs: &dyn Fs, path: &Path) -> Result<(), HeadError> {
        let json = serde_json::to_vec_pretty(self).expect("head serialises");
        write_atomic_with(fs, path, &json).map_err(|source| HeadError::Io { path: path.to_path_buf(), source })
    }

    /// Reads a head file without checking it against a backbone (for `status`).
    pub fn read(path: &Path) -> Result<Self, HeadError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(HeadError::Missing(path.into())),
            Err(source) => return Err(HeadError::Io { path: path.into(), source }),
        };
        serde_json::from_slice(&bytes).map_err(|e| HeadError::Damaged { path: path.into(), reason: e.to_string() })
    }

    /// Loads a head and checks it belongs to the backbone `model`.
    pub fn load(path: &Path, model: &ModelInfo) -> Result<Self, HeadError> {
        let head = Self::read(path)?;
        let (model_sha256, dims) = (model.sha256.as_str(), model.dims);
        let damaged = |reason: String| HeadError::Damaged { path: path.into(), reason };
        if head.model_sha256 != model_sha256 {
            return Err(HeadError::WrongModel {
                path: path.into(),
                head_sha: head.model_sha256,
                model_sha: model_sha256.into(),
            });
        }
        if let Some(p) = head.preprocess.as_ref().filter(|p| !model.preprocess.is_empty() && **p != model.preprocess) {
            return Err(HeadError::WrongPreprocess {
                path: path.into(),
                head: p.clone(),
                now: model.preprocess.clone(),
            });
        }
        let k = head.labels.len();
        let consistent = head.version == VERSION
            && k >= 2
            && head.dims == dims
            && head.features.centre.len() == dims
            && head.weights.len() == k
            && head.weights.iter().all(|w| w.len() == dims)
            && head.bias.len() == k
            && head.thresholds.len() == k
            && head.features.scale.is_finite()
            && head.open_set.as_ref().is_none_or(|o| {
                o.centre.len() == dims
                    && o.prototypes.len() == k
                    && o.prototypes.iter().all(|p| p.is_empty() || p.len() == dims)
                    && o.background.dims == dims
            });
        if !consistent {
            return Err(damaged(format!("inconsistent sizes or version (expected {dims}-dim embeddings)")));
        }
        let mut head = head;
        if let Some(o) = head.open_set.as_mut() {
            if !o.prepare() {
                return Err(damaged("its stored background embeddings cannot be decoded".into()));
            }
        }
        Ok(head)
    }
}

impl Head {
    /// The head with its classes reordered so that `first` (the config's labels) are classes
    /// `0..first.len()`, followed by the head's other labels in their order. A label of `first`
    /// the head does not have becomes a class that is never predicted (zero weights,
    /// [`UNTAUGHT_BIAS`]). This puts a head trained under another label list (or an older,
    /// alphabetical one) into the one label order.
    pub fn aligned(self, first: &[String]) -> Head {
        let mut order: Vec<String> = first.to_vec();
        order.extend(self.labels.iter().filter(|l| !first.contains(l)).cloned());
        if order == self.labels {
            return self;
        }
        let old = |l: &String| self.labels.iter().position(|h| h == l);
        let weights = order.iter().map(|l| old(l).map_or(vec![0.0; self.dims], |k| self.weights[k].clone())).collect();
        let bias = order.iter().map(|l| old(l).map_or(UNTAUGHT_BIAS, |k| self.bias[k])).collect();
        let thresholds = order.iter().map(|l| old(l).map_or(1.0, |k| self.thresholds[k])).collect();
        let open_set = self.open_set.clone().map(|o| OpenSet {
            prototypes: order.iter().map(|l| old(l).map_or(Vec::new(), |k| o.prototypes[k].clone())).collect(),
            ..o
        });
        Head { labels: order, weights, bias, thresholds, open_set, ..self }
    }
}

#[cfg(test)]
mod tests;
