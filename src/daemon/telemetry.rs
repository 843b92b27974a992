//! The periodic status log line: frames per second, embedding time, what is shown.

use super::detector::Detector;
use crate::decide::Decision;
use std::time::{Duration, Instant};

/// Running totals since the last status line.
pub struct Telemetry {
    every: Duration,
    since: Instant,
    frames: u32,
    embed: Duration,
    last: Option<Decision>,
}

impl Telemetry {
    /// Logs every `every` (at least 0.1 s), starting at `now`.
    pub fn new(every: Duration, now: Instant) -> Self {
        Self { every: every.max(Duration::from_millis(100)), since: now, frames: 0, embed: Duration::ZERO, last: None }
    }

    /// Counts one embedded frame and what was decided on it.
    pub fn frame(&mut self, embed: Duration, decision: Option<&Decision>) {
        self.frames += 1;
        self.embed += embed;
        self.last = decision.cloned();
    }

    /// Forgets the last decision (its indices belong to a head no longer in use).
    pub fn forget_decision(&mut self) {
        self.last = None;
    }

    /// Logs the status line when it is due at `now`.
    pub fn log_if_due(&mut self, now: Instant, detector: &Detector) {
        let elapsed = now.saturating_duration_since(self.since);
        if elapsed < self.every {
            return;
        }
        let fps = self.frames as f64 / elapsed.as_secs_f64();
        let embed_ms = if self.frames > 0 { self.embed.as_secs_f64() * 1e3 / self.frames as f64 } else { 0.0 };
        let seen = match &self.last {
            Some(d) => detector.describe(d),
            None if detector.head().is_none() => "no head yet".into(),
            None => "no frame decided yet".into(),
        };
        log::info!("{fps:.1} frames/s, embed {embed_ms:.0} ms, {seen}");
        (self.since, self.frames, self.embed) = (now, 0, Duration::ZERO);
    }
}
