//! The loop's logic with the fake backbone (colour means): captures, undo, training success
//! and failure, failed captures, head swaps, restarts and the label order. Milliseconds each,
//! no model file, so they also run under qemu.

use super::*;
use crate::embed::fake::FakeBackbone;
use crate::embed::{Backbone, BackboneOutput, EmbedError, ModelInfo};
use crate::panel::{Control, SimHandle, SimulatedPanel};
use image::{Rgb, RgbImage};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tract_core::prelude::Tensor;

const RED: [u8; 3] = [220, 30, 30];
const BLUE: [u8; 3] = [30, 30, 220];
const GREEN: [u8; 3] = [30, 200, 40];
const STEP: Duration = Duration::from_millis(100);

/// The fake backbone, counting its runs, and failing while `fail` is set.
struct Counting {
    inner: FakeBackbone,
    calls: Arc<AtomicUsize>,
    fail: Arc<AtomicBool>,
}

impl Backbone for Counting {
    fn run(&self, input: Tensor) -> Result<BackboneOutput, EmbedError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.fail.load(Ordering::SeqCst) {
            return Err(EmbedError::Inference("simulated inference failure".into()));
        }
        self.inner.run(input)
    }

    fn info(&self) -> &ModelInfo {
        self.inner.info()
    }
}

/// A daemon on a fresh data folder with the fake backbone, the simulated panel and a clock
/// that advances one frame period per tick.
struct Rig {
    daemon: Daemon,
    sim: SimHandle,
    config: Config,
    embedder: Arc<Embedder>,
    /// Backbone runs so far.
    calls: Arc<AtomicUsize>,
    /// Makes the backbone fail while set.
    fail: Arc<AtomicBool>,
    now: Instant,
    seq: u64,
    _dir: Option<tempfile::TempDir>,
}

/// A config for `labels` on the data folder `data`, without a background set (the shipped one
/// belongs to the real model).
fn config(labels: &[&str], data: &Path) -> Config {
    let mut c =
        Config { labels: labels.iter().map(|l| l.to_string()).collect(), data_dir: data.into(), ..Default::default() };
    c.head.background = crate::head::BackgroundSource::Off;
    c
}

impl Rig {
    fn new(labels: &[&str]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut rig = Self::open(config(labels, dir.path()));
        rig._dir = Some(dir);
        rig
    }

    /// A daemon on `config`'s data folder, as after a restart.
    fn open(config: Config) -> Self {
        let (calls, fail) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
        let counting = Counting {
            inner: FakeBackbone::new(config.model.layout),
            calls: Arc::clone(&calls),
            fail: Arc::clone(&fail),
        };
        // The fake backbone's own embedder settings (its 8 × 8 input).
        let pre = FakeBackbone::embedder(&config.model).preprocess().clone();
        let embedder = Arc::new(Embedder::with_backbone(Box::new(counting), pre));
        let (buttons, leds, sim) = SimulatedPanel::new(config.labels.len());
        let now = Instant::now();
        let daemon = Daemon::new(
            &config,
            Arc::clone(&embedder),
            Box::new(buttons),
            Box::new(leds),
            HoldRepeater::per_frame(),
            now,
        )
        .unwrap();
        Self { daemon, sim, config, embedder, calls, fail, now, seq: 0, _dir: None }
    }

    fn data(&self) -> &Path {
        &self.config.data_dir
    }

    fn frame(&mut self, colour: [u8; 3]) -> TickReport {
        self.image(RgbImage::from_pixel(32, 24, Rgb(colour)))
    }

    /// One tick with a frame showing `image`.
    fn image(&mut self, image: RgbImage) -> TickReport {
        self.seq += 1;
        self.now += STEP;
        let frame = Frame { image, seq: self.seq, source: None };
        self.daemon.tick(Some(&frame), self.now)
    }

    /// Backbone runs so far.
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn idle(&mut self) -> TickReport {
        self.now += STEP;
        self.daemon.tick(None, self.now)
    }

    /// Holds label button `k` over `n` frames of `colour`.
    fn teach(&mut self, k: usize, colour: [u8; 3], n: usize) {
        self.sim.press(Control::Label(k)).unwrap();
        for _ in 0..n {
            self.frame(colour);
        }
        self.sim.release(Control::Label(k)).unwrap();
        self.settle();
    }

    /// Presses a control once and ticks without a frame.
    fn tap(&mut self, c: Control) -> TickReport {
        self.sim.tap(c).unwrap();
        self.idle()
    }

    /// TRAIN, then waits for the training and its result pattern.
    fn train(&mut self) {
        self.tap(Control::Train);
        self.daemon.wait_training(self.now);
        self.settle();
    }

