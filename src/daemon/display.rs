//! What the LEDs show: the detected label's LED and the status LED, with feedback patterns
//! drawn over them. Writes to the LEDs only when the state changes.

use super::Feedback;
use crate::events::Detection;
use crate::panel::{LedState, Leds};
use std::time::{Duration, Instant};

/// While nothing known is in view, the status LED goes dark for [`NOTHING_DARK`] in every
/// [`NOTHING_PERIOD`]: a slow "looking, sees nothing it knows" beat, unlike the fast blinks of
/// errors and training.
const NOTHING_PERIOD: Duration = Duration::from_millis(2000);
const NOTHING_DARK: Duration = Duration::from_millis(400);
/// While a lasting problem is active (camera lost, data folder not writable), the status LED
/// flickers: on for [`FLICKER`], off for [`FLICKER`].
const FLICKER: Duration = Duration::from_millis(100);

/// The LEDs and the patterns shown on them.
pub struct Display {
    leds: Box<dyn Leds>,
    /// Patterns (capture blink, training, errors) drawn over the detection.
    pub feedback: Feedback,
    shown: Option<LedState>,
    n_labels: usize,
    since: Instant,
    /// What is in view, in words, for LEDs that can show text ([`Leds::note`]).
    note: String,
}

impl Display {
    /// A display of `n_labels` label LEDs and a status LED.
    pub fn new(leds: Box<dyn Leds>, n_labels: usize) -> Self {
        Self { leds, feedback: Feedback::default(), shown: None, n_labels, since: Instant::now(), note: String::new() }
    }

    /// Sets what is in view, in words (shown by LEDs that can show text from the next
    /// [`Display::show`] on).
    pub fn note(&mut self, detection: Option<&Detection>) {
        self.note = detection.map(confidence_note).unwrap_or_default();
    }

    /// Shows `lit`'s LED (none when `None`), the status LED on while `ready` (a head is in
    /// use) with a slow dark beat while `nothing` known is in view, a fast flicker while a
    /// `problem` lasts, and the active patterns at `now`. Returns what is shown.
    pub fn show(&mut self, lit: Option<usize>, ready: bool, nothing: bool, problem: bool, now: Instant) -> LedState {
        let mut base = lit.map_or_else(|| LedState::off(self.n_labels), |k| LedState::only(self.n_labels, k));
        let beat = now.saturating_duration_since(self.since).as_millis() % NOTHING_PERIOD.as_millis();
        base.status = ready && !(nothing && beat < NOTHING_DARK.as_millis());
        if problem {
            let since = now.saturating_duration_since(self.since).as_millis();
            base.status = (since / FLICKER.as_millis()).is_multiple_of(2);
        }
        let state = self.feedback.apply(&base, now);
        if self.shown.as_ref() != Some(&state) {
            if let Err(e) = self.leds.set(&state) {
                log::error!("LEDs: {e}");
            }
            self.shown = Some(state.clone());
        }
        self.leds.note(&self.note);
        state
    }

    /// Turns every LED off (on exit).
    pub fn off(&mut self) {
        self.leds.off();
        self.shown = None;
    }
}

/// Each class's smoothed confidence, e.g. `cat 0.93  dog 0.05  (nothing known) 0.02`.
pub fn confidence_note(d: &Detection) -> String {
    let parts: Vec<String> = d.confidences.iter().map(|c| format!("{} {:.2}", c.label, c.p)).collect();
    parts.join("  ")
}
