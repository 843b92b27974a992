//! The daemon: frames in, captures and training on button presses, the detected label out on
//! the LEDs. [`Daemon::tick`] is one turn of the loop; [`run`] drives it from the camera and
//! the real clock, the scenario runner from a replay and a frame-driven clock.

mod feedback;
mod run;
mod trainer;

pub use feedback::Feedback;
pub use run::{run, run_with};

use crate::camera::Frame;
use crate::config::Config;
use crate::decide::{Decider, Decision};
use crate::embed::Embedder;
use crate::head::{Head, HeadError};
use crate::imageio::encode_jpeg;
use crate::panel::{ButtonEvent, Buttons, Control, Edge, HoldRepeater, LedState, Leds};
use crate::store::{Example, Store};
use anyhow::{Context, Result};
use serde::Deserialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use trainer::Trainer;

/// The `[capture]` section: how button presses become examples.
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
        Self { hold_delay_ms: 500, hold_rate_hz: 5.0, jpeg_quality: 90 }
    }
}

/// What one tick did, for logs and scenario output.
#[derive(Debug, Clone, PartialEq)]
pub struct TickReport {
    /// LEDs as shown after the tick.
    pub leds: LedState,
    /// The detection, when a frame was processed with a trained head.
    pub decision: Option<Decision>,
    /// Label indices (config order) captured during the tick.
    pub captured: Vec<usize>,
}

/// Running totals for the periodic log line.
#[derive(Debug)]
struct Stats {
    since: Instant,
    frames: u32,
    embed_ms: f64,
}

/// The daemon's state.
pub struct Daemon {
    config: Config,
    embedder: Arc<Embedder>,
    store: Store,
    examples: Vec<Example>,
    head: Option<Head>,
    decider: Option<Decider>,
    /// For each head label, the config label index whose LED shows it.
    led_of: Vec<Option<usize>>,
    buttons: Box<dyn Buttons>,
    leds: Box<dyn Leds>,
    shown: Option<LedState>,
    repeater: HoldRepeater,
    pending: Vec<usize>,
    trainer: Trainer,
    feedback: Feedback,
    stats: Stats,
    quit: bool,
    last_decision: Option<Decision>,
}

impl Daemon {
    /// Opens the store, loads the head if one fits the model, and takes the panel.
    /// `repeater` decides how held buttons capture (timed on hardware, per frame in scenarios).
    pub fn new(
        config: Config,
        embedder: Arc<Embedder>,
        buttons: Box<dyn Buttons>,
        leds: Box<dyn Leds>,
        repeater: HoldRepeater,
        now: Instant,
    ) -> Result<Self> {
        let store = Store::open(&config.data_dir)?;
        for p in store.problems() {
            log::warn!("{p}");
        }
        let mut loaded = crate::train::load_examples(&store, &embedder, config.model.mirror_augment)?;
        let examples = std::mem::take(&mut loaded.examples);
        let head = match Head::load(&config.head_path(), &embedder.info().sha256, embedder.info().dims) {
            Ok(h) => Some(h),
            Err(HeadError::Missing(_)) => None,
            Err(e) => {
                log::warn!("{e}; press TRAIN to train a new head");
                None
            }
        };
        let counts = store.counts();
        log::info!(
            "{} examples{}; {}",
            examples.len(),
            if counts.is_empty() {
                String::new()
            } else {
                format!(" ({})", counts.iter().map(|(l, n)| format!("{l} {n}")).collect::<Vec<_>>().join(", "))
            },
            match &head {
                Some(h) => format!("detecting {} with the saved head", h.labels.join("/")),
                None => "no trained head yet: capture examples of 2 labels, then press TRAIN".into(),
            }
        );
        let mut d = Self {
            config,
            embedder,
            store,
            examples,
            head: None,
            decider: None,
            led_of: Vec::new(),
            buttons,
            leds,
            shown: None,
            repeater,
            pending: Vec::new(),
            trainer: Trainer::default(),
            feedback: Feedback::default(),
            stats: Stats { since: now, frames: 0, embed_ms: 0.0 },
            quit: false,
            last_decision: None,
        };
        if let Some(h) = head {
            d.install_head(h);
        }
        d.show(now)?;
        Ok(d)
    }

    /// True once the QUIT control was pressed.
    pub fn quit_requested(&self) -> bool {
        self.quit
    }

    /// True while a training runs in the background.
    pub fn training(&self) -> bool {
        self.trainer.running()
    }

    /// The live head, if any.
    pub fn head(&self) -> Option<&Head> {
        self.head.as_ref()
    }

    /// Examples held per label, by config label name.
    pub fn counts(&self) -> std::collections::BTreeMap<String, usize> {
        self.store.counts()
    }

