//! Frame sources: live cameras (V4L2, `rpicam-vid` pipe) and folder replay,
//! all behind the narrow [`FrameSource`] trait, plus a capture thread that
//! keeps only the latest frame ([`latest`]). With [`spawn_recovering`] the
//! capture thread survives a lost camera: it reports the problem
//! ([`CaptureHandle::problem`]) and reopens the source with growing pauses
//! ([`Backoff`]) until frames flow again.
//!
//! Build a source from configuration with [`open`]:
//!
//! ```toml
//! [source]
//! kind = "v4l2"          # or "rpicam" or "replay"
//! device = "/dev/video0"
//! width = 640
//! height = 480
//! fps = 30
//! format = "mjpeg"       # or "yuyv"
//! ```

pub mod backoff;
pub mod config;
pub mod convert;
pub mod error;
pub mod latest;
pub mod mjpeg;
pub mod reopen;
pub mod replay;
pub mod rpicam;
pub mod v4l2;

use std::path::PathBuf;

pub use backoff::Backoff;
pub use config::{ReplayConfig, RpicamCodec, RpicamConfig, SourceConfig, V4l2Config, V4l2Format};
pub use error::CameraError;
pub use latest::{spawn_capture, spawn_recovering, CaptureHandle, SlotMode};

/// One captured or replayed image.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The picture, 8-bit RGB.
    pub image: image::RgbImage,
    /// Sequence number assigned by the source, starting at 0 and
    /// increasing by one per delivered frame.
    pub seq: u64,
    /// File the frame was read from (replay), `None` for live cameras.
    pub source: Option<PathBuf>,
}

/// Something that produces frames, one at a time.
pub trait FrameSource: Send {
    /// Blocks until the next frame is available.
    ///
    /// `Ok(None)` means end of stream (only a non-looping replay ends);
    /// errors are returned after the source's own retries are exhausted.
    fn next_frame(&mut self) -> Result<Option<Frame>, CameraError>;

    /// Short human-readable description, for logs and status output.
    fn describe(&self) -> String;

    /// Tries to bring the source back after [`next_frame`](Self::next_frame) failed: reopen
    /// the device, restart the command, list the folder again. The recovering capture thread
    /// ([`spawn_recovering`]) calls it, with growing pauses, until it succeeds. The default
    /// does nothing, so `next_frame` is simply tried again.
    fn reopen(&mut self) -> Result<(), CameraError> {
        Ok(())
    }
}

/// Opens the frame source described by `cfg` (errors at once when it cannot be opened now);
/// after a failure, [`FrameSource::reopen`] opens it again from `cfg`.
pub fn open(cfg: &SourceConfig) -> Result<Box<dyn FrameSource>, CameraError> {
    Ok(Box::new(reopen::Reopening::open(cfg)?))
}
