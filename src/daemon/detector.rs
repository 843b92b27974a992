//! Detecting: the live head and the decider that smooths its probabilities into which label,
//! if any, is lit. Class `k` of the head is label `k` of the config (see
//! [`crate::train::class_order`]), so a lit class is the index of its LED.
//!
//! The decider sees one more class than the head: "nothing known", which gets all the
//! probability of a frame the head's open-set part rejects, and none of any other frame. So
//! smoothing, thresholds and hysteresis apply to "nothing known" as to any label, and it
//! lights no LED.

use crate::config::Config;
use crate::decide::{Decider, Decision, LiveConfig};
use crate::embed::Embedding;
use crate::events::{Confidence, Detection};
use crate::head::Head;

/// The name of the "nothing known" decision (not a valid label, so it never clashes with one).
pub const NOTHING: &str = "(nothing known)";

/// The smoothed share of rejected frames above which "nothing known" is decided.
const NOTHING_THRESHOLD: f32 = 0.5;

/// The head in use and its decider.
struct Live {
    head: Head,
    decider: Decider,
}

/// Embedding in, decision out.
pub struct Detector {
    labels: Vec<String>,
    cfg: LiveConfig,
    live: Option<Live>,
}

impl Detector {
    /// A detector for the config's labels and live settings, with no head yet.
    pub fn new(config: &Config) -> Self {
        Self { labels: config.labels.clone(), cfg: config.live.clone(), live: None }
    }

    /// Puts `head` in use (in the config's label order), with fresh smoothing.
    pub fn install(&mut self, head: Head) {
        let head = head.aligned(&self.labels);
        // One threshold and LED flag per head class, then those of "nothing known".
        let thresholds = (head.labels.iter().zip(&head.thresholds))
            .map(|(l, t)| *self.cfg.thresholds.get(l).unwrap_or(t))
            .chain([NOTHING_THRESHOLD])
            .collect();
        let has_led = (head.labels.iter().enumerate())
            .map(|(k, l)| k < self.labels.len() && !self.cfg.no_led.contains(l))
            .chain([false])
            .collect();
        let decider = Decider::new(&self.cfg, thresholds, has_led);
        self.live = Some(Live { head, decider });
    }

    /// Forgets what was in view (the camera was lost): nothing is lit until the next frame.
    pub fn forget(&mut self) {
        if let Some(l) = self.live.as_mut() {
            l.decider.reset();
        }
    }

    /// The head in use, if any.
    pub fn head(&self) -> Option<&Head> {
        self.live.as_ref().map(|l| &l.head)
    }

    /// Feeds one frame's embedding; `None` until a head is in use.
    pub fn decide(&mut self, embedding: &Embedding) -> Option<Decision> {
        let live = self.live.as_mut()?;
        let mut probs = live.head.probabilities(&embedding.vector);
        let known = live.head.open_set.as_ref().is_none_or(|o| o.assess(&embedding.vector).known);
        if known {
            probs.push(0.0);
        } else {
            probs.iter_mut().for_each(|p| *p = 0.0);
            probs.push(1.0);
        }
        Some(live.decider.update(&probs))
    }

    /// True when `decision` is "nothing known": the open-set part rejects what is in view.
    pub fn nothing_known(&self, decision: &Decision) -> bool {
        self.head().is_some_and(|h| decision.label == Some(h.labels.len()))
    }

    /// True when the last frame's decision is "nothing known".
    pub fn shows_nothing(&self) -> bool {
        self.live.as_ref().is_some_and(|l| l.decider.label() == Some(l.head.labels.len()))
    }

    /// The name of class `k` of the decisions: a head label, or [`NOTHING`].
    pub fn label_name(&self, k: usize) -> Option<&str> {
        let labels = &self.head()?.labels;
        labels.get(k).map(String::as_str).or((k == labels.len()).then_some(NOTHING))
    }

    /// The label whose LED is lit after the last frame, if any.
    pub fn lit(&self) -> Option<usize> {
        self.live.as_ref().and_then(|l| l.decider.lit())
    }

    /// `decision` with label names, for the status page and events; `reused` says the frame
    /// reused the last embedding.
    pub fn detection(&self, decision: &Decision, reused: bool) -> Detection {
        let name = |k: usize| self.label_name(k).unwrap_or("?").to_string();
        Detection {
            label: decision.label.filter(|_| !self.nothing_known(decision)).map(name),
            nothing_known: self.nothing_known(decision),
            top: name(decision.top),
            confidence: decision.confidence,
            confidences: (decision.smoothed.iter().enumerate())
                .map(|(k, &p)| Confidence { label: name(k), p })
                .collect(),
            reused,
        }
    }

    /// A short description of `decision` for logs.
    pub fn describe(&self, decision: &Decision) -> String {
        let name = |k: usize| self.label_name(k).unwrap_or("?");
        match decision.lit {
            Some(k) => format!("showing {} ({:.2})", name(k), decision.confidence),
            None if self.nothing_known(decision) => "nothing known".into(),
            None => format!("nothing shown (top {} {:.2})", name(decision.top), decision.confidence),
        }
    }
}
