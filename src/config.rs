//! The one TOML configuration file (see `config/*.toml` for documented examples).
//!
//! Unknown keys are errors, and every error names the file, and for syntax or type errors the
//! line and key, so a typo never silently falls back to a default.

use crate::camera::SourceConfig;
use crate::decide::LiveConfig;
use crate::embed::ModelConfig;
use crate::head::HeadConfig;
use crate::panel::{CaptureConfig, PanelConfig};
use crate::store::validate_label;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Io {
        /// The config file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has a wrong key or type.
    #[error("config {path}: {message}")]
    Parse {
        /// The config file.
        path: PathBuf,
        /// toml's message, with line, column and key.
        message: String,
    },
    /// A value is out of range.
    #[error("config {path}: {key}: {reason}")]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// The offending key, dotted.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The data folder: examples, index and trained head.
    pub data_dir: PathBuf,
    /// The labels the daemon's buttons and LEDs refer to, in button order.
    pub labels: Vec<String>,
    /// The backbone.
    pub model: ModelConfig,
    /// Head training.
    pub head: HeadConfig,
    /// Live detection: smoothing, thresholds, hysteresis.
    pub live: LiveConfig,
    /// Where frames come from (`teachcam run`).
    pub source: Option<SourceConfig>,
    /// Buttons and LEDs (`teachcam run`).
    pub panel: Option<PanelConfig>,
    /// How button presses become examples.
    pub capture: CaptureConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            labels: vec!["cat".into(), "dog".into()],
            model: ModelConfig::default(),
            head: HeadConfig::default(),
            live: LiveConfig::default(),
            source: None,
            panel: None,
            capture: CaptureConfig::default(),
        }
    }
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io { path: path.into(), source })?;
        Self::parse(&text, path)
    }

    /// Parses and validates config text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.into(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
        cfg.validate(path)?;
        Ok(cfg)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid =
            |key: &str, reason: String| Err(ConfigError::Invalid { path: path.into(), key: key.into(), reason });
        for (i, l) in self.labels.iter().enumerate() {
            if let Err(e) = validate_label(l) {
                return invalid("labels", e.to_string());
            }
            if self.labels[..i].contains(l) {
                return invalid("labels", format!("{l:?} is listed twice"));
            }
        }
        if self.labels.len() > 16 {
            return invalid("labels", "at most 16 labels".into());
        }
        let m = &self.model;
        if !(16..=1024).contains(&m.input_size) {
            return invalid("model.input_size", format!("{} is not a plausible input size", m.input_size));
        }
        if m.std.iter().any(|s| *s <= 0.0 || !s.is_finite()) {
            return invalid("model.std", "every value must be positive".into());
        }
        if m.embedding_output.is_empty() {
            return invalid("model.embedding_output", "must name the embedding output".into());
        }
        if !(1..=64).contains(&m.threads) {
            return invalid("model.threads", "must be 1 to 64".into());
        }
        let h = &self.head;
        if !(h.l2 >= 0.0 && h.l2.is_finite()) {
            return invalid("head.l2", "must be ≥ 0".into());
        }
        if !(h.holdout > 0.0 && h.holdout < 1.0) {
            return invalid("head.holdout", "must be between 0 and 1".into());
        }
        if !(0.0..=1.0).contains(&h.default_threshold) {
            return invalid("head.default_threshold", "must be between 0 and 1".into());
        }
        if !(h.reject_margin.is_finite() && (-2.0..=2.0).contains(&h.reject_margin)) {
            return invalid(
                "head.reject_margin",
                "must be between -2 and 2 (0 is the default; -2 never rejects)".into(),
            );
        }
        if h.max_iters == 0 {
            return invalid("head.max_iters", "must be at least 1".into());
        }
        let l = &self.live;
        if !(1..=100).contains(&l.window) {
            return invalid("live.window", "must be 1 to 100 frames".into());
        }
        if !(0.0..0.5).contains(&l.hysteresis) {
            return invalid("live.hysteresis", "must be between 0 and 0.5".into());
        }
        for label in l.thresholds.keys().chain(&l.no_led) {
            if !self.labels.contains(label) {
                return invalid("live", format!("{label:?} is not in labels ({})", self.labels.join(", ")));
            }
        }
        self.capture.validate(path)?;
        if let Some(source) = &self.source {
            source.validate(path)?;
        }
        if let Some(panel) = &self.panel {
            panel.validate(path)?;
        }
        for (label, t) in &l.thresholds {
            if !(0.0..=1.0).contains(t) {
                return invalid(&format!("live.thresholds.{label}"), "must be between 0 and 1".into());
            }
        }
        Ok(())
    }

    /// The background set file `head.background` names, if any: for `"builtin"`, the one
    /// shipped next to the model (`models/<model>.background.bin`).
    pub fn background_path(&self) -> Option<PathBuf> {
        match &self.head.background {
            crate::head::BackgroundSource::Builtin => Some(self.model.path.with_extension("background.bin")),
            crate::head::BackgroundSource::Off => None,
            crate::head::BackgroundSource::File(p) => Some(p.clone()),
        }
    }

    /// Where the trained head is kept.
    pub fn head_path(&self) -> PathBuf {
        self.data_dir.join("head.json")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Config, ConfigError> {
        Config::parse(s, Path::new("conf/x.toml"))
    }

    #[test]
    fn empty_file_gives_defaults() {
        assert_eq!(parse("").unwrap(), Config::default());
    }

    #[test]
    fn values_are_read() {
        let c = parse("data_dir = \"/var/lib/teachcam\"\nlabels = [\"a\", \"b\", \"none\"]\n[model]\ncrop = \"pad\"\nthreads = 2\n[head]\nl2 = 0.01\n").unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/teachcam"));
        assert_eq!(c.labels.len(), 3);
        assert_eq!(c.model.crop, crate::embed::Crop::Pad);
        assert_eq!(c.model.threads, 2);
        assert_eq!(c.head.l2, 0.01);
        assert_eq!(c.model.input_size, 224, "unset keys keep defaults");
    }

    #[test]
    fn typo_names_file_line_and_key() {
        let e = parse("data_dir = \"d\"\n[model]\ninput_sise = 3\n").unwrap_err().to_string();
        assert!(e.contains("conf/x.toml") && e.contains("line 3") && e.contains("input_sise"), "{e}");
    }

    #[test]
    fn wrong_type_names_line_and_key() {
        let e = parse("[head]\nseed = \"many\"\n").unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("seed"), "{e}");
    }

    #[test]
    fn out_of_range_values_name_the_key() {
        for (text, key) in [
            ("[head]\nholdout = 1.5", "head.holdout"),
            ("[model]\nstd = [1.0, 0.0, 1.0]", "model.std"),
            ("labels = [\"cat\", \"cat\"]", "labels"),
            ("labels = [\"../etc\"]", "labels"),
            ("[model]\nthreads = 0", "model.threads"),
            ("[head]\nreject_margin = 5.0", "head.reject_margin"),
            ("[head]\nreject_margin = nan", "head.reject_margin"),
        ] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(key) && e.contains("conf/x.toml"), "{text}: {e}");
        }
    }

    #[test]
    fn missing_file_is_named() {
        let e = Config::load(Path::new("/nonexistent/teachcam.toml")).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/teachcam.toml"), "{e}");
    }
}
