//! The buttons as commands: debounced edges in, TRAIN/UNDO/QUIT commands and due captures out.
//! Captures that fall due between frames wait here for the next frame.

use crate::panel::{ButtonEvent, Buttons, Control, Edge, HoldRepeater, PanelError};
use std::time::Instant;

/// A button command other than a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Train on the examples.
    Train,
    /// Remove the last example.
    Undo,
    /// Stop the daemon.
    Quit,
}

/// The buttons, the hold-to-burst repeater and the captures waiting for a frame.
pub struct Controls {
    buttons: Box<dyn Buttons>,
    repeater: HoldRepeater,
    pending: Vec<usize>,
}

impl Controls {
    /// Reads `buttons`; `repeater` decides how held label buttons capture.
    pub fn new(buttons: Box<dyn Buttons>, repeater: HoldRepeater) -> Self {
        Self { buttons, repeater, pending: Vec::new() }
    }

    /// Reads the buttons at `now` and returns the commands pressed. Captures that fall due
    /// are kept for [`Controls::take_captures`]; `frame` says whether a frame will be
    /// processed this turn (per-frame repeaters capture once per frame). A button read error
    /// is returned after the captures already due are kept.
    pub fn poll(&mut self, now: Instant, frame: bool) -> Result<Vec<Command>, PanelError> {
        let read = self.buttons.poll(now);
        let events: &[ButtonEvent] = read.as_deref().unwrap_or(&[]);
        let mut commands = Vec::new();
        for ev in events {
            self.repeater.on_event(ev, now);
            if ev.edge == Edge::Press {
                commands.extend(match ev.control {
                    Control::Label(_) => None,
                    Control::Train => Some(Command::Train),
                    Control::Undo => Some(Command::Undo),
                    Control::Quit => Some(Command::Quit),
                });
            }
        }
        self.pending.extend(self.repeater.due(now));
        if frame {
            self.pending.extend(self.repeater.tick());
        }
        read.map(|_| commands)
    }

    /// Controls pressed remotely (the status page): each is pressed and released at `now`,
    /// so a label captures one example, as a tap of its button does. Returns the commands.
    pub fn remote(&mut self, controls: Vec<Control>, now: Instant) -> Vec<Command> {
        let mut commands = Vec::new();
        for control in controls {
            match control {
                Control::Label(_) => {
                    self.repeater.on_event(&ButtonEvent::press(control), now);
                    self.repeater.on_event(&ButtonEvent::release(control), now);
                }
                Control::Train => commands.push(Command::Train),
                Control::Undo => commands.push(Command::Undo),
                // Never queued remotely (see `Hub::press`).
                Control::Quit => {}
            }
        }
        commands
    }

    /// True while a label button is held or a capture waits for a frame (the frame must then
    /// be embedded, never gated).
    pub fn capturing(&self) -> bool {
        self.repeater.any_held() || !self.pending.is_empty()
    }

    /// The labels to capture on this frame: one example per label, however many captures fell
    /// due since the last frame.
    pub fn take_captures(&mut self) -> Vec<usize> {
        let mut due = std::mem::take(&mut self.pending);
        due.sort_unstable();
        due.dedup();
        due
    }
}
