//! The capture thread and its single-slot buffer, with a scripted source.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use image::RgbImage;
use teachcam::camera::{spawn_capture, CameraError, Frame, FrameSource, SlotMode};

/// What the scripted source does after its frames.
#[derive(Clone, Copy)]
enum Then {
    End,
    Fail,
    Panic,
    Block,
}

struct Scripted {
    frames: u64,
    delay: Duration,
    then: Then,
    produced: Arc<AtomicU64>,
    dropped: Arc<AtomicBool>,
}

impl Scripted {
    fn new(frames: u64, delay: Duration, then: Then) -> (Box<Self>, Arc<AtomicU64>, Arc<AtomicBool>) {
        let produced = Arc::new(AtomicU64::new(0));
        let dropped = Arc::new(AtomicBool::new(false));
        let src =
            Box::new(Scripted { frames, delay, then, produced: Arc::clone(&produced), dropped: Arc::clone(&dropped) });
        (src, produced, dropped)
    }
}

impl FrameSource for Scripted {
    fn next_frame(&mut self) -> Result<Option<Frame>, CameraError> {
        let seq = self.produced.load(Ordering::SeqCst);
        if seq == self.frames {
            return match self.then {
                Then::End => Ok(None),
                Then::Fail => Err(CameraError::InvalidConfig("scripted failure".into())),
                Then::Panic => panic!("scripted panic"),
                Then::Block => {
                    thread::sleep(Duration::from_secs(30));
                    Ok(None)
                }
            };
        }
        thread::sleep(self.delay);
        self.produced.store(seq + 1, Ordering::SeqCst);
        Ok(Some(Frame { image: RgbImage::new(2, 2), seq, source: None }))
    }

    fn describe(&self) -> String {
        "scripted".into()
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

const WAIT: Duration = Duration::from_secs(5);

#[test]
fn lockstep_delivers_every_frame_in_order() {
    let (src, _, _) = Scripted::new(20, Duration::ZERO, Then::End);
    let capture = spawn_capture(src, SlotMode::Lockstep);
    assert_eq!(capture.describe(), "scripted");
    for seq in 0..20 {
        if seq % 5 == 0 {
            thread::sleep(Duration::from_millis(20)); // slow consumer
        }
        assert_eq!(capture.next(WAIT).unwrap().unwrap().seq, seq);
    }
    assert!(capture.next(WAIT).unwrap().is_none());
    assert!(capture.next(WAIT).unwrap().is_none());
    assert_eq!(capture.dropped(), 0);
}

#[test]
fn latest_mode_drops_stale_frames() {
    let (src, produced, _) = Scripted::new(50, Duration::from_millis(2), Then::Block);
    let capture = spawn_capture(src, SlotMode::Latest);
    // Let the producer run ahead of us.
    let start = Instant::now();
    while produced.load(Ordering::SeqCst) < 30 {
        assert!(start.elapsed() < WAIT);
        thread::sleep(Duration::from_millis(5));
    }
    let f = capture.next(WAIT).unwrap().unwrap();
    assert!(f.seq >= 29, "got stale frame {}", f.seq);
    // Every frame produced before the one we got was dropped.
    assert_eq!(capture.dropped(), f.seq);
    let start = Instant::now();
    while produced.load(Ordering::SeqCst) < 50 {
        assert!(start.elapsed() < WAIT);
        thread::sleep(Duration::from_millis(5));
    }
    thread::sleep(Duration::from_millis(10));
    let g = capture.next(WAIT).unwrap().unwrap();
    assert_eq!(g.seq, 49);
    assert_eq!(capture.dropped(), 48);
}

#[test]
fn source_error_is_delivered_after_pending_frames() {
    let (src, _, dropped) = Scripted::new(2, Duration::ZERO, Then::Fail);
    let capture = spawn_capture(src, SlotMode::Lockstep);
    assert_eq!(capture.next(WAIT).unwrap().unwrap().seq, 0);
    assert_eq!(capture.next(WAIT).unwrap().unwrap().seq, 1);
    let err = capture.next(WAIT).expect_err("error expected");
    assert!(err.to_string().contains("scripted failure"), "{err}");
    assert!(capture.next(WAIT).unwrap().is_none());
    assert!(dropped.load(Ordering::SeqCst), "source released after the error");
}

#[test]
fn panicking_source_is_reported() {
    let (src, _, _) = Scripted::new(0, Duration::ZERO, Then::Panic);
    let capture = spawn_capture(src, SlotMode::Latest);
    assert!(matches!(capture.next(WAIT), Err(CameraError::CaptureThreadDied)));
}

#[test]
fn waiting_longer_than_the_timeout_is_a_timeout_error() {
    let (src, _, _) = Scripted::new(0, Duration::ZERO, Then::Block);
    let capture = spawn_capture(src, SlotMode::Latest);
    let start = Instant::now();
    let r = capture.next(Duration::from_millis(80));
    assert!(matches!(r, Err(CameraError::FrameTimeout(_))), "{r:?}");
    assert!(start.elapsed() >= Duration::from_millis(80));
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn dropping_the_handle_stops_a_waiting_producer_and_releases_the_source() {
    let (src, produced, dropped) = Scripted::new(1000, Duration::ZERO, Then::End);
    let capture = spawn_capture(src, SlotMode::Lockstep);
    assert_eq!(capture.next(WAIT).unwrap().unwrap().seq, 0);
    let start = Instant::now();
    drop(capture);
    assert!(start.elapsed() < Duration::from_secs(1));
    assert!(dropped.load(Ordering::SeqCst));
    // Lockstep: at most one frame beyond the slot was produced.
    assert!(produced.load(Ordering::SeqCst) <= 3);
}

#[test]
fn stop_does_not_hang_on_a_blocked_source() {
    let (src, _, dropped) = Scripted::new(0, Duration::ZERO, Then::Block);
    let mut capture = spawn_capture(src, SlotMode::Latest);
    thread::sleep(Duration::from_millis(20));
    let start = Instant::now();
    capture.stop();
    let took = start.elapsed();
    assert!(took < Duration::from_secs(4), "{took:?}");
    assert!(!dropped.load(Ordering::SeqCst), "still blocked in the source");
    assert!(capture.next(WAIT).unwrap().is_none());
}
