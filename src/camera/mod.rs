//! Frame sources: live cameras (V4L2, `rpicam-vid` pipe) and folder replay,
//! all behind the narrow [`FrameSource`] trait, plus a capture thread that
//! keeps only the latest frame ([`latest`]).
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

pub mod config;
pub mod convert;
pub mod error;
pub mod latest;
pub mod mjpeg;
pub mod replay;
pub mod rpicam;
pub mod v4l2;

use std::path::PathBuf;

pub use config::{ReplayConfig, RpicamCodec, RpicamConfig, SourceConfig, V4l2Config, V4l2Format};
pub use error::CameraError;
pub use latest::{spawn_capture, CaptureHandle, SlotMode};

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
}

/// Opens the frame source described by `cfg`.
pub fn open(cfg: &SourceConfig) -> Result<Box<dyn FrameSource>, CameraError> {
    Ok(match cfg {
        SourceConfig::V4l2(c) => Box::new(v4l2::V4l2Source::open(c)?),
        SourceConfig::Rpicam(c) => Box::new(rpicam::RpicamSource::open(c)?),
        SourceConfig::Replay(c) => Box::new(replay::ReplaySource::open(c)?),
    })
}
