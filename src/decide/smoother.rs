//! Smoothing of probability vectors over recent frames.

use super::Smoothing;
use std::collections::VecDeque;

/// Keeps the recent history and returns smoothed probabilities.
#[derive(Debug, Clone)]
pub struct Smoother {
    kind: Smoothing,
    window: usize,
    history: VecDeque<Vec<f32>>,
    ema: Option<Vec<f32>>,
}

impl Smoother {
    /// A smoother of the given kind spanning `window` frames (at least 1).
    pub fn new(kind: Smoothing, window: usize) -> Self {
        Self { kind, window: window.max(1), history: VecDeque::new(), ema: None }
    }

    /// Adds a frame's probabilities and returns the smoothed ones.
    pub fn push(&mut self, probs: &[f32]) -> Vec<f32> {
        match self.kind {
            Smoothing::None => probs.to_vec(),
            Smoothing::Mean => {
                if self.history.len() == self.window {
                    self.history.pop_front();
                }
                self.history.push_back(probs.to_vec());
                let n = self.history.len() as f32;
                (0..probs.len()).map(|k| self.history.iter().map(|h| h[k]).sum::<f32>() / n).collect()
            }
            Smoothing::Ema => {
                let alpha = 2.0 / (self.window as f32 + 1.0);
                let next = match &self.ema {
                    Some(prev) if prev.len() == probs.len() => {
                        prev.iter().zip(probs).map(|(p, x)| p + alpha * (x - p)).collect()
                    }
                    _ => probs.to_vec(),
                };
                self.ema = Some(next.clone());
                next
            }
        }
    }

    /// Forgets the history.
    pub fn reset(&mut self) {
        self.history.clear();
        self.ema = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_over_window() {
        let mut s = Smoother::new(Smoothing::Mean, 2);
        assert_eq!(s.push(&[1.0, 0.0]), vec![1.0, 0.0]);
        assert_eq!(s.push(&[0.0, 1.0]), vec![0.5, 0.5]);
        assert_eq!(s.push(&[0.0, 1.0]), vec![0.0, 1.0], "the first frame left the window");
    }

    #[test]
    fn ema_moves_towards_new_frames() {
        let mut s = Smoother::new(Smoothing::Ema, 3); // α = 0.5
        assert_eq!(s.push(&[1.0, 0.0]), vec![1.0, 0.0]);
        assert_eq!(s.push(&[0.0, 1.0]), vec![0.5, 0.5]);
        assert_eq!(s.push(&[0.0, 1.0]), vec![0.25, 0.75]);
        s.reset();
        assert_eq!(s.push(&[0.0, 1.0]), vec![0.0, 1.0]);
    }
}
