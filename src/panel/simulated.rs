//! Scripted panel: presses are fed and LED changes read back through a
//! [`SimHandle`], usable from any thread (scenario runner, tests).

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{check_led_count, ButtonEvent, Buttons, Control, LedState, Leds, PanelError};

#[derive(Debug)]
struct State {
    n_labels: usize,
    events: VecDeque<ButtonEvent>,
    held: Vec<Control>,
    leds: LedState,
    history: Vec<LedState>,
    /// Number of `set`/`off` calls, changed or not.
    led_writes: u64,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Constructor of a simulated panel.
pub struct SimulatedPanel;

impl SimulatedPanel {
    /// A panel with `n_labels` label buttons and LEDs, all LEDs off.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(n_labels: usize) -> (SimButtons, SimLeds, SimHandle) {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                n_labels,
                events: VecDeque::new(),
                held: Vec::new(),
                leds: LedState::off(n_labels),
                history: Vec::new(),
                led_writes: 0,
            }),
            changed: Condvar::new(),
        });
        (
            SimButtons { shared: Arc::clone(&shared) },
            SimLeds { shared: Arc::clone(&shared), n_labels },
            SimHandle { shared },
        )
    }
}

/// The buttons of a simulated panel: returns the events fed by the handle.
pub struct SimButtons {
    shared: Arc<Shared>,
}

impl Buttons for SimButtons {
    fn poll(&mut self, _now: Instant) -> Result<Vec<ButtonEvent>, PanelError> {
        let mut state = self.shared.lock();
        let events = state.events.drain(..).collect();
        self.shared.changed.notify_all();
        Ok(events)
    }
}

/// The LEDs of a simulated panel: records every change for the handle.
pub struct SimLeds {
    shared: Arc<Shared>,
    n_labels: usize,
}

impl SimLeds {
    fn write(&self, state: &LedState) {
        let mut s = self.shared.lock();
        s.led_writes += 1;
        if s.leds != *state {
            s.leds = state.clone();
            s.history.push(state.clone());
        }
        self.shared.changed.notify_all();
    }
}

impl Leds for SimLeds {
    fn set(&mut self, state: &LedState) -> Result<(), PanelError> {
        check_led_count(state, self.n_labels)?;
        self.write(state);
        Ok(())
    }

    fn off(&mut self) {
        self.write(&LedState::off(self.n_labels));
    }
}

impl Drop for SimLeds {
    fn drop(&mut self) {
        self.off();
    }
}

/// Drives a simulated panel and observes its LEDs; cheap to clone and
/// usable from any thread.
#[derive(Clone)]
pub struct SimHandle {
    shared: Arc<Shared>,
}

impl SimHandle {
    fn check(&self, state: &State, control: Control) -> Result<(), PanelError> {
        match control {
            Control::Label(i) if i >= state.n_labels => Err(PanelError::UnknownControl(format!("{control:?}"))),
            _ => Ok(()),
        }
    }

    /// Queues a press of `control` (ignored if it is already held).
    pub fn press(&self, control: Control) -> Result<(), PanelError> {
        let mut state = self.shared.lock();
        self.check(&state, control)?;
        if !state.held.contains(&control) {
            state.held.push(control);
            state.events.push_back(ButtonEvent::press(control));
        }
        Ok(())
    }

    /// Queues a release of `control` (ignored if it is not held).
    pub fn release(&self, control: Control) -> Result<(), PanelError> {
        let mut state = self.shared.lock();
        self.check(&state, control)?;
        if let Some(i) = state.held.iter().position(|c| *c == control) {
            state.held.remove(i);
            state.events.push_back(ButtonEvent::release(control));
        }
        Ok(())
    }

    /// Queues a press and a release of `control`.
    pub fn tap(&self, control: Control) -> Result<(), PanelError> {
        self.press(control)?;
        self.release(control)
    }

    /// Events queued but not yet polled.
    pub fn pending_events(&self) -> usize {
        self.shared.lock().events.len()
    }

    /// Waits until every queued event has been polled; `false` on timeout.
    pub fn wait_polled(&self, timeout: Duration) -> bool {
        let state = self.shared.lock();
        let (state, _) = self
            .shared
            .changed
            .wait_timeout_while(state, timeout, |s| !s.events.is_empty())
            .unwrap_or_else(|e| e.into_inner());
        state.events.is_empty()
    }

    /// The LED state shown now.
    pub fn leds(&self) -> LedState {
        self.shared.lock().leds.clone()
    }

    /// Every LED state shown so far, one entry per change, oldest first.
    pub fn led_history(&self) -> Vec<LedState> {
        self.shared.lock().history.clone()
    }

    /// Number of LED writes (`set` or `off` calls), including ones that
    /// changed nothing.
    pub fn led_writes(&self) -> u64 {
        self.shared.lock().led_writes
    }

    /// Waits until the LEDs show a state for which `pred` holds; returns
    /// that state, or `None` on timeout.
    pub fn wait_for_leds(&self, timeout: Duration, pred: impl Fn(&LedState) -> bool) -> Option<LedState> {
        let state = self.shared.lock();
        let (state, _) = self
            .shared
            .changed
            .wait_timeout_while(state, timeout, |s| !pred(&s.leds))
            .unwrap_or_else(|e| e.into_inner());
        pred(&state.leds).then(|| state.leds.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presses_come_out_of_poll_in_order() {
        let (mut buttons, _leds, handle) = SimulatedPanel::new(2);
        let now = Instant::now();
        handle.press(Control::Label(1)).unwrap();
        handle.press(Control::Label(1)).unwrap(); // already held: ignored
        handle.release(Control::Label(1)).unwrap();
        handle.release(Control::Label(0)).unwrap(); // not held: ignored
        handle.tap(Control::Train).unwrap();
        assert_eq!(handle.pending_events(), 4);
        assert_eq!(
            buttons.poll(now).unwrap(),
            vec![
                ButtonEvent::press(Control::Label(1)),
                ButtonEvent::release(Control::Label(1)),
                ButtonEvent::press(Control::Train),
                ButtonEvent::release(Control::Train),
            ]
        );
        assert!(buttons.poll(now).unwrap().is_empty());
        assert!(handle.press(Control::Label(2)).is_err());
    }

    #[test]
    fn led_changes_are_recorded_and_turned_off_on_drop() {
        let (_buttons, mut leds, handle) = SimulatedPanel::new(2);
        leds.set(&LedState::only(2, 0)).unwrap();
        leds.set(&LedState::only(2, 0)).unwrap(); // unchanged: not in history
        leds.set(&LedState::only(2, 1)).unwrap();
        assert_eq!(handle.leds(), LedState::only(2, 1));
        assert!(matches!(leds.set(&LedState::off(3)), Err(PanelError::LedCount { expected: 2, got: 3 })));
        drop(leds);
        assert_eq!(handle.led_history(), vec![LedState::only(2, 0), LedState::only(2, 1), LedState::off(2)]);
        assert_eq!(handle.led_writes(), 4);
    }
}
