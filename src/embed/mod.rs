//! Image → embedding: preprocessing plus a pretrained backbone behind the [`Backbone`] trait.
//!
//! The shipped backbone is the int8 EfficientNet-Lite0 in `models/`, run by tract
//! ([`tract_backend`]); any ONNX model with a square image input and a `[1, D]` embedding
//! output works through [`ModelConfig`].

pub mod cache;
mod config;
pub mod dwconv;
pub mod fake;
pub mod fold;
pub mod imagenet;
pub mod preprocess;
pub mod pwconv;
pub mod tract_backend;

pub use config::ModelConfig;
pub use imagenet::ZeroShot;
pub use preprocess::{Crop, Layout, Preprocess};

use image::RgbImage;
use std::path::PathBuf;
use tract_core::prelude::Tensor;

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The model file does not exist or cannot be read.
    #[error("cannot read model {path}: {reason}")]
    Unreadable {
        /// The model file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The file is not an ONNX model tract can load.
    #[error("{path} is not a usable ONNX model: {reason}")]
    NotOnnx {
        /// The model file.
        path: PathBuf,
        /// tract's explanation.
        reason: String,
    },
    /// The model lacks an output the configuration names.
    #[error("model {path} has no output named {name:?} (it has: {available}); set model.{key} in the config")]
    MissingOutput {
        /// The model file.
        path: PathBuf,
        /// The configured output name.
        name: String,
        /// The config key naming it.
        key: &'static str,
        /// The outputs the model does have.
        available: String,
    },
    /// An input or output has an unexpected shape.
    #[error("model {path}: {what} has shape {shape}, expected {expected}")]
    BadShape {
        /// The model file.
        path: PathBuf,
        /// Which input or output.
        what: String,
        /// The shape found.
        shape: String,
        /// The shape required.
        expected: String,
    },
    /// Running the model failed.
    #[error("inference failed: {0}")]
    Inference(String),
}

/// Why an image file could not be embedded.
#[derive(Debug, thiserror::Error)]
pub enum FileEmbedError {
    /// The file could not be read or decoded.
    #[error(transparent)]
    Read(#[from] crate::imageio::ImageError),
    /// The backbone failed on it.
    #[error("{}: {source}", path.display())]
    Embed {
        /// The image file.
        path: PathBuf,
        /// What failed.
        source: EmbedError,
    },
}

/// What a backbone produces for one input.
#[derive(Debug, Clone)]
pub struct BackboneOutput {
    /// The embedding (not normalised), length [`ModelInfo::dims`].
    pub embedding: Vec<f32>,
    /// ImageNet (or other) class logits, when the model has a logits output.
    pub logits: Option<Vec<f32>>,
}

/// Facts about a loaded backbone.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInfo {
    /// The model file.
    pub path: PathBuf,
    /// Hex sha256 of the model file: heads and cached embeddings are tied to it.
    pub sha256: String,
    /// Embedding length.
    pub dims: usize,
    /// Number of classes of the logits output, if any.
    pub classes: Option<usize>,
    /// The preprocessing embeddings are made with ([`Preprocess::key`]; empty for a bare
    /// backbone): cached embeddings and heads are tied to it as well as to the model file.
    pub preprocess: String,
}

/// An inference backend: runs a preprocessed input tensor through the backbone.
pub trait Backbone: Send + Sync {
    /// Runs one `[1, …]` input.
    fn run(&self, input: Tensor) -> Result<BackboneOutput, EmbedError>;
    /// Facts about the model.
    fn info(&self) -> &ModelInfo;
}

/// The embedding of one image, as cached in the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedding {
    /// The embedding of the image.
    pub vector: Vec<f32>,
    /// The embedding of the mirrored image (augmentation), when asked for.
    pub mirrored: Option<Vec<f32>>,
    /// The original model's zero-shot cat/dog scores, when it has ImageNet logits.
    pub zero_shot: Option<ZeroShot>,
}

/// Preprocessing + backbone: the one object the rest of teachcam embeds images with.
pub struct Embedder {
    backbone: Box<dyn Backbone>,
    pre: Preprocess,
    info: ModelInfo,
    limits: crate::imageio::ImageLimits,
}

impl Embedder {
    /// Loads the backbone the configuration names (the factory).
    pub fn open(cfg: &ModelConfig) -> Result<Self, EmbedError> {
        let pre = cfg.preprocess();
        let backbone = tract_backend::TractBackbone::load(cfg, &pre)?;
        Ok(Self { limits: cfg.image_limits(), ..Self::with_backbone(Box::new(backbone), pre) })
    }

    /// Wraps an already-built backbone (tests use small fakes); default image limits.
    pub fn with_backbone(backbone: Box<dyn Backbone>, pre: Preprocess) -> Self {
        let info = ModelInfo { preprocess: pre.key(), ..backbone.info().clone() };
        Self { backbone, pre, info, limits: Default::default() }
    }

    /// The limits [`Embedder::embed_file`] reads images within (`model.max_image_*`).
    pub fn image_limits(&self) -> &crate::imageio::ImageLimits {
        &self.limits
    }

    /// Facts about the model, with the preprocessing in use.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The preprocessing in use.
    pub fn preprocess(&self) -> &Preprocess {
        &self.pre
    }

    /// Embeds one image; with `mirrored`, also its left-right mirror (a second inference).
    pub fn embed(&self, img: &RgbImage, mirrored: bool) -> Result<Embedding, EmbedError> {
        let out = self.run(img, false)?;
        let zero_shot = out.logits.as_deref().and_then(ZeroShot::from_logits);
        let mirrored = if mirrored { Some(self.run(img, true)?.embedding) } else { None };
        Ok(Embedding { vector: out.embedding, mirrored, zero_shot })
    }

    /// Reads, decodes and embeds an image file; returns its bytes too (the store keeps them).
    pub fn embed_file(&self, path: &std::path::Path, mirrored: bool) -> Result<(Vec<u8>, Embedding), FileEmbedError> {
        let (bytes, img) = crate::imageio::read_image(path, &self.limits)?;
        let embedding =
            self.embed(&img, mirrored).map_err(|source| FileEmbedError::Embed { path: path.to_path_buf(), source })?;
        Ok((bytes, embedding))
    }

    /// Preprocesses and runs one image, returning the raw backbone output.
    pub fn run(&self, img: &RgbImage, mirror: bool) -> Result<BackboneOutput, EmbedError> {
        let fitted = self.pre.fit(img, mirror);
        self.run_tensor(self.pre.to_tensor(&fitted))
    }

    /// Runs an already-preprocessed input tensor.
    pub fn run_tensor(&self, input: Tensor) -> Result<BackboneOutput, EmbedError> {
        self.backbone.run(input)
    }
}

/// Returns `v` scaled to unit L2 norm (a zero vector stays zero).
pub fn l2_normalised(v: &[f32]) -> Vec<f32> {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter().map(|x| x / n).collect()
    } else {
        v.to_vec()
    }
}

/// Cosine similarity of two vectors of equal length.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb).max(f32::MIN_POSITIVE)
}
