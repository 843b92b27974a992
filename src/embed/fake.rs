//! A tiny stand-in backbone for tests: the embedding is built from the colours of the
//! preprocessed input, so it runs in microseconds and needs no model file, while images of
//! different colours still land in different places (which is what the loop's logic needs).
//!
//! Each of the 3 channels contributes its mean over the whole image and over each of the 4
//! quadrants, plus 1 constant: 16 dimensions. A uniformly coloured frame therefore has an
//! embedding that is a clean function of its colour.

use super::{Backbone, BackboneOutput, EmbedError, Embedder, Layout, ModelConfig, ModelInfo};
use std::path::PathBuf;
use tract_core::prelude::Tensor;

/// Embedding length of [`FakeBackbone`].
pub const DIMS: usize = 16;

/// The fake backbone. Its [`ModelInfo::sha256`] is the hash of a fixed string, so heads and
/// cached embeddings made with it are refused by the real model and vice versa.
pub struct FakeBackbone {
    info: ModelInfo,
    layout: Layout,
}

impl FakeBackbone {
    /// A fake backbone for inputs laid out as `layout`.
    pub fn new(layout: Layout) -> Self {
        let info = ModelInfo {
            path: PathBuf::from("fake-backbone"),
            sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"teachcam fake backbone: colour means v1")),
            dims: DIMS,
            classes: None,
            preprocess: String::new(),
        };
        Self { info, layout }
    }

    /// An [`Embedder`] with this backbone and `cfg`'s preprocessing, at an 8×8 input (the
    /// colour means do not need more pixels).
    pub fn embedder(cfg: &ModelConfig) -> Embedder {
        let mut pre = cfg.preprocess();
        pre.size = 8;
        Embedder::with_backbone(Box::new(Self::new(cfg.layout)), pre)
    }
}

impl Backbone for FakeBackbone {
    fn run(&self, input: Tensor) -> Result<BackboneOutput, EmbedError> {
        let view = input.to_plain_array_view::<f32>().map_err(|e| EmbedError::Inference(e.to_string()))?;
        let shape = view.shape().to_vec();
        let (h, w) = match (self.layout, shape.as_slice()) {
            (Layout::Nchw, [1, 3, h, w]) | (Layout::Nhwc, [1, h, w, 3]) => (*h, *w),
            _ => return Err(EmbedError::Inference(format!("fake backbone: unexpected input shape {shape:?}"))),
        };
        let at = |c: usize, y: usize, x: usize| match self.layout {
            Layout::Nchw => view[[0, c, y, x]],
            Layout::Nhwc => view[[0, y, x, c]],
        };
        let mean = |c: usize, ys: std::ops::Range<usize>, xs: std::ops::Range<usize>| {
            let n = (ys.len() * xs.len()).max(1) as f32;
            ys.flat_map(|y| xs.clone().map(move |x| (y, x))).map(|(y, x)| at(c, y, x)).sum::<f32>() / n
        };
        let (hh, hw) = (h / 2, w / 2);
        let mut embedding = Vec::with_capacity(DIMS);
        for c in 0..3 {
            embedding.push(mean(c, 0..h, 0..w));
            for (ys, xs) in [(0..hh, 0..hw), (0..hh, hw..w), (hh..h, 0..hw), (hh..h, hw..w)] {
                embedding.push(mean(c, ys, xs));
            }
        }
        embedding.push(1.0);
        Ok(BackboneOutput { embedding, logits: None })
    }

    fn info(&self) -> &ModelInfo {
        &self.info
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    #[test]
    fn colours_give_distinct_stable_embeddings() {
        let e = FakeBackbone::embedder(&ModelConfig::default());
        let red = e.embed(&RgbImage::from_pixel(40, 30, Rgb([220, 20, 20])), false).unwrap();
        let blue = e.embed(&RgbImage::from_pixel(64, 48, Rgb([20, 20, 220])), false).unwrap();
        assert_eq!(red.vector.len(), DIMS);
        assert!(red.vector[0] > 0.5 && blue.vector[0] < -0.5, "{:?} {:?}", red.vector, blue.vector);
        assert!(crate::embed::cosine(&red.vector, &blue.vector) < 0.5);
        let red_again = e.embed(&RgbImage::from_pixel(100, 80, Rgb([220, 20, 20])), false).unwrap();
        assert!(crate::embed::cosine(&red.vector, &red_again.vector) > 0.999);
    }
}
