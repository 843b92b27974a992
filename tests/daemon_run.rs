//! `teachcam run`'s loop (`daemon::run_with`) in real time with demo-style parts: a scene the
//! test controls as the camera, the simulated panel as buttons and LEDs, and the fake backbone
//! (colour means: warm and cool scenes differ in colour). Checks timed hold captures, training,
//! LED states, persistence, and that stopping turns the LEDs off. The real model runs through
//! the same loop in `tests/scenario.rs`.

mod common;

use image::RgbImage;
use rand::SeedableRng;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use teachcam::camera::{CameraError, Frame, FrameSource};
use teachcam::config::Config;
use teachcam::embed::fake::FakeBackbone;
use teachcam::panel::{Control, LedState, SimulatedPanel};

/// A camera that films whatever scene the test puts in front of it, at about 50 frames/s.
struct Scene {
    images: Arc<Mutex<Vec<RgbImage>>>,
    seq: u64,
}

impl FrameSource for Scene {
    fn next_frame(&mut self) -> Result<Option<Frame>, CameraError> {
        std::thread::sleep(Duration::from_millis(20));
        let images = self.images.lock().unwrap();
        let image = images[self.seq as usize % images.len()].clone();
        self.seq += 1;
        Ok(Some(Frame { image, seq: self.seq, source: None }))
    }
    fn describe(&self) -> String {
        "test scene".into()
    }
}

fn scenes(kind: &str, n: usize, seed: u64) -> Vec<RgbImage> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| if kind == "warm" { common::warm(&mut rng, 320, 240) } else { common::cool(&mut rng, 320, 240) })
        .collect()
}

#[test]
fn buttons_capture_train_and_leds_follow_the_scene() {
    if common::emulated("buttons_capture_train_and_leds_follow_the_scene") {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let mut config =
        Config { labels: vec!["warm".into(), "cool".into()], data_dir: data.path().into(), ..Default::default() };
    config.capture.hold_delay_ms = 100;
    config.capture.hold_rate_hz = 20.0;
    let embedder = Arc::new(FakeBackbone::embedder(&config.model));
    let shown = Arc::new(Mutex::new(scenes("warm", 8, 1)));
    let (buttons, leds, sim) = SimulatedPanel::new(2);
    let stop = Arc::new(AtomicBool::new(false));
    let daemon = {
        let (config, shown, stop) = (config.clone(), Arc::clone(&shown), Arc::clone(&stop));
        std::thread::spawn(move || {
            let source = Box::new(Scene { images: shown, seq: 0 });
            teachcam::daemon::run_with(&config, source, Box::new(buttons), Box::new(leds), embedder, &stop)
        })
    };
    let wait = Duration::from_secs(60);
    let off = LedState::off(2);
    assert!(sim.wait_for_leds(wait, |s| *s == off).is_some(), "nothing is lit before training");

    // TRAIN with no examples explains itself: the LEDs of both labels blink.
    sim.tap(Control::Train).unwrap();
    assert!(sim.wait_for_leds(wait, |s| s.labels == [true, true] && s.status).is_some(), "need-labels pattern");

    let hold = |label: usize, ms: u64| {
        sim.press(Control::Label(label)).unwrap();
        std::thread::sleep(Duration::from_millis(ms));
        sim.release(Control::Label(label)).unwrap();
        std::thread::sleep(Duration::from_millis(300));
    };
    hold(0, 1200);
    *shown.lock().unwrap() = scenes("cool", 8, 2);
    std::thread::sleep(Duration::from_millis(300));
    hold(1, 1200);
    let count = |label: &str| {
        teachcam::store::Store::open_read_only(data.path()).unwrap().counts().get(label).copied().unwrap_or(0)
    };
    let (warm, cool) = (count("warm"), count("cool"));
    // A press captures at once, then 20/s after 100 ms: a 1.2 s hold gives about 20, however
    // slow the embedder is (frames are shared, not queued).
    assert!((5..=30).contains(&warm) && (5..=30).contains(&cool), "captured warm {warm}, cool {cool}");

    sim.tap(Control::Train).unwrap();
    assert!(
        sim.wait_for_leds(wait, |s| s.labels == [false, true] && s.status).is_some(),
        "cool scene lights the cool LED"
    );
    assert!(data.path().join("head.json").is_file(), "the head was saved");
    *shown.lock().unwrap() = scenes("warm", 8, 3);
    assert!(sim.wait_for_leds(wait, |s| s.labels == [true, false]).is_some(), "warm scene lights the warm LED");

    stop.store(true, Ordering::Relaxed);
    daemon.join().unwrap().unwrap();
    assert_eq!(sim.leds(), LedState::off(2), "LEDs off after stopping");

    // A restart comes back as a detector with what it learned.
    let (buttons, leds, sim) = SimulatedPanel::new(2);
    let stop = Arc::new(AtomicBool::new(false));
    let handle = {
        let (config, shown, stop) = (config.clone(), Arc::clone(&shown), Arc::clone(&stop));
        std::thread::spawn(move || {
            let embedder = Arc::new(FakeBackbone::embedder(&config.model));
            let source = Box::new(Scene { images: shown, seq: 0 });
            teachcam::daemon::run_with(&config, source, Box::new(buttons), Box::new(leds), embedder, &stop)
        })
    };
    assert!(sim.wait_for_leds(wait, |s| s.labels == [true, false] && s.status).is_some(), "detects warm after restart");
    stop.store(true, Ordering::Relaxed);
    handle.join().unwrap().unwrap();
}
