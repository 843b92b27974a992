//! What is published where: the topics under the prefix, and the messages each [`Event`] turns
//! into. Pure (no broker), so the payloads are tested on their own.

use crate::events::{Detection, Event};
use serde_json::json;

/// The payload of `PREFIX/label` when no label is detected (nothing in view that was taught,
/// no trained head yet, or the camera gives no frames).
pub const NO_LABEL: &str = "none";
/// The payloads of `PREFIX/availability`.
pub const ONLINE: &str = "online";
/// See [`ONLINE`]; also the last will.
pub const OFFLINE: &str = "offline";

/// One message to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Its full topic.
    pub topic: String,
    /// Its payload (text or JSON).
    pub payload: String,
    /// Kept by the broker for subscribers that come later.
    pub retain: bool,
}

/// The topics under one prefix.
#[derive(Debug, Clone, PartialEq)]
pub struct Topics {
    prefix: String,
}

impl Topics {
    /// Topics under `prefix` (validated by [`super::MqttConfig::validate`]).
    pub fn new(prefix: &str) -> Self {
        Self { prefix: prefix.to_string() }
    }

    /// `PREFIX/NAME`.
    pub fn topic(&self, name: &str) -> String {
        format!("{}/{name}", self.prefix)
    }

    /// `PREFIX/availability`: `online` / `offline`, retained; `offline` is also the last will.
    pub fn availability(&self) -> String {
        self.topic("availability")
    }

    /// The availability message.
    pub fn availability_message(&self, online: bool) -> Message {
        Message { topic: self.availability(), payload: if online { ONLINE } else { OFFLINE }.into(), retain: true }
    }
}

/// The part of a detection that is published on change.
#[derive(Debug, Clone, PartialEq)]
struct Shown {
    label: Option<String>,
    nothing_known: bool,
    confidence: f32,
}

impl Shown {
    fn of(d: &Detection) -> Self {
        Self { label: d.label.clone(), nothing_known: d.nothing_known, confidence: d.confidence }
    }
}

/// Turns events into messages and remembers the retained state (the detected label) to publish
/// it again after a reconnection.
#[derive(Debug, Clone)]
pub struct Translator {
    topics: Topics,
    shown: Option<Shown>,
    /// Published first with the retained state (Home Assistant discovery), when configured.
    discovery: Vec<Message>,
}

impl Translator {
    /// A translator under `topics`, starting from `detection` (the hub's last one, if any).
    pub fn new(topics: Topics, detection: Option<&Detection>) -> Self {
        Self { topics, shown: detection.map(Shown::of), discovery: Vec::new() }
    }

    /// Publishes `discovery` (retained config messages) before the retained state after every
    /// connection.
    pub fn with_discovery(mut self, discovery: Vec<Message>) -> Self {
        self.discovery = discovery;
        self
    }

    /// The topics.
    pub fn topics(&self) -> &Topics {
        &self.topics
    }

    /// The retained state as messages: the discovery messages (if any), availability `online`,
    /// the label and the detection.
    pub fn retained(&self) -> Vec<Message> {
        let mut out = self.discovery.clone();
        out.extend([self.topics.availability_message(true), self.label_message(), self.detection_message()]);
        out
    }

    /// The messages `event` gives (none for a detection that changes nothing published).
    pub fn messages(&mut self, event: &Event) -> Vec<Message> {
        let plain = |name: &str, payload: serde_json::Value| Message {
            topic: self.topics.topic(name),
            payload: payload.to_string(),
            retain: false,
        };
        match event {
            Event::Detection(d) => {
                let new = Shown::of(d);
                let old = self.shown.replace(new.clone());
                let label_changed = old.as_ref().map(|o| &o.label) != Some(&new.label);
                let changed = label_changed || old.as_ref().map(|o| o.nothing_known) != Some(new.nothing_known);
                let mut out = Vec::new();
                if label_changed {
                    out.push(self.label_message());
                }
                if changed {
                    out.push(self.detection_message());
                }
                out
            }
            Event::Capture { label, id, count } => {
                vec![plain("capture", json!({"label": label, "id": id, "count": count}))]
            }
            Event::Undo { label, id, count } => vec![plain("undo", json!({"label": label, "id": id, "count": count}))],
            Event::TrainingStarted { examples } => {
                vec![plain("training", json!({"state": "started", "examples": examples}))]
            }
            Event::Trained { report, summary } => vec![plain(
                "training",
                json!({
                    "state": "trained",
                    "accuracy": report.holdout.as_ref().map(|m| m.accuracy),
                    "labels": report.labels,
                    "examples": report.counts.iter().sum::<usize>(),
                    "summary": summary,
                }),
            )],
            Event::TrainingFailed { reason } => vec![plain("training", json!({"state": "failed", "reason": reason}))],
            Event::Problem { area, message } => {
                let mut out = vec![plain("problem", json!({"area": area, "message": message, "active": true}))];
                // Without frames nothing is detected: do not leave the last label standing.
                if area == "camera" && self.shown.as_ref().is_some_and(|s| s.label.is_some()) {
                    self.shown = Some(Shown { label: None, nothing_known: false, confidence: 0.0 });
                    out.push(self.label_message());
                    out.push(self.detection_message());
                }
                out
            }
            Event::Recovered { area } => vec![plain("problem", json!({"area": area, "active": false}))],
        }
    }

    /// `PREFIX/label`: the label, or [`NO_LABEL`]; retained.
    fn label_message(&self) -> Message {
        let label = self.shown.as_ref().and_then(|s| s.label.as_deref()).unwrap_or(NO_LABEL);
        Message { topic: self.topics.topic("label"), payload: label.into(), retain: true }
    }

    /// `PREFIX/detection`: `{"label", "confidence", "nothing_known"}`; retained.
    fn detection_message(&self) -> Message {
        let (label, confidence, nothing_known) = match &self.shown {
            Some(s) => (s.label.clone(), s.confidence, s.nothing_known),
            None => (None, 0.0, false),
        };
        // Rounded: three decimals are plenty for a smoothed probability.
        let confidence = f64::from((confidence * 1000.0).round()) / 1000.0;
        let payload = json!({"label": label, "confidence": confidence, "nothing_known": nothing_known});
        Message { topic: self.topics.topic("detection"), payload: payload.to_string(), retain: true }
    }
}
