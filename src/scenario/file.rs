//! The scenario file format.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A scenario: an optional data folder and the steps to play.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Data folder; a fresh temporary one when absent.
    pub data: Option<PathBuf>,
    /// The steps, in order.
    #[serde(rename = "step", default)]
    pub steps: Vec<Step>,
}

/// One step: show frames (optionally holding a label button), or press a button.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Folder of images shown in name order, one per frame.
    pub frames: Option<PathBuf>,
    /// Frames per image.
    #[serde(default = "one")]
    pub repeat: usize,
    /// Label whose button is held for the whole step.
    pub hold: Option<String>,
    /// Take images from sub-folders too.
    #[serde(default)]
    pub recurse: bool,
    /// A control pressed and released: a label, `train`, `undo` (old spelling `clear`) or `quit`.
    pub press: Option<String>,
}

fn one() -> usize {
    1
}

/// Why a scenario file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file cannot be read.
    #[error("cannot read scenario {path}: {source}")]
    Io {
        /// The scenario file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has a wrong key.
    #[error("scenario {path}: {message}")]
    Parse {
        /// The scenario file.
        path: PathBuf,
        /// toml's message, with line and key.
        message: String,
    },
    /// A step is inconsistent.
    #[error("scenario {path}: step {step}: {reason}")]
    Step {
        /// The scenario file.
        path: PathBuf,
        /// 1-based step number.
        step: usize,
        /// What is wrong.
        reason: String,
    },
}

impl ScenarioFile {
    /// Reads and checks a scenario file.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io { path: path.into(), source })?;
        let file: ScenarioFile = toml::from_str(&text).map_err(|e| ScenarioError::Parse {
            path: path.into(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
        for (i, s) in file.steps.iter().enumerate() {
            let err = |reason: &str| Err(ScenarioError::Step { path: path.into(), step: i + 1, reason: reason.into() });
            match (&s.frames, &s.press) {
                (Some(_), Some(_)) => return err("has both frames and press; use two steps"),
                (None, None) => return err("needs frames = \"DIR\" or press = \"CONTROL\""),
                (None, Some(_)) if s.hold.is_some() => return err("hold goes with frames, not press"),
                _ => {}
            }
            if s.repeat == 0 {
                return err("repeat must be at least 1");
            }
        }
        Ok(file)
    }
}

/// Resolves a path from a scenario: as given (relative to the working directory) if it
/// exists, else relative to the scenario file's folder.
pub fn resolve(path: &Path, scenario: &Path) -> PathBuf {
    if path.is_absolute() || path.exists() {
        return path.to_path_buf();
    }
    match scenario.parent() {
        Some(dir) if dir.join(path).exists() => dir.join(path),
        _ => path.to_path_buf(),
    }
}
