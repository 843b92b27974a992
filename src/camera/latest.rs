//! Capture thread with a single-slot "latest frame" buffer.
//!
//! In [`SlotMode::Latest`] the capture thread overwrites the slot with every
//! new frame, so the consumer always gets the newest one; overwritten frames
//! are counted as dropped (a leaky queue of length one, as in Coral's
//! project-teachable). In [`SlotMode::Lockstep`] the thread waits until the
//! consumer took the frame, so no frame is dropped (used for scenario runs).
//!
//! A thread started with [`spawn_capture`] ends at the source's first error and hands it to
//! the consumer. One started with [`spawn_recovering`] never ends on an error: it publishes
//! the problem ([`CaptureHandle::problem`]), waits a growing pause ([`Backoff`]), asks the
//! source to [`reopen`](FrameSource::reopen), and so on until frames flow again; a panic of
//! the source counts as an error.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use log::{debug, warn};

use super::{Backoff, CameraError, Frame, FrameSource};

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
    /// What keeps the recovering thread from delivering frames, until the next frame.
    problem: Option<String>,
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

/// Starts a thread that reads `source` into a single-slot buffer; the source's first error
/// ends the stream (it is handed to the consumer by [`CaptureHandle::next`]).
pub fn spawn_capture(source: Box<dyn FrameSource>, mode: SlotMode) -> CaptureHandle {
    spawn(source, mode, None)
}

/// Starts a thread that reads `source` into a single-slot buffer and survives its failures:
/// after an error it reports the problem ([`CaptureHandle::problem`]) and reopens the source
/// after pauses growing as `backoff` says, until frames flow again. Only the end of the
/// stream (a replay that does not loop) or [`CaptureHandle::stop`] ends it.
pub fn spawn_recovering(source: Box<dyn FrameSource>, mode: SlotMode, backoff: Backoff) -> CaptureHandle {
    spawn(source, mode, Some(backoff))
}

fn spawn(source: Box<dyn FrameSource>, mode: SlotMode, recovery: Option<Backoff>) -> CaptureHandle {
    let shared = Arc::new(Shared { slot: Mutex::new(Slot::default()), cond: Condvar::new() });
    let description = source.describe();
    let thread_shared = Arc::clone(&shared);
    let thread = thread::Builder::new()
        .name("capture".into())
        .spawn(move || capture_loop(source, mode, thread_shared, recovery))
        .expect("spawning the capture thread");
    CaptureHandle { shared, thread: Some(thread), description }
}

fn capture_loop(mut source: Box<dyn FrameSource>, mode: SlotMode, shared: Arc<Shared>, mut recovery: Option<Backoff>) {
    let _guard = EndGuard(Arc::clone(&shared));
    loop {
        if shared.lock().stop {
            break;
        }
        let result = match recovery {
            Some(_) => guarded(|| source.next_frame()),
            None => source.next_frame(),
        };
        match result {
            Ok(Some(frame)) => {
                if let Some(backoff) = recovery.as_mut() {
                    backoff.reset();
                }
                let mut slot = shared.lock();
                slot.problem = None;
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
                let Some(backoff) = recovery.as_mut() else {
                    shared.lock().error = Some(e);
                    break;
                };
                if !recover(source.as_mut(), e, backoff, &shared) {
                    break;
                }
            }
        }
    }
    // The source is dropped here (stopping a child process or the device
    // stream) before the guard reports the end.
    drop(source);
}

/// Runs `f`, turning a panic into [`CameraError::SourcePanicked`].
fn guarded<T>(f: impl FnOnce() -> Result<T, CameraError>) -> Result<T, CameraError> {
    panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        Err(CameraError::SourcePanicked(message))
    })
}

/// Publishes `error` as the problem, waits the next pause of `backoff` and reopens `source`,
/// until it reopens (true) or the thread is stopped (false).
fn recover(source: &mut dyn FrameSource, mut error: CameraError, backoff: &mut Backoff, shared: &Shared) -> bool {
    loop {
        let delay = backoff.next_delay();
        let problem = format!("{error} (retrying in {delay:?})");
        debug!("capture: {problem}");
        let deadline = Instant::now() + delay;
        let mut slot = shared.lock();
        slot.problem = Some(problem);
        while !slot.stop {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            slot = shared.cond.wait_timeout(slot, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
        if slot.stop {
            return false;
        }
        drop(slot);
        match guarded(|| source.reopen()) {
            Ok(()) => {
                debug!("capture: reopened {}", source.describe());
                return true;
            }
            Err(e) => error = e,
        }
    }
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

    /// What keeps a recovering capture thread ([`spawn_recovering`]) from delivering frames:
    /// the source's last error and when it is retried. `None` while frames flow, and from the
    /// next delivered frame on.
    pub fn problem(&self) -> Option<String> {
        self.shared.lock().problem.clone()
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
