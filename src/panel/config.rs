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
mod tests {
    use super::*;

    fn labels() -> Vec<String> {
        vec!["cat".into(), "dog".into()]
    }

    const EXAMPLE: &str = r#"
[panel]
kind = "gpio"
debounce_ms = 30
status_led = 25
active_low_buttons = true
active_low_leds = false
[[panel.button]]
pin = 17
action = "cat"
[[panel.button]]
pin = 27
action = "dog"
[[panel.button]]
pin = 22
action = "train"
[[panel.led]]
pin = 23
label = "cat"
[[panel.led]]
pin = 24
label = "dog"
"#;

    #[derive(Deserialize)]
    struct Root {
        panel: PanelConfig,
    }

    #[test]
    fn example_toml_parses_and_resolves() {
        let root: Root = toml::from_str(EXAMPLE).unwrap();
        let PanelConfig::Gpio(cfg) = root.panel else { panic!("not gpio") };
        assert_eq!(cfg.debounce_ms, 30);
        assert_eq!(cfg.poll_ms, 5);
        assert_eq!(cfg.effective_pull(), Pull::Up);
        assert_eq!(cfg.buttons.len(), 3);
        let r = cfg.resolve(&labels()).unwrap();
        assert_eq!(r.buttons, vec![(17, Control::Label(0)), (27, Control::Label(1)), (22, Control::Train)]);
        assert_eq!(r.label_leds, vec![Some(23), Some(24)]);
        assert_eq!(r.status_led, Some(25));
    }

    #[test]
    fn other_kinds_parse() {
        let root: Root = toml::from_str("[panel]\nkind = \"simulated\"\n").unwrap();
        assert_eq!(root.panel, PanelConfig::Simulated);
        let root: Root = toml::from_str("[panel]\nkind = \"keyboard\"\nclear_key = true").unwrap();
        assert_eq!(root.panel, PanelConfig::Keyboard(KeyboardConfig { undo_key: true }));
        let root: Root = toml::from_str("[panel]\nkind = \"keyboard\"\n").unwrap();
        assert_eq!(root.panel, PanelConfig::default());
    }

    #[test]
    fn typos_are_rejected() {
        let bad = EXAMPLE.replace("debounce_ms", "debounce");
        let err = toml::from_str::<Root>(&bad).err().unwrap().to_string();
        assert!(err.contains("debounce"), "{err}");
        let bad = EXAMPLE.replace("pin = 17", "pn = 17");
        assert!(toml::from_str::<Root>(&bad).is_err());
        // In TOML, keys after `[[panel.led]]` belong to that LED: a panel
        // setting placed there is reported rather than silently ignored.
        let misplaced = format!("{EXAMPLE}status_led = 26\n");
        let err = toml::from_str::<Root>(&misplaced).err().unwrap().to_string();
        assert!(err.contains("status_led"), "{err}");
    }

    #[test]
    fn actions_resolve_or_name_the_unknown() {
        let l = labels();
        assert_eq!(resolve_action("dog", &l).unwrap(), Control::Label(1));
        assert_eq!(resolve_action("quit", &l).unwrap(), Control::Quit);
        assert_eq!(resolve_action("undo", &l).unwrap(), Control::Undo);
        assert_eq!(resolve_action("clear", &l).unwrap(), Control::Undo, "the old spelling still works");
        let msg = resolve_action("cta", &l).unwrap_err().to_string();
        assert!(msg.contains("\"cta\"") && msg.contains("cat, dog"), "{msg}");
        let l2 = vec!["train".to_string()];
        assert!(matches!(resolve_action("train", &l2), Err(PanelError::AmbiguousAction(_))));
        let msg = resolve_label("bird", &l).unwrap_err().to_string();
        assert!(msg.contains("\"bird\""), "{msg}");
    }

    #[test]
    fn resolve_rejects_duplicates_and_unknown_labels() {
        let root: Root = toml::from_str(EXAMPLE).unwrap();
        let PanelConfig::Gpio(cfg) = root.panel else { panic!() };
        let mut c = cfg.clone();
        c.status_led = Some(17);
        assert!(matches!(c.resolve(&labels()), Err(PanelError::DuplicatePin(17))));
        let mut c = cfg.clone();
        c.leds[1].label = "cat".into();
        assert!(matches!(c.resolve(&labels()), Err(PanelError::DuplicateLed(_))));
        let err = cfg.resolve(&["cat".to_string()]).unwrap_err().to_string();
        assert!(err.contains("\"dog\""), "{err}");
        // A label without an LED is allowed.
        let mut c = cfg.clone();
        c.leds.pop();
        assert_eq!(c.resolve(&labels()).unwrap().label_leds, vec![Some(23), None]);
    }
}
