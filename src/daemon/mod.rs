//! The daemon: frames in, captures and training on button presses, the detected label out on
//! the LEDs. [`Daemon::tick`] is one turn of the loop; [`run`] drives it from the camera and
//! the real clock, the scenario runner from a replay and a frame-driven clock.
//!
//! Each part has one job: [`Controls`] turns buttons into commands and due captures,
//! [`Teacher`] owns the examples (capture, undo, training), [`Detector`] owns the live head
//! (embedding → decision), [`Gate`] lets a frame that shows what the last embedded one showed
//! reuse its embedding (motion gating), [`Display`] owns the LEDs and their feedback patterns,
//! and [`Telemetry`] the periodic status line.

mod controls;
mod detector;
mod display;
mod feedback;
mod gate;
mod health;
mod outputs;
mod run;
mod teacher;
mod telemetry;
#[cfg(test)]
mod tests;
mod thumbnail;
mod trainer;

pub use controls::{Command, Controls};
pub use detector::{Detector, NOTHING};
pub use display::Display;
pub use feedback::Feedback;
pub use gate::{Gate, GateConfig};
pub use health::{Area, Health};
pub use outputs::Outputs;
pub use run::{run, run_with};
pub use teacher::{CaptureError, StartError, Teacher};
pub use telemetry::Telemetry;
pub use thumbnail::Thumbnail;
pub use trainer::{Outcome, TrainFailed};

use crate::camera::Frame;
use crate::config::Config;
use crate::decide::Decision;
use crate::embed::{Embedder, Embedding};
use crate::events::{Hub, Problem};
use crate::head::{Head, HeadError};
use crate::panel::{Buttons, HoldRepeater, LedState, Leds};
use crate::store::StoreError;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one tick did, for logs and scenario output.
#[derive(Debug, Clone, PartialEq)]
pub struct TickReport {
    /// LEDs as shown after the tick.
    pub leds: LedState,
    /// The detection, when a frame was processed with a trained head.
    pub decision: Option<Decision>,
    /// Label indices (config order) captured and stored during the tick.
    pub captured: Vec<usize>,
}

/// The daemon's parts.
pub struct Daemon {
    embedder: Arc<Embedder>,
    labels: Vec<String>,
    controls: Controls,
    teacher: Teacher,
    detector: Detector,
    gate: Gate,
    display: Display,
    telemetry: Telemetry,
    health: Health,
    hub: Arc<Hub>,
    quit: bool,
}

impl Daemon {
    /// Opens the store, loads the head if one fits the model, and takes the panel.
    /// `repeater` decides how held buttons capture (timed on hardware, per frame in scenarios).
    pub fn new(
        config: &Config,
        embedder: Arc<Embedder>,
        buttons: Box<dyn Buttons>,
        leds: Box<dyn Leds>,
        repeater: HoldRepeater,
        now: Instant,
    ) -> Result<Self, StoreError> {
        let teacher = Teacher::open(config, Arc::clone(&embedder))?;
        let mut detector = Detector::new(config);
        match Head::load(&config.head_path(), embedder.info()) {
            Ok(h) => {
                if h.open_set.is_none() && config.background_path().is_some() {
                    log::info!(
                        "the saved head was trained without a background set: press TRAIN to turn \"nothing known\" on"
                    );
                }
                detector.install(h)
            }
            Err(HeadError::Missing(_)) => {}
            Err(e) => log::warn!("{e}; press TRAIN to train a new head"),
        }
        let counts = teacher.counts().iter().map(|(l, n)| format!("{l} {n}")).collect::<Vec<_>>().join(", ");
        log::info!(
            "{} examples{}; {}",
            teacher.len(),
            if counts.is_empty() { String::new() } else { format!(" ({counts})") },
            match detector.head() {
                Some(h) => format!("detecting {} with the saved head", h.labels.join("/")),
                None => "no trained head yet: capture examples of 2 labels, then press TRAIN".into(),
            }
        );
        let hub = Arc::new(Hub::new(&config.labels));
        hub.counts(&teacher.counts());
        if let Some(h) = detector.head() {
            hub.head(h, false);
        }
        let mut health = Health::default();
        if let Some(reason) = teacher.read_only() {
            health.fail(
                Area::Store,
                &format!("captures cannot be stored: {reason}; detecting with what is saved"),
                now,
            );
        }
        let mut daemon = Self {
            embedder,
            labels: config.labels.clone(),
            controls: Controls::new(buttons, repeater),
            teacher,
            detector,
            gate: Gate::new(&config.gate),
            display: Display::new(leds, config.labels.len()),
            telemetry: Telemetry::new(Duration::from_secs_f32(config.live.log_every_s.max(0.1)), now),
            health,
            hub,
            quit: false,
        };
        daemon.show(now);
        Ok(daemon)
    }

