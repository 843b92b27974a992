//! The `[live]` section of the configuration.

use serde::Deserialize;
use std::collections::BTreeMap;

/// How per-frame probabilities are smoothed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Smoothing {
    /// Exponential moving average with α = 2 / (window + 1).
    #[default]
    Ema,
    /// Mean of the last `window` frames.
    Mean,
    /// Each frame on its own.
    None,
}

/// Live detection settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LiveConfig {
    /// Smoothing of probabilities over frames.
    pub smoothing: Smoothing,
    /// Frames the smoothing spans.
    pub window: usize,
    /// A lit LED stays lit until its label's confidence falls this far below its threshold.
    pub hysteresis: f32,
    /// Per-label thresholds overriding the ones chosen by training.
    pub thresholds: BTreeMap<String, f32>,
    /// Labels shown by no LED (a `None`/background label): detecting them lights nothing.
    pub no_led: Vec<String>,
    /// Seconds between the periodic status log lines.
    pub log_every_s: f32,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            smoothing: Smoothing::Ema,
            window: 3,
            hysteresis: 0.1,
            thresholds: BTreeMap::new(),
            no_led: Vec::new(),
            log_every_s: 10.0,
        }
    }
}
