//! `teachcam selftest`: a wiring check after soldering — blinks each LED in turn, then prints
//! every button press and release until Ctrl-C (or `--seconds` runs out).

use crate::config::Config;
use crate::panel::{self, Control, Edge, LedState};
use anyhow::{anyhow, Context, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs the wiring self-test on the configured panel.
pub fn run(config: &Config, seconds: u64) -> Result<()> {
    let panel_cfg = config.panel.as_ref().ok_or_else(|| anyhow!("the configuration has no [panel] section to test"))?;
    let (mut buttons, mut leds) = panel::open(panel_cfg, &config.labels)?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).context("installing the signal handlers")?;
    }
    let n = config.labels.len();
    println!("LEDs: each lights for half a second, in turn");
    for k in 0..=n {
        let (name, state) = if k < n {
            (format!("{} LED", config.labels[k]), LedState::only(n, k))
        } else {
            ("status LED".to_string(), LedState { labels: vec![false; n], status: true })
        };
        println!("  {name}");
        leds.set(&state)?;
        std::thread::sleep(Duration::from_millis(500));
    }
    leds.set(&LedState::off(n))?;
    println!("buttons: press each one (its label's LED lights while held); Ctrl-C ends the test");
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut state = LedState::off(n);
    while !stop.load(Ordering::Relaxed) && Instant::now() < end {
        for ev in buttons.poll(Instant::now())? {
            let name = match ev.control {
                Control::Label(k) => config.labels[k].clone(),
                Control::Train => "train".into(),
                Control::Undo => "undo".into(),
                Control::Quit => {
                    stop.store(true, Ordering::Relaxed);
                    "quit".into()
                }
            };
            let pressed = ev.edge == Edge::Press;
            println!("  {name} {}", if pressed { "pressed" } else { "released" });
            match ev.control {
                Control::Label(k) => state.labels[k] = pressed,
                _ => state.status = pressed,
            }
            leds.set(&state)?;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    leds.off();
    println!("self-test finished");
    Ok(())
}
