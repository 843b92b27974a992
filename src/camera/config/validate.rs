//! Range checks of the `[source]` table: every number finite and sane, every path or command
//! named, each error naming its key (`source.fps`) and the value given.

use super::{ReplayConfig, RpicamCodec, RpicamConfig, SourceConfig, V4l2Config};
use crate::config::ConfigError;
use std::fmt::Debug;
use std::path::Path;

/// Smallest and largest frame width or height, in pixels.
pub const SIZE_RANGE: (u32, u32) = (2, 8192);
/// Camera frame rates, frames per second.
pub const FPS_RANGE: (u32, u32) = (1, 240);
/// Replay frame rates other than 0 (unpaced), frames per second.
pub const REPLAY_FPS_RANGE: (f32, f32) = (0.01, 1000.0);
/// Most restarts of `rpicam-vid` in a row before the source reports a failure.
pub const MAX_RESTARTS: u32 = 1000;

impl SourceConfig {
    /// Checks every value of the `[source]` table; `path` (the config file) is named in errors.
    pub fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let fail = |key: &str, reason: String| ConfigError::Invalid {
            path: path.into(),
            key: format!("source.{key}"),
            reason,
        };
        self.check().map_err(|(key, reason)| fail(key, reason))
    }

    /// The range checks as `(key, reason)`.
    fn check(&self) -> Result<(), (&'static str, String)> {
        match self {
            SourceConfig::V4l2(c) => c.check(),
            SourceConfig::Rpicam(c) => c.check(),
            SourceConfig::Replay(c) => c.check(),
        }
    }
}

/// `value` within `lo..=hi`, else `(key, "must be between lo and hi unit, got value")`.
fn within<T: PartialOrd + Debug>(
    key: &'static str,
    value: T,
    (lo, hi): (T, T),
    unit: &str,
) -> Result<(), (&'static str, String)> {
    if value >= lo && value <= hi {
        Ok(())
    } else {
        Err((key, format!("must be between {lo:?} and {hi:?} {unit}, got {value:?}")))
    }
}

/// `value` must not be blank.
fn named(key: &'static str, value: &str, what: &str) -> Result<(), (&'static str, String)> {
    if value.trim().is_empty() {
        Err((key, format!("must name {what}")))
    } else {
        Ok(())
    }
}

impl V4l2Config {
    /// The range checks as `(key, reason)`; sources check again when opened from code.
    pub(in crate::camera) fn check(&self) -> Result<(), (&'static str, String)> {
        named("device", &self.device.to_string_lossy(), "the camera's device node, e.g. /dev/video0")?;
        within("width", self.width, SIZE_RANGE, "pixels")?;
        within("height", self.height, SIZE_RANGE, "pixels")?;
        within("fps", self.fps, FPS_RANGE, "frames per second")
    }
}

impl RpicamConfig {
    /// The range checks as `(key, reason)`; sources check again when opened from code.
    pub(in crate::camera) fn check(&self) -> Result<(), (&'static str, String)> {
        named("command", &self.command, "the camera program, e.g. rpicam-vid")?;
        within("width", self.width, SIZE_RANGE, "pixels")?;
        within("height", self.height, SIZE_RANGE, "pixels")?;
        within("fps", self.fps, FPS_RANGE, "frames per second")?;
        within("max_restarts", self.max_restarts, (0, MAX_RESTARTS), "restarts")?;
        if self.codec == RpicamCodec::Yuv420 {
            if !self.width.is_multiple_of(2) || !self.height.is_multiple_of(2) {
                let size = format!("{}x{}", self.width, self.height);
                return Err(("width", format!("yuv420 needs an even width and height, got {size}")));
            }
            if let Some(stride) = self.stride {
                if stride < self.width || stride > 2 * SIZE_RANGE.1 || !stride.is_multiple_of(2) {
                    let reason =
                        format!("must be even, at least the width {} and at most {}", self.width, 2 * SIZE_RANGE.1);
                    return Err(("stride", format!("{reason}, got {stride}")));
                }
            }
        }
        Ok(())
    }
}