    /// True while a feedback pattern is still showing at `now`.
    pub fn feedback_busy(&self, now: Instant) -> bool {
        self.feedback.busy(now)
    }

    /// One turn of the loop: read buttons, capture, check training, detect on `frame`, show.
    pub fn tick(&mut self, frame: Option<&Frame>, now: Instant) -> Result<TickReport> {
        let events = match self.buttons.poll(now) {
            Ok(ev) => ev,
            Err(e) => {
                log::error!("buttons: {e}");
                self.feedback.error(now);
                Vec::new()
            }
        };
        for ev in &events {
            self.handle(ev, now);
        }
        self.pending.extend(self.repeater.due(now));
        if frame.is_some() {
            self.pending.extend(self.repeater.tick());
        }
        if let Some(outcome) = self.trainer.poll() {
            self.finish_training(outcome, now);
        }
        let mut report =
            TickReport { leds: LedState::off(self.config.labels.len()), decision: None, captured: Vec::new() };
        if let Some(f) = frame {
            report = self.process(f, now)?;
        }
        report.leds = self.show(now)?;
        self.log_periodically(now);
        Ok(report)
    }

    /// Waits for a running training and swaps its head in (scenario steps do this).
    pub fn wait_training(&mut self, now: Instant) {
        if let Some(outcome) = self.trainer.wait() {
            self.finish_training(outcome, now);
        }
    }

    /// Turns every LED off (on exit).
    pub fn shutdown(&mut self) {
        self.leds.off();
        self.shown = None;
    }

    fn handle(&mut self, ev: &ButtonEvent, now: Instant) {
        self.pending.extend(self.repeater.on_event(ev, now));
        if ev.edge != Edge::Press {
            return;
        }
        match ev.control {
            Control::Label(_) => {}
            Control::Train => self.start_training(now),
            Control::Clear => self.undo_last(now),
            Control::Quit => self.quit = true,
        }
    }

    fn start_training(&mut self, now: Instant) {
        if self.trainer.running() {
            log::info!("TRAIN pressed while training; ignored");
            return;
        }
        let counts = self.store.counts();
        if counts.len() < 2 {
            let missing: Vec<usize> =
                (0..self.config.labels.len()).filter(|&k| !counts.contains_key(&self.config.labels[k])).collect();
            log::warn!(
                "TRAIN needs examples of at least 2 labels; have {}. Hold a label button to capture examples first",
                if counts.is_empty() {
                    "none".to_string()
                } else {
                    counts.keys().cloned().collect::<Vec<_>>().join(", ")
                }
            );
            self.feedback.need_labels(missing, now);
            return;
        }
        let info = self.embedder.info();
        log::info!("training on {} examples…", self.examples.len());
        self.trainer.start(
            self.examples.clone(),
            info.sha256.clone(),
            info.dims,
            self.config.head.clone(),
            self.config.head_path(),
        );
        self.feedback.training(true, now);
    }

    fn finish_training(&mut self, outcome: trainer::Outcome, now: Instant) {
        match outcome {
            Ok(head) => {
                log::info!("trained: {}", summary(&head));
                self.install_head(head);
                self.feedback.trained(now);
            }
            Err(e) => {
                log::error!("training failed: {e}");
                self.feedback.training(false, now);
                self.feedback.error(now);
            }
        }
    }

    fn install_head(&mut self, head: Head) {
        let labels = &self.config.labels;
        self.led_of = head
            .labels
            .iter()
            .map(|l| labels.iter().position(|c| c == l).filter(|_| !self.config.live.no_led.contains(l)))
            .collect();
        let thresholds = head
            .labels
            .iter()
            .zip(&head.thresholds)
            .map(|(l, t)| *self.config.live.thresholds.get(l).unwrap_or(t))
            .collect();
        let has_led = self.led_of.iter().map(Option::is_some).collect();
        self.decider = Some(Decider::new(&self.config.live, thresholds, has_led));
        // The last decision indexes the old head's labels: forget it.
        self.last_decision = None;
        self.head = Some(head);
    }

    fn undo_last(&mut self, now: Instant) {
        let Some(last) = self.store.entries().last().cloned() else { return };
        match self.store.remove(&last.id) {
            Ok(_) => {
                self.examples.retain(|e| e.entry.id != last.id);
                log::info!("removed the last example ({} {}); {} left", last.label, last.id, self.examples.len());
                if let Some(k) = self.config.labels.iter().position(|l| *l == last.label) {
                    self.feedback.captured(k, now);
                }
            }
            Err(e) => {
                log::error!("undo: {e}");
                self.feedback.error(now);
            }
        }
    }

