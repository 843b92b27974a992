//! CSI camera frames through an `rpicam-vid` child process writing to a pipe.
//!
//! The command line is
//! `rpicam-vid -t 0 -n --codec mjpeg --width W --height H --framerate F -o -`
//! (plus the configured extra arguments). With `--codec mjpeg` the output
//! is split into JPEG images by [`MjpegSplitter`]; with `--codec yuv420`
//! every frame is exactly `stride * H * 3 / 2` bytes of planar I420, where
//! the Pi ISP pads each luma row to a multiple of 64 bytes (chroma rows to
//! half that) and `stride` can be overridden in the configuration.
//! Widths that are multiples of 64 (e.g. 320, 640) have no padding.
//!
//! When the child exits it is restarted with exponential backoff (a run that
//! delivered frames is logged with its last stderr lines); after
//! `max_restarts` consecutive runs that delivered no frame,
//! [`CameraError::CommandFailed`] is returned with that output, and a
//! recovering capture thread opens the source again later.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::thread;
use std::time::Duration;

use log::{debug, warn};

mod child;

use super::convert::{decode_jpeg, i420_frame_len, i420_to_rgb};
use super::mjpeg::MjpegSplitter;
use super::{CameraError, Frame, FrameSource, RpicamCodec, RpicamConfig};
use child::Running;

/// First restart delay; doubled after each failed run.
const BACKOFF_START: Duration = Duration::from_millis(200);
/// Longest restart delay.
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// Undecodable MJPEG frames in a row before giving up.
const MAX_BAD_FRAMES: u32 = 30;

/// Frames from an `rpicam-vid` (or substitute) child process.
pub struct RpicamSource {
    cfg: RpicamConfig,
    stride: usize,
    running: Option<Running>,
    splitter: MjpegSplitter,
    pending: VecDeque<Vec<u8>>,
    raw: Vec<u8>,
    read_buf: Vec<u8>,
    seq: u64,
    /// Consecutive runs that ended without delivering a frame.
    failed_runs: u32,
    bad_frames: u32,
}

impl RpicamSource {
    /// Validates the configuration and starts the command.
    ///
    /// A command that is not installed is reported at once as
    /// [`CameraError::CommandNotFound`].
    pub fn open(cfg: &RpicamConfig) -> Result<Self, CameraError> {
        cfg.check().map_err(|(key, reason)| CameraError::InvalidConfig(format!("rpicam {key}: {reason}")))?;
        let stride = cfg.stride.unwrap_or(cfg.width.next_multiple_of(64)) as usize;
        let mut source = RpicamSource {
            cfg: cfg.clone(),
            stride,
            running: None,
            splitter: MjpegSplitter::default(),
            pending: VecDeque::new(),
            raw: Vec::new(),
            read_buf: vec![0; 64 * 1024],
            seq: 0,
            failed_runs: 0,
            bad_frames: 0,
        };
        source.spawn()?;
        Ok(source)
    }

    /// The full argument list given to the command.
    pub fn args(cfg: &RpicamConfig) -> Vec<String> {
        let mut args: Vec<String> = [
            "-t",
            "0",
            "-n",
            "--codec",
            cfg.codec.arg(),
            "--width",
            &cfg.width.to_string(),
            "--height",
            &cfg.height.to_string(),
            "--framerate",
            &cfg.fps.to_string(),
            "-o",
            "-",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(cfg.extra_args.iter().cloned());
        args
    }

    fn spawn(&mut self) -> Result<(), CameraError> {
        self.running = Some(Running::spawn(&self.cfg.command, &Self::args(&self.cfg))?);
        debug!("started {}", self.describe());
        Ok(())
    }

    /// Handles the end of the child's output: logs, then restarts it after
    /// a backoff delay, or errors when it keeps failing.
    fn restart(&mut self, why: &str) -> Result<(), CameraError> {
        let Some(running) = self.running.take() else {
            return self.spawn();
        };
        let frames = running.frames;
        let (status, stderr_tail) = running.end();
        if let Some(n) = self.splitter.finish() {
            warn!("{}: dropped a truncated frame of {n} bytes", self.cfg.command);
        }
        self.pending.clear();
        self.raw.clear();
        if frames > 0 {
            self.failed_runs = 0;
        }
        self.failed_runs += 1;
        // A working camera that stops is worth a warning; runs that deliver nothing end in
        // `CommandFailed`, which carries their output to the daemon (logged rate-limited).
        let message =
            format!("{} {why} after {frames} frames (exit: {status}); last output:\n{stderr_tail}", self.cfg.command);
        if frames > 0 {
            warn!("{message}");
        } else {
            debug!("{message}");
        }
        if self.failed_runs > self.cfg.max_restarts {
            return Err(CameraError::CommandFailed {
                command: self.cfg.command.clone(),
                attempts: self.failed_runs,
                status,
                stderr_tail,
            });
        }
        let delay = BACKOFF_START.saturating_mul(1 << (self.failed_runs - 1).min(16)).min(BACKOFF_MAX);
        debug!("restarting {} in {delay:?}", self.cfg.command);
        thread::sleep(delay);
        self.spawn()
    }

    /// Reads the next MJPEG frame's bytes; `None` when the child's output ended.
    fn next_jpeg(&mut self) -> Result<Option<Vec<u8>>, CameraError> {
        loop {
            if let Some(frame) = self.pending.pop_front() {
                return Ok(Some(frame));
            }
            let running = self.running.as_mut().expect("child is running");
            let n = match running.stdout.read(&mut self.read_buf) {
                Ok(0) => return Ok(None),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    warn!("{}: reading its output failed: {e}", self.cfg.command);
                    return Ok(None);
                }
            };
            let mut out = Vec::new();
            let result = self.splitter.push(&self.read_buf[..n], &mut out);
            self.pending.extend(out);
            if let Err(e) = result {
                warn!("{}: {e}", self.cfg.command);
            }
        }
    }

