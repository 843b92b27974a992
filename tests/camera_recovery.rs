//! A lost camera does not end the capture thread started with `spawn_recovering`: the problem
//! is published, the source is reopened with growing pauses, and frames resume when the camera
//! is back. Sources made to fail: a scripted one, a replay folder that disappears and comes
//! back, and an `rpicam-vid` stand-in that exits. Pauses are milliseconds; every wait is for a
//! condition, with a generous limit, never a timed assertion.

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use image::{Rgb, RgbImage};
use teachcam::camera::{self, spawn_recovering, Backoff, CameraError, CaptureHandle, Frame, FrameSource, SlotMode};

const LIMIT: Duration = Duration::from_secs(20);
const QUICK: Backoff = Backoff::new(Duration::from_millis(1), Duration::from_millis(20));

/// Waits until `f` gives something; panics after [`LIMIT`].
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < LIMIT, "gave up waiting for {what}");
        thread::sleep(Duration::from_millis(2));
    }
}

/// The next frame from `capture`, waiting through problems.
fn next_frame(capture: &CaptureHandle) -> Frame {
    wait_for("a frame", || match capture.next(Duration::from_millis(50)) {
        Ok(Some(f)) => Some(f),
        Ok(None) => panic!("the stream ended"),
        Err(CameraError::FrameTimeout(_)) => None,
        Err(e) => panic!("a recovering capture thread gave an error: {e}"),
    })
}

/// A camera the test unplugs and plugs back; counts the reopen attempts.
struct Flaky {
    unplugged: Arc<AtomicBool>,
    reopens: Arc<AtomicU32>,
    panics: bool,
    seq: u64,
}

impl FrameSource for Flaky {
    fn next_frame(&mut self) -> Result<Option<Frame>, CameraError> {
        thread::sleep(Duration::from_millis(1));
        if self.unplugged.load(Ordering::SeqCst) {
            if self.panics {
                panic!("scripted panic");
            }
            return Err(CameraError::DeviceNotFound { device: "/dev/video-flaky".into() });
        }
        self.seq += 1;
        Ok(Some(Frame { image: RgbImage::new(2, 2), seq: self.seq, source: None }))
    }

    fn describe(&self) -> String {
        "flaky".into()
    }

    fn reopen(&mut self) -> Result<(), CameraError> {
        self.reopens.fetch_add(1, Ordering::SeqCst);
        if self.unplugged.load(Ordering::SeqCst) {
            Err(CameraError::DeviceNotFound { device: "/dev/video-flaky".into() })
        } else {
            Ok(())
        }
    }
}

fn flaky(panics: bool) -> (Box<Flaky>, Arc<AtomicBool>, Arc<AtomicU32>) {
    let (unplugged, reopens) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU32::new(0)));
    let src = Box::new(Flaky { unplugged: Arc::clone(&unplugged), reopens: Arc::clone(&reopens), panics, seq: 0 });
    (src, unplugged, reopens)
}

#[test]
fn an_unplugged_camera_is_reported_retried_and_resumes() {
    for panics in [false, true] {
        let (src, unplugged, reopens) = flaky(panics);
        let capture = spawn_recovering(src, SlotMode::Latest, QUICK);
        let before = next_frame(&capture);
        assert_eq!(capture.problem(), None);
        unplugged.store(true, Ordering::SeqCst);
        let problem = wait_for("the problem", || capture.problem());
        // After a panic, the failed reopen that follows may already have replaced its message.
        let expected: &[&str] =
            if panics { &["scripted panic", "/dev/video-flaky not found"] } else { &["/dev/video-flaky not found"] };
        assert!(expected.iter().any(|e| problem.contains(e)) && problem.contains("retrying in"), "{problem}");
        // It keeps trying while the camera stays away, and nothing ends the stream.
        wait_for("several reopen attempts", || (reopens.load(Ordering::SeqCst) >= 3).then_some(()));
        // A frame taken just before the unplug may still wait in the slot; after it, nothing.
        let _ = capture.next(Duration::from_millis(10));
        assert!(matches!(capture.next(Duration::from_millis(10)), Err(CameraError::FrameTimeout(_))));
        unplugged.store(false, Ordering::SeqCst);
        let after = next_frame(&capture);
        assert!(after.seq > before.seq);
        assert_eq!(capture.problem(), None, "cleared by the first frame");
    }
}