    fn process(&mut self, frame: &Frame, now: Instant) -> Result<TickReport> {
        let started = Instant::now();
        let embedding = match self.embedder.embed(&frame.image, false) {
            Ok(e) => e,
            Err(e) => {
                log::error!("frame {}: {e}", frame.seq);
                self.feedback.error(now);
                return Ok(TickReport { leds: LedState::off(0), decision: None, captured: Vec::new() });
            }
        };
        self.stats.frames += 1;
        self.stats.embed_ms += started.elapsed().as_secs_f64() * 1e3;
        // One example per label per frame, however many captures fell due since the last one.
        let mut captured = std::mem::take(&mut self.pending);
        captured.sort_unstable();
        captured.dedup();
        for &k in &captured {
            self.capture(k, frame, &embedding, now)?;
        }
        let decision = match (&self.head, &mut self.decider) {
            (Some(h), Some(d)) => Some(d.update(&h.probabilities(&embedding.vector))),
            _ => None,
        };
        self.last_decision = decision.clone();
        Ok(TickReport { leds: LedState::off(0), decision, captured })
    }

    fn capture(&mut self, k: usize, frame: &Frame, embedding: &crate::embed::Embedding, now: Instant) -> Result<()> {
        let label = self.config.labels[k].clone();
        let mut embedding = embedding.clone();
        if self.config.model.mirror_augment {
            embedding.mirrored = Some(self.embedder.run(&frame.image, true)?.embedding);
        }
        let jpeg = encode_jpeg(&frame.image, self.config.capture.jpeg_quality);
        let source = frame.source.as_ref().map_or("camera".to_string(), |p| p.display().to_string());
        let entry = self
            .store
            .add(&label, &jpeg, "jpg", &embedding, &self.embedder.info().sha256, &source)
            .with_context(|| format!("storing a {label} example"))?;
        self.examples.push(Example { entry, embedding });
        let n = self.store.counts().get(&label).copied().unwrap_or(0);
        log::info!("captured {label} ({n} examples)");
        self.feedback.captured(k, now);
        Ok(())
    }

    /// The LED state before feedback patterns: the detected label's LED, status on once a head is live.
    fn base_leds(&self) -> LedState {
        let mut s = LedState::off(self.config.labels.len());
        s.status = self.head.is_some();
        if let Some(k) =
            self.last_decision.as_ref().and_then(|d| d.lit).and_then(|k| self.led_of.get(k).copied().flatten())
        {
            s.labels[k] = true;
        }
        s
    }

    fn show(&mut self, now: Instant) -> Result<LedState> {
        let state = self.feedback.apply(&self.base_leds(), now);
        if self.shown.as_ref() != Some(&state) {
            if let Err(e) = self.leds.set(&state) {
                log::error!("LEDs: {e}");
            }
            self.shown = Some(state.clone());
        }
        Ok(state)
    }

    fn log_periodically(&mut self, now: Instant) {
        let every = Duration::from_secs_f32(self.config.live.log_every_s.max(0.1));
        let elapsed = now.saturating_duration_since(self.stats.since);
        if elapsed < every {
            return;
        }
        let fps = self.stats.frames as f64 / elapsed.as_secs_f64();
        let embed = if self.stats.frames > 0 { self.stats.embed_ms / self.stats.frames as f64 } else { 0.0 };
        let seen = match (&self.head, &self.last_decision) {
            (Some(h), Some(d)) => match d.lit {
                Some(k) => format!("showing {} ({:.2})", h.labels[k], d.confidence),
                None => format!("nothing shown (top {} {:.2})", h.labels[d.top], d.confidence),
            },
            _ => "no head yet".into(),
        };
        log::info!("{fps:.1} frames/s, embed {embed:.0} ms, {seen}");
        self.stats = Stats { since: now, frames: 0, embed_ms: 0.0 };
    }
}

/// One-line summary of a freshly trained head.
pub fn summary(head: &Head) -> String {
    let r = &head.report;
    let counts: Vec<String> = r.labels.iter().zip(&r.counts).map(|(l, n)| format!("{l} {n}")).collect();
    let measured = match &r.holdout {
        Some(m) => {
            let base = match &r.baseline {
                Some(b) => format!(
                    ", original ImageNet model {:.1}% ({:+.1} points)",
                    b.accuracy * 100.0,
                    (m.accuracy - b.accuracy) * 100.0
                ),
                None => String::new(),
            };
            format!("held-out accuracy {:.1}% on {}{base}", m.accuracy * 100.0, m.n)
        }
        None => r.note.clone().unwrap_or_default(),
    };
    format!("{} in {:.0} ms; {measured}", counts.join(", "), r.train_ms)
}
