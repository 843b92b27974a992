//! The daemon's state as one snapshot: what `GET /api/state` returns and what the page draws.

use super::event::Detection;
use crate::head::TrainReport;
use serde::Serialize;
use std::collections::BTreeMap;

/// How many examples per label the page suggests (like Lobe): at least the first, ideally the
/// second.
pub const SUGGESTED_EXAMPLES: (usize, usize) = (10, 20);

/// Everything the status page and `GET /api/state` show.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Status {
    /// teachcam's version.
    pub version: String,
    /// The config's labels, in button and LED order.
    pub labels: Vec<String>,
    /// The last frame's detection; `None` before the first decided frame or without a head.
    pub detection: Option<Detection>,
    /// LEDs as shown now: one per label (config order), then the status LED.
    pub leds: Leds,
    /// Examples held per label (every config label, plus any other stored label).
    pub counts: BTreeMap<String, usize>,
    /// Suggested examples per label: `[enough to start, ideal]`.
    pub suggested: [usize; 2],
    /// The last captures, newest first (their thumbnails are kept in memory).
    pub recent_captures: Vec<CaptureInfo>,
    /// The head in use and training.
    pub training: Training,
    /// Frames per second and embedding time over the last few seconds.
    pub speed: Speed,
    /// Lasting problems active now.
    pub problems: Vec<Problem>,
    /// The last warnings and errors logged, oldest first.
    pub warnings: Vec<Warning>,
    /// Unix seconds when the daemon started.
    pub started_at: u64,
}

/// The LEDs.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Leds {
    /// One per config label, in order: lit or not.
    pub labels: Vec<bool>,
    /// The status LED.
    pub status: bool,
}

/// One stored capture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaptureInfo {
    /// Its id in the store.
    pub id: String,
    /// Its label.
    pub label: String,
    /// Unix seconds when captured.
    pub at: u64,
}

/// The head in use and the training state.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Training {
    /// True while a training runs.
    pub running: bool,
    /// True when a head is in use (detection is on).
    pub ready: bool,
    /// The labels the head detects, in class order.
    pub head_labels: Vec<String>,
    /// Unix seconds when the head in use was trained.
    pub trained_at: Option<u64>,
    /// What its training measured.
    pub report: Option<TrainReport>,
    /// The report in one line.
    pub summary: Option<String>,
    /// Why the last training failed, if it did (cleared by the next success).
    pub failed: Option<String>,
}

/// Loop speed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Speed {
    /// Frames decided per second.
    pub fps: f32,
    /// Mean embedding time of the embedded frames, milliseconds.
    pub embed_ms: f32,
    /// Share of frames that reused the last embedding (motion gating).
    pub reused: f32,
}

/// A lasting problem.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// What it is about.
    pub area: String,
    /// Its message.
    pub message: String,
}

/// A logged warning or error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    /// Unix seconds.
    pub at: u64,
    /// `WARN` or `ERROR`.
    pub level: String,
    /// The log line.
    pub message: String,
}
