//! The sources [`super::open`] builds: a configured source that can be opened again after it
//! failed (device unplugged, `rpicam-vid` dying for good, replay folder gone). The failed
//! source is released at once (the device closed, the child ended), and
//! [`FrameSource::reopen`] opens a fresh one from the same configuration.

use super::{replay, rpicam, v4l2, CameraError, Frame, FrameSource, SourceConfig};

/// A source opened from its configuration, reopened from it on request.
pub struct Reopening {
    cfg: SourceConfig,
    inner: Option<Box<dyn FrameSource>>,
    description: String,
}

/// Opens the source `cfg` describes, without the reopening wrapper.
fn open_inner(cfg: &SourceConfig) -> Result<Box<dyn FrameSource>, CameraError> {
    Ok(match cfg {
        SourceConfig::V4l2(c) => Box::new(v4l2::V4l2Source::open(c)?),
        SourceConfig::Rpicam(c) => Box::new(rpicam::RpicamSource::open(c)?),
        SourceConfig::Replay(c) => Box::new(replay::ReplaySource::open(c)?),
    })
}

impl Reopening {
    /// Opens the source `cfg` describes; its errors are returned as they are.
    pub fn open(cfg: &SourceConfig) -> Result<Self, CameraError> {
        let inner = open_inner(cfg)?;
        let description = inner.describe();
        Ok(Reopening { cfg: cfg.clone(), inner: Some(inner), description })
    }
}

impl FrameSource for Reopening {
    fn next_frame(&mut self) -> Result<Option<Frame>, CameraError> {
        let Some(inner) = self.inner.as_mut() else {
            return Err(CameraError::NotOpen { what: self.description.clone() });
        };
        let result = inner.next_frame();
        if result.is_err() {
            // Release the device or child now, not at the next attempt.
            self.inner = None;
        }
        result
    }

    fn describe(&self) -> String {
        self.description.clone()
    }

    /// Closes what is left of the source, then opens it again from its configuration.
    fn reopen(&mut self) -> Result<(), CameraError> {
        self.inner = None;
        let inner = open_inner(&self.cfg)?;
        self.description = inner.describe();
        self.inner = Some(inner);
        Ok(())
    }
}
