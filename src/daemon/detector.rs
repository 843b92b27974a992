//! Detecting: the live head and the decider that smooths its probabilities into which label,
//! if any, is lit. Class `k` of the head is label `k` of the config (see
//! [`crate::train::class_order`]), so a lit class is the index of its LED.

use crate::config::Config;
use crate::decide::{Decider, Decision, LiveConfig};
use crate::embed::Embedding;
use crate::head::Head;

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
        let thresholds =
            head.labels.iter().zip(&head.thresholds).map(|(l, t)| *self.cfg.thresholds.get(l).unwrap_or(t)).collect();
        let has_led = head
            .labels
            .iter()
            .enumerate()
            .map(|(k, l)| k < self.labels.len() && !self.cfg.no_led.contains(l))
            .collect();
        let decider = Decider::new(&self.cfg, thresholds, has_led);
        self.live = Some(Live { head, decider });
    }

    /// The head in use, if any.
    pub fn head(&self) -> Option<&Head> {
        self.live.as_ref().map(|l| &l.head)
    }

    /// Feeds one frame's embedding; `None` until a head is in use.
    pub fn decide(&mut self, embedding: &Embedding) -> Option<Decision> {
        let live = self.live.as_mut()?;
        Some(live.decider.update(&live.head.probabilities(&embedding.vector)))
    }

    /// The label whose LED is lit after the last frame, if any.
    pub fn lit(&self) -> Option<usize> {
        self.live.as_ref().and_then(|l| l.decider.lit())
    }

    /// A short description of `decision` for logs.
    pub fn describe(&self, decision: &Decision) -> String {
        let name = |k: usize| self.head().and_then(|h| h.labels.get(k)).map_or("?", String::as_str);
        match decision.lit {
            Some(k) => format!("showing {} ({:.2})", name(k), decision.confidence),
            None => format!("nothing shown (top {} {:.2})", name(decision.top), decision.confidence),
        }
    }
}
