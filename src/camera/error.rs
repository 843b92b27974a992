//! The camera module's error type.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Errors of frame sources and the capture thread.
#[derive(Debug, thiserror::Error)]
pub enum CameraError {
    /// The V4L2 device node does not exist.
    #[error(
        "camera device {} not found (is a USB webcam plugged in? for a CSI camera use source kind = \"rpicam\"); no camera at all? --config config/keyboard-replay.toml plays photos from a folder with the keyboard as buttons, config/demo.toml without keys",
        device.display()
    )]
    DeviceNotFound {
        /// The device node, e.g. `/dev/video0`.
        device: PathBuf,
    },

    /// The V4L2 device node exists but may not be opened by this user.
    #[error(
        "permission denied opening camera device {}: add the user to group `video` (sudo usermod -aG video $USER, then log in again)",
        device.display()
    )]
    PermissionDenied {
        /// The device node.
        device: PathBuf,
    },

    /// The device node is not a video capture device (e.g. a UVC metadata node).
    #[error(
        "{} ({card}, driver {driver}) is not a video capture device; try another /dev/videoN (v4l2-ctl --list-devices)",
        device.display()
    )]
    NotCaptureDevice {
        /// The device node.
        device: PathBuf,
        /// Card name reported by the driver.
        card: String,
        /// Driver name.
        driver: String,
    },

    /// An ioctl or other operation on the V4L2 device failed.
    #[error("camera device {}: {op} failed: {source}", device.display())]
    Device {
        /// The device node.
        device: PathBuf,
        /// What was being done, e.g. "set format".
        op: &'static str,
        /// The OS error.
        source: io::Error,
    },

    /// The device is in use by another program.
    #[error("camera device {} is busy (is another program using the camera?)", device.display())]
    DeviceBusy {
        /// The device node.
        device: PathBuf,
    },

    /// The device does not offer the requested pixel format.
    #[error(
        "camera device {} does not offer {requested}; it offers: {offered} (a CSI camera offering only raw Bayer formats needs source kind = \"rpicam\" or `libcamerify teachcam run`)",
        device.display()
    )]
    FormatNotOffered {
        /// The device node.
        device: PathBuf,
        /// The requested format, e.g. "MJPG 640x480".
        requested: String,
        /// What the device offers: fourcc and sizes.
        offered: String,
    },

    /// No frame arrived from the device within the driver timeout.
    #[error("camera device {} delivered no frame for {waited:?}", device.display())]
    DeviceTimeout {
        /// The device node.
        device: PathBuf,
        /// How long was waited.
        waited: Duration,
    },

    /// Frame after frame could not be decoded.
    #[error("{what}: {count} frames in a row could not be decoded (last error: {last})")]
    UndecodableStream {
        /// The source.
        what: String,
        /// Consecutive failures.
        count: u32,
        /// The last decode error.
        last: String,
    },

    /// A raw frame has fewer bytes than its size and format need.
    #[error("raw frame too short: {got} bytes, {expected} needed")]
    ShortFrame {
        /// Bytes needed.
        expected: usize,
        /// Bytes present.
        got: usize,
    },

    /// The camera command (normally `rpicam-vid`) is not installed.
    #[error(
        "camera command `{command}` not found: install it with `sudo apt install rpicam-apps` (Raspberry Pi OS Bookworm or later; older releases name it libcamera-vid), or set source.command"
    )]
    CommandNotFound {
        /// The command.
        command: String,
    },

    /// The camera command could not be started.
    #[error("could not start camera command `{command}`: {source}")]
    Spawn {
        /// The command.
        command: String,
        /// The OS error.
        source: io::Error,
    },

    /// The camera command kept dying without delivering frames.
    #[error(
        "camera command `{command}` died {attempts} times in a row without delivering a frame (last exit: {status}); its last output:\n{stderr_tail}"
    )]
    CommandFailed {
        /// The command.
        command: String,
        /// Consecutive failed runs.
        attempts: u32,
        /// Exit status of the last run.
        status: String,
        /// The last lines the command wrote to stderr.
        stderr_tail: String,
    },

    /// The MJPEG stream had no end-of-image marker within the size limit.
    #[error("MJPEG stream: no end of image within {limit} bytes (not an MJPEG stream, or corrupt)")]
    MjpegFrameTooLarge {
        /// The frame size limit in bytes.
        limit: usize,
    },

    /// The replay folder does not exist or is not a folder.
    #[error("replay folder {} not found", dir.display())]
    ReplayDirMissing {
        /// The folder.
        dir: PathBuf,
    },

    /// The replay folder holds no images.
    #[error("replay folder {} has no .jpg/.jpeg/.png images{hint}", dir.display())]
    ReplayDirEmpty {
        /// The folder.
        dir: PathBuf,
        /// Extra advice, e.g. to set `recurse = true`.
        hint: String,
    },

    /// Listing the replay folder failed.
    #[error("cannot read replay folder {}: {source}", dir.display())]
    ReplayDirRead {
        /// The folder that could not be listed.
        dir: PathBuf,
        /// The OS error.
        source: io::Error,
    },

    /// Every image of the replay folder failed to load.
    #[error("replay folder {}: none of its {count} images could be loaded", dir.display())]
    ReplayAllCorrupt {
        /// The folder.
        dir: PathBuf,
        /// Number of images tried.
        count: usize,
    },

    /// A configuration value is unusable.
    #[error("invalid camera configuration: {0}")]
    InvalidConfig(String),

    /// No frame arrived from the capture thread within the wait time.
    #[error("no frame from the camera within {0:?}")]
    FrameTimeout(Duration),

    /// A source was asked for a frame after it failed, before it was reopened.
    #[error("{what} is closed after a failure (not reopened yet)")]
    NotOpen {
        /// The source's description.
        what: String,
    },

    /// The frame source panicked while reading a frame (the recovering capture thread goes on).
    #[error("the frame source failed unexpectedly (panic: {0})")]
    SourcePanicked(String),

    /// The capture thread ended abnormally (the frame source panicked).
    #[error("the capture thread stopped unexpectedly (frame source panicked)")]
    CaptureThreadDied,
}
