//! The daemon's outward side: the [`Hub`] through which the loop reports what happens (events,
//! a state snapshot, the live frame, capture thumbnails) and takes remote controls, without
//! ever waiting on a reader. The status page ([`crate::web`]) and MQTT ([`crate::mqtt`]) read
//! from it on their own threads.
//!
//! Publishing costs the loop a lock and a few small copies; a subscriber that does not keep up
//! loses events (counted), never slows the loop. The live frame is copied only while somebody
//! watches it, and at most at the configured view rate.

mod event;
mod speed;
mod status;
pub mod warnings;

pub use event::{Confidence, Detection, Event};
pub use status::{CaptureInfo, Leds, Problem, Speed, Status, Training, Warning, SUGGESTED_EXAMPLES};

use crate::head::Head;
use crate::panel::{Control, LedState};
use image::RgbImage;
use speed::SpeedMeter;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Captures whose thumbnails are kept in memory.
pub const RECENT_CAPTURES: usize = 8;
/// Longest side of a capture thumbnail, pixels.
pub const THUMBNAIL_SIDE: u32 = 160;
/// Remote controls waiting for the loop beyond this many are refused (the loop is stuck or
/// somebody floods the page).
const REMOTE_QUEUE: usize = 16;

/// The newest frame offered for the live view.
#[derive(Debug, Clone)]
pub struct ViewFrame {
    /// Increases by one per offered frame.
    pub seq: u64,
    /// The picture.
    pub image: Arc<RgbImage>,
}

#[derive(Default)]
struct View {
    frame: Option<ViewFrame>,
    offered: Option<Instant>,
}

/// Why a remote control was not queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    /// The control names a label index the config does not have.
    #[error("no label number {0}")]
    NoSuchLabel(usize),
    /// QUIT cannot be pressed remotely.
    #[error("this control cannot be used remotely")]
    NotRemote,
    /// Too many controls wait for the loop already.
    #[error("too many controls waiting; try again in a moment")]
    Busy,
}

/// The meeting point of the daemon loop and its readers. Shared as `Arc<Hub>`.
pub struct Hub {
    status: Mutex<Status>,
    subscribers: Mutex<Vec<SyncSender<Arc<Event>>>>,
    lost: AtomicU64,
    remote: Mutex<Vec<Control>>,
    view: Mutex<View>,
    view_ready: Condvar,
    view_every: Mutex<Duration>,
    watchers: AtomicUsize,
    thumbnails: Mutex<VecDeque<(String, Arc<RgbImage>)>>,
    speed: Mutex<SpeedMeter>,
}

impl Hub {
    /// A hub for the config's `labels` (button and LED order).
    pub fn new(labels: &[String]) -> Self {
        let status = Status {
            version: env!("CARGO_PKG_VERSION").into(),
            labels: labels.to_vec(),
            leds: Leds { labels: vec![false; labels.len()], status: false },
            counts: labels.iter().map(|l| (l.clone(), 0)).collect(),
            suggested: [SUGGESTED_EXAMPLES.0, SUGGESTED_EXAMPLES.1],
            started_at: unix_now(),
            ..Default::default()
        };
        Self {
            status: Mutex::new(status),
            subscribers: Mutex::new(Vec::new()),
            lost: AtomicU64::new(0),
            remote: Mutex::new(Vec::new()),
            view: Mutex::new(View::default()),
            view_ready: Condvar::new(),
            view_every: Mutex::new(Duration::from_millis(200)),
            watchers: AtomicUsize::new(0),
            thumbnails: Mutex::new(VecDeque::new()),
            speed: Mutex::new(SpeedMeter::default()),
        }
    }

    // ---- readers ------------------------------------------------------------------------------

    /// The state now (with the last warnings logged and the recent speed).
    pub fn status(&self) -> Status {
        let mut s = lock(&self.status).clone();
        s.speed = lock(&self.speed).speed(Instant::now());
        s.warnings = warnings::recent();
        s
    }

    /// A stream of the events from now on. At most `capacity` wait unread; beyond that new
    /// events are lost for this subscriber (see [`Hub::lost_events`]). Dropping the receiver
    /// unsubscribes.
    pub fn subscribe(&self, capacity: usize) -> Receiver<Arc<Event>> {
        let (tx, rx) = sync_channel(capacity.max(1));
        lock(&self.subscribers).push(tx);
        rx
    }