    /// Ticks without frames until no feedback pattern shows.
    fn settle(&mut self) {
        for _ in 0..100 {
            if !self.daemon.feedback_busy(self.now) {
                return;
            }
            self.idle();
        }
        panic!("feedback never ended");
    }

    /// The label LEDs after a few frames of `colour`.
    fn shown(&mut self, colour: [u8; 3]) -> Vec<bool> {
        (0..4).map(|_| self.frame(colour)).last().unwrap().leds.labels
    }

    fn stored(&self, label: &str) -> usize {
        self.daemon.counts().get(label).copied().unwrap_or(0)
    }
}

#[test]
fn holding_a_label_button_captures_one_example_per_frame_and_blinks_its_led() {
    let mut rig = Rig::new(&["cat", "dog"]);
    rig.sim.press(Control::Label(0)).unwrap();
    let r = rig.frame(RED);
    assert_eq!(r.captured, [0]);
    assert_eq!(r.leds.labels, [true, false], "the capture blinks the cat LED alone");
    assert_eq!(rig.frame(RED).captured, [0]);
    rig.sim.release(Control::Label(0)).unwrap();
    rig.settle();
    assert!(rig.frame(RED).captured.is_empty(), "released: no more captures");
    assert_eq!(rig.stored("cat"), 2);
    let on_disk = crate::store::Store::open_read_only(rig.data()).unwrap();
    assert_eq!(on_disk.counts()["cat"], 2, "durable, seen by another reader");
    assert_eq!(rig.frame(RED).leds, LedState::off(2), "no head: nothing lit, status off");
}

#[test]
fn undo_removes_the_last_example_only() {
    let mut rig = Rig::new(&["cat", "dog"]);
    rig.teach(0, RED, 2);
    rig.teach(1, BLUE, 1);
    rig.tap(Control::Undo);
    assert_eq!((rig.stored("cat"), rig.stored("dog")), (2, 0));
    rig.settle();
    rig.tap(Control::Undo);
    assert_eq!((rig.stored("cat"), rig.stored("dog")), (1, 0));
    assert_eq!(crate::store::Store::open_read_only(rig.data()).unwrap().len(), 1);
    // Undo with nothing left is harmless.
    rig.tap(Control::Undo);
    rig.tap(Control::Undo);
    assert_eq!(rig.stored("cat"), 0);
}

#[test]
fn train_with_one_label_blinks_the_missing_labels_and_trains_nothing() {
    let mut rig = Rig::new(&["cat", "dog", "bird"]);
    rig.teach(0, RED, 3);
    let r = rig.tap(Control::Train);
    assert_eq!(r.leds.labels, [false, true, true], "dog and bird still need examples");
    assert!(r.leds.status);
    assert!(!rig.daemon.training());
    rig.settle();
    assert!(rig.daemon.head().is_none());
}

#[test]
fn training_swaps_in_a_head_that_follows_the_scene_and_survives_a_restart() {
    let mut rig = Rig::new(&["cat", "dog"]);
    rig.teach(0, RED, 6);
    rig.teach(1, BLUE, 6);
    rig.train();
    let head = rig.daemon.head().expect("a head is live").clone();
    assert_eq!(head.labels, ["cat", "dog"]);
    assert!(rig.data().join("head.json").is_file(), "saved before it was swapped in");
    assert_eq!(rig.shown(RED), [true, false]);
    assert_eq!(rig.shown(BLUE), [false, true]);
    assert!(rig.frame(BLUE).leds.status, "status LED on while a head is live");

    let restarted = Rig::open(rig.config.clone());
    let mut rig2 = Rig { _dir: rig._dir.take(), ..restarted };
    let back = rig2.daemon.head().expect("the head comes back");
    assert_eq!((&back.weights, &back.bias, &back.thresholds), (&head.weights, &head.bias, &head.thresholds));
    assert_eq!((rig2.stored("cat"), rig2.stored("dog")), (6, 6));
    assert_eq!(rig2.shown(RED), [true, false]);
}

#[test]
fn a_new_head_starts_with_fresh_smoothing() {
    let mut rig = Rig::new(&["cat", "dog"]);
    rig.teach(0, RED, 5);
    rig.teach(1, BLUE, 5);
    rig.train();
    rig.shown(RED);
    rig.teach(1, GREEN, 5);
    rig.train();
    assert_eq!(rig.daemon.head().unwrap().report.counts, [5, 10], "the retrained head is live");
    // The first frame after the swap is decided on its own probabilities, not blended with
    // the old head's history.
    let d = rig.frame(BLUE).decision.unwrap();
    let embedding = rig.embedder.embed(&RgbImage::from_pixel(32, 24, Rgb(BLUE)), false).unwrap();
    let p = rig.daemon.head().unwrap().predict(&embedding.vector);
    assert_eq!((d.top, d.confidence), (p.index, p.confidence));
}

