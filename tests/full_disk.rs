//! A full disk and a read-only disk, for real: the data folder lives on a small tmpfs the test
//! mounts (so it needs root, as in CI; elsewhere it says NOT RUN, and fails under
//! `TEACHCAM_REQUIRE_DATA=1`). The daemon (fake backbone, simulated panel, frames fed by the
//! test) must keep detecting while captures are refused, show the problem, store again as soon
//! as there is space, open on a full or read-only disk with its saved head, and lose nothing
//! it acknowledged.

mod common;

use image::{Rgb, RgbImage};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use teachcam::camera::Frame;
use teachcam::config::Config;
use teachcam::daemon::{Area, Daemon};
use teachcam::embed::fake::FakeBackbone;
use teachcam::panel::{Control, HoldRepeater, SimHandle, SimulatedPanel};
use teachcam::store::Store;

const RED: [u8; 3] = [220, 30, 30];
const BLUE: [u8; 3] = [30, 30, 220];

/// A tmpfs mounted for the test's lifetime.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Self { dir })
    }
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn remount(&self, mode: &str) {
        let s = Command::new("mount").args(["-o", &format!("remount,{mode}")]).arg(self.path()).status().unwrap();
        assert!(s.success(), "remount {mode}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// Fills the file system holding `dir` with one file; returns it.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 4096];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
    path
}

struct Rig {
    daemon: Daemon,
    sim: SimHandle,
    now: Instant,
    seq: u64,
}

impl Rig {
    fn open(config: &Config) -> Self {
        let embedder = Arc::new(FakeBackbone::embedder(&config.model));
        let (buttons, leds, sim) = SimulatedPanel::new(config.labels.len());
        let now = Instant::now();
        let daemon = Daemon::new(config, embedder, Box::new(buttons), Box::new(leds), HoldRepeater::per_frame(), now)
            .expect("the daemon starts");
        Self { daemon, sim, now, seq: 0 }
    }

    fn frame(&mut self, colour: [u8; 3]) -> teachcam::daemon::TickReport {
        self.now += Duration::from_millis(50);
        self.seq += 1;
        let frame = Frame { image: RgbImage::from_pixel(64, 48, Rgb(colour)), seq: self.seq, source: None };
        self.daemon.tick(Some(&frame), self.now)
    }

    /// Holds label `k` for `n` frames of `colour`; returns how many captures were acknowledged.
    fn hold(&mut self, k: usize, colour: [u8; 3], n: usize) -> usize {
        self.sim.press(Control::Label(k)).unwrap();
        let captured = (0..n).map(|_| self.frame(colour).captured.len()).sum();
        self.sim.release(Control::Label(k)).unwrap();
        for _ in 0..40 {
            self.frame(colour);
        }
        captured
    }

    /// The LED lit after a few frames of `colour`.
    fn lit(&mut self, colour: [u8; 3]) -> Vec<bool> {
        (0..30).map(|_| self.frame(colour)).last().unwrap().leds.labels
    }
}

fn mounted(name: &str) -> Option<Tmpfs> {
    if common::emulated(name) {
        return None;
    }
    match Tmpfs::mount("3m") {
        Some(t) => Some(t),
        None => {
            eprintln!("NOT RUN: {name}: cannot mount a tmpfs (needs root)");
            assert!(std::env::var_os("TEACHCAM_REQUIRE_DATA").is_none(), "{name} must run in CI");
            None
        }
    }
}

#[test]
fn a_full_disk_refuses_captures_but_never_stops_detection_and_captures_resume_with_space() {
    let Some(fs) = mounted("full_disk") else { return };
    let mut config =
        Config { labels: vec!["cat".into(), "dog".into()], data_dir: fs.path().join("data"), ..Default::default() };
    config.head.background = teachcam::head::BackgroundSource::Off;
    let mut rig = Rig::open(&config);
    let mut acknowledged = rig.hold(0, RED, 4) + rig.hold(1, BLUE, 4);
    assert_eq!(acknowledged, 8);
    rig.sim.tap(Control::Train).unwrap();
    rig.frame(RED);
    assert!(rig.daemon.training());
    rig.daemon.wait_training(rig.now);
    assert_eq!(rig.lit(RED), [true, false]);

    let filler = fill(fs.path());
    assert_eq!(rig.hold(0, RED, 20), 0, "nothing acknowledged on a full disk");
    assert!(rig.daemon.health().is_failing(Area::Store), "the problem is shown");
    assert_eq!(rig.lit(BLUE), [false, true], "detection goes on");
    assert_eq!(rig.daemon.counts()["cat"], 4);

    std::fs::remove_file(&filler).unwrap();
    let resumed = rig.hold(0, RED, 3);
    assert_eq!(resumed, 3, "captures resume as soon as there is space");
    acknowledged += resumed;
    assert!(!rig.daemon.health().is_failing(Area::Store));
    drop(rig);

    // Starting on a full disk: opens, detects with the saved head, refuses captures.
    let filler = fill(fs.path());
    let mut rig = Rig::open(&config);
    assert_eq!(rig.lit(RED), [true, false], "the saved head detects on a full disk");
    assert_eq!(rig.hold(1, BLUE, 5), 0);
    drop(rig);
    std::fs::remove_file(&filler).unwrap();

    // A read-only disk: the same.
    fs.remount("ro");
    let mut rig = Rig::open(&config);
    assert!(rig.daemon.health().is_failing(Area::Store), "read-only is shown from the start");
    assert_eq!(rig.lit(BLUE), [false, true]);
    assert_eq!(rig.hold(1, BLUE, 5), 0);
    fs.remount("rw");
    drop(rig);

    let store = Store::open_read_only(&config.data_dir).unwrap();
    assert_eq!(store.len(), acknowledged, "every acknowledged capture is there, and only those");
    let report = store.check(None, true);
    assert!(report.ok(), "{report:?}");
}