    /// Events lost by subscribers that did not keep up, since start.
    pub fn lost_events(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }

    /// Queues a control as if its button were pressed and released (a label captures one
    /// example on the next frame). QUIT cannot be queued.
    pub fn press(&self, control: Control) -> Result<(), RemoteError> {
        match control {
            Control::Quit => return Err(RemoteError::NotRemote),
            Control::Label(k) if k >= lock(&self.status).labels.len() => return Err(RemoteError::NoSuchLabel(k)),
            _ => {}
        }
        let mut queue = lock(&self.remote);
        if queue.len() >= REMOTE_QUEUE {
            return Err(RemoteError::Busy);
        }
        queue.push(control);
        Ok(())
    }

    /// Registers a viewer of the live frame until the guard is dropped: frames are copied for
    /// the view only while at least one viewer is registered.
    pub fn watch(self: &Arc<Self>) -> Watching {
        self.watchers.fetch_add(1, Ordering::SeqCst);
        Watching(Arc::clone(self))
    }

    /// Sets the highest rate at which frames are copied for the live view.
    pub fn set_view_fps(&self, fps: f32) {
        let every = if fps.is_finite() && fps > 0.0 {
            Duration::from_micros((1e6 / f64::from(fps)).round() as u64)
        } else {
            Duration::MAX
        };
        *lock(&self.view_every) = every;
    }

    /// The newest view frame newer than `after` (a [`ViewFrame::seq`]; 0 for any), waiting up
    /// to `timeout` for one. `None` on timeout.
    pub fn next_frame(&self, after: u64, timeout: Duration) -> Option<ViewFrame> {
        let view = lock(&self.view);
        let (view, _) = self
            .view_ready
            .wait_timeout_while(view, timeout, |v| v.frame.as_ref().is_none_or(|f| f.seq <= after))
            .unwrap_or_else(|e| e.into_inner());
        view.frame.clone().filter(|f| f.seq > after)
    }

    /// The newest view frame, if any was offered while somebody watched.
    pub fn last_frame(&self) -> Option<ViewFrame> {
        lock(&self.view).frame.clone()
    }

    /// The thumbnail of a recent capture, by id.
    pub fn thumbnail(&self, id: &str) -> Option<Arc<RgbImage>> {
        lock(&self.thumbnails).iter().find(|(i, _)| i == id).map(|(_, t)| Arc::clone(t))
    }

    // ---- the daemon ---------------------------------------------------------------------------

    /// The remote controls queued since the last call, oldest first.
    pub fn take_remote(&self) -> Vec<Control> {
        std::mem::take(&mut *lock(&self.remote))
    }

    /// True while somebody watches the live view.
    pub fn watched(&self) -> bool {
        self.watchers.load(Ordering::Relaxed) > 0
    }

    /// Offers a frame to the live view: copied only when watched and the view rate allows.
    pub fn offer_frame(&self, image: &RgbImage, now: Instant) {
        if !self.watched() {
            return;
        }
        let every = *lock(&self.view_every);
        let mut view = lock(&self.view);
        if view.offered.is_some_and(|t| now.saturating_duration_since(t) < every) {
            return;
        }
        let seq = view.frame.as_ref().map_or(1, |f| f.seq + 1);
        view.frame = Some(ViewFrame { seq, image: Arc::new(image.clone()) });
        view.offered = Some(now);
        drop(view);
        self.view_ready.notify_all();
    }

    /// A frame was decided; `embed` is its embedding time, `None` when it reused the last one.
    pub fn detected(&self, detection: Detection, embed: Option<Duration>, now: Instant) {
        lock(&self.speed).frame(embed, now);
        lock(&self.status).detection = Some(detection.clone());
        self.publish(Event::Detection(detection));
    }

    /// What is in view is no longer known (camera lost, new head): no detection until the next
    /// decided frame.
    pub fn forget_detection(&self) {
        lock(&self.status).detection = None;
    }

    /// The LEDs now show `state`.
    pub fn leds(&self, state: &LedState) {
        let mut s = lock(&self.status);
        if s.leds.labels != state.labels || s.leds.status != state.status {
            s.leds = Leds { labels: state.labels.clone(), status: state.status };
        }
    }

