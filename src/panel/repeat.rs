//! Hold-to-burst capture: turns label button presses into capture requests.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::{ButtonEvent, Control, Edge};
use serde::Deserialize;

/// The `[capture]` section: how label button presses become examples.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CaptureConfig {
    /// Milliseconds a label button must be held before it starts repeating.
    pub hold_delay_ms: u64,
    /// Captures per second while a label button is held.
    pub hold_rate_hz: f64,
    /// JPEG quality of stored camera frames.
    pub jpeg_quality: u8,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        Self { hold_delay_ms: 500, hold_rate_hz: DEFAULT_HOLD_RATE_HZ, jpeg_quality: 90 }
    }
}

/// Default delay before a held button starts repeating.
pub const DEFAULT_HOLD_DELAY: Duration = Duration::from_millis(500);
/// Default repeat rate of a held button, captures per second.
pub const DEFAULT_HOLD_RATE_HZ: f64 = 5.0;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Timed { delay: Duration, period: Duration },
    PerFrame,
}

/// Decides when to capture examples for held label buttons.
///
/// * Timed mode ([`HoldRepeater::timed`]): a press captures once at once
///   (returned by [`on_event`](HoldRepeater::on_event)); while held, one
///   more capture is due after the initial delay and then every
///   `1 / rate` seconds ([`due`](HoldRepeater::due)); release stops.
/// * Per-frame mode ([`HoldRepeater::per_frame`]): every
///   [`tick`](HoldRepeater::tick) yields one capture per label that is held,
///   or was pressed since the previous tick (so a short tap between two
///   frames still captures once).
#[derive(Debug, Clone)]
pub struct HoldRepeater {
    mode: Mode,
    /// Held labels with the time their next repeat is due (timed mode).
    held: BTreeMap<usize, Instant>,
    /// Labels pressed since the last tick (per-frame mode).
    tapped: Vec<usize>,
}

impl HoldRepeater {
    /// Timed mode: repeats start `delay` after the press, at `rate_hz`.
    ///
    /// # Panics
    /// If `rate_hz` is not a positive finite number.
    pub fn timed(delay: Duration, rate_hz: f64) -> Self {
        assert!(rate_hz.is_finite() && rate_hz > 0.0, "hold repeat rate must be positive, got {rate_hz}");
        HoldRepeater {
            mode: Mode::Timed { delay, period: Duration::from_secs_f64(1.0 / rate_hz) },
            held: BTreeMap::new(),
            tapped: Vec::new(),
        }
    }

    /// Timed mode with the `[capture]` settings.
    pub fn from_config(cfg: &CaptureConfig) -> Self {
        Self::timed(Duration::from_millis(cfg.hold_delay_ms), cfg.hold_rate_hz)
    }

    /// Per-frame mode: one capture per [`tick`](Self::tick) while held.
    pub fn per_frame() -> Self {
        HoldRepeater { mode: Mode::PerFrame, held: BTreeMap::new(), tapped: Vec::new() }
    }

    /// Labels currently held, in index order.
    pub fn held(&self) -> Vec<usize> {
        self.held.keys().copied().collect()
    }

    /// Feeds a button event at `now`; returns labels to capture right away
    /// (the first capture of a press in timed mode). Events of non-label
    /// controls are ignored.
    pub fn on_event(&mut self, event: &ButtonEvent, now: Instant) -> Vec<usize> {
        let Control::Label(label) = event.control else {
            return Vec::new();
        };
        match event.edge {
            Edge::Press => {
                if self.held.contains_key(&label) {
                    return Vec::new();
                }
                match self.mode {
                    Mode::Timed { delay, .. } => {
                        self.held.insert(label, now + delay);
                        vec![label]
                    }
                    Mode::PerFrame => {
                        self.held.insert(label, now);
                        if !self.tapped.contains(&label) {
                            self.tapped.push(label);
                        }
                        Vec::new()
                    }
                }
            }
            Edge::Release => {
                self.held.remove(&label);
                Vec::new()
            }
        }
    }

    /// Timed mode: labels whose next repeat is due at `now`, at most one
    /// each per call. A caller that falls behind skips the missed repeats
    /// rather than bursting. Always empty in per-frame mode.
    pub fn due(&mut self, now: Instant) -> Vec<usize> {
        let Mode::Timed { period, .. } = self.mode else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (&label, next) in self.held.iter_mut() {
            if *next <= now {
                out.push(label);
                *next += period;
                if *next <= now {
                    *next = now + period;
                }
            }
        }
        out
    }

