//! Buttons and LEDs on Raspberry Pi GPIO pins through `rppal`.
//!
//! `rppal` (retired upstream, still supporting every model up to the Pi 5,
//! whose RP1 chip it drives through `/dev/gpiomem0`) is used only in this
//! file. Button levels are sampled by a thread every `poll_ms` and
//! debounced in software ([`Debouncer`]), since kernel debouncing is not
//! available on every Pi. LEDs are output pins; they are switched off and
//! the pins released (reset to inputs by `rppal`) on drop.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use log::{info, warn};
use rppal::gpio::{Gpio, InputPin, Level, OutputPin};

use super::{check_led_count, ButtonEvent, Buttons, Control, Debouncer, GpioConfig, LedState, Leds, PanelError, Pull};

mod errors;
pub use errors::{busy_by, gpio_error, Role};

/// Opens the GPIO panel: checks the configuration against `labels`, then
/// claims the pins.
pub fn open(cfg: &GpioConfig, labels: &[String]) -> Result<(GpioButtons, GpioLeds), PanelError> {
    let resolved = cfg.resolve(labels)?;
    for (i, pin) in resolved.label_leds.iter().enumerate() {
        if pin.is_none() {
            warn!("label \"{}\" has no LED", labels[i]);
        }
    }
    // Every pin with what it is for, so that each failure names both.
    let mut roles: Vec<(u8, Role)> =
        resolved.buttons.iter().map(|&(pin, control)| (pin, Role::button(control, labels))).collect();
    roles.extend(resolved.label_leds.iter().zip(labels).filter_map(|(pin, l)| pin.map(|p| (p, Role::led(l)))));
    roles.extend(resolved.status_led.map(|p| (p, Role::status())));
    let gpio = Gpio::new().map_err(|e| gpio_error(e, None))?;
    if let Some(busy) = errors::first_busy(&roles) {
        return Err(busy);
    }
    let role = |pin: u8| {
        roles.iter().find(|(p, _)| *p == pin).map(|(_, r)| r.clone()).unwrap_or_else(|| Role(format!("pin {pin}")))
    };
    let claim = |pin: u8| gpio.get(pin).map_err(|e| gpio_error(e, Some((pin, &role(pin)))));

    let mut inputs = Vec::new();
    for &(pin, control) in &resolved.buttons {
        let pin = claim(pin)?;
        let input = match cfg.effective_pull() {
            Pull::Up => pin.into_input_pullup(),
            Pull::Down => pin.into_input_pulldown(),
            Pull::None => pin.into_input(),
        };
        inputs.push((input, control));
    }
    let active_low = cfg.active_low_leds;
    let output = |pin: u8| -> Result<OutputPin, PanelError> {
        let pin = claim(pin)?;
        Ok(if active_low { pin.into_output_high() } else { pin.into_output_low() })
    };
    let label_leds = resolved.label_leds.iter().map(|p| p.map(output).transpose()).collect::<Result<Vec<_>, _>>()?;
    let status = resolved.status_led.map(output).transpose()?;

    let buttons = GpioButtons::start(
        inputs,
        cfg.active_low_buttons,
        Duration::from_millis(cfg.debounce_ms),
        Duration::from_millis(cfg.poll_ms.max(1)),
    )?;
    info!(
        "GPIO panel: buttons {:?}, LEDs {:?}, status LED {:?}",
        resolved.buttons, resolved.label_leds, resolved.status_led
    );
    Ok((buttons, GpioLeds { labels: label_leds, status, active_low }))
}

/// GPIO buttons, sampled and debounced on a background thread.
pub struct GpioButtons {
    events: Receiver<ButtonEvent>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl GpioButtons {
    fn start(
        inputs: Vec<(InputPin, Control)>,
        active_low: bool,
        debounce: Duration,
        poll: Duration,
    ) -> Result<Self, PanelError> {
        let (tx, events) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let thread_stop = Arc::clone(&stop);
        let thread = thread::Builder::new()
            .name("gpio-buttons".into())
            .spawn(move || {
                let pressed = |pin: &InputPin| pin.is_low() == active_low;
                let now = Instant::now();
                let mut buttons: Vec<_> = inputs
                    .into_iter()
                    .map(|(pin, control)| {
                        let deb = Debouncer::new(debounce, pressed(&pin));
                        (pin, control, deb)
                    })
                    .collect();
                let mut next = now;
                while !thread_stop.load(Ordering::Relaxed) {
                    let now = Instant::now();
                    for (pin, control, deb) in &mut buttons {
                        if let Some(edge) = deb.update(pressed(pin), now) {
                            let event = ButtonEvent { control: *control, edge };
                            if tx.send(event).is_err() {
                                return;
                            }
                        }
                    }
                    next += poll;
                    let now = Instant::now();
                    if next > now {
                        thread::sleep(next - now);
                    } else {
                        next = now;
                    }
                }
            })
            .map_err(PanelError::Thread)?;
        Ok(GpioButtons { events, stop, thread: Some(thread) })
    }
}

impl Buttons for GpioButtons {
    fn poll(&mut self, _now: Instant) -> Result<Vec<ButtonEvent>, PanelError> {
        let mut out = Vec::new();
        loop {
            match self.events.try_recv() {
                Ok(event) => out.push(event),
                Err(TryRecvError::Empty) => return Ok(out),
                Err(TryRecvError::Disconnected) if out.is_empty() => return Err(PanelError::PollThreadDied),
                Err(TryRecvError::Disconnected) => return Ok(out),
            }
        }
    }
}

impl Drop for GpioButtons {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// GPIO LEDs: one per label (optional) and an optional status LED.
pub struct GpioLeds {
    labels: Vec<Option<OutputPin>>,
    status: Option<OutputPin>,
    active_low: bool,
}

/// The pin level that shows `on` for an LED of the given polarity.
fn led_level(on: bool, active_low: bool) -> Level {
    if on != active_low {
        Level::High
    } else {
        Level::Low
    }
}

impl Leds for GpioLeds {
    fn set(&mut self, state: &LedState) -> Result<(), PanelError> {
        check_led_count(state, self.labels.len())?;
        for (pin, &on) in self.labels.iter_mut().zip(&state.labels) {
            if let Some(pin) = pin {
                pin.write(led_level(on, self.active_low));
            }
        }
        if let Some(pin) = &mut self.status {
            pin.write(led_level(state.status, self.active_low));
        }
        Ok(())
    }

    fn off(&mut self) {
        let off = led_level(false, self.active_low);
        let pins = self.labels.iter_mut().chain(std::iter::once(&mut self.status));
        for pin in pins.flatten() {
            pin.write(off);
        }
    }
}

impl Drop for GpioLeds {
    fn drop(&mut self) {
        // The pins are then released and reset by rppal.
        self.off();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn led_polarity() {
        assert_eq!(led_level(true, false), Level::High);
        assert_eq!(led_level(false, false), Level::Low);
        assert_eq!(led_level(true, true), Level::Low);
        assert_eq!(led_level(false, true), Level::High);
    }

    #[test]
    fn config_errors_come_before_touching_hardware() {
        let cfg = GpioConfig {
            buttons: vec![super::super::ButtonConfig { pin: 17, action: "bird".into() }],
            ..GpioConfig::default()
        };
        let err = open(&cfg, &["cat".into()]).err().expect("must fail");
        assert!(matches!(err, PanelError::UnknownAction { .. }), "{err}");
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn not_a_raspberry_pi_on_a_pc() {
        let err = open(&GpioConfig::default(), &["cat".into()]).err().expect("no GPIO on x86_64");
        assert!(matches!(err, PanelError::NotRaspberryPi), "{err}");
    }
}