#[test]
fn stopping_during_a_long_pause_releases_the_source() {
    struct Gone(Arc<AtomicBool>);
    impl FrameSource for Gone {
        fn next_frame(&mut self) -> Result<Option<Frame>, CameraError> {
            Err(CameraError::InvalidConfig("gone".into()))
        }
        fn describe(&self) -> String {
            "gone".into()
        }
    }
    impl Drop for Gone {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let hour = Duration::from_secs(3600);
    let mut capture =
        spawn_recovering(Box::new(Gone(Arc::clone(&dropped))), SlotMode::Latest, Backoff::new(hour, hour));
    wait_for("the problem", || capture.problem());
    capture.stop();
    // Had the pause not been interrupted, `stop` would have left the thread holding the source.
    assert!(dropped.load(Ordering::SeqCst), "the source was released");
    assert!(capture.next(Duration::from_millis(10)).unwrap().is_none());
}

fn write_png(path: &Path, value: u8) {
    RgbImage::from_pixel(8, 8, Rgb([value, 0, 0])).save(path).unwrap();
}

#[test]
fn a_replay_folder_that_disappears_and_comes_back() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, away) = (tmp.path().join("frames"), tmp.path().join("moved"));
    fs::create_dir(&dir).unwrap();
    for i in 0..3 {
        write_png(&dir.join(format!("{i}.png")), 10 + i);
    }
    let text = format!("kind = \"replay\"\ndir = {:?}\nlooping = true\nfps = 200.0\n", dir.display().to_string());
    let src = camera::open(&toml::from_str(&text).unwrap()).unwrap();
    let capture = spawn_recovering(src, SlotMode::Latest, QUICK);
    next_frame(&capture);
    fs::rename(&dir, &away).unwrap();
    let problem = wait_for("the problem", || capture.problem());
    assert!(
        problem.contains("replay folder") && problem.contains("frames") && problem.contains("not found"),
        "{problem}"
    );
    // The folder comes back with other images: they are listed again.
    fs::create_dir(&dir).unwrap();
    write_png(&dir.join("new.png"), 99);
    let f = wait_for("a frame of the new folder", || {
        let f = next_frame(&capture);
        f.source.as_ref().is_some_and(|p| p.ends_with("new.png")).then_some(f)
    });
    assert_eq!(f.image.get_pixel(0, 0).0[0], 99);
    assert_eq!(capture.problem(), None);
    assert!(capture.describe().contains("frames"));
}

/// Writes an executable shell script through `install`, a process of its own (see
/// tests/camera_rpicam.rs for why).
fn script(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
    let (text, path) = (dir.join(format!("{name}.txt")), dir.join(name));
    fs::write(&text, format!("#!/bin/sh\n{body}\n")).unwrap();
    let status = std::process::Command::new("install").arg("-m").arg("755").arg(&text).arg(&path).status().unwrap();
    assert!(status.success(), "install {}", path.display());
    path
}

fn jpeg(value: u8) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 95)
        .encode_image(&RgbImage::from_pixel(32, 24, Rgb([value, 0, 0])))
        .unwrap();
    bytes
}

