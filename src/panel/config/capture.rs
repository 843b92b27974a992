//! The `[capture]` table: how label button presses become examples, with its range checks.

use crate::config::ConfigError;
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

/// Default delay before a held button starts repeating.
pub const DEFAULT_HOLD_DELAY: Duration = Duration::from_millis(500);
/// Default repeat rate of a held button, captures per second.
pub const DEFAULT_HOLD_RATE_HZ: f64 = 5.0;
/// Slowest and fastest repeat of a held label button, captures per second.
pub const HOLD_RATE_RANGE: (f64, f64) = (0.1, 30.0);
/// Longest delay before a held button starts repeating, in milliseconds.
pub const MAX_HOLD_DELAY_MS: u64 = 10_000;

/// The `[capture]` section: how label button presses become examples.
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
        Self {
            hold_delay_ms: DEFAULT_HOLD_DELAY.as_millis() as u64,
            hold_rate_hz: DEFAULT_HOLD_RATE_HZ,
            jpeg_quality: 90,
        }
    }
}

impl CaptureConfig {
    /// Checks every value; `path` (the config file) is named in errors.
    pub fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let fail = |key: &str, reason: String| {
            Err(ConfigError::Invalid { path: path.into(), key: format!("capture.{key}"), reason })
        };
        let (lo, hi) = HOLD_RATE_RANGE;
        if !(self.hold_rate_hz >= lo && self.hold_rate_hz <= hi) {
            let got = self.hold_rate_hz;
            return fail("hold_rate_hz", format!("must be between {lo} and {hi} captures per second, got {got:?}"));
        }
        if self.hold_delay_ms > MAX_HOLD_DELAY_MS {
            let got = self.hold_delay_ms;
            return fail("hold_delay_ms", format!("must be between 0 and {MAX_HOLD_DELAY_MS} milliseconds, got {got}"));
        }
        if !(1..=100).contains(&self.jpeg_quality) {
            return fail("jpeg_quality", format!("must be between 1 and 100, got {}", self.jpeg_quality));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(toml: &str) -> Option<String> {
        let cfg: CaptureConfig = toml::from_str(toml).unwrap();
        cfg.validate(Path::new("t.toml")).err().map(|e| e.to_string())
    }

    #[test]
    fn ranges_name_the_key_and_value() {
        assert_eq!(error(""), None);
        assert_eq!(error("hold_rate_hz = 30.0\nhold_delay_ms = 0\njpeg_quality = 100"), None);
        for (toml, expected) in [
            (
                "hold_rate_hz = 1e-300",
                "capture.hold_rate_hz: must be between 0.1 and 30 captures per second, got 1e-300",
            ),
            ("hold_rate_hz = nan", "got NaN"),
            ("hold_rate_hz = inf", "got inf"),
            ("hold_rate_hz = 0.0", "got 0.0"),
            ("hold_rate_hz = 31.0", "got 31.0"),
            ("hold_delay_ms = 9223372036854775807", "capture.hold_delay_ms: must be between 0 and 10000"),
            ("jpeg_quality = 0", "capture.jpeg_quality: must be between 1 and 100, got 0"),
        ] {
            let e = error(toml).unwrap_or_else(|| panic!("{toml:?} passed"));
            assert!(e.contains("t.toml") && e.contains(expected), "{toml:?}: {e}");
        }
    }

    #[test]
    fn the_config_file_checks_them() {
        // This value once passed validation and panicked when the daemon started.
        let e = crate::config::Config::parse("[capture]\nhold_rate_hz = 1e-300\n", Path::new("c.toml")).unwrap_err();
        assert!(e.to_string().contains("c.toml: capture.hold_rate_hz"), "{e}");
    }
}
