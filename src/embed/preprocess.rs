//! Image → model input: crop to the model's aspect, resize, normalise, lay out as a tensor.
//!
//! Must agree with `scripts/export_model.py` (center crop, antialiased bilinear resize,
//! `(x - mean) / std`), which `tests/reference_embeddings.rs` checks.

use image::imageops::{self, FilterType};
use image::{Rgb, RgbImage};
use serde::Deserialize;
use tract_core::prelude::*;

/// How a frame whose aspect differs from the model's square input is fitted to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Crop {
    /// The largest centred square, resized (what Teachable Machine does). Loses the sides of a wide frame.
    #[default]
    Center,
    /// The whole frame resized to the square, distorting the aspect ratio.
    Squash,
    /// The whole frame resized to fit, letterboxed with the mean colour.
    Pad,
}

/// Memory layout of the model's input tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// `[1, 3, H, W]` (PyTorch exports).
    #[default]
    Nchw,
    /// `[1, H, W, 3]` (TensorFlow exports).
    Nhwc,
}

/// Everything needed to turn an image into the model's input.
#[derive(Debug, Clone, PartialEq)]
pub struct Preprocess {
    /// Side of the square input, in pixels.
    pub size: u32,
    /// Per-channel mean subtracted from 0..255 values.
    pub mean: [f32; 3],
    /// Per-channel divisor applied after the mean.
    pub std: [f32; 3],
    /// Tensor layout.
    pub layout: Layout,
    /// How non-square frames are fitted.
    pub crop: Crop,
}

impl Preprocess {
    /// A readable key naming everything that changes the embeddings: two preprocessings with
    /// the same key give the same input tensor for the same image.
    pub fn key(&self) -> String {
        let [m0, m1, m2] = self.mean;
        let [s0, s1, s2] = self.std;
        format!("{}px {:?} {:?} mean {m0},{m1},{m2} std {s0},{s1},{s2}", self.size, self.layout, self.crop)
            .to_lowercase()
    }

    /// Crops/resizes `img` to the model's square input size, optionally mirrored left-right.
    pub fn fit(&self, img: &RgbImage, mirror: bool) -> RgbImage {
        let (w, h) = img.dimensions();
        let s = self.size;
        let mut out = match self.crop {
            Crop::Center => {
                let side = w.min(h);
                let (x0, y0) = ((w - side) / 2, (h - side) / 2);
                if side == s {
                    // Row copies: `SubImage::to_image` goes pixel by pixel (1.5 M Cortex-A72
                    // instructions for a 224×224 frame, against ~0.05 M).
                    crop_rows(img, x0, y0, side)
                } else {
                    let view = imageops::crop_imm(img, x0, y0, side, side);
                    imageops::resize(&*view, s, s, FilterType::Triangle)
                }
            }
            Crop::Squash => {
                if (w, h) == (s, s) {
                    img.clone()
                } else {
                    imageops::resize(img, s, s, FilterType::Triangle)
                }
            }
            Crop::Pad => {
                let scale = s as f32 / w.max(h) as f32;
                let (nw, nh) =
                    (((w as f32 * scale).round() as u32).clamp(1, s), ((h as f32 * scale).round() as u32).clamp(1, s));
                let fitted = imageops::resize(img, nw, nh, FilterType::Triangle);
                let fill = Rgb(self.mean.map(|m| m.round().clamp(0.0, 255.0) as u8));
                let mut canvas = RgbImage::from_pixel(s, s, fill);
                imageops::replace(&mut canvas, &fitted, ((s - nw) / 2) as i64, ((s - nh) / 2) as i64);
                canvas
            }
        };
        if mirror {
            imageops::flip_horizontal_in_place(&mut out);
        }
        out
    }

    /// Normalises a fitted `size`×`size` image into a `[1, …]` f32 tensor in the model's layout.
    pub fn to_tensor(&self, fitted: &RgbImage) -> Tensor {
        let s = self.size as usize;
        assert_eq!(fitted.dimensions(), (self.size, self.size), "image must be fitted first");
        let scale = self.std.map(|d| 1.0 / d);
        let px = fitted.as_raw();
        match self.layout {
            Layout::Nchw => {
                let mut data = vec![0f32; 3 * s * s];
                let (r, rest) = data.split_at_mut(s * s);
                let (g, b) = rest.split_at_mut(s * s);
                for (i, p) in px.chunks_exact(3).enumerate() {
                    r[i] = (p[0] as f32 - self.mean[0]) * scale[0];
                    g[i] = (p[1] as f32 - self.mean[1]) * scale[1];
                    b[i] = (p[2] as f32 - self.mean[2]) * scale[2];
                }
                tract_ndarray::Array4::from_shape_vec((1, 3, s, s), data).expect("shape matches").into()
            }
            Layout::Nhwc => {
                let data: Vec<f32> =
                    px.iter().enumerate().map(|(i, &v)| (v as f32 - self.mean[i % 3]) * scale[i % 3]).collect();
                tract_ndarray::Array4::from_shape_vec((1, s, s, 3), data).expect("shape matches").into()
            }
        }
    }