    /// Per-frame mode: one capture per label held now or pressed since the
    /// last tick. Always empty in timed mode.
    pub fn tick(&mut self) -> Vec<usize> {
        if self.mode != Mode::PerFrame {
            return Vec::new();
        }
        let mut out: Vec<usize> = self.held.keys().copied().collect();
        for label in self.tapped.drain(..) {
            if !out.contains(&label) {
                out.push(label);
            }
        }
        out.sort_unstable();
        out
    }
}

impl Default for HoldRepeater {
    fn default() -> Self {
        Self::timed(DEFAULT_HOLD_DELAY, DEFAULT_HOLD_RATE_HZ)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(label: usize) -> ButtonEvent {
        ButtonEvent::press(Control::Label(label))
    }

    fn release(label: usize) -> ButtonEvent {
        ButtonEvent::release(Control::Label(label))
    }

    /// Holds `label` from 0 to `hold_ms`, polling `due` every `poll_ms`;
    /// returns the capture times in ms.
    fn burst(r: &mut HoldRepeater, hold_ms: u64, poll_ms: u64) -> Vec<u64> {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut times: Vec<u64> = r.on_event(&press(0), t0).iter().map(|_| 0).collect();
        let mut ms = poll_ms;
        while ms < hold_ms {
            times.extend(r.due(at(ms)).iter().map(|_| ms));
            ms += poll_ms;
        }
        r.on_event(&release(0), at(hold_ms));
        for ms in (hold_ms..hold_ms + 2000).step_by(poll_ms as usize) {
            assert!(r.due(at(ms)).is_empty(), "capture after release");
        }
        times
    }

    #[test]
    fn one_second_hold_at_5hz_without_delay() {
        let mut r = HoldRepeater::timed(Duration::from_millis(200), 5.0);
        // Press at 0 captures at once, then 200, 400, 600, 800 ms; release at 1000.
        assert_eq!(burst(&mut r, 1000, 10), vec![0, 200, 400, 600, 800]);
    }

    #[test]
    fn one_second_hold_with_default_delay() {
        let mut r = HoldRepeater::default();
        assert_eq!(burst(&mut r, 1000, 5), vec![0, 500, 700, 900]);
    }

    #[test]
    fn short_tap_captures_once() {
        let mut r = HoldRepeater::default();
        assert_eq!(burst(&mut r, 120, 5), vec![0]);
    }

    #[test]
    fn late_polling_skips_instead_of_bursting() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut r = HoldRepeater::timed(Duration::from_millis(100), 10.0);
        assert_eq!(r.on_event(&press(2), t0), vec![2]);
        assert!(r.due(at(99)).is_empty());
        // Due at 100, 200, 300, 400; polled only at 450: one capture.
        assert_eq!(r.due(at(450)), vec![2]);
        assert!(r.due(at(549)).is_empty());
        assert_eq!(r.due(at(550)), vec![2]);
    }

    #[test]
    fn two_labels_and_other_controls() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut r = HoldRepeater::timed(Duration::from_millis(100), 10.0);
        assert_eq!(r.on_event(&press(0), t0), vec![0]);
        assert_eq!(r.on_event(&press(1), at(50)), vec![1]);
        // A repeated press event while held does not restart the burst.
        assert!(r.on_event(&press(0), at(60)).is_empty());
        assert!(r.on_event(&ButtonEvent::press(Control::Train), at(60)).is_empty());
        assert_eq!(r.due(at(100)), vec![0]);
        assert_eq!(r.due(at(150)), vec![1]);
        assert_eq!(r.held(), vec![0, 1]);
        r.on_event(&release(0), at(160));
        assert_eq!(r.due(at(250)), vec![1]);
        assert!(r.tick().is_empty());
    }

    #[test]
    fn per_frame_mode_captures_once_per_tick_while_held() {
        let t0 = Instant::now();
        let mut r = HoldRepeater::per_frame();
        assert!(r.tick().is_empty());
        assert!(r.on_event(&press(1), t0).is_empty());
        assert_eq!(r.tick(), vec![1]);
        assert_eq!(r.tick(), vec![1]);
        assert_eq!(r.tick(), vec![1]);
        r.on_event(&release(1), t0);
        assert!(r.tick().is_empty());
        assert!(r.due(t0 + Duration::from_secs(9)).is_empty());
    }

    #[test]
    fn per_frame_tap_between_ticks_still_captures_once() {
        let t0 = Instant::now();
        let mut r = HoldRepeater::per_frame();
        r.on_event(&press(0), t0);
        r.on_event(&release(0), t0);
        r.on_event(&press(2), t0);
        assert_eq!(r.tick(), vec![0, 2]);
        assert_eq!(r.tick(), vec![2]);
    }
}
