//! Hold-to-burst capture: turns label button presses into capture requests.
//!
//! Two or more label buttons held at once are a *chord*: which label is meant is unknown, so
//! nothing is captured from the moment the second one goes down (captures of the first one
//! still waiting for a frame are withdrawn) until every label button is up again; this is
//! logged once per chord. Other buttons (TRAIN, UNDO, QUIT) do not interact with bursts: a
//! TRAIN pressed while a label is held trains on what is stored and the burst goes on.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::config::{CaptureConfig, DEFAULT_HOLD_DELAY, DEFAULT_HOLD_RATE_HZ, HOLD_RATE_RANGE};
use super::{ButtonEvent, Control, Edge};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Timed { delay: Duration, period: Duration },
    PerFrame,
}

/// Decides when to capture examples for held label buttons.
///
/// * Timed mode ([`HoldRepeater::timed`]): a press captures once at once (returned by the
///   next [`due`](HoldRepeater::due)); while held, one more capture is due after the initial
///   delay and then every `1 / rate` seconds; release stops.
/// * Per-frame mode ([`HoldRepeater::per_frame`]): every [`tick`](HoldRepeater::tick) yields
///   one capture per label that is held, or was pressed since the previous tick (so a short
///   tap between two frames still captures once).
///
/// In both modes a chord (two label buttons down together) captures nothing; see the
/// [module documentation](self).
#[derive(Debug, Clone)]
pub struct HoldRepeater {
    mode: Mode,
    /// Held labels with the time their next repeat is due (timed mode).
    held: BTreeMap<usize, Instant>,
    /// Labels pressed and not yet handed out: the first capture of each press.
    pressed: Vec<usize>,
    /// Two or more label buttons went down together; cleared when all are up.
    chord: bool,
    /// Label names for the chord message (`label N` when unknown).
    names: Vec<String>,
}

impl HoldRepeater {
    fn new(mode: Mode) -> Self {
        HoldRepeater { mode, held: BTreeMap::new(), pressed: Vec::new(), chord: false, names: Vec::new() }
    }

    /// Timed mode: repeats start `delay` after the press, at `rate_hz` (kept within
    /// [`HOLD_RATE_RANGE`]; a NaN rate is the lowest).
    pub fn timed(delay: Duration, rate_hz: f64) -> Self {
        let (lo, hi) = HOLD_RATE_RANGE;
        let rate = if rate_hz.is_nan() { lo } else { rate_hz.clamp(lo, hi) };
        Self::new(Mode::Timed { delay, period: Duration::from_secs_f64(1.0 / rate) })
    }

    /// Timed mode with the `[capture]` settings.
    pub fn from_config(cfg: &CaptureConfig) -> Self {
        Self::timed(Duration::from_millis(cfg.hold_delay_ms), cfg.hold_rate_hz)
    }

    /// Per-frame mode: one capture per [`tick`](Self::tick) while held.
    pub fn per_frame() -> Self {
        Self::new(Mode::PerFrame)
    }

    /// Names the labels (in index order) for the log line about a chord.
    pub fn with_labels(mut self, names: &[String]) -> Self {
        self.names = names.to_vec();
        self
    }

    /// Labels currently held, in index order.
    pub fn held(&self) -> Vec<usize> {
        self.held.keys().copied().collect()
    }

    /// True while at least one label button is held.
    pub fn any_held(&self) -> bool {
        !self.held.is_empty()
    }

    /// True while a chord of label buttons holds captures back.
    pub fn chord(&self) -> bool {
        self.chord
    }

    /// Feeds a button event at `now`. The first capture of a press is handed out by the next
    /// [`due`](Self::due) (timed) or [`tick`](Self::tick) (per frame), so that a second label
    /// pressed before then cancels it. Events of non-label controls are ignored.
    pub fn on_event(&mut self, event: &ButtonEvent, now: Instant) {
        let Control::Label(label) = event.control else { return };
        match event.edge {
            Edge::Press if self.held.contains_key(&label) => {}
            Edge::Press => {
                let next = match self.mode {
                    Mode::Timed { delay, .. } => now + delay,
                    Mode::PerFrame => now,
                };
                self.held.insert(label, next);
                if self.held.len() > 1 {
                    self.start_chord();
                } else if !self.pressed.contains(&label) {
                    self.pressed.push(label);
                }
            }
            Edge::Release => {
                self.held.remove(&label);
                self.chord &= !self.held.is_empty();
            }
        }
    }

    /// A second label went down: withdraw the held labels' waiting captures; log once.
    fn start_chord(&mut self) {
        self.pressed.retain(|l| !self.held.contains_key(l));
        if !self.chord {
            let names: Vec<String> = self
                .held
                .keys()
                .map(|&k| self.names.get(k).cloned().unwrap_or_else(|| format!("label {}", k + 1)))
                .collect();
            log::warn!(
                "label buttons {} pressed together: nothing is captured until they are all released (press one label at a time)",
                names.join(" and ")
            );
        }
        self.chord = true;
    }

    /// Timed mode: the first capture of each new press, and the labels whose next repeat is
    /// due at `now`, at most one each per call. A caller that falls behind skips the missed
    /// repeats rather than bursting. Always empty in per-frame mode.
    pub fn due(&mut self, now: Instant) -> Vec<usize> {
        let Mode::Timed { period, .. } = self.mode else {
            return Vec::new();
        };
        let mut out = std::mem::take(&mut self.pressed);
        if !self.chord {
            for (&label, next) in self.held.iter_mut() {
                if *next <= now {
                    out.push(label);
                    *next += period;
                    if *next <= now {
                        *next = now + period;
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Per-frame mode: one capture per label held now or pressed since the
    /// last tick. Always empty in timed mode.
    pub fn tick(&mut self) -> Vec<usize> {
        if self.mode != Mode::PerFrame {
            return Vec::new();
        }
        let mut out = std::mem::take(&mut self.pressed);
        if !self.chord {
            out.extend(self.held.keys());
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

impl Default for HoldRepeater {
    fn default() -> Self {
        Self::timed(DEFAULT_HOLD_DELAY, DEFAULT_HOLD_RATE_HZ)
    }
}

#[cfg(test)]
mod tests;
