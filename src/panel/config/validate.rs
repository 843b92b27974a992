//! Range checks of the `[panel]` table, each error naming its key and the value given.

use super::{GpioConfig, PanelConfig};
use crate::config::ConfigError;
use std::path::Path;

/// Debounce times, in milliseconds.
pub const DEBOUNCE_MS_RANGE: (u64, u64) = (0, 1000);
/// Button sampling periods, in milliseconds.
pub const POLL_MS_RANGE: (u64, u64) = (1, 1000);
/// Highest BCM GPIO number (compute modules; the 40-pin header has 0 to 27).
pub const MAX_PIN: u8 = 57;

impl PanelConfig {
    /// Checks every value of the `[panel]` table; `path` (the config file) is named in errors.
    /// Names (labels, actions) are checked against the labels when the panel opens.
    pub fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        match self {
            PanelConfig::Gpio(c) => c.check().map_err(|(key, reason)| ConfigError::Invalid {
                path: path.into(),
                key: format!("panel.{key}"),
                reason,
            }),
            PanelConfig::Keyboard(_) | PanelConfig::Simulated => Ok(()),
        }
    }
}

impl GpioConfig {
    fn check(&self) -> Result<(), (&'static str, String)> {
        let within = |key, value: u64, (lo, hi): (u64, u64)| {
            if (lo..=hi).contains(&value) {
                Ok(())
            } else {
                Err((key, format!("must be between {lo} and {hi} milliseconds, got {value}")))
            }
        };
        within("debounce_ms", self.debounce_ms, DEBOUNCE_MS_RANGE)?;
        within("poll_ms", self.poll_ms, POLL_MS_RANGE)?;
        let pin = |key, pin: u8| {
            if pin <= MAX_PIN {
                Ok(())
            } else {
                Err((key, format!("{pin} is not a BCM GPIO number (0 to 27 on the 40-pin header)")))
            }
        };
        for b in &self.buttons {
            pin("button.pin", b.pin)?;
        }
        for l in &self.leds {
            pin("led.pin", l.pin)?;
        }
        if let Some(p) = self.status_led {
            pin("status_led", p)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(toml: &str) -> Option<String> {
        #[derive(serde::Deserialize)]
        struct Root {
            panel: PanelConfig,
        }
        let root: Root = toml::from_str(toml).unwrap();
        root.panel.validate(Path::new("t.toml")).err().map(|e| e.to_string())
    }

    #[test]
    fn ranges_name_the_key_and_value() {
        assert_eq!(error("[panel]\nkind = \"gpio\"\n[[panel.button]]\npin = 27\naction = \"cat\""), None);
        assert_eq!(error("[panel]\nkind = \"simulated\""), None);
        for (toml, expected) in [
            (
                "[panel]\nkind = \"gpio\"\ndebounce_ms = 5000",
                "panel.debounce_ms: must be between 0 and 1000 milliseconds, got 5000",
            ),
            ("[panel]\nkind = \"gpio\"\npoll_ms = 0", "panel.poll_ms: must be between 1 and 1000 milliseconds, got 0"),
            ("[panel]\nkind = \"gpio\"\npoll_ms = 9223372036854775807", "panel.poll_ms"),
            ("[panel]\nkind = \"gpio\"\nstatus_led = 99", "panel.status_led: 99 is not a BCM GPIO number"),
            ("[panel]\nkind = \"gpio\"\n[[panel.button]]\npin = 200\naction = \"cat\"", "panel.button.pin: 200"),
            ("[panel]\nkind = \"gpio\"\n[[panel.led]]\npin = 58\nlabel = \"cat\"", "panel.led.pin: 58"),
        ] {
            let e = error(toml).unwrap_or_else(|| panic!("{toml:?} passed"));
            assert!(e.contains("t.toml") && e.contains(expected), "{toml:?}: {e}");
        }
    }

    #[test]
    fn the_config_file_checks_them() {
        let text = "[panel]\nkind = \"gpio\"\npoll_ms = 0\n";
        let e = crate::config::Config::parse(text, Path::new("c.toml")).unwrap_err();
        assert!(e.to_string().contains("c.toml: panel.poll_ms"), "{e}");
    }
}
