//! Pure, clock-injected button debouncing.

use std::time::{Duration, Instant};

use super::Edge;

/// Default time a level must be stable to count.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(50);

/// Turns raw "pressed" samples of one button into clean edges: an edge is
/// emitted only once the new level has been stable for the debounce time.
#[derive(Debug, Clone)]
pub struct Debouncer {
    debounce: Duration,
    /// The debounced level (pressed = `true`).
    stable: bool,
    /// The last raw level and since when it has held.
    candidate: bool,
    since: Option<Instant>,
}

impl Debouncer {
    /// A debouncer starting at the debounced level `pressed`.
    pub fn new(debounce: Duration, pressed: bool) -> Self {
        Debouncer { debounce, stable: pressed, candidate: pressed, since: None }
    }

    /// The debounced level.
    pub fn is_pressed(&self) -> bool {
        self.stable
    }

    /// Feeds one raw sample taken at `now` (samples must not go back in
    /// time); returns the edge it completes, if any.
    pub fn update(&mut self, pressed: bool, now: Instant) -> Option<Edge> {
        if pressed != self.candidate || self.since.is_none() {
            self.candidate = pressed;
            self.since = Some(now);
        }
        if self.candidate == self.stable {
            self.since = None;
            return None;
        }
        let since = self.since.expect("set above");
        if now.saturating_duration_since(since) < self.debounce {
            return None;
        }
        self.stable = self.candidate;
        self.since = None;
        Some(if self.stable { Edge::Press } else { Edge::Release })
    }
}

impl Default for Debouncer {
    fn default() -> Self {
        Self::new(DEFAULT_DEBOUNCE, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `(ms, level)` samples; returns `(ms, edge)` for emitted edges.
    fn run(d: &mut Debouncer, t0: Instant, samples: &[(u64, bool)]) -> Vec<(u64, Edge)> {
        samples
            .iter()
            .filter_map(|&(ms, level)| d.update(level, t0 + Duration::from_millis(ms)).map(|e| (ms, e)))
            .collect()
    }

    /// Samples every 5 ms from `from` to `to` (exclusive) at `level`.
    fn hold(from: u64, to: u64, level: bool) -> Vec<(u64, bool)> {
        (from..to).step_by(5).map(|ms| (ms, level)).collect()
    }

    #[test]
    fn clean_press_and_release_after_debounce_time() {
        let t0 = Instant::now();
        let mut d = Debouncer::default();
        let mut samples = hold(0, 20, false);
        samples.extend(hold(20, 200, true));
        samples.extend(hold(200, 300, false));
        let edges = run(&mut d, t0, &samples);
        assert_eq!(edges, vec![(70, Edge::Press), (250, Edge::Release)]);
        assert!(!d.is_pressed());
    }

    #[test]
    fn bouncing_contact_gives_one_press() {
        let t0 = Instant::now();
        let mut d = Debouncer::default();
        // Contact bounces for 12 ms, then settles pressed at 12 ms.
        let bounce = [(0, true), (2, false), (4, true), (6, false), (8, true), (10, false), (12, true)];
        let mut samples = bounce.to_vec();
        samples.extend(hold(15, 100, true));
        let edges = run(&mut d, t0, &samples);
        // Stable since 12 ms: the first sample at or after 62 ms is at 65 ms.
        assert_eq!(edges, vec![(65, Edge::Press)]);
        assert!(d.is_pressed());
    }

    #[test]
    fn glitch_shorter_than_debounce_is_ignored() {
        let t0 = Instant::now();
        let mut d = Debouncer::default();
        let mut samples = hold(0, 30, true); // 30 ms pulse
        samples.extend(hold(30, 200, false));
        assert!(run(&mut d, t0, &samples).is_empty());
        assert!(!d.is_pressed());
    }

    #[test]
    fn release_bounce_and_exact_threshold() {
        let t0 = Instant::now();
        let mut d = Debouncer::new(Duration::from_millis(20), true);
        let samples = [
            (0, false),
            (3, true),
            (5, false), // stable from here
            (24, false),
            (25, false), // exactly 20 ms: emitted
            (40, false),
        ];
        assert_eq!(run(&mut d, t0, &samples), vec![(25, Edge::Release)]);
    }

    #[test]
    fn sparse_samples_still_need_two_observations() {
        // A single sample of a new level never emits, however late it comes.
        let t0 = Instant::now();
        let mut d = Debouncer::default();
        assert_eq!(d.update(true, t0 + Duration::from_secs(5)), None);
        assert_eq!(d.update(true, t0 + Duration::from_millis(5050)), Some(Edge::Press));
    }
}
