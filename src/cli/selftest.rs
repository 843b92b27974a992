//! `teachcam selftest`: a wiring check after soldering — blinks each LED in turn, then prints
//! every button press and release until Ctrl-C (or `--seconds` runs out).

use crate::config::Config;
use crate::panel::{self, Control, Edge, LedState};
use anyhow::{anyhow, Context, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Prints one line of the test. In raw mode (the keyboard panel) a bare `\n` only moves down,
/// leaving each line further right than the last; there the line clears the panel's status
/// line first and ends with `\r\n` (the panel redraws its line on the next LED change).
fn say(line: &str) {
    println!("{}", raw_line(line, crossterm::terminal::is_raw_mode_enabled().unwrap_or(false)));
}

/// `line` as printed by [`say`] (before `println!`'s `\n`).
fn raw_line(line: &str, raw: bool) -> String {
    if raw {
        format!("\r\x1b[2K{line}\r")
    } else {
        line.to_string()
    }
}

/// Runs the wiring self-test on the configured panel.
pub fn run(config: &Config, seconds: u64) -> Result<()> {
    let panel_cfg = config.panel.as_ref().ok_or_else(|| anyhow!("the configuration has no [panel] section to test"))?;
    let (mut buttons, mut leds) = panel::open(panel_cfg, &config.labels)?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).context("installing the signal handlers")?;
    }
    let n = config.labels.len();
    say("LEDs: each lights for half a second, in turn");
    for k in 0..=n {
        let (name, state) = if k < n {
            (format!("{} LED", config.labels[k]), LedState::only(n, k))
        } else {
            ("status LED".to_string(), LedState { labels: vec![false; n], status: true })
        };
        say(&format!("  {name}"));
        leds.set(&state)?;
        std::thread::sleep(Duration::from_millis(500));
    }
    leds.set(&LedState::off(n))?;
    say("buttons: press each one (its label's LED lights while held); Ctrl-C ends the test");
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
            say(&format!("  {name} {}", if pressed { "pressed" } else { "released" }));
            match ev.control {
                Control::Label(k) => state.labels[k] = pressed,
                _ => state.status = pressed,
            }
            leds.set(&state)?;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    leds.off();
    say("self-test finished");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::raw_line;

    #[test]
    fn lines_in_raw_mode_start_at_the_left_edge() {
        assert_eq!(raw_line("  cat LED", false), "  cat LED");
        // println! adds the \n: the line ends "\r\n", and first clears the panel's status line.
        assert_eq!(raw_line("  cat LED", true), "\r\x1b[2K  cat LED\r");
    }
}
