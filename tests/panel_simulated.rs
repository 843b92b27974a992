//! The simulated panel driven from another thread, as the scenario runner
//! does, and the panel factory.

use std::thread;
use std::time::{Duration, Instant};

use serde::Deserialize;
use teachcam::panel::{self, Buttons, Control, Edge, HoldRepeater, LedState, Leds, PanelConfig, SimulatedPanel};

#[derive(Deserialize)]
struct Config {
    panel: PanelConfig,
}

#[test]
fn factory_builds_a_quiet_simulated_panel() {
    let cfg: Config = toml::from_str("[panel]\nkind = \"simulated\"\n").unwrap();
    let labels = vec!["cat".to_string(), "dog".to_string()];
    let (mut buttons, mut leds) = panel::open(&cfg.panel, &labels).unwrap();
    assert!(buttons.poll(Instant::now()).unwrap().is_empty());
    leds.set(&LedState::only(2, 1)).unwrap();
    assert!(leds.set(&LedState::off(1)).is_err());
    leds.off();
}

#[test]
fn factory_reports_config_errors_for_gpio() {
    let cfg: Config =
        toml::from_str("[panel]\nkind = \"gpio\"\n[[panel.button]]\npin = 17\naction = \"cow\"\n").unwrap();
    let err = panel::open(&cfg.panel, &["cat".to_string()]).err().expect("unknown label");
    assert!(err.to_string().contains("\"cow\""), "{err}");
}

/// A miniature main loop: polls buttons, captures per frame while a label
/// is held, lights the LED of the label with most captures; quits on Quit.
fn main_loop(mut buttons: Box<dyn Buttons>, mut leds: Box<dyn Leds>, n: usize) -> Vec<usize> {
    let mut repeater = HoldRepeater::per_frame();
    let mut counts = vec![0; n];
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < Duration::from_secs(10), "loop never quit");
        let now = Instant::now();
        for ev in buttons.poll(now).unwrap() {
            if ev.control == Control::Quit && ev.edge == Edge::Press {
                return counts;
            }
            repeater.on_event(&ev, now);
        }
        for label in repeater.tick() {
            counts[label] += 1;
        }
        let best = (0..n).max_by_key(|&i| counts[i]).filter(|&i| counts[i] > 0);
        let state = match best {
            Some(i) => LedState::only(n, i),
            None => LedState::off(n),
        };
        leds.set(&state).unwrap();
        thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn scripted_presses_from_another_thread_drive_the_leds() {
    let (buttons, leds, handle) = SimulatedPanel::new(2);
    let runner = thread::spawn(move || main_loop(Box::new(buttons), Box::new(leds), 2));

    handle.tap(Control::Label(0)).unwrap();
    let lit = handle.wait_for_leds(Duration::from_secs(5), |s| s.labels[0]);
    assert_eq!(lit, Some(LedState::only(2, 0)));

    // Hold dog until it has more captures than cat.
    handle.press(Control::Label(1)).unwrap();
    let lit = handle.wait_for_leds(Duration::from_secs(5), |s| s.labels[1]);
    assert_eq!(lit, Some(LedState::only(2, 1)));
    handle.release(Control::Label(1)).unwrap();
    assert!(handle.wait_polled(Duration::from_secs(5)));

    handle.tap(Control::Quit).unwrap();
    let counts = runner.join().unwrap();
    assert_eq!(counts[0], 1, "a tap captures exactly once per frame mode");
    assert!(counts[1] >= 1, "{counts:?}");
    // The loop dropped the LEDs on exit, which turns them off.
    assert_eq!(handle.leds(), LedState::off(2));
    assert_eq!(handle.led_history(), vec![LedState::only(2, 0), LedState::only(2, 1), LedState::off(2)]);
}

/// Raw samples of one button every millisecond (a fake clock): contact bounce of a few ms on
/// press and release, and a 3 ms dropout while held. The debouncer gives one press and one
/// release, and the repeater one capture.
#[test]
fn contact_chatter_gives_one_press_and_one_capture() {
    let t0 = Instant::now();
    let level = |ms: u64| match ms {
        0..10 => false,
        10..16 => ms.is_multiple_of(2), // bounce on press
        16..150 => true,
        150..153 => false, // a dropout while held
        153..300 => true,
        300..306 => !ms.is_multiple_of(2), // bounce on release
        _ => false,
    };
    let mut debouncer = panel::Debouncer::new(Duration::from_millis(20), false);
    let mut repeater = HoldRepeater::timed(Duration::from_millis(500), 5.0);
    let (mut edges, mut captures) = (Vec::new(), 0);
    for ms in 0..1000 {
        let now = t0 + Duration::from_millis(ms);
        if let Some(edge) = debouncer.update(level(ms), now) {
            edges.push(edge);
            repeater.on_event(&panel::ButtonEvent { control: Control::Label(0), edge }, now);
        }
        captures += repeater.due(now).len();
    }
    assert_eq!(edges, vec![Edge::Press, Edge::Release]);
    assert_eq!(captures, 1, "a 0.3 s press captures once");
}

/// Two buttons at once, through the daemon's controls: two labels capture neither (until both
/// are up); TRAIN with a label trains and the label captures.
#[test]
fn simultaneous_presses_through_the_controls() {
    let (buttons, _leds, sim) = SimulatedPanel::new(2);
    let mut controls = teachcam::daemon::Controls::new(Box::new(buttons), HoldRepeater::default());
    let t0 = Instant::now();
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    sim.press(Control::Label(0)).unwrap();
    sim.press(Control::Label(1)).unwrap();
    assert!(controls.poll(at(0), true).unwrap().is_empty());
    assert!(controls.take_captures().is_empty(), "cat and dog together capture neither");
    controls.poll(at(1000), true).unwrap();
    assert!(controls.take_captures().is_empty(), "nor does holding them");
    sim.release(Control::Label(0)).unwrap();
    controls.poll(at(1100), true).unwrap();
    assert!(controls.take_captures().is_empty(), "nor one of them still held");
    sim.release(Control::Label(1)).unwrap();
    controls.poll(at(1200), true).unwrap();

    sim.press(Control::Label(1)).unwrap();
    sim.press(Control::Train).unwrap();
    let commands = controls.poll(at(2000), true).unwrap();
    assert_eq!(commands, vec![teachcam::daemon::Command::Train]);
    assert_eq!(controls.take_captures(), vec![1], "TRAIN does not cancel the label's capture");
}
