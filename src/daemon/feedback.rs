//! LED patterns a user can read without a screen, drawn over the live detection:
//! a capture blinks its label's LED (alone), training blinks the status LED, a finished training
//! flashes every label LED, an error blinks the status LED, and a TRAIN press with too few
//! labels blinks the LEDs of the labels that still need examples.

use crate::panel::LedState;
use std::time::{Duration, Instant};

/// How long a capture blink lasts.
pub const BLINK: Duration = Duration::from_millis(150);
/// How long the "training finished" flash lasts.
pub const RESULT: Duration = Duration::from_millis(800);
/// How long error and "need more labels" patterns last.
pub const ALERT: Duration = Duration::from_millis(1200);
/// Half-period of blinking patterns.
const HALF: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, PartialEq)]
enum Pattern {
    /// Invert one label's LED.
    Capture(usize),
    /// Every label LED on.
    Result,
    /// Blink the status LED.
    Error,
    /// Blink these label LEDs and the status LED.
    NeedLabels(Vec<usize>),
}

/// The patterns currently shown.
#[derive(Debug, Default)]
pub struct Feedback {
    active: Vec<(Pattern, Instant, Instant)>, // pattern, start, end
    training_since: Option<Instant>,
}

fn blinking(start: Instant, now: Instant) -> bool {
    let phase = now.saturating_duration_since(start).as_millis() / HALF.as_millis();
    phase % 2 == 0
}

impl Feedback {
    /// A capture of `label` at `now` (replacing the blink of an earlier capture).
    pub fn captured(&mut self, label: usize, now: Instant) {
        self.active.retain(|(p, _, _)| !matches!(p, Pattern::Capture(_)));
        self.active.push((Pattern::Capture(label), now, now + BLINK));
    }

    /// Training started or stopped.
    pub fn training(&mut self, running: bool, now: Instant) {
        self.training_since = running.then_some(now);
    }

    /// Training finished and the new head is live.
    pub fn trained(&mut self, now: Instant) {
        self.training_since = None;
        self.active.push((Pattern::Result, now, now + RESULT));
    }

    /// Something went wrong.
    pub fn error(&mut self, now: Instant) {
        self.active.push((Pattern::Error, now, now + ALERT));
    }

    /// TRAIN was pressed while these labels still have no examples.
    pub fn need_labels(&mut self, missing: Vec<usize>, now: Instant) {
        self.active.push((Pattern::NeedLabels(missing), now, now + ALERT));
    }

    /// True while any pattern is still showing at `now`.
    pub fn busy(&self, now: Instant) -> bool {
        self.training_since.is_some() || self.active.iter().any(|(_, _, end)| *end > now)
    }

    /// Draws the active patterns over `base` at `now`, forgetting expired ones.
    pub fn apply(&mut self, base: &LedState, now: Instant) -> LedState {
        self.active.retain(|(_, _, end)| *end > now);
        let mut s = base.clone();
        if let Some(since) = self.training_since {
            s.status = blinking(since, now);
        }
        for (p, start, _) in &self.active {
            match p {
                Pattern::Capture(k) => {
                    // Only the captured label's LED, toggled: never two labels lit.
                    let on = !s.labels.get(*k).copied().unwrap_or(true);
                    s.labels.iter_mut().enumerate().for_each(|(j, l)| *l = j == *k && on);
                }
                Pattern::Result => s.labels.iter_mut().for_each(|l| *l = true),
                Pattern::Error => s.status = blinking(*start, now),
                Pattern::NeedLabels(missing) => {
                    let on = blinking(*start, now);
                    for k in missing {
                        if let Some(l) = s.labels.get_mut(*k) {
                            *l = on;
                        }
                    }
                    s.status = on;
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_blink_inverts_then_expires() {
        let t0 = Instant::now();
        let mut f = Feedback::default();
        let base = LedState { labels: vec![false, true], status: true };
        f.captured(0, t0);
        assert_eq!(f.apply(&base, t0 + Duration::from_millis(10)).labels, vec![true, false], "cat alone");
        f.captured(1, t0);
        assert_eq!(f.apply(&base, t0 + Duration::from_millis(10)).labels, vec![false, false], "dog toggled off");
        assert!(f.busy(t0 + Duration::from_millis(100)));
        assert_eq!(f.apply(&base, t0 + BLINK), base);
        assert!(!f.busy(t0 + BLINK));
    }

    #[test]
    fn training_blinks_status_and_result_lights_all() {
        let t0 = Instant::now();
        let mut f = Feedback::default();
        let base = LedState { labels: vec![false, false], status: true };
        f.training(true, t0);
        assert!(f.apply(&base, t0).status);
        assert!(!f.apply(&base, t0 + HALF).status);
        f.trained(t0 + HALF * 3);
        let s = f.apply(&base, t0 + HALF * 3);
        assert_eq!(s.labels, vec![true, true]);
        assert!(s.status, "status back to its base");
        assert_eq!(f.apply(&base, t0 + HALF * 3 + RESULT), base);
    }

    #[test]
    fn need_labels_blinks_only_the_missing_ones() {
        let t0 = Instant::now();
        let mut f = Feedback::default();
        let base = LedState { labels: vec![false, false, false], status: false };
        f.need_labels(vec![1, 2], t0);
        let s = f.apply(&base, t0);
        assert_eq!(s.labels, vec![false, true, true]);
        assert!(s.status);
        assert_eq!(f.apply(&base, t0 + HALF).labels, vec![false, false, false]);
    }
}
