//! What a scenario run measured.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

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

    /// The summary as `teachcam scenario` prints it for `file`, one line per figure; a figure
    /// with nothing to measure says so instead of a share of 0 of 0.
    pub fn report(&self, file: &Path) -> String {
        let mut s = String::new();
        let counts: Vec<String> = self.examples.iter().map(|(l, n)| format!("{l} {n}")).collect();
        let _ = writeln!(s, "scenario {}: {} frames, data folder {}", file.display(), self.frames, self.data.display());
        let _ = writeln!(s, "examples: {}", if counts.is_empty() { "none".into() } else { counts.join(", ") });
        if self.unreadable > 0 {
            let _ = writeln!(s, "unreadable frames skipped: {}", self.unreadable);
        }
        let _ = writeln!(s, "frames with two or more LEDs lit: {}", self.multiple_lit);
        if self.scored == 0 {
            let _ = writeln!(
                s,
                "LED accuracy: nothing to score (no image with an expected label was shown with no button held)"
            );
        } else {
            let _ = writeln!(
                s,
                "LED accuracy {:.2}% ({} of {} images, scored on the last frame of each)",
                self.accuracy() * 100.0,
                self.correct,
                self.scored
            );
        }
        let _ = writeln!(s, "frames decided \"nothing known\": {}", self.nothing_known);
        if self.nothing_scored > 0 {
            let _ = writeln!(
                s,
                "images showing nothing taught that lit an LED: {:.2}% ({} of {})",
                self.nothing_lit_rate() * 100.0,
                self.nothing_lit,
                self.nothing_scored
            );
        }
        s
    }

    /// The summary as `teachcam scenario --json` prints it: every field, plus `accuracy` and
    /// `nothing_lit_rate` (null when there was nothing to score).
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("accuracy".into(), (self.scored > 0).then(|| self.accuracy()).into());
            o.insert("nothing_lit_rate".into(), (self.nothing_scored > 0).then(|| self.nothing_lit_rate()).into());
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::Summary;
    use std::path::Path;

    #[test]
    fn nothing_scored_is_said_not_shown_as_zero_percent() {
        let s = Summary { frames: 3, ..Summary::default() };
        let text = s.report(Path::new("s.toml"));
        assert!(text.contains("LED accuracy: nothing to score"), "{text}");
        assert!(!text.contains("0 of 0") && !text.contains("0.00%"), "{text}");
        let json = s.to_json();
        assert!(json["accuracy"].is_null() && json["nothing_lit_rate"].is_null(), "{json}");
        assert_eq!(json["frames"], 3);

        let s = Summary { scored: 4, correct: 3, nothing_scored: 2, nothing_lit: 1, ..Summary::default() };
        let text = s.report(Path::new("s.toml"));
        assert!(text.contains("LED accuracy 75.00% (3 of 4 images"), "{text}");
        assert!(text.contains("lit an LED: 50.00% (1 of 2)"), "{text}");
        assert_eq!((s.to_json()["accuracy"].as_f64(), s.to_json()["correct"].as_u64()), (Some(0.75), Some(3)));
    }
}
