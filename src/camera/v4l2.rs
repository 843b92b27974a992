//! V4L2 capture devices (USB webcams) through the `v4l` crate, in MJPEG or
//! YUYV format, with memory-mapped streaming.
//!
//! A Raspberry Pi CSI camera on the libcamera stack does not offer MJPEG or
//! YUYV on its `/dev/video*` nodes. Use source kind `"rpicam"` for it, or run
//! the daemon under libcamera's V4L2 compatibility layer,
//! `libcamerify teachcam run`, which makes the CSI camera look like a webcam.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use log::{info, warn};
use v4l::buffer::{Flags, Type};
use v4l::capability::Flags as CapFlags;
use v4l::framesize::FrameSizeEnum;
use v4l::io::mmap::Stream;
use v4l::io::traits::CaptureStream;
use v4l::video::Capture;
use v4l::{Device, Format, FourCC};

use super::convert::{decode_jpeg, yuyv_to_rgb};
use super::{CameraError, Frame, FrameSource, V4l2Config, V4l2Format};

/// Longest wait for one frame from the driver.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(5);
/// Undecodable frames in a row before giving up.
const MAX_BAD_FRAMES: u32 = 30;
/// Driver buffers in the streaming queue.
const BUFFERS: u32 = 4;

impl V4l2Format {
    /// The V4L2 four-character code of this format.
    pub fn fourcc(self) -> FourCC {
        match self {
            V4l2Format::Mjpeg => FourCC::new(b"MJPG"),
            V4l2Format::Yuyv => FourCC::new(b"YUYV"),
        }
    }
}

/// A streaming V4L2 capture device.
pub struct V4l2Source {
    // Declared before `_device`: the stream is stopped and unmapped first.
    stream: Stream<'static>,
    _device: Device,
    path: PathBuf,
    card: String,
    format: V4l2Format,
    width: u32,
    height: u32,
    stride: usize,
    fps: Option<f64>,
    seq: u64,
    bad_frames: u32,
}

impl V4l2Source {
    /// Opens the device, sets format, size and frame rate, and sets up
    /// streaming buffers.
    pub fn open(cfg: &V4l2Config) -> Result<Self, CameraError> {
        cfg.check().map_err(|(key, reason)| CameraError::InvalidConfig(format!("v4l2 {key}: {reason}")))?;
        let path = cfg.device.clone();
        let dev_err = |op: &'static str| {
            let path = path.clone();
            move |source: io::Error| device_error(path, op, source)
        };
        if !path.exists() {
            return Err(CameraError::DeviceNotFound { device: path });
        }
        let device = Device::with_path(&path).map_err(|e| open_error(&path, e))?;
        let caps = device.query_caps().map_err(dev_err("query capabilities"))?;
        if !caps.capabilities.contains(CapFlags::VIDEO_CAPTURE) {
            return Err(CameraError::NotCaptureDevice { device: path, card: caps.card, driver: caps.driver });
        }

        let fourcc = cfg.format.fourcc();
        let offered = device.enum_formats().map_err(dev_err("list formats"))?;
        let requested = format!("{fourcc} {}x{}", cfg.width, cfg.height);
        if !offered.iter().any(|f| f.fourcc == fourcc) {
            return Err(CameraError::FormatNotOffered { offered: describe_offered(&device), device: path, requested });
        }
        let actual = device.set_format(&Format::new(cfg.width, cfg.height, fourcc)).map_err(dev_err("set format"))?;
        if actual.fourcc != fourcc {
            return Err(CameraError::FormatNotOffered { offered: describe_offered(&device), device: path, requested });
        }
        if (actual.width, actual.height) != (cfg.width, cfg.height) {
            warn!(
                "{}: asked for {}x{}, the driver chose {}x{}",
                path.display(),
                cfg.width,
                cfg.height,
                actual.width,
                actual.height
            );
        }
        let fps = match device.set_params(&v4l::video::capture::Parameters::with_fps(cfg.fps)) {
            Ok(p) if p.interval.numerator > 0 => {
                Some(f64::from(p.interval.denominator) / f64::from(p.interval.numerator))
            }
            Ok(_) => None,
            Err(e) => {
                warn!("{}: cannot set {} fps: {e}", path.display(), cfg.fps);
                None
            }
        };

        let mut stream =
            Stream::with_buffers(&device, Type::VideoCapture, BUFFERS).map_err(dev_err("allocate buffers"))?;
        stream.set_timeout(FRAME_TIMEOUT);

        let source = V4l2Source {
            stream,
            _device: device,
            card: caps.card,
            path,
            format: cfg.format,
            width: actual.width,
            height: actual.height,
            stride: actual.stride as usize,
            fps,
            seq: 0,
            bad_frames: 0,
        };
        info!("opened {}", source.describe());
        Ok(source)
    }
}

