//! The `[model]` section of the configuration.

use super::{Crop, Layout, Preprocess};
use crate::config::{check_int, BadValue};
use crate::imageio::{ImageLimits, DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS};
use serde::Deserialize;
use std::path::PathBuf;

/// Which backbone to load and how to feed it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// The ONNX model file.
    pub path: PathBuf,
    /// Side of the model's square input, in pixels.
    pub input_size: u32,
    /// Per-channel mean subtracted from 0..255 RGB values.
    #[serde(deserialize_with = "rgb")]
    pub mean: [f32; 3],
    /// Per-channel divisor applied after subtracting the mean.
    #[serde(deserialize_with = "rgb")]
    pub std: [f32; 3],
    /// Input tensor layout.
    pub layout: Layout,
    /// Name of the `[1, D]` embedding output.
    pub embedding_output: String,
    /// Name of the class-logits output used for the zero-shot baseline; empty for none.
    pub logits_output: String,
    /// How non-square frames are fitted to the square input.
    pub crop: Crop,
    /// Also cache the embedding of the mirrored image at capture time (augmentation).
    pub mirror_augment: bool,
    /// Threads tract may use for one inference (1 keeps a core free for the camera).
    pub threads: usize,
    /// Run depthwise convolutions with teachcam's own operator ([`super::dwconv`]) instead of
    /// tract's (measured faster on x86-64 and aarch64; off only to compare).
    pub own_depthwise: bool,
    /// Run pointwise (1×1) convolutions and the stem's dense one with teachcam's own operator
    /// ([`super::pwconv`], [`super::pwconv::dense`]) on aarch64, where it is measured faster than tract's matrix kernels (elsewhere tract's are
    /// faster and this has no effect); off only to compare.
    pub own_pointwise: bool,
    /// Where the analysed model is cached for a fast start: `"auto"` (see
    /// [`super::cache::cache_dir`]), `"off"`, or a folder.
    pub cache: String,
    /// Largest image accepted (imports, predictions, frames), in pixels, read from the header
    /// before decoding.
    pub max_image_pixels: u64,
    /// Largest image file accepted, in bytes.
    pub max_image_bytes: u64,
}

/// Reads exactly three numbers (toml alone would ignore a fourth).
fn rgb<'de, D: serde::Deserializer<'de>>(d: D) -> Result<[f32; 3], D::Error> {
    let v = Vec::<f32>::deserialize(d)?;
    <[f32; 3]>::try_from(v.as_slice()).map_err(|_| serde::de::Error::invalid_length(v.len(), &"3 values (R, G, B)"))
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("models/efficientnet-lite0-int8.onnx"),
            input_size: 224,
            mean: [127.0; 3],
            std: [128.0; 3],
            layout: Layout::Nchw,
            embedding_output: "embedding".into(),
            logits_output: "logits".into(),
            crop: Crop::Center,
            mirror_augment: false,
            threads: 1,
            cache: "auto".into(),
            own_depthwise: true,
            own_pointwise: true,
            max_image_pixels: DEFAULT_MAX_PIXELS,
            max_image_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

impl ModelConfig {
    /// The preprocessing this configuration describes.
    pub fn preprocess(&self) -> Preprocess {
        Preprocess { size: self.input_size, mean: self.mean, std: self.std, layout: self.layout, crop: self.crop }
    }

    /// The image size limits this configuration sets.
    pub fn image_limits(&self) -> ImageLimits {
        ImageLimits { max_pixels: self.max_image_pixels, max_bytes: self.max_image_bytes }
    }

    /// Checks every value is in range; the error names the key (`model.…`).
    pub fn validate(&self) -> Result<(), BadValue> {
        check_int("model.input_size", self.input_size, 16, 1024, "pixels")?;
        if !self.mean.iter().all(|m| m.is_finite() && (0.0..=255.0).contains(m)) {
            return Err(BadValue::new("model.mean", format!("{:?}", self.mean), "must be 3 numbers between 0 and 255"));
        }
        if !self.std.iter().all(|s| s.is_finite() && *s > 0.0 && *s <= 1000.0) {
            return Err(BadValue::new(
                "model.std",
                format!("{:?}", self.std),
                "must be 3 numbers above 0, at most 1000",
            ));
        }
        if self.embedding_output.is_empty() {
            return Err(BadValue::new("model.embedding_output", "\"\"", "must name the [1, D] embedding output"));
        }
        if self.cache.trim().is_empty() {
            return Err(BadValue::new("model.cache", "\"\"", "must be \"auto\", \"off\" or a folder"));
        }
        check_int("model.threads", self.threads, 1, 64, "threads")?;
        check_int("model.max_image_pixels", self.max_image_pixels, 100_000, 1_000_000_000, "pixels")?;
        check_int("model.max_image_bytes", self.max_image_bytes, 100_000, 2_000_000_000, "bytes")
    }
}
