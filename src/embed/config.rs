//! The `[model]` section of the configuration.

use super::{Crop, Layout, Preprocess};
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
    pub mean: [f32; 3],
    /// Per-channel divisor applied after subtracting the mean.
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
        }
    }
}

impl ModelConfig {
    /// The preprocessing this configuration describes.
    pub fn preprocess(&self) -> Preprocess {
        Preprocess { size: self.input_size, mean: self.mean, std: self.std, layout: self.layout, crop: self.crop }
    }
}