/// `rpicam-vid` that exits after 3 frames (and is restarted), and, while the camera is
/// "unplugged" (a marker file removed), fails at once as the real one does: the source gives
/// up after its restarts, the capture thread reopens it, and frames resume once it is back.
#[test]
fn an_rpicam_vid_that_exits_is_restarted_and_frames_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let (present, three) = (tmp.path().join("camera-present"), tmp.path().join("three.mjpeg"));
    fs::write(&three, [jpeg(40), jpeg(40), jpeg(40)].concat()).unwrap();
    fs::write(&present, b"").unwrap();
    let runs = tmp.path().join("runs");
    let body = format!(
        "echo run >> {runs:?}\nif [ -e {present:?} ]; then exec cat {three:?}; fi\necho 'ERROR: *** no cameras available ***' >&2\nexit 255",
        runs = runs.display().to_string(),
        present = present.display().to_string(),
        three = three.display().to_string()
    );
    let cmd = script(tmp.path(), "fake-rpicam-vid", &body);
    let cfg = camera::RpicamConfig {
        command: cmd.display().to_string(),
        width: 32,
        height: 24,
        fps: 10,
        max_restarts: 1,
        ..Default::default()
    };
    let capture =
        spawn_recovering(camera::open(&camera::SourceConfig::Rpicam(cfg)).unwrap(), SlotMode::Lockstep, QUICK);
    let count_runs = || fs::read_to_string(&runs).unwrap_or_default().lines().count();
    // Seven frames need three runs: the command exited twice and was restarted.
    for _ in 0..7 {
        assert!(next_frame(&capture).image.get_pixel(16, 12).0[0].abs_diff(40) <= 3);
    }
    assert!(count_runs() >= 3, "{} runs", count_runs());
    assert_eq!(capture.problem(), None);

    fs::remove_file(&present).unwrap();
    // Drain the frames of the run under way, until the camera is found missing.
    let problem = wait_for("the problem", || {
        let _ = capture.next(Duration::from_millis(5));
        capture.problem()
    });
    assert!(problem.contains("no cameras available") && problem.contains("fake-rpicam-vid"), "{problem}");
    let failed = count_runs();
    wait_for("the source reopened", || (count_runs() > failed + 1).then_some(()));

    fs::write(&present, b"").unwrap();
    next_frame(&capture);
    assert_eq!(capture.problem(), None, "frames flow again");
}

/// `teachcam run`'s loop with a camera that is unplugged: the daemon keeps serving (the status
/// LED flickers, TRAIN still answers), reopens the camera when it is back, and captures again.
#[test]
fn the_daemon_serves_through_a_lost_camera() {
    use teachcam::panel::{Control, SimulatedPanel};
    let data = tempfile::tempdir().unwrap();
    let mut config = teachcam::config::Config {
        labels: vec!["warm".into(), "cool".into()],
        data_dir: data.path().into(),
        ..Default::default()
    };
    config.head.background = teachcam::head::BackgroundSource::Off;
    let embedder = Arc::new(teachcam::embed::fake::FakeBackbone::embedder(&config.model));
    let (src, unplugged, reopens) = flaky(false);
    let (buttons, leds, sim) = SimulatedPanel::new(2);
    let stop = Arc::new(AtomicBool::new(false));
    let daemon = {
        let stop = Arc::clone(&stop);
        thread::spawn(move || {
            teachcam::daemon::run_with(&config, src, Box::new(buttons), Box::new(leds), embedder, &stop)
        })
    };
    let off = teachcam::panel::LedState::off(2);
    assert!(sim.wait_for_leds(LIMIT, |s| *s == off).is_some());
    unplugged.store(true, Ordering::SeqCst);
    // No head and nothing pressed: only the camera problem lights the status LED (a flicker).
    assert!(sim.wait_for_leds(LIMIT, |s| s.status && s.labels == [false, false]).is_some(), "status LED flickers");
    sim.tap(Control::Train).unwrap();
    assert!(sim.wait_for_leds(LIMIT, |s| s.labels == [true, true]).is_some(), "TRAIN answers: labels missing");
    wait_for("a reopen attempt", || (reopens.load(Ordering::SeqCst) >= 1).then_some(()));
    unplugged.store(false, Ordering::SeqCst);
    // Back: a capture needs a frame, and its blink lights the warm LED alone.
    sim.tap(Control::Label(0)).unwrap();
    assert!(sim.wait_for_leds(LIMIT, |s| s.labels == [true, false]).is_some(), "captured after the camera came back");
    stop.store(true, Ordering::SeqCst);
    daemon.join().unwrap().expect("the daemon ends cleanly");
}
