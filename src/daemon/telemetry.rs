//! The periodic status log line: frames per second, how many were embedded and how many reused
//! the last embedding (motion gating), embedding and gate times, what is shown.

use super::detector::Detector;
use crate::decide::Decision;
use std::time::{Duration, Instant};

/// Running totals since the last status line.
pub struct Telemetry {
    every: Duration,
    since: Instant,
    /// Frames embedded.
    embedded: u32,
    /// Frames that reused the last embedding.
    reused: u32,
    /// Time spent embedding.
    embed: Duration,
    /// Time spent by the gate (thumbnail and comparison), over all frames.
    check: Duration,
    last: Option<Decision>,
}

impl Telemetry {
    /// Logs every `every` (at least 0.1 s), starting at `now`.
    pub fn new(every: Duration, now: Instant) -> Self {
        Self {
            every: every.max(Duration::from_millis(100)),
            since: now,
            embedded: 0,
            reused: 0,
            embed: Duration::ZERO,
            check: Duration::ZERO,
            last: None,
        }
    }

    /// Counts one embedded frame: the gate's time on it, the embedding time and what was
    /// decided.
    pub fn embedded(&mut self, check: Duration, embed: Duration, decision: Option<&Decision>) {
        self.embedded += 1;
        self.embed += embed;
        self.check += check;
        self.last = decision.cloned();
    }

    /// Counts one frame that reused the last embedding: the gate's time on it and what was
    /// decided.
    pub fn reused(&mut self, check: Duration, decision: Option<&Decision>) {
        self.reused += 1;
        self.check += check;
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
        let frames = self.embedded + self.reused;
        let fps = frames as f64 / elapsed.as_secs_f64();
        let per = |total: Duration, n: u32| if n > 0 { total.as_secs_f64() / n as f64 } else { 0.0 };
        let embed_ms = per(self.embed, self.embedded) * 1e3;
        let check_us = per(self.check, frames) * 1e6;
        let seen = match &self.last {
            Some(d) => detector.describe(d),
            None if detector.head().is_none() => "no head yet".into(),
            None => "no frame decided yet".into(),
        };
        log::info!(
            "{fps:.1} frames/s ({} embedded, {} reused), embed {embed_ms:.0} ms, gate {check_us:.0} µs, {seen}",
            self.embedded,
            self.reused
        );
        (self.since, self.embedded, self.reused, self.embed, self.check) = (now, 0, 0, Duration::ZERO, Duration::ZERO);
    }
}
