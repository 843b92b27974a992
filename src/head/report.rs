//! What training measured, saved inside the head.

use crate::metrics::Metrics;
use serde::{Deserialize, Serialize};

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
    /// Examples per label (0 for a label that has no examples yet and is never predicted).
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
    /// Share of the held-out taught examples the open-set part calls "nothing known".
    #[serde(default)]
    pub rejected_rate: Option<f32>,
    /// Share of the background photos that would count as known (each scored against the
    /// others): how often an unseen "nothing" scene would light an LED.
    #[serde(default)]
    pub background_lit_rate: Option<f32>,
}

impl TrainReport {
    /// The report in one line, for the training log line.
    pub fn summary(&self) -> String {
        let r = self;
        let counts: Vec<String> = r.labels.iter().zip(&r.counts).map(|(l, n)| format!("{l} {n}")).collect();
        let measured = match &r.holdout {
            Some(m) => {
                let base = match &r.baseline {
                    Some(b) => format!(
                        ", original ImageNet model {:.1}% ({:+.1} points)",
                        b.accuracy * 100.0,
                        (m.accuracy - b.accuracy) * 100.0
                    ),
                    None => String::new(),
                };
                format!("held-out accuracy {:.1}% on {}{base}", m.accuracy * 100.0, m.n)
            }
            None => r.note.clone().unwrap_or_default(),
        };
        let open_set = r
            .background_lit_rate
            .map(|bg| {
                let held =
                    r.rejected_rate.map_or(String::new(), |x| format!("rejects {:.1}% of held-out, ", x * 100.0));
                format!("; nothing known: {held}{:.1}% of background lit", bg * 100.0)
            })
            .unwrap_or_else(|| "; no background set: \"nothing known\" is off".into());
        format!("{} in {:.0} ms; {measured}{open_set}", counts.join(", "), r.train_ms)
    }
}
