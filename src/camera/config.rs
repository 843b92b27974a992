//! Serde configuration of frame sources (the `[source]` table).

use std::path::PathBuf;

use serde::Deserialize;

mod validate;
pub use validate::{FPS_RANGE, MAX_RESTARTS, REPLAY_FPS_RANGE, SIZE_RANGE};

/// Which frame source to use; selected by `kind` in the `[source]` table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SourceConfig {
    /// A V4L2 capture device such as a USB webcam (`kind = "v4l2"`).
    V4l2(V4l2Config),
    /// A CSI camera through an `rpicam-vid` child process (`kind = "rpicam"`).
    Rpicam(RpicamConfig),
    /// Images replayed from a folder (`kind = "replay"`).
    Replay(ReplayConfig),
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig::V4l2(V4l2Config::default())
    }
}

/// Pixel format requested from a V4L2 device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum V4l2Format {
    /// Motion JPEG (fourcc `MJPG`), offered by most USB webcams at all sizes.
    #[default]
    Mjpeg,
    /// Packed YUV 4:2:2 (fourcc `YUYV`), uncompressed.
    Yuyv,
}

/// Settings of a V4L2 capture device.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct V4l2Config {
    /// Device node, default `/dev/video0`.
    pub device: PathBuf,
    /// Requested width in pixels (the driver may pick the nearest size).
    pub width: u32,
    /// Requested height in pixels.
    pub height: u32,
    /// Requested frame rate (frames per second).
    pub fps: u32,
    /// Requested pixel format, `"mjpeg"` (default) or `"yuyv"`.
    pub format: V4l2Format,
}

impl Default for V4l2Config {
    fn default() -> Self {
        V4l2Config { device: PathBuf::from("/dev/video0"), width: 640, height: 480, fps: 30, format: V4l2Format::Mjpeg }
    }
}

/// Output codec asked of `rpicam-vid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RpicamCodec {
    /// A stream of concatenated JPEG images.
    #[default]
    Mjpeg,
    /// Raw planar I420 frames of a known size.
    Yuv420,
}

impl RpicamCodec {
    /// The value given to `rpicam-vid --codec`.
    pub fn arg(self) -> &'static str {
        match self {
            RpicamCodec::Mjpeg => "mjpeg",
            RpicamCodec::Yuv420 => "yuv420",
        }
    }
}

/// Settings of the `rpicam-vid` pipe source.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RpicamConfig {
    /// Program to run, default `rpicam-vid` (tests substitute a script).
    pub command: String,
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// Frame rate (frames per second).
    pub fps: u32,
    /// Output codec, `"mjpeg"` (default) or `"yuv420"`.
    pub codec: RpicamCodec,
    /// Bytes per luma row for `yuv420`; default: width rounded up to a
    /// multiple of 64, which is how the Pi ISP pads rows.
    pub stride: Option<u32>,
    /// Extra arguments appended to the command line (e.g. `["--hflip"]`).
    pub extra_args: Vec<String>,
    /// How many times in a row the command may die without delivering a
    /// frame before the source gives up with an error (the daemon's capture
    /// thread then reopens it with growing pauses).
    pub max_restarts: u32,
}

impl Default for RpicamConfig {
    fn default() -> Self {
        RpicamConfig {
            command: "rpicam-vid".to_string(),
            width: 640,
            height: 480,
            fps: 30,
            codec: RpicamCodec::Mjpeg,
            stride: None,
            extra_args: Vec::new(),
            max_restarts: 2,
        }
    }
}

/// Settings of the folder replay source.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayConfig {
    /// Folder holding `.jpg`, `.jpeg` or `.png` images, replayed in file
    /// name order (byte order: zero-pad numbers).
    pub dir: PathBuf,
    /// Frames per second; `0` delivers frames as fast as they are consumed.
    #[serde(default)]
    pub fps: f32,
    /// Start over at the first image after the last one.
    #[serde(default)]
    pub looping: bool,
    /// Also replay images in sub-folders (depth first, in name order).
    #[serde(default)]
    pub recurse: bool,
}

impl ReplayConfig {
    /// A non-looping, unpaced, non-recursive replay of `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ReplayConfig { dir: dir.into(), fps: 0.0, looping: false, recurse: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4l2_defaults_fill_missing_fields() {
        let cfg: SourceConfig = toml::from_str("kind = \"v4l2\"\nformat = \"yuyv\"\n").unwrap();
        let SourceConfig::V4l2(c) = cfg else { panic!("wrong variant: {cfg:?}") };
        assert_eq!(c.device, PathBuf::from("/dev/video0"));
        assert_eq!((c.width, c.height, c.fps), (640, 480, 30));
        assert_eq!(c.format, V4l2Format::Yuyv);
    }

    #[test]
    fn rpicam_and_replay_parse() {
        let cfg: SourceConfig =
            toml::from_str("kind = \"rpicam\"\ncodec = \"yuv420\"\nwidth = 320\nextra_args = [\"--hflip\"]\n").unwrap();
        let SourceConfig::Rpicam(c) = cfg else { panic!("wrong variant: {cfg:?}") };
        assert_eq!(c.command, "rpicam-vid");
        assert_eq!(c.codec, RpicamCodec::Yuv420);
        assert_eq!(c.width, 320);
        assert_eq!(c.extra_args, vec!["--hflip".to_string()]);

        let cfg: SourceConfig =
            toml::from_str("kind = \"replay\"\ndir = \"frames\"\nfps = 2.5\nlooping = true\n").unwrap();
        assert_eq!(
            cfg,
            SourceConfig::Replay(ReplayConfig { dir: "frames".into(), fps: 2.5, looping: true, recurse: false })
        );
    }

    #[test]
    fn unknown_fields_and_kinds_are_rejected() {
        let err = toml::from_str::<SourceConfig>("kind = \"v4l2\"\ndevcie = \"/dev/video1\"\n").unwrap_err();
        assert!(err.to_string().contains("devcie"), "{err}");
        let err = toml::from_str::<SourceConfig>("kind = \"csi\"\n").unwrap_err();
        assert!(err.to_string().contains("csi"), "{err}");
        let err = toml::from_str::<SourceConfig>("kind = \"replay\"\n").unwrap_err();
        assert!(err.to_string().contains("dir"), "{err}");
    }
}
