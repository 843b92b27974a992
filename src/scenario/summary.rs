//! What a scenario run measured.

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What a scenario run measured.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Summary {
    /// The data folder used.
    pub data: PathBuf,
    /// Frames shown.
    pub frames: usize,
    /// Images whose last frame was scored (their expected label is known and no button was held).
    pub scored: usize,
    /// Of those, the ones whose LEDs were right.
    pub correct: usize,
    /// Frames with two or more label LEDs lit.
    pub multiple_lit: usize,
    /// Planned frames that could not be read (skipped).
    pub unreadable: usize,
    /// Examples per label at the end.
    pub examples: BTreeMap<String, usize>,
    /// Frames decided "nothing known" (the open-set part rejected what was in view).
    pub nothing_known: usize,
    /// Images in a folder named `nothing` (they show nothing taught) whose last frame was scored.
    pub nothing_scored: usize,
    /// Of those, the ones that lit a label LED (wrongly).
    pub nothing_lit: usize,
}

impl Summary {
    /// Share of the `nothing` images that lit a label LED (0 when none were shown).
    pub fn nothing_lit_rate(&self) -> f64 {
        if self.nothing_scored == 0 {
            0.0
        } else {
            self.nothing_lit as f64 / self.nothing_scored as f64
        }
    }

    /// LED accuracy over the scored images (0 when none).
    pub fn accuracy(&self) -> f64 {
        if self.scored == 0 {
            0.0
        } else {
            self.correct as f64 / self.scored as f64
        }
    }
}