    /// The input shape this preprocessing produces.
    pub fn input_shape(&self) -> [usize; 4] {
        let s = self.size as usize;
        match self.layout {
            Layout::Nchw => [1, 3, s, s],
            Layout::Nhwc => [1, s, s, 3],
        }
    }
}

/// The `side`×`side` square of `img` from (`x0`, `y0`), which must lie inside it.
fn crop_rows(img: &RgbImage, x0: u32, y0: u32, side: u32) -> RgbImage {
    let (w, x0, side) = (img.width() as usize, x0 as usize, side as usize);
    let raw = img.as_raw();
    let mut buf = Vec::with_capacity(side * side * 3);
    for y in y0 as usize..y0 as usize + side {
        buf.extend_from_slice(&raw[(y * w + x0) * 3..][..side * 3]);
    }
    RgbImage::from_raw(side as u32, side as u32, buf).unwrap_or_else(|| RgbImage::new(side as u32, side as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pre(crop: Crop) -> Preprocess {
        Preprocess { size: 4, mean: [127.0; 3], std: [128.0; 3], layout: Layout::Nchw, crop }
    }

    /// An 8×4 frame whose left half is red and right half blue.
    fn wide() -> RgbImage {
        RgbImage::from_fn(8, 4, |x, _| if x < 4 { Rgb([255, 0, 0]) } else { Rgb([0, 0, 255]) })
    }

    #[test]
    fn center_crop_keeps_the_middle_square() {
        let f = pre(Crop::Center).fit(&wide(), false);
        assert_eq!(f.dimensions(), (4, 4));
        // The middle square of the frame spans x = 2..6: red on the left, blue on the right.
        assert_eq!(f.get_pixel(0, 0)[0], 255);
        assert_eq!(f.get_pixel(3, 0)[2], 255);
    }

    #[test]
    fn the_row_crop_is_the_sub_image() {
        // A tall 5×9 frame of distinct pixels: the middle 5×5 square, as `SubImage` copies it.
        let tall = RgbImage::from_fn(5, 9, |x, y| Rgb([x as u8, y as u8, (7 * x + 3 * y) as u8]));
        let mut p = pre(Crop::Center);
        p.size = 5;
        assert_eq!(p.fit(&tall, false), imageops::crop_imm(&tall, 0, 2, 5, 5).to_image());
    }

    #[test]
    fn pad_letterboxes_with_mean_colour() {
        let f = pre(Crop::Pad).fit(&wide(), false);
        assert_eq!(f.dimensions(), (4, 4));
        assert_eq!(*f.get_pixel(0, 0), Rgb([127, 127, 127]), "top band is padding");
        assert_eq!(*f.get_pixel(0, 3), Rgb([127, 127, 127]), "bottom band is padding");
        assert_eq!(f.get_pixel(0, 1)[0], 255, "content keeps red on the left");
    }

    #[test]
    fn squash_keeps_both_halves() {
        let f = pre(Crop::Squash).fit(&wide(), false);
        assert_eq!(f.get_pixel(0, 2)[0], 255);
        assert_eq!(f.get_pixel(3, 2)[2], 255);
    }

    #[test]
    fn mirror_flips_left_right() {
        let f = pre(Crop::Squash).fit(&wide(), true);
        assert_eq!(f.get_pixel(0, 2)[2], 255);
        assert_eq!(f.get_pixel(3, 2)[0], 255);
    }

    #[test]
    fn nchw_tensor_is_normalised_planar() {
        let p = pre(Crop::Center);
        let img = RgbImage::from_fn(4, 4, |x, y| Rgb([255, 127, if x == 1 && y == 2 { 0 } else { 127 }]));
        let t = p.to_tensor(&img);
        assert_eq!(t.shape(), &[1, 3, 4, 4]);
        let v = t.to_plain_array_view::<f32>().unwrap();
        assert!((v[[0, 0, 0, 0]] - 1.0).abs() < 1e-6);
        assert_eq!(v[[0, 1, 3, 3]], 0.0);
        assert!((v[[0, 2, 2, 1]] + 127.0 / 128.0).abs() < 1e-6, "row 2, column 1 of the blue plane");
    }

    #[test]
    fn nhwc_tensor_is_interleaved() {
        let mut p = pre(Crop::Center);
        p.layout = Layout::Nhwc;
        let img = RgbImage::from_fn(4, 4, |x, _| Rgb([if x == 3 { 255 } else { 127 }, 127, 127]));
        let t = p.to_tensor(&img);
        assert_eq!(t.shape(), &[1, 4, 4, 3]);
        let v = t.to_plain_array_view::<f32>().unwrap();
        assert!((v[[0, 0, 3, 0]] - 1.0).abs() < 1e-6);
        assert_eq!(v[[0, 0, 2, 0]], 0.0);
    }
}
