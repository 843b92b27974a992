//! Capture thread with a single-slot "latest frame" buffer.
//!
//! In [`SlotMode::Latest`] the capture thread overwrites the slot with every
//! new frame, so the consumer always gets the newest one; overwritten frames
//! are counted as dropped (a leaky queue of length one, as in Coral's
//! project-teachable). In [`SlotMode::Lockstep`] the thread waits until the
//! consumer took the frame, so no frame is dropped (used for scenario runs).

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use log::{debug, warn};

use super::{CameraError, Frame, FrameSource};

/// How the capture thread hands frames to the consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotMode {
    /// Keep only the newest frame; older untaken frames are dropped.
    Latest,
    /// Wait for the consumer to take each frame; nothing is dropped.
    Lockstep,
}

/// Longest time [`CaptureHandle::stop`] waits for the capture thread.
const STOP_WAIT: Duration = Duration::from_secs(2);

#[derive(Default)]
struct Slot {
    frame: Option<Frame>,
    error: Option<CameraError>,
    ended: bool,
    stop: bool,
    dropped: u64,
}

struct Shared {
    slot: Mutex<Slot>,
    cond: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Marks the stream ended when the capture thread exits, even by panic.
struct EndGuard(Arc<Shared>);

impl Drop for EndGuard {
    fn drop(&mut self) {
        let mut slot = self.0.lock();
        if thread::panicking() && slot.error.is_none() {
            slot.error = Some(CameraError::CaptureThreadDied);
        }
        slot.ended = true;
        self.0.cond.notify_all();
    }
}

/// The consumer's end of a capture thread; dropping it stops the thread.
pub struct CaptureHandle {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    description: String,
}

/// Starts a thread that reads `source` into a single-slot buffer.
pub fn spawn_capture(source: Box<dyn FrameSource>, mode: SlotMode) -> CaptureHandle {
    let shared = Arc::new(Shared { slot: Mutex::new(Slot::default()), cond: Condvar::new() });
    let description = source.describe();
    let thread_shared = Arc::clone(&shared);
    let thread = thread::Builder::new()
        .name("capture".into())
        .spawn(move || capture_loop(source, mode, thread_shared))
        .expect("spawning the capture thread");
    CaptureHandle { shared, thread: Some(thread), description }
}

fn capture_loop(mut source: Box<dyn FrameSource>, mode: SlotMode, shared: Arc<Shared>) {
    let _guard = EndGuard(Arc::clone(&shared));
    loop {
        if shared.lock().stop {
            break;
        }
        let result = source.next_frame();
        let mut slot = shared.lock();
        match result {
            Ok(Some(frame)) => {
                if mode == SlotMode::Lockstep {
                    while slot.frame.is_some() && !slot.stop {
                        slot = shared.cond.wait(slot).unwrap_or_else(|e| e.into_inner());
                    }
                }
                if slot.stop {
                    break;
                }
                if slot.frame.replace(frame).is_some() {
                    slot.dropped += 1;
                }
                shared.cond.notify_all();
            }
            Ok(None) => {
                debug!("capture: end of stream from {}", source.describe());
                break;
            }
            Err(e) => {
                slot.error = Some(e);
                break;
            }
        }
    }
    // The source is dropped here (stopping a child process or the device
    // stream) before the guard reports the end.
    drop(source);
}

impl CaptureHandle {
    /// Waits up to `timeout` for the next frame.
    ///
    /// Returns `Ok(None)` at end of stream, and the source's error once if
    /// it failed (`Ok(None)` after that). A frame already captured before
    /// the end or error is delivered first. Waiting longer than `timeout`
    /// gives [`CameraError::FrameTimeout`].
    pub fn next(&self, timeout: Duration) -> Result<Option<Frame>, CameraError> {
        let deadline = Instant::now() + timeout;
        let mut slot = self.shared.lock();
        loop {
            if let Some(frame) = slot.frame.take() {
                self.shared.cond.notify_all();
                return Ok(Some(frame));
            }
            if let Some(e) = slot.error.take() {
                return Err(e);
            }
            if slot.ended || slot.stop {
                return Ok(None);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(CameraError::FrameTimeout(timeout));
            }
            slot = self.shared.cond.wait_timeout(slot, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Frames overwritten before the consumer took them.
    pub fn dropped(&self) -> u64 {
        self.shared.lock().dropped
    }

    /// The source's description, taken when the thread started.
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// Stops the capture thread and waits (up to 2 s) for it to finish its
    /// current frame and release the source; a thread still blocked in the
    /// source after that is left to finish on its own.
    pub fn stop(&mut self) {
        {
            let mut slot = self.shared.lock();
            slot.stop = true;
            self.shared.cond.notify_all();
        }
        let Some(thread) = self.thread.take() else {
            return;
        };
        let deadline = Instant::now() + STOP_WAIT;
        while !thread.is_finished() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        if thread.is_finished() {
            let _ = thread.join();
        } else {
            warn!("capture thread for {} did not stop within {STOP_WAIT:?}; leaving it", self.description);
        }
    }
}

impl Drop for CaptureHandle {
    fn drop(&mut self) {
        self.stop();
    }
}
