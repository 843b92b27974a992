//! The one TOML configuration file (see `config/*.toml` for documented examples).
//!
//! Unknown keys are errors, and every error names the file, and for syntax or type errors the
//! line and key, so a typo never silently falls back to a default.

use crate::camera::SourceConfig;
use crate::daemon::GateConfig;
use crate::decide::LiveConfig;
use crate::embed::ModelConfig;
use crate::head::HeadConfig;
use crate::mqtt::MqttConfig;
use crate::panel::{CaptureConfig, PanelConfig};
use crate::store::validate_label;
use crate::web::WebConfig;
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
    /// A value is out of range or otherwise unusable.
    #[error("config {path}: {key} = {value}: {problem}")]
    Value {
        /// The config file.
        path: PathBuf,
        /// The offending key, dotted.
        key: String,
        /// Its value as read.
        value: String,
        /// What it must be instead.
        problem: String,
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

/// A configuration value that cannot be used: what the section validators return (the file is
/// added by [`Config::parse`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BadValue {
    /// The dotted key, e.g. `live.log_every_s`.
    pub key: String,
    /// The value as read.
    pub value: String,
    /// What it must be instead.
    pub problem: String,
}

impl BadValue {
    /// A bad value of `key`.
    pub fn new(key: impl Into<String>, value: impl Into<String>, problem: impl Into<String>) -> Self {
        Self { key: key.into(), value: value.into(), problem: problem.into() }
    }
}

/// Checks `value` is finite and in `lo..=hi`; `what` follows "a finite number" in the message
/// (e.g. `" of seconds"`).
pub fn check_f32(key: &str, value: f32, lo: f32, hi: f32, what: &str) -> Result<(), BadValue> {
    if value.is_finite() && (lo..=hi).contains(&value) {
        return Ok(());
    }
    Err(BadValue::new(key, value.to_string(), format!("must be a finite number{what} between {lo} and {hi}")))
}

/// Checks `value` is in `lo..=hi`; `unit` ends the message (e.g. `"frames"`).
pub fn check_int<T: PartialOrd + std::fmt::Display>(
    key: &str,
    value: T,
    lo: T,
    hi: T,
    unit: &str,
) -> Result<(), BadValue> {
    if lo <= value && value <= hi {
        return Ok(());
    }
    Err(BadValue::new(key, value.to_string(), format!("must be {lo} to {hi} {unit}")))
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
    /// Motion gating: reusing the last embedding while the scene does not change.
    pub gate: GateConfig,
    /// Where frames come from (`teachcam run`).
    pub source: Option<SourceConfig>,
    /// Buttons and LEDs (`teachcam run`).
    pub panel: Option<PanelConfig>,
    /// How button presses become examples.
    pub capture: CaptureConfig,
    /// The status page (`teachcam run`).
    pub web: WebConfig,
    /// MQTT events (`teachcam run`); absent: off.
    pub mqtt: Option<MqttConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            labels: vec!["cat".into(), "dog".into()],
            model: ModelConfig::default(),
            head: HeadConfig::default(),
            live: LiveConfig::default(),
            gate: GateConfig::default(),
            source: None,
            panel: None,
            capture: CaptureConfig::default(),
            web: WebConfig::default(),
            mqtt: None,
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
            // toml's message spans lines (position, the line of the file with a caret under the
            // value, the problem); they are kept, indented under the first.
            message: e
                .to_string()
                .trim_end()
                .lines()
                .filter(|l| !l.trim().is_empty())
                .collect::<Vec<_>>()
                .join("\n    "),
        })?;
        cfg.validate(path)?;
        Ok(cfg)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let bad =
            |b: BadValue| ConfigError::Value { path: path.into(), key: b.key, value: b.value, problem: b.problem };
        self.validate_labels().map_err(bad)?;
        self.model.validate().map_err(bad)?;
        self.head.validate().map_err(bad)?;
        self.live.validate(&self.labels).map_err(bad)?;
        self.gate.validate().map_err(bad)?;
        self.web.validate().map_err(bad)?;
        if let Some(mqtt) = &self.mqtt {
            mqtt.validate().map_err(bad)?;
        }
        self.capture.validate(path)?;
        if let Some(source) = &self.source {
            source.validate(path)?;
        }
        if let Some(panel) = &self.panel {
            panel.validate(path)?;
        }
        Ok(())
    }

    /// At least 2 labels, at most 16, each a valid folder name, none twice.
    fn validate_labels(&self) -> Result<(), BadValue> {
        let bad = |problem: String| Err(BadValue::new("labels", format!("{:?}", self.labels), problem));
        if self.labels.len() < 2 {
            return bad("must list at least 2 labels, e.g. [\"cat\", \"dog\"]".into());
        }
        if self.labels.len() > 16 {
            return bad("must list at most 16 labels".into());
        }
        for (i, l) in self.labels.iter().enumerate() {
            if let Err(e) = validate_label(l) {
                return bad(e.to_string());
            }
            if self.labels[..i].contains(l) {
                return bad(format!("lists {l:?} twice"));
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
            ("[gate]\nthreshold = 0", "gate.threshold"),
            ("[gate]\nmax_reuse_s = -1.0", "gate.max_reuse_s"),
            ("[web]\nlisten = \"8080\"", "web.listen"),
            ("[web]\nview_fps = 0", "web.view_fps"),
            ("[mqtt]\nbroker = \"host:port\"", "mqtt.broker"),
            ("[mqtt]\ntopic_prefix = \"a/#\"", "mqtt.topic_prefix"),
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
