//! How the crop mode (`model.crop`) changes accuracy on non-square camera-like frames.
//!
//! The shared photos are square, so non-square frames are made from them:
//! - `square`: the 200×200 photo as is;
//! - `16:9 close-up`: the middle 200×112 band (the subject fills the frame's width);
//! - `4:3 scene` / `16:9 scene`: the photo widened to 267×200 / 356×200 by mirroring its
//!   edges (a stand-in for the surroundings), with the subject at a seeded random offset.
//!
//! For each kind of frame and crop mode, a head is trained on frames made from the first 20
//! training photos per class and scored on frames made from all 1 000 test photos.
//! `cargo run --release --example crop_study [-- PHOTOS_DIR]` (default `../shared/data/catsdogs`).

use image::{imageops, RgbImage};
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use teachcam::embed::{Crop, Embedder, ModelConfig};
use teachcam::head::HeadConfig;
use teachcam::store::{Entry, Example, Origin};
use teachcam::train::{class_order, train};

/// Widens `img` to `width` by mirroring its edges, placing the original at `offset`.
fn widen(img: &RgbImage, width: u32, offset: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    RgbImage::from_fn(width, h, |x, y| {
        let mut sx = x as i64 - offset as i64;
        // Reflect into [0, w).
        let period = 2 * w as i64;
        sx = sx.rem_euclid(period);
        if sx >= w as i64 {
            sx = period - 1 - sx;
        }
        *img.get_pixel(sx as u32, y)
    })
}

/// The kinds of frame studied.
const KINDS: [&str; 4] = ["square", "16:9 close-up", "4:3 scene", "16:9 scene"];

fn frame(kind: &str, img: &RgbImage, rng: &mut impl Rng) -> RgbImage {
    let (w, h) = img.dimensions();
    match kind {
        "square" => img.clone(),
        "16:9 close-up" => {
            let band = w * 9 / 16;
            imageops::crop_imm(img, 0, (h - band) / 2, w, band).to_image()
        }
        "4:3 scene" | "16:9 scene" => {
            let width = if kind == "4:3 scene" { h * 4 / 3 } else { h * 16 / 9 };
            widen(img, width, rng.random_range(0..=width - w))
        }
        _ => unreachable!(),
    }
}

fn photos(dir: &Path, split: &str, label: &str, range: std::ops::Range<usize>) -> Vec<(PathBuf, String)> {
    range.map(|i| (dir.join(format!("{split}/{label}/{label}.{i}.jpg")), label.to_string())).collect()
}

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "../shared/data/catsdogs".into()));
    let mut train_set = photos(&dir, "train", "cat", 0..20);
    train_set.extend(photos(&dir, "train", "dog", 0..20));
    let mut test_set = photos(&dir, "test", "cat", 300..800);
    test_set.extend(photos(&dir, "test", "dog", 300..800));
    let load = |set: &[(PathBuf, String)]| -> Vec<(RgbImage, String)> {
        set.iter()
            .map(|(p, l)| (teachcam::imageio::read_image(p, &Default::default()).expect("photo").1, l.clone()))
            .collect()
    };
    let (train_imgs, test_imgs) = (load(&train_set), load(&test_set));
    println!("{:<14} {:>8} {:>8} {:>8}", "frames", "center", "squash", "pad");
    for kind in KINDS {
        let mut row = format!("{kind:<14}");
        for crop in [Crop::Center, Crop::Squash, Crop::Pad] {
            let embedder = Embedder::open(&ModelConfig { crop, ..Default::default() }).expect("model");
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
            let embed = |imgs: &[(RgbImage, String)], rng: &mut rand_chacha::ChaCha8Rng| -> Vec<Example> {
                let frames: Vec<(RgbImage, String)> =
                    imgs.iter().map(|(i, l)| (frame(kind, i, rng), l.clone())).collect();
                frames
                    .par_iter()
                    .enumerate()
                    .map(|(i, (f, l))| {
                        let entry = Entry {
                            id: format!("{l}-{i:04}-{}", f.width()),
                            label: l.clone(),
                            ext: "jpg".into(),
                            sha256: String::new(),
                            origin: Origin::Camera,
                            added: 0,
                        };
                        Example { entry, embedding: embedder.embed(f, false).expect("embeds") }
                    })
                    .collect()
            };
            let tr = embed(&train_imgs, &mut rng);
            let te = embed(&test_imgs, &mut rng);
            let labels = class_order(&[], tr.iter().map(|e| e.entry.label.as_str()));
            let head = train(&tr, &labels, embedder.info(), &HeadConfig::default(), None).expect("trains");
            let correct =
                te.iter().filter(|e| head.labels[head.predict(&e.embedding.vector).index] == e.entry.label).count();
            row.push_str(&format!(" {:>7.1}%", 100.0 * correct as f64 / te.len() as f64));
        }
        println!("{row}");
    }
}