#[test]
fn a_failed_training_keeps_the_old_head_and_blinks_the_status_led() {
    let mut rig = Rig::new(&["cat", "dog"]);
    rig.teach(0, RED, 5);
    rig.teach(1, BLUE, 5);
    rig.train();
    let old = rig.daemon.head().unwrap().clone();
    // The head cannot be saved: its path is now a folder.
    let head_path = rig.config.head_path();
    std::fs::remove_file(&head_path).unwrap();
    std::fs::create_dir(&head_path).unwrap();
    rig.teach(0, GREEN, 3);
    rig.tap(Control::Train);
    rig.daemon.wait_training(rig.now);
    let blink: Vec<bool> = (0..6).map(|_| rig.idle().leds.status).collect();
    assert!(blink.contains(&true) && blink.contains(&false), "the status LED blinks: {blink:?}");
    assert_eq!(rig.daemon.head(), Some(&old), "the old head stays live");
    rig.settle();
    assert_eq!(rig.shown(RED), [true, false], "and keeps detecting");
}

#[test]
fn a_failed_capture_stores_nothing_blinks_and_the_daemon_goes_on() {
    let mut rig = Rig::new(&["cat", "dog"]);
    // The database refuses cat examples (as a full or failing disk would).
    rusqlite::Connection::open(rig.data().join(crate::store::DB_FILE))
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON examples WHEN NEW.label = 'cat'
             BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END;",
        )
        .unwrap();
    rig.sim.press(Control::Label(0)).unwrap();
    let r = rig.frame(RED);
    assert!(r.captured.is_empty(), "nothing acknowledged");
    assert_eq!(r.leds.labels, [false, false], "no capture blink");
    assert!(r.leds.status, "the error blinks the status LED");
    rig.sim.release(Control::Label(0)).unwrap();
    rig.settle();
    assert_eq!(rig.stored("cat"), 0);
    rig.teach(1, BLUE, 2);
    assert_eq!(rig.stored("dog"), 2, "other captures still work");
}

#[test]
fn classes_follow_the_config_order_and_an_untaught_label_never_lights() {
    // Not alphabetical, and `bird` is never taught.
    let mut rig = Rig::new(&["dog", "bird", "cat"]);
    rig.teach(2, RED, 5);
    rig.teach(0, BLUE, 5);
    rig.train();
    let head = rig.daemon.head().unwrap();
    assert_eq!(head.labels, ["dog", "bird", "cat"], "in config order, bird as a class never predicted");
    assert_eq!(
        (&head.report.labels[..], &head.report.counts[..]),
        (&["dog", "cat"].map(String::from)[..], &[5, 5][..])
    );
    assert_eq!(rig.shown(RED), [false, false, true], "cat, LED 2");
    assert_eq!(rig.shown(BLUE), [true, false, false], "dog, LED 0");
    for colour in [RED, BLUE, GREEN] {
        assert!(!rig.shown(colour)[1], "bird has no examples and never lights");
    }
}

#[test]
fn a_saved_head_in_another_label_order_is_put_in_the_config_order() {
    let mut rig = Rig::new(&["cat", "dog"]);
    rig.teach(0, RED, 5);
    rig.teach(1, BLUE, 5);
    rig.train();
    // The same data under a config that lists the labels the other way round.
    let swapped = Config { labels: vec!["dog".into(), "cat".into()], ..rig.config.clone() };
    let mut rig2 = Rig { _dir: rig._dir.take(), ..Rig::open(swapped) };
    assert_eq!(rig2.daemon.head().unwrap().labels, ["dog", "cat"]);
    assert_eq!(rig2.shown(RED), [false, true], "cat is LED 1 now");
    assert_eq!(rig2.shown(BLUE), [true, false]);
}

#[test]
fn a_background_label_lights_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&["cat", "dog", "none"], dir.path());
    cfg.live.no_led = vec!["none".into()];
    let mut rig = Rig { _dir: Some(dir), ..Rig::open(cfg) };
    rig.teach(0, RED, 5);
    rig.teach(1, BLUE, 5);
    rig.teach(2, GREEN, 5);
    rig.train();
    assert_eq!(rig.shown(GREEN), [false, false, false]);
    assert_eq!(rig.frame(GREEN).decision.unwrap().label, Some(2), "detected as none");
    assert_eq!(rig.shown(RED), [true, false, false]);
}

#[test]
fn quit_is_reported() {
    let mut rig = Rig::new(&["cat", "dog"]);
    assert!(!rig.daemon.quit_requested());
    rig.tap(Control::Quit);
    assert!(rig.daemon.quit_requested());
}

mod gate;
mod hub;
mod nothing_known;
