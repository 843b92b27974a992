//! The panel module's error type.

use std::io;

/// Errors of button and LED backends and of panel configuration.
#[derive(Debug, thiserror::Error)]
pub enum PanelError {
    /// A button action is neither a label nor a command.
    #[error("button action \"{action}\" is neither a label ({labels}) nor one of \"train\", \"undo\", \"quit\"")]
    UnknownAction {
        /// The configured action.
        action: String,
        /// The known labels, comma separated.
        labels: String,
    },

    /// An action names both a label and a command.
    #[error("button action \"{0}\" is ambiguous: it is both a label name and a command")]
    AmbiguousAction(String),

    /// An LED is bound to a label that does not exist.
    #[error("LED label \"{label}\" is not one of the labels ({labels})")]
    UnknownLabel {
        /// The configured label.
        label: String,
        /// The known labels, comma separated.
        labels: String,
    },

    /// The same GPIO pin is configured twice.
    #[error("GPIO pin {0} is configured more than once")]
    DuplicatePin(u8),

    /// Two LEDs are bound to the same label.
    #[error("label \"{0}\" has more than one LED")]
    DuplicateLed(String),

    /// An LED state has the wrong number of label entries.
    #[error("LED state has {got} label entries, the panel has {expected} labels")]
    LedCount {
        /// Labels of the panel.
        expected: usize,
        /// Entries in the state.
        got: usize,
    },

    /// A simulated control refers to a label index out of range.
    #[error("control {0} does not exist on this panel")]
    UnknownControl(String),

    /// The board is not a Raspberry Pi that the GPIO library knows.
    #[error(
        "GPIO panel: this does not look like a Raspberry Pi (model not recognised); use panel kind = \"keyboard\" or \"simulated\" elsewhere"
    )]
    NotRaspberryPi,

    /// The GPIO device may not be opened by this user.
    #[error(
        "no permission for {path}: add the user to the gpio group (sudo usermod -aG gpio $USER, then log in again)"
    )]
    GpioPermission {
        /// The device that could not be opened, e.g. `/dev/gpiochip0`.
        path: String,
    },

    /// The GPIO device nodes are missing.
    #[error(
        "GPIO device not found ({0}): /dev/gpiomem (Pi 5: /dev/gpiomem0) and /dev/gpiochipN must exist; is this Raspberry Pi OS?"
    )]
    GpioMissing(io::Error),

    /// A GPIO pin is held by another program, a kernel driver, or twice by teachcam.
    #[error(
        "GPIO {pin} ({role}) is busy: {} uses it; stop that program (or remove the dtoverlay that claims the pin) or change the pin in [panel]",
        user.as_deref().unwrap_or("another program")
    )]
    PinBusy {
        /// The BCM pin number.
        pin: u8,
        /// What it is for, e.g. "button cat".
        role: String,
        /// Who holds it, when known.
        user: Option<String>,
    },

    /// A GPIO pin number does not exist on this board.
    #[error("GPIO {pin} ({role}) does not exist on this board (pins are BCM numbers, 0-27 on the 40-pin header)")]
    NoSuchPin {
        /// The BCM pin number.
        pin: u8,
        /// What it is for, e.g. "LED dog".
        role: String,
    },

    /// Another GPIO failure.
    #[error("GPIO error: {0}")]
    Gpio(String),

    /// A background thread could not be started.
    #[error("could not start a thread: {0}")]
    Thread(io::Error),

    /// The button polling thread stopped.
    #[error("the button polling thread stopped unexpectedly")]
    PollThreadDied,

    /// The keyboard panel was started without a terminal.
    #[error(
        "keyboard panel needs an interactive terminal, but stdin is not a TTY; use panel kind = \"gpio\" or \"simulated\" when running as a service"
    )]
    NotATerminal,

    /// A terminal operation failed.
    #[error("terminal: {0}")]
    Terminal(#[from] io::Error),
}