/// Decodes one driver buffer of the given format and geometry.
fn decode(format: V4l2Format, width: u32, height: u32, stride: usize, data: &[u8]) -> Result<image::RgbImage, String> {
    match format {
        V4l2Format::Mjpeg => decode_jpeg(data).map_err(|e| e.to_string()),
        V4l2Format::Yuyv => yuyv_to_rgb(data, width, height, stride).map_err(|e| e.to_string()),
    }
}

impl FrameSource for V4l2Source {
    fn next_frame(&mut self) -> Result<Option<Frame>, CameraError> {
        loop {
            let (buf, meta) = match self.stream.next() {
                Ok(x) => x,
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                    return Err(CameraError::DeviceTimeout { device: self.path.clone(), waited: FRAME_TIMEOUT })
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => return Err(device_error(self.path.clone(), "capture a frame", source)),
            };
            let used = (meta.bytesused as usize).min(buf.len());
            if meta.flags.contains(Flags::ERROR) || used == 0 {
                warn!("{}: driver flagged a corrupt frame", self.path.display());
                continue;
            }
            match decode(self.format, self.width, self.height, self.stride, &buf[..used]) {
                Ok(image) => {
                    self.bad_frames = 0;
                    let frame = Frame { image, seq: self.seq, source: None };
                    self.seq += 1;
                    return Ok(Some(frame));
                }
                Err(e) => {
                    self.bad_frames += 1;
                    warn!("{}: skipping corrupt frame: {e}", self.path.display());
                    if self.bad_frames >= MAX_BAD_FRAMES {
                        return Err(CameraError::UndecodableStream {
                            what: format!("camera device {}", self.path.display()),
                            count: self.bad_frames,
                            last: e,
                        });
                    }
                }
            }
        }
    }

    fn describe(&self) -> String {
        let fps = self.fps.map(|f| format!("@{f:.0}")).unwrap_or_default();
        format!("{} ({}) {}x{}{fps} {}", self.path.display(), self.card, self.width, self.height, self.format.fourcc())
    }
}

/// Maps an error of an operation on the open device.
fn device_error(device: PathBuf, op: &'static str, source: io::Error) -> CameraError {
    match source.kind() {
        io::ErrorKind::ResourceBusy => CameraError::DeviceBusy { device },
        _ => CameraError::Device { device, op, source },
    }
}

/// Maps an error from opening the device node.
fn open_error(path: &Path, e: io::Error) -> CameraError {
    match e.kind() {
        io::ErrorKind::NotFound => CameraError::DeviceNotFound { device: path.to_path_buf() },
        io::ErrorKind::PermissionDenied => CameraError::PermissionDenied { device: path.to_path_buf() },
        _ => device_error(path.to_path_buf(), "open", e),
    }
}

/// Lists the formats and frame sizes a device offers, e.g.
/// `MJPG (Motion-JPEG): 640x480, 1280x720; YUYV (YUYV 4:2:2): 640x480`.
fn describe_offered(device: &Device) -> String {
    let Ok(formats) = device.enum_formats() else {
        return "(could not list formats)".into();
    };
    if formats.is_empty() {
        return "no formats".into();
    }
    formats
        .iter()
        .map(|f| {
            let sizes = device
                .enum_framesizes(f.fourcc)
                .unwrap_or_default()
                .into_iter()
                .map(|s| match s.size {
                    FrameSizeEnum::Discrete(d) => d.to_string(),
                    FrameSizeEnum::Stepwise(s) => s.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ");
            format!("{} ({}): {sizes}", f.fourcc, f.description)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_device_names_the_node_and_suggests_rpicam() {
        let cfg = V4l2Config { device: "/dev/video-teachcam-missing".into(), ..V4l2Config::default() };
        let err = V4l2Source::open(&cfg).err().expect("must fail");
        let msg = err.to_string();
        assert!(msg.contains("/dev/video-teachcam-missing not found"), "{msg}");
        assert!(msg.contains("kind = \"rpicam\""), "{msg}");
    }

    #[test]
    fn non_v4l2_file_fails_with_the_ioctl_named() {
        let cfg = V4l2Config { device: "/dev/null".into(), ..V4l2Config::default() };
        let err = V4l2Source::open(&cfg).err().expect("must fail");
        assert!(matches!(err, CameraError::Device { op: "query capabilities", .. }), "{err}");
        assert!(err.to_string().contains("/dev/null"), "{err}");
    }

    #[test]
    fn open_errors_name_group_video() {
        let err = open_error(Path::new("/dev/video0"), io::Error::from(io::ErrorKind::PermissionDenied));
        let msg = err.to_string();
        assert!(msg.contains("/dev/video0") && msg.contains("group `video`"), "{msg}");
    }

    #[test]
    fn fourcc_codes() {
        assert_eq!(V4l2Format::Mjpeg.fourcc(), FourCC::new(b"MJPG"));
        assert_eq!(V4l2Format::Yuyv.fourcc().to_string(), "YUYV");
    }
}
