//! Growing pauses between attempts to bring a lost camera back.

use std::time::Duration;

/// Exponential backoff: the first pause, doubled after each failed attempt up to a ceiling,
/// and back to the first pause once the camera works again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// Pauses of the daemon's camera: 0.5 s, doubled up to 30 s.
    pub const CAMERA: Backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));

    /// Pauses starting at `first` and doubling up to `max` (at least `first`).
    pub const fn new(first: Duration, max: Duration) -> Self {
        let max = if max.as_nanos() < first.as_nanos() { first } else { max };
        Backoff { first, max, next: first }
    }

    /// The pause before the next attempt; the one after it is twice as long, up to the ceiling.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        delay
    }

    /// The camera works again: the next failure starts over at the first pause.
    pub fn reset(&mut self) {
        self.next = self.first;
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::CAMERA
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_ceiling_and_starts_over_after_a_reset() {
        let mut b = Backoff::CAMERA;
        let secs: Vec<f32> = (0..10).map(|_| b.next_delay().as_secs_f32()).collect();
        assert_eq!(secs, [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0, 30.0]);
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_millis(500));
        assert_eq!(b.next_delay(), Duration::from_secs(1));
    }

    #[test]
    fn a_ceiling_below_the_first_pause_is_the_first_pause() {
        let mut b = Backoff::new(Duration::from_secs(2), Duration::from_secs(1));
        assert_eq!([b.next_delay(), b.next_delay()], [Duration::from_secs(2); 2]);
        let mut zero = Backoff::new(Duration::ZERO, Duration::ZERO);
        assert_eq!(zero.next_delay(), Duration::ZERO);
    }
}
