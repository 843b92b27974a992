//! Serde configuration of the panel (the `[panel]` table) and resolution of
//! label names to indices.
//!
//! ```toml
//! [panel]
//! kind = "gpio"               # or "keyboard" or "simulated"
//! debounce_ms = 50
//! active_low_buttons = true   # buttons switch to GND, with pull-ups
//! active_low_leds = false
//! status_led = 25
//! [[panel.button]]
//! pin = 17
//! action = "cat"              # a label name, or "train" / "undo" / "quit"
//! [[panel.button]]
//! pin = 22
//! action = "train"
//! [[panel.led]]
//! pin = 23
//! label = "cat"
//! ```
//!
//! Panel-wide keys go before the first `[[panel.button]]` or `[[panel.led]]`:
//! in TOML, keys after such a header belong to that button or LED.

use std::collections::HashSet;

use serde::Deserialize;

use super::{Control, PanelError};

mod capture;
mod validate;
pub use capture::{CaptureConfig, DEFAULT_HOLD_DELAY, DEFAULT_HOLD_RATE_HZ, HOLD_RATE_RANGE, MAX_HOLD_DELAY_MS};
pub use validate::{DEBOUNCE_MS_RANGE, MAX_PIN, POLL_MS_RANGE};

/// Which panel to use; selected by `kind` in the `[panel]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PanelConfig {
    /// Buttons and LEDs on Raspberry Pi GPIO pins (`kind = "gpio"`).
    Gpio(GpioConfig),
    /// Number keys in the terminal, LEDs on a status line (`kind = "keyboard"`).
    Keyboard(KeyboardConfig),
    /// No hardware; nothing is pressed (`kind = "simulated"`).
    Simulated,
}

impl Default for PanelConfig {
    fn default() -> Self {
        PanelConfig::Keyboard(KeyboardConfig::default())
    }
}

/// Internal resistor on button inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pull {
    /// Pull-up: for buttons that connect the pin to GND.
    Up,
    /// Pull-down: for buttons that connect the pin to 3.3 V.
    Down,
    /// No internal resistor (external resistors fitted).
    None,
}

/// Buttons and LEDs wired to GPIO pins (BCM numbering).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpioConfig {
    /// A level must be stable this long (ms) to count as a press or release.
    #[serde(default = "default_debounce_ms")]
    pub debounce_ms: u64,
    /// How often (ms) the button levels are sampled.
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
    /// Buttons read low when pressed (wired to GND); `false`: high when pressed.
    #[serde(default = "default_true")]
    pub active_low_buttons: bool,
    /// LEDs light when their pin is low (wired to 3.3 V); `false`: high lights them.
    #[serde(default)]
    pub active_low_leds: bool,
    /// Internal resistor on button pins; default: up for active-low
    /// buttons, down for active-high ones.
    #[serde(default)]
    pub pull: Option<Pull>,
    /// The buttons (`[[panel.button]]`).
    #[serde(default, rename = "button")]
    pub buttons: Vec<ButtonConfig>,
    /// The per-label LEDs (`[[panel.led]]`).
    #[serde(default, rename = "led")]
    pub leds: Vec<LedConfig>,
    /// Pin of the status LED, if any.
    #[serde(default)]
    pub status_led: Option<u8>,
}

impl Default for GpioConfig {
    fn default() -> Self {
        GpioConfig {
            debounce_ms: default_debounce_ms(),
            poll_ms: default_poll_ms(),
            active_low_buttons: true,
            active_low_leds: false,
            pull: None,
            buttons: Vec::new(),
            leds: Vec::new(),
            status_led: None,
        }
    }
}

impl GpioConfig {
    /// The pull resistor to use, applying the default for the button polarity.
    pub fn effective_pull(&self) -> Pull {
        self.pull.unwrap_or(if self.active_low_buttons { Pull::Up } else { Pull::Down })
    }
}

/// One GPIO button (`[[panel.button]]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ButtonConfig {
    /// BCM pin number.
    pub pin: u8,
    /// A label name, or `"train"`, `"undo"` (also spelt `"clear"`) or `"quit"`.
    pub action: String,
}

/// One GPIO LED (`[[panel.led]]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedConfig {
    /// BCM pin number.
    pub pin: u8,
    /// The label whose LED this is.
    pub label: String,
}

/// Terminal keyboard panel.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyboardConfig {
    /// Let the `c` key undo the last capture (off by default, as it is
    /// easy to hit by accident). `clear_key` is the old spelling.
    #[serde(default, alias = "clear_key")]
    pub undo_key: bool,
}

fn default_debounce_ms() -> u64 {
    50
}

fn default_poll_ms() -> u64 {
    5
}

fn default_true() -> bool {
    true
}

/// Resolves a button action: a label name, or `train`, `undo` (alias `clear`), `quit`.
pub fn resolve_action(action: &str, labels: &[String]) -> Result<Control, PanelError> {
    let command = match action {
        "train" => Some(Control::Train),
        "undo" | "clear" => Some(Control::Undo),
        "quit" => Some(Control::Quit),
        _ => None,
    };
    let label = labels.iter().position(|l| l == action);
    match (command, label) {
        (Some(_), Some(_)) => Err(PanelError::AmbiguousAction(action.to_string())),
        (Some(c), None) => Ok(c),
        (None, Some(i)) => Ok(Control::Label(i)),
        (None, None) => Err(PanelError::UnknownAction { action: action.to_string(), labels: labels.join(", ") }),
    }
}

/// Resolves a label name to its index in `labels`.
pub fn resolve_label(label: &str, labels: &[String]) -> Result<usize, PanelError> {
    labels
        .iter()
        .position(|l| l == label)
        .ok_or_else(|| PanelError::UnknownLabel { label: label.to_string(), labels: labels.join(", ") })
}

/// A [`GpioConfig`] with names resolved and checked against the labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedGpio {
    /// `(pin, control)` per button.
    pub buttons: Vec<(u8, Control)>,
    /// LED pin per label index (`None`: that label has no LED).
    pub label_leds: Vec<Option<u8>>,
    /// Status LED pin.
    pub status_led: Option<u8>,
}

impl GpioConfig {
    /// Resolves button actions and LED labels; rejects unknown names,
    /// pins used twice and labels with two LEDs.
    pub fn resolve(&self, labels: &[String]) -> Result<ResolvedGpio, PanelError> {
        let mut pins = HashSet::new();
        let mut use_pin = |pin: u8| {
            if pins.insert(pin) {
                Ok(pin)
            } else {
                Err(PanelError::DuplicatePin(pin))
            }
        };
        let mut buttons = Vec::new();
        for b in &self.buttons {
            buttons.push((use_pin(b.pin)?, resolve_action(&b.action, labels)?));
        }
        let mut label_leds = vec![None; labels.len()];
        for led in &self.leds {
            let i = resolve_label(&led.label, labels)?;
            if label_leds[i].is_some() {
                return Err(PanelError::DuplicateLed(led.label.clone()));
            }
            label_leds[i] = Some(use_pin(led.pin)?);
        }
        let status_led = self.status_led.map(&mut use_pin).transpose()?;
        Ok(ResolvedGpio { buttons, label_leds, status_led })
    }
}

#[cfg(test)]
mod tests;