impl ReplayConfig {
    /// The range checks as `(key, reason)`; sources check again when opened from code.
    pub(in crate::camera) fn check(&self) -> Result<(), (&'static str, String)> {
        named("dir", &self.dir.to_string_lossy(), "the folder of images to replay")?;
        let (lo, hi) = REPLAY_FPS_RANGE;
        if self.fps == 0.0 || (self.fps >= lo && self.fps <= hi) {
            Ok(())
        } else {
            let reason = format!("must be 0 (as fast as frames are used) or between {lo} and {hi} frames per second");
            Err(("fps", format!("{reason}, got {:?}", self.fps)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(toml: &str) -> Option<String> {
        let cfg: SourceConfig = toml::from_str(toml).unwrap();
        cfg.validate(Path::new("t.toml")).err().map(|e| e.to_string())
    }

    #[test]
    fn defaults_and_shipped_values_pass() {
        assert_eq!(error("kind = \"v4l2\""), None);
        assert_eq!(error("kind = \"rpicam\"\nfps = 15\nwidth = 640\nheight = 480"), None);
        assert_eq!(error("kind = \"replay\"\ndir = \"d\"\nfps = 10.0"), None);
        assert_eq!(error("kind = \"replay\"\ndir = \"d\"\nfps = 0.0"), None);
    }

    #[test]
    fn out_of_range_values_name_key_and_value() {
        for (toml, expected) in [
            ("kind = \"replay\"\ndir = \"d\"\nfps = 1e-30", "source.fps: must be 0 (as fast as frames are used) or between 0.01 and 1000 frames per second, got 1e-30"),
            ("kind = \"replay\"\ndir = \"d\"\nfps = nan", "source.fps"),
            ("kind = \"replay\"\ndir = \"d\"\nfps = inf", "got inf"),
            ("kind = \"replay\"\ndir = \"d\"\nfps = -1.0", "got -1.0"),
            ("kind = \"replay\"\ndir = \"\"", "source.dir: must name"),
            ("kind = \"v4l2\"\nfps = 0", "source.fps: must be between 1 and 240 frames per second, got 0"),
            ("kind = \"v4l2\"\nwidth = 100000", "source.width: must be between 2 and 8192 pixels, got 100000"),
            ("kind = \"v4l2\"\ndevice = \"\"", "source.device"),
            ("kind = \"rpicam\"\nheight = 0", "source.height"),
            ("kind = \"rpicam\"\ncommand = \" \"", "source.command"),
            ("kind = \"rpicam\"\nmax_restarts = 4000000000", "source.max_restarts"),
            ("kind = \"rpicam\"\ncodec = \"yuv420\"\nwidth = 641", "source.width: yuv420 needs an even"),
            ("kind = \"rpicam\"\ncodec = \"yuv420\"\nstride = 3", "source.stride"),
        ] {
            let e = error(toml).unwrap_or_else(|| panic!("{toml:?} passed"));
            assert!(e.contains("t.toml") && e.contains(expected), "{toml:?}: {e}");
        }
    }

    #[test]
    fn the_config_file_checks_them() {
        // This value once passed validation and panicked when the replay started.
        let text = "[source]\nkind = \"replay\"\ndir = \"d\"\nfps = 1e-30\n";
        let e = crate::config::Config::parse(text, Path::new("c.toml")).unwrap_err();
        assert!(e.to_string().contains("c.toml: source.fps"), "{e}");
    }

    #[test]
    fn sources_opened_from_code_check_too() {
        let cfg = ReplayConfig { fps: 1e-30, ..ReplayConfig::new("d") };
        let e = crate::camera::replay::ReplaySource::open(&cfg).unwrap_err();
        assert!(e.to_string().contains("replay fps"), "{e}");
    }
}