    /// Examples held per label now.
    pub fn counts(&self, counts: &BTreeMap<String, usize>) {
        let mut s = lock(&self.status);
        let labels = s.labels.clone();
        s.counts = labels.iter().map(|l| (l.clone(), 0)).collect();
        s.counts.extend(counts.iter().map(|(l, n)| (l.clone(), *n)));
    }

    /// An example was stored durably; `frame` is what it shows.
    pub fn captured(&self, label: &str, id: &str, count: usize, frame: &RgbImage) {
        let thumb = Arc::new(image::imageops::thumbnail(
            frame,
            THUMBNAIL_SIDE.min(frame.width()).max(1),
            (THUMBNAIL_SIDE * frame.height() / frame.width().max(1)).clamp(1, THUMBNAIL_SIDE),
        ));
        {
            let mut thumbs = lock(&self.thumbnails);
            thumbs.push_front((id.to_string(), thumb));
            thumbs.truncate(RECENT_CAPTURES);
        }
        {
            let mut s = lock(&self.status);
            s.counts.insert(label.to_string(), count);
            s.recent_captures.insert(0, CaptureInfo { id: id.into(), label: label.into(), at: unix_now() });
            s.recent_captures.truncate(RECENT_CAPTURES);
        }
        self.publish(Event::Capture { label: label.into(), id: id.into(), count });
    }

    /// The last example was removed.
    pub fn undone(&self, label: &str, id: &str, count: usize) {
        lock(&self.thumbnails).retain(|(i, _)| i != id);
        {
            let mut s = lock(&self.status);
            s.counts.insert(label.to_string(), count);
            s.recent_captures.retain(|c| c.id != id);
        }
        self.publish(Event::Undo { label: label.into(), id: id.into(), count });
    }

    /// A training started on `examples` examples.
    pub fn training_started(&self, examples: usize) {
        lock(&self.status).training.running = true;
        self.publish(Event::TrainingStarted { examples });
    }

    /// `head` is in use: loaded at start (`trained` false) or just trained.
    pub fn head(&self, head: &Head, trained: bool) {
        let summary = head.report.summary();
        {
            let mut s = lock(&self.status);
            s.training = Training {
                running: false,
                ready: true,
                head_labels: head.labels.clone(),
                trained_at: Some(head.trained_at),
                report: Some(head.report.clone()),
                summary: Some(summary.clone()),
                failed: None,
            };
            s.detection = None;
        }
        if trained {
            self.publish(Event::Trained { report: Box::new(head.report.clone()), summary });
        }
    }

    /// A training failed; the head in use (if any) stays.
    pub fn training_failed(&self, reason: &str) {
        {
            let mut s = lock(&self.status);
            s.training.running = false;
            s.training.failed = Some(reason.into());
        }
        self.publish(Event::TrainingFailed { reason: reason.into() });
    }

    /// The lasting problems active now; publishes the ones that started and ended.
    pub fn problems(&self, now_active: Vec<Problem>) {
        let before = {
            let mut s = lock(&self.status);
            if s.problems == now_active {
                return;
            }
            std::mem::replace(&mut s.problems, now_active.clone())
        };
        for p in now_active.iter().filter(|p| !before.iter().any(|b| b.area == p.area && b.message == p.message)) {
            self.publish(Event::Problem { area: p.area.clone(), message: p.message.clone() });
        }
        for b in before.iter().filter(|b| !now_active.iter().any(|p| p.area == b.area)) {
            self.publish(Event::Recovered { area: b.area.clone() });
        }
    }

    fn publish(&self, event: Event) {
        let mut subs = lock(&self.subscribers);
        if subs.is_empty() {
            return;
        }
        let event = Arc::new(event);
        subs.retain(|tx| match tx.try_send(Arc::clone(&event)) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                self.lost.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(TrySendError::Disconnected(_)) => false,
        });
    }
}

/// A registered viewer of the live frame (see [`Hub::watch`]).
pub struct Watching(Arc<Hub>);

impl Drop for Watching {
    fn drop(&mut self) {
        self.0.watchers.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A poisoned lock still holds usable state here (plain data, every update is one assignment).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests;
