//! Motion gating: a frame that looks like the last embedded one reuses its embedding instead of
//! running the backbone. On a still scene the daemon then costs a thumbnail per frame and one
//! embedding every `max_reuse_s`; any change larger than `threshold` grey levels in one cell of
//! the thumbnail (see [`Thumbnail`]) is embedded on the frame it appears.
//!
//! Frames are compared with the last *embedded* frame, not the previous one, so a slow drift
//! adds up until it counts as a change.

use super::thumbnail::Thumbnail;
use crate::config::{check_f32, check_int, BadValue};
use crate::embed::Embedding;
use serde::Deserialize;
use std::time::{Duration, Instant};

/// Default of `gate.threshold`, in grey levels.
pub const DEFAULT_THRESHOLD: u32 = 12;

/// The `[gate]` settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct GateConfig {
    /// Reuse the last embedding while the scene does not change.
    pub enabled: bool,
    /// A frame is new when one thumbnail cell's mean colour moved by more than this many grey
    /// levels (0–255) since the last embedded frame. Lower is more sensitive.
    pub threshold: u32,
    /// Longest time an embedding is reused, in seconds: a still scene is embedded again at
    /// least this often.
    pub max_reuse_s: f32,
}

impl Default for GateConfig {
    fn default() -> Self {
        Self { enabled: true, threshold: DEFAULT_THRESHOLD, max_reuse_s: 5.0 }
    }
}

impl GateConfig {
    /// Range checks, naming the key.
    pub fn validate(&self) -> Result<(), BadValue> {
        check_int("gate.threshold", self.threshold, 1, 255, "grey levels")?;
        check_f32("gate.max_reuse_s", self.max_reuse_s, 0.1, 3600.0, " of seconds")
    }
}

/// The last embedded frame: its thumbnail, when it was embedded and its embedding.
struct Reference {
    thumbnail: Thumbnail,
    at: Instant,
    embedding: Embedding,
}

/// Decides whether a frame can reuse the last embedding.
pub struct Gate {
    enabled: bool,
    threshold: f32,
    max_reuse: Duration,
    last: Option<Reference>,
}

impl Gate {
    /// A gate with `cfg`'s settings and nothing embedded yet.
    pub fn new(cfg: &GateConfig) -> Self {
        Self {
            enabled: cfg.enabled,
            threshold: cfg.threshold as f32,
            max_reuse: Duration::from_secs_f32(cfg.max_reuse_s.clamp(0.1, 3600.0)),
            last: None,
        }
    }

    /// The thumbnail of `image` when gating is on (`None` when off or the image is empty).
    pub fn look(&self, image: &image::RgbImage) -> Option<Thumbnail> {
        self.enabled.then(|| Thumbnail::of(image)).flatten()
    }

    /// The embedding the frame with `thumbnail` can reuse at `now`: the last one, when that
    /// frame looked the same (no cell moved by more than the threshold) and is recent enough.
    pub fn reusable(&self, thumbnail: &Thumbnail, now: Instant) -> Option<&Embedding> {
        let last = self.last.as_ref()?;
        let fresh = now.saturating_duration_since(last.at) < self.max_reuse;
        let same = thumbnail.largest_change(&last.thumbnail).is_some_and(|c| c <= self.threshold);
        (fresh && same).then_some(&last.embedding)
    }

    /// Records the frame just embedded at `now` as the reference (when it has a thumbnail).
    pub fn embedded(&mut self, thumbnail: Option<Thumbnail>, embedding: Embedding, now: Instant) {
        self.last = thumbnail.map(|thumbnail| Reference { thumbnail, at: now, embedding });
    }

    /// Forgets the reference: the next frame is embedded whatever it shows.
    pub fn invalidate(&mut self) {
        self.last = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    fn embedding(v: f32) -> Embedding {
        Embedding { vector: vec![v], mirrored: None, zero_shot: None }
    }

    fn grey(level: u8) -> RgbImage {
        RgbImage::from_pixel(64, 48, Rgb([level; 3]))
    }

    #[test]
    fn reuses_within_threshold_and_age_only() {
        let cfg = GateConfig { enabled: true, threshold: 10, max_reuse_s: 2.0 };
        let mut gate = Gate::new(&cfg);
        let t0 = Instant::now();
        let thumb = gate.look(&grey(100)).unwrap();
        assert!(gate.reusable(&thumb, t0).is_none(), "nothing embedded yet");
        gate.embedded(Some(thumb.clone()), embedding(1.0), t0);
        let later = t0 + Duration::from_secs(1);
        assert_eq!(gate.reusable(&thumb, later), Some(&embedding(1.0)));
        assert!(gate.reusable(&gate.look(&grey(110)).unwrap(), later).is_some(), "10 levels: the same");
        assert!(gate.reusable(&gate.look(&grey(111)).unwrap(), later).is_none(), "11 levels: new");
        assert!(gate.reusable(&thumb, t0 + Duration::from_secs(2)).is_none(), "too old");
        gate.invalidate();
        assert!(gate.reusable(&thumb, later).is_none(), "forgotten");
    }

    #[test]
    fn a_disabled_gate_makes_no_thumbnail() {
        let gate = Gate::new(&GateConfig { enabled: false, ..Default::default() });
        assert!(gate.look(&grey(100)).is_none());
    }

    #[test]
    fn out_of_range_settings_name_their_key() {
        for (cfg, key) in [
            (GateConfig { threshold: 0, ..Default::default() }, "gate.threshold"),
            (GateConfig { threshold: 256, ..Default::default() }, "gate.threshold"),
            (GateConfig { max_reuse_s: 0.0, ..Default::default() }, "gate.max_reuse_s"),
            (GateConfig { max_reuse_s: f32::NAN, ..Default::default() }, "gate.max_reuse_s"),
        ] {
            assert_eq!(cfg.validate().unwrap_err().key, key);
        }
        assert!(GateConfig::default().validate().is_ok());
    }
}
