//! Buttons and LEDs: the [`Buttons`] and [`Leds`] traits with GPIO
//! ([`gpio`]), terminal ([`keyboard`]) and scripted ([`simulated`])
//! implementations, plus the pure [`Debouncer`] and [`HoldRepeater`].
//!
//! Build a panel from configuration with [`open`]; see [`PanelConfig`] for
//! the `[panel]` table.

pub mod config;
pub mod debounce;
pub mod error;
pub mod gpio;
pub mod keyboard;
pub mod repeat;
pub mod simulated;

use std::time::Instant;

pub use config::{
    resolve_action, resolve_label, ButtonConfig, CaptureConfig, GpioConfig, KeyboardConfig, LedConfig, PanelConfig,
    Pull,
};
pub use debounce::Debouncer;
pub use error::PanelError;
pub use repeat::HoldRepeater;
pub use simulated::{SimButtons, SimHandle, SimLeds, SimulatedPanel};

/// What a button does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Control {
    /// Capture examples of the label with this index in the label list.
    Label(usize),
    /// Train the classifier on the captured examples.
    Train,
    /// Remove the last captured example (`undo`; `clear` is the old spelling).
    Undo,
    /// Stop the daemon.
    Quit,
}

/// A debounced change of a button.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Edge {
    /// The button went down.
    Press,
    /// The button went up.
    Release,
}

/// One debounced button edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ButtonEvent {
    /// Which control the button is bound to.
    pub control: Control,
    /// Whether it was pressed or released.
    pub edge: Edge,
}

impl ButtonEvent {
    /// A press of `control`.
    pub fn press(control: Control) -> Self {
        ButtonEvent { control, edge: Edge::Press }
    }

    /// A release of `control`.
    pub fn release(control: Control) -> Self {
        ButtonEvent { control, edge: Edge::Release }
    }
}

/// What the LEDs should show.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LedState {
    /// One entry per label, in label order: lit when `true`.
    pub labels: Vec<bool>,
    /// The status LED (e.g. training / ready).
    pub status: bool,
}

impl LedState {
    /// All LEDs off, for `n_labels` labels.
    pub fn off(n_labels: usize) -> Self {
        LedState { labels: vec![false; n_labels], status: false }
    }

    /// Only the LED of `label` lit.
    pub fn only(n_labels: usize, label: usize) -> Self {
        let mut state = Self::off(n_labels);
        if let Some(l) = state.labels.get_mut(label) {
            *l = true;
        }
        state
    }
}

/// Source of debounced button edges.
pub trait Buttons: Send {
    /// Returns the debounced edges since the last poll, oldest first.
    fn poll(&mut self, now: Instant) -> Result<Vec<ButtonEvent>, PanelError>;
}

/// Sink for LED states.
pub trait Leds: Send {
    /// Shows `state`; its `labels` must have one entry per label.
    fn set(&mut self, state: &LedState) -> Result<(), PanelError>;

    /// Turns every LED off (best effort); also done on drop.
    fn off(&mut self);

    /// Shows `text` (what is in view: each label's confidence) next to the LEDs where there is
    /// room for it: the keyboard panel's status line. Called on every turn of the loop; LEDs
    /// on wires have no room and ignore it.
    fn note(&mut self, _text: &str) {}
}

/// Checks that `state` has one LED entry per label.
pub(crate) fn check_led_count(state: &LedState, n_labels: usize) -> Result<(), PanelError> {
    if state.labels.len() == n_labels {
        Ok(())
    } else {
        Err(PanelError::LedCount { expected: n_labels, got: state.labels.len() })
    }
}

/// The buttons and LEDs of one panel.
pub type Panel = (Box<dyn Buttons>, Box<dyn Leds>);

/// Opens the panel described by `cfg` for the given label names.
///
/// The simulated kind returned here has no handle to drive it (nothing is
/// ever pressed); use [`SimulatedPanel::new`] to script presses.
pub fn open(cfg: &PanelConfig, labels: &[String]) -> Result<Panel, PanelError> {
    Ok(match cfg {
        PanelConfig::Gpio(c) => {
            let (buttons, leds) = gpio::open(c, labels)?;
            (Box::new(buttons), Box::new(leds))
        }
        PanelConfig::Keyboard(c) => {
            let (buttons, leds) = keyboard::open(c, labels)?;
            (Box::new(buttons), Box::new(leds))
        }
        PanelConfig::Simulated => {
            let (buttons, leds, _handle) = SimulatedPanel::new(labels.len());
            (Box::new(buttons), Box::new(leds))
        }
    })
}