    /// Reads the next raw I420 frame into `self.raw`; `false` when the
    /// child's output ended.
    fn next_raw(&mut self) -> bool {
        let len = i420_frame_len(self.stride, self.cfg.height);
        self.raw.resize(len, 0);
        let running = self.running.as_mut().expect("child is running");
        match running.stdout.read_exact(&mut self.raw) {
            Ok(()) => true,
            Err(e) => {
                if e.kind() != io::ErrorKind::UnexpectedEof {
                    warn!("{}: reading its output failed: {e}", self.cfg.command);
                }
                false
            }
        }
    }

    fn make_frame(&mut self, image: image::RgbImage) -> Frame {
        if let Some(r) = self.running.as_mut() {
            r.frames += 1;
        }
        let frame = Frame { image, seq: self.seq, source: None };
        self.seq += 1;
        frame
    }
}

impl FrameSource for RpicamSource {
    fn next_frame(&mut self) -> Result<Option<Frame>, CameraError> {
        loop {
            if self.running.is_none() {
                self.restart("is not running")?;
            }
            match self.cfg.codec {
                RpicamCodec::Mjpeg => match self.next_jpeg()? {
                    Some(jpeg) => match decode_jpeg(&jpeg) {
                        Ok(image) => {
                            self.bad_frames = 0;
                            return Ok(Some(self.make_frame(image)));
                        }
                        Err(e) => {
                            self.bad_frames += 1;
                            warn!("{}: skipping corrupt frame: {e}", self.cfg.command);
                            if self.bad_frames >= MAX_BAD_FRAMES {
                                return Err(CameraError::UndecodableStream {
                                    what: self.cfg.command.clone(),
                                    count: self.bad_frames,
                                    last: e.to_string(),
                                });
                            }
                        }
                    },
                    None => self.restart("exited")?,
                },
                RpicamCodec::Yuv420 => {
                    if self.next_raw() {
                        let image = i420_to_rgb(&self.raw, self.cfg.width, self.cfg.height, self.stride)?;
                        return Ok(Some(self.make_frame(image)));
                    }
                    self.restart("exited")?;
                }
            }
        }
    }

    fn describe(&self) -> String {
        format!("{} {}x{}@{} {}", self.cfg.command, self.cfg.width, self.cfg.height, self.cfg.fps, self.cfg.codec.arg())
    }
}

impl Drop for RpicamSource {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.end();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line() {
        let cfg = RpicamConfig { extra_args: vec!["--hflip".into()], ..RpicamConfig::default() };
        assert_eq!(
            RpicamSource::args(&cfg).join(" "),
            "-t 0 -n --codec mjpeg --width 640 --height 480 --framerate 30 -o - --hflip"
        );
    }

    #[test]
    fn missing_command_is_reported_by_name() {
        let cfg = RpicamConfig { command: "/nonexistent/rpicam-vid".into(), ..RpicamConfig::default() };
        let err = RpicamSource::open(&cfg).err().expect("must fail");
        assert!(matches!(err, CameraError::CommandNotFound { .. }));
        let msg = err.to_string();
        assert!(msg.contains("/nonexistent/rpicam-vid"), "{msg}");
        assert!(msg.contains("rpicam-apps"), "{msg}");
    }

    #[test]
    fn odd_yuv_size_is_rejected() {
        let cfg = RpicamConfig { codec: RpicamCodec::Yuv420, width: 641, ..RpicamConfig::default() };
        assert!(matches!(RpicamSource::open(&cfg), Err(CameraError::InvalidConfig(_))));
    }
}
