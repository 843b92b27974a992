//! The `[live]` section of the configuration.

use crate::config::{check_f32, check_int, BadValue};
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

impl LiveConfig {
    /// Checks every value is in range and names only `labels`; the error names the key.
    pub fn validate(&self, labels: &[String]) -> Result<(), BadValue> {
        check_int("live.window", self.window, 1, 100, "frames")?;
        if !(self.hysteresis.is_finite() && (0.0..0.5).contains(&self.hysteresis)) {
            let problem = "must be a finite number from 0 up to (not including) 0.5";
            return Err(BadValue::new("live.hysteresis", self.hysteresis.to_string(), problem));
        }
        check_f32("live.log_every_s", self.log_every_s, 0.1, 86_400.0, " of seconds")?;
        let unknown = |key: String, label: &str| {
            Err(BadValue::new(key, format!("{label:?}"), format!("is not in labels ({})", labels.join(", "))))
        };
        for (label, &t) in &self.thresholds {
            let key = format!("live.thresholds.{label}");
            if !labels.contains(label) {
                return unknown(key, label);
            }
            check_f32(&key, t, 0.0, 1.0, "")?;
        }
        for label in &self.no_led {
            if !labels.contains(label) {
                return unknown("live.no_led".into(), label);
            }
        }
        if labels.iter().all(|l| self.no_led.contains(l)) {
            let problem = "lists every label, so no LED could ever light";
            return Err(BadValue::new("live.no_led", format!("{:?}", self.no_led), problem));
        }
        Ok(())
    }
}
