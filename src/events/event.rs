//! What the daemon tells the outside world: one [`Event`] per thing that happened.

use crate::head::TrainReport;
use serde::Serialize;

/// Something that happened in the daemon, in the order it happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// A frame was decided (published for every decided frame; subscribers that only want
    /// changes compare [`Detection::label`] with the previous one).
    Detection(Detection),
    /// An example was stored (durably) from the camera.
    Capture {
        /// Its label.
        label: String,
        /// Its id in the store.
        id: String,
        /// Examples of that label now held.
        count: usize,
    },
    /// The last example was removed.
    Undo {
        /// Its label.
        label: String,
        /// Its id in the store.
        id: String,
        /// Examples of that label now held.
        count: usize,
    },
    /// A training started in the background.
    TrainingStarted {
        /// Examples it trains on.
        examples: usize,
    },
    /// A training finished and its head is in use.
    Trained {
        /// What the training measured.
        report: Box<TrainReport>,
        /// The report in one line.
        summary: String,
    },
    /// A training failed; the previous head (if any) stays in use.
    TrainingFailed {
        /// Why.
        reason: String,
    },
    /// A lasting problem started (camera lost, data folder full, ...).
    Problem {
        /// What it is about (`camera`, `data folder`, `buttons`, `training`).
        area: String,
        /// The message, as logged.
        message: String,
    },
    /// A lasting problem ended.
    Recovered {
        /// What it was about.
        area: String,
    },
}

/// What the detector concluded for one frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    /// The label detected with confidence, `None` when nothing is (or nothing known is in view).
    pub label: Option<String>,
    /// True when the open-set part says what is in view is nothing taught.
    pub nothing_known: bool,
    /// The most probable class after smoothing (a label, or `"(nothing known)"`).
    pub top: String,
    /// Its smoothed probability.
    pub confidence: f32,
    /// Smoothed probability of every class in head order (the config's labels first), then of
    /// "nothing known" last.
    pub confidences: Vec<Confidence>,
    /// True when the frame reused the last embedding (motion gating: nothing changed).
    pub reused: bool,
}

/// One class's smoothed probability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Confidence {
    /// The class: a label or `"(nothing known)"`.
    pub label: String,
    /// Its smoothed probability, 0–1.
    pub p: f32,
}