    /// One turn of the loop: buttons → commands, training results, the frame (embed, capture,
    /// detect), LEDs, status line.
    pub fn tick(&mut self, frame: Option<&Frame>, now: Instant) -> TickReport {
        for command in self.read_controls(frame.is_some(), now) {
            self.obey(command, now);
        }
        if let Some(outcome) = self.teacher.poll_training() {
            self.finish_training(outcome, now);
        }
        let (decision, captured) = match frame {
            Some(f) => self.see(f, now),
            None => (None, Vec::new()),
        };
        let leds = self.show(now);
        self.telemetry.log_if_due(now, &self.detector);
        self.hub.leds(&leds);
        self.hub.problems(
            self.health.problems().map(|(a, m)| Problem { area: a.to_string(), message: m.to_string() }).collect(),
        );
        TickReport { leds, decision, captured }
    }

    /// Where the daemon reports what happens and takes remote controls (status page, MQTT).
    pub fn hub(&self) -> Arc<Hub> {
        Arc::clone(&self.hub)
    }

    /// True once the QUIT control was pressed.
    pub fn quit_requested(&self) -> bool {
        self.quit
    }

    /// True while a training runs in the background.
    pub fn training(&self) -> bool {
        self.teacher.training()
    }

    /// The live head, if any (classes in the config's label order).
    pub fn head(&self) -> Option<&Head> {
        self.detector.head()
    }

    /// The name of class `k` of a decision: a head label, or [`NOTHING`].
    pub fn label_name(&self, k: usize) -> Option<&str> {
        self.detector.label_name(k)
    }

