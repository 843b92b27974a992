//! From per-frame probabilities to which LED is lit: smoothing over recent frames, per-label
//! thresholds, and hysteresis so the LEDs do not flicker.

mod config;
mod smoother;

pub use config::{LiveConfig, Smoothing};
pub use smoother::Smoother;

/// Decides, frame by frame, which label (if any) is shown.
#[derive(Debug, Clone)]
pub struct Decider {
    smoother: Smoother,
    thresholds: Vec<f32>,
    has_led: Vec<bool>,
    hysteresis: f32,
    current: Option<usize>,
}

/// What the decider concluded for one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The label detected with confidence (above its threshold, with hysteresis), if any.
    pub label: Option<usize>,
    /// The label shown by its LED: [`Decision::label`] unless that label has no LED.
    pub lit: Option<usize>,
    /// The most probable label after smoothing.
    pub top: usize,
    /// Its smoothed probability.
    pub confidence: f32,
    /// The smoothed probability of every label, in label order.
    pub smoothed: Vec<f32>,
}

impl Decider {
    /// A decider for labels with these thresholds; `has_led[k]` is false for labels shown by
    /// no LED (a `None`/background label), which are never "lit".
    pub fn new(cfg: &LiveConfig, thresholds: Vec<f32>, has_led: Vec<bool>) -> Self {
        assert_eq!(thresholds.len(), has_led.len(), "one threshold and LED flag per label");
        Self {
            smoother: Smoother::new(cfg.smoothing, cfg.window),
            thresholds,
            has_led,
            hysteresis: cfg.hysteresis,
            current: None,
        }
    }

    /// Feeds one frame's probabilities and returns the decision.
    pub fn update(&mut self, probs: &[f32]) -> Decision {
        let smoothed = self.smoother.push(probs);
        let (top, confidence) =
            smoothed.iter().copied().enumerate().max_by(|a, b| a.1.total_cmp(&b.1)).expect("at least one label");
        // A detected label stays detected while it is on top and within the hysteresis band of
        // its threshold; any other label must clear its full threshold.
        let keep = self.current == Some(top) && confidence >= self.thresholds[top] - self.hysteresis;
        let detect = confidence >= self.thresholds[top];
        self.current = (keep || detect).then_some(top);
        let lit = self.current.filter(|&k| self.has_led[k]);
        Decision { label: self.current, lit, top, confidence, smoothed }
    }

    /// The label detected after the last frame, if any (shown by an LED or not).
    pub fn label(&self) -> Option<usize> {
        self.current
    }

    /// The label shown by its LED after the last frame, if any.
    pub fn lit(&self) -> Option<usize> {
        self.current.filter(|&k| self.has_led[k])
    }

    /// Forgets the smoothing history and the lit label (after a new head is swapped in).
    pub fn reset(&mut self) {
        self.smoother.reset();
        self.current = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decider(smoothing: Smoothing, window: usize) -> Decider {
        let cfg = LiveConfig { smoothing, window, hysteresis: 0.1, ..Default::default() };
        Decider::new(&cfg, vec![0.7, 0.7, 0.5], vec![true, true, false])
    }

    #[test]
    fn lights_only_above_threshold() {
        let mut d = decider(Smoothing::None, 1);
        assert_eq!(d.update(&[0.65, 0.3, 0.05]).lit, None);
        assert_eq!(d.update(&[0.75, 0.2, 0.05]).lit, Some(0));
        assert_eq!(d.update(&[0.1, 0.85, 0.05]).lit, Some(1));
    }

    #[test]
    fn hysteresis_keeps_a_lit_label_through_a_small_dip() {
        let mut d = decider(Smoothing::None, 1);
        assert_eq!(d.update(&[0.75, 0.2, 0.05]).lit, Some(0));
        assert_eq!(d.update(&[0.65, 0.3, 0.05]).lit, Some(0), "0.65 is within 0.1 of 0.7");
        assert_eq!(d.update(&[0.55, 0.4, 0.05]).lit, None, "0.55 is not");
        assert_eq!(d.update(&[0.65, 0.3, 0.05]).lit, None, "relighting needs the full threshold");
    }

    #[test]
    fn background_label_lights_nothing() {
        let mut d = decider(Smoothing::None, 1);
        let dec = d.update(&[0.05, 0.05, 0.9]);
        assert_eq!((dec.label, dec.lit, dec.top), (Some(2), None, 2));
    }

    #[test]
    fn smoothing_ignores_a_single_odd_frame() {
        let mut d = decider(Smoothing::Mean, 3);
        for _ in 0..3 {
            assert_eq!(d.update(&[0.9, 0.05, 0.05]).lit, Some(0));
        }
        // One frame that says "dog" does not flip the LED.
        assert_eq!(d.update(&[0.1, 0.85, 0.05]).lit, Some(0));
        assert_eq!(d.update(&[0.1, 0.85, 0.05]).lit, None, "two of three frames now say dog, below its threshold");
        assert_eq!(d.update(&[0.1, 0.85, 0.05]).lit, Some(1));
    }

    #[test]
    fn lit_label_is_always_the_confident_top_one() {
        let mut d = decider(Smoothing::Ema, 4);
        let frames = [[0.8, 0.15, 0.05], [0.15, 0.8, 0.05], [0.5, 0.45, 0.05], [0.45, 0.5, 0.05], [0.9, 0.05, 0.05]];
        let mut lit_frames = 0;
        for f in frames.iter().cycle().take(50) {
            let dec = d.update(f);
            if let Some(k) = dec.lit {
                lit_frames += 1;
                assert_eq!(k, dec.top, "only the top label lights");
                assert!(dec.confidence >= 0.7 - 0.1, "lit within the hysteresis band: {dec:?}");
            }
        }
        assert!(lit_frames > 0 && lit_frames < 50, "the sequence both lights and clears LEDs ({lit_frames})");
    }
}