    /// Examples held per label, in name order.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.teacher.counts()
    }

    /// True while a feedback pattern is still showing at `now`.
    pub fn feedback_busy(&self, now: Instant) -> bool {
        self.display.feedback.busy(now)
    }

    /// Waits for a running training and swaps its head in (scenario steps do this).
    pub fn wait_training(&mut self, now: Instant) {
        if let Some(outcome) = self.teacher.wait_training() {
            self.finish_training(outcome, now);
        }
    }

    /// The camera gives no frames (`Some(reason)`) or works again (`None`): logged without
    /// flooding, and shown on the status LED while it lasts. The loop goes on either way.
    pub fn camera_status(&mut self, problem: Option<&str>, now: Instant) {
        match problem {
            Some(reason) => {
                self.health.fail(Area::Camera, reason, now);
                // What was in view is no longer known: no label LED stays lit on a stale frame.
                self.detector.forget();
                self.gate.invalidate();
                self.hub.forget_detection();
                self.display.note(None);
            }
            None => self.health.ok(Area::Camera, now),
        }
    }

    /// The lasting problems now (camera, data folder, buttons, training).
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Turns every LED off (on exit).
    pub fn shutdown(&mut self) {
        self.display.off();
    }

    fn read_controls(&mut self, frame: bool, now: Instant) -> Vec<Command> {
        let mut commands = self.controls.remote(self.hub.take_remote(), now);
        match self.controls.poll(now, frame) {
            Ok(pressed) => {
                self.health.ok(Area::Buttons, now);
                commands.extend(pressed);
            }
            Err(e) => {
                self.health.fail(Area::Buttons, &e.to_string(), now);
            }
        }
        commands
    }

    fn obey(&mut self, command: Command, now: Instant) {
        match command {
            Command::Train => self.start_training(now),
            Command::Undo => self.undo(now),
            Command::Quit => self.quit = true,
        }
    }

    /// Embeds the frame (or reuses the last embedding when the gate finds nothing changed),
    /// stores the captures due on it, and decides what it shows.
    fn see(&mut self, frame: &Frame, now: Instant) -> (Option<Decision>, Vec<usize>) {
        let started = Instant::now();
        self.hub.offer_frame(&frame.image, now);
        let thumbnail = self.gate.look(&frame.image);
        // Never gated while a label button is held or a capture is due: examples are the
        // embeddings of their own frames.
        let reusable = match &thumbnail {
            Some(t) if !self.controls.capturing() => self.gate.reusable(t, now),
            _ => None,
        };
        let checked = started.elapsed();
        if let Some(embedding) = reusable {
            // The same embedding again: the smoothing goes on as if the frame were embedded.
            let decision = self.detector.decide(embedding);
            self.telemetry.reused(checked, decision.as_ref());
            if let Some(d) = &decision {
                let detection = self.detector.detection(d, true);
                self.display.note(Some(&detection));
                self.hub.detected(detection, None, now);
            }
            return (decision, Vec::new());
        }
        let embedding = match self.embedder.embed(&frame.image, false) {
            Ok(e) => e,
            Err(e) => {
                log::error!("frame {}: {e}", frame.seq);
                self.gate.invalidate();
                self.display.feedback.error(now);
                return (None, Vec::new());
            }
        };
        let embed_time = started.elapsed().saturating_sub(checked);
        let captured =
            self.controls.take_captures().into_iter().filter(|&k| self.capture(k, frame, &embedding, now)).collect();
        let decision = self.detector.decide(&embedding);
        self.gate.embedded(thumbnail, embedding, now);
        self.telemetry.embedded(checked, embed_time, decision.as_ref());
        if let Some(d) = &decision {
            let detection = self.detector.detection(d, false);
            self.display.note(Some(&detection));
            self.hub.detected(detection, Some(embed_time), now);
        }
        (decision, captured)
    }

    /// Stores one example of label `k`; true once it is durable (then logged and blinked).
    fn capture(&mut self, k: usize, frame: &Frame, embedding: &Embedding, now: Instant) -> bool {
        let label = &self.labels[k];
        match self.teacher.capture(k, frame, embedding) {
            Ok(entry) => {
                self.health.ok(Area::Store, now);
                let n = self.teacher.counts().get(label).copied().unwrap_or(0);
                log::info!("captured {label} ({n} examples), id {}", entry.id);
                self.display.feedback.captured(k, now);
                self.hub.captured(label, &entry.id, n, &frame.image);
                true
            }
            Err(CaptureError::Store(e)) => {
                // Lasting (full disk, read-only folder): logged without flooding while the
                // button is held; each refused capture still blinks.
                self.health.fail(Area::Store, &format!("capture of a {label} example not stored: {e}"), now);
                self.display.feedback.error(now);
                false
            }
            Err(e) => {
                log::error!("capture of a {label} example failed, nothing stored: {e}");
                self.display.feedback.error(now);
                false
            }
        }
    }

    fn undo(&mut self, now: Instant) {
        match self.teacher.undo() {
            Ok(Some(entry)) => {
                log::info!("removed the last example ({} {}); {} left", entry.label, entry.id, self.teacher.len());
                let n = self.teacher.counts().get(&entry.label).copied().unwrap_or(0);
                self.hub.undone(&entry.label, &entry.id, n);
                if let Some(k) = self.labels.iter().position(|l| *l == entry.label) {
                    self.display.feedback.captured(k, now);
                }
            }
            Ok(None) => log::info!("UNDO: no example to remove"),
            Err(e) => {
                log::error!("undo: {e}");
                self.display.feedback.error(now);
            }
        }
    }

    fn start_training(&mut self, now: Instant) {
        match self.teacher.start_training() {
            Ok(n) => {
                log::info!("training on {n} examples…");
                let counts = self.teacher.counts();
                if let Some(w) = crate::train::advice::imbalance(counts.iter().map(|(l, n)| (l.as_str(), *n))) {
                    log::warn!("{w}");
                }
                self.hub.training_started(n);
                self.display.feedback.training(true, now);
            }
            Err(e) => match e {
                StartError::Busy => log::info!("{e}"),
                StartError::TooFewLabels { ref missing, .. } => {
                    log::warn!("{e}");
                    self.display.feedback.need_labels(missing.clone(), now);
                }
                StartError::Failed(_) => {
                    log::error!("training: {e}");
                    self.display.feedback.error(now);
                }
            },
        }
    }

    fn finish_training(&mut self, outcome: Outcome, now: Instant) {
        match outcome {
            Ok(head) => {
                self.health.ok(Area::Training, now);
                log::info!("trained: {}", head.report.summary());
                self.detector.install(head);
                if let Some(h) = self.detector.head() {
                    self.hub.head(h, true);
                }
                // The new head decides on a fresh embedding, not on one made before it.
                self.gate.invalidate();
                self.telemetry.forget_decision();
                self.display.note(None);
                self.display.feedback.trained(now);
            }
            Err(e) => {
                self.health.fail(Area::Training, &format!("failed, the previous head stays in use: {e}"), now);
                self.hub.training_failed(&e.to_string());
                self.display.feedback.training(false, now);
                self.display.feedback.error(now);
            }
        }
    }

    fn show(&mut self, now: Instant) -> LedState {
        let (lit, ready, nothing) =
            (self.detector.lit(), self.detector.head().is_some(), self.detector.shows_nothing());
        self.display.show(lit, ready, nothing, self.health.failing(), now)
    }
}
