//! `teachcam bench`: model load, preprocessing, embedding, training and prediction times.
//!
//! Figures are medians over repeated runs in this process; ratios compare peers measured the
//! same way (1 vs N inference threads, this model vs `--compare`), never absolute limits.

use super::{open_embedder, open_store_read_only};
use crate::config::Config;
use crate::embed::{Crop, Embedder, Preprocess};
use anyhow::Result;
use image::RgbImage;
use std::time::Instant;

/// Median of `iters` timed runs of `f`, in milliseconds.
fn median_ms(iters: usize, mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..iters.max(1))
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// A deterministic textured frame of the given size.
fn frame(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 7 + y * 3) as u8, (x ^ y) as u8, (x * y / 5) as u8]))
}

/// Times `embedder` on a fitted tensor (inference only).
fn embed_ms(embedder: &Embedder, iters: usize) -> Result<f64> {
    let img = frame(640, 480);
    embedder.run(&img, false)?; // warm-up
    let fitted = embedder.preprocess().fit(&img, false);
    let tensor = embedder.preprocess().to_tensor(&fitted);
    let mut err = None;
    let ms = median_ms(iters, || {
        if let Err(e) = embedder.run_tensor(tensor.clone()) {
            err = Some(e);
        }
    });
    match err {
        Some(e) => Err(e.into()),
        None => Ok(ms),
    }
}

/// Runs the benchmark and prints its figures.
pub fn run(config: &Config, iters: usize, compare: Option<&std::path::Path>) -> Result<()> {
    let t = Instant::now();
    let embedder = open_embedder(config)?;
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let info = embedder.info();
    println!("model {} ({} dims, sha256 {:.12}…)", info.path.display(), info.dims, info.sha256);
    println!("model load            {load_ms:8.1} ms");

    let pre = embedder.preprocess().clone();
    for (w, h) in [(640, 480), (1280, 720), (1920, 1080)] {
        let img = frame(w, h);
        let cells: Vec<String> = [Crop::Center, Crop::Squash, Crop::Pad]
            .iter()
            .map(|&crop| {
                let p = Preprocess { crop, ..pre.clone() };
                let ms = median_ms(iters.min(20), || {
                    let _ = p.to_tensor(&p.fit(&img, false));
                });
                format!("{crop:?} {ms:6.2}")
            })
            .collect();
        println!("preprocess {w:>4}x{h:<4}   {} ms", cells.join("  "));
    }
    // Motion gating's cost per frame: the thumbnail and its comparison with the last one.
    let gate: Vec<String> = [(640, 480), (1280, 720), (1920, 1080)]
        .iter()
        .map(|&(w, h)| {
            let (img, last) = (frame(w, h), crate::daemon::Thumbnail::of(&frame(w, h)));
            let ms = median_ms(iters.max(200), || {
                let t = crate::daemon::Thumbnail::of(&img);
                std::hint::black_box(t.zip(last.as_ref()).and_then(|(t, l)| t.largest_change(l)));
            });
            format!("{:.1}", ms * 1e3)
        })
        .collect();
    println!("gate thumbnail + compare 640x480 / 1280x720 / 1920x1080: {} µs", gate.join(" / "));

    // The loaded embedder runs with the configured thread count: time 1 thread and all cores
    // with embedders of their own unless the configuration already is that.
    let with_threads = |threads: usize| -> Result<f64> {
        if threads == config.model.threads {
            return embed_ms(&embedder, iters);
        }
        embed_ms(&Embedder::open(&crate::embed::ModelConfig { threads, ..config.model.clone() })?, iters)
    };
    let one = with_threads(1)?;
    println!("embed (1 thread)      {one:8.2} ms  (median of {iters}; {:.1} frames/s)", 1e3 / one);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut counts = vec![cores, config.model.threads];
    counts.dedup();
    for threads in counts.into_iter().filter(|&t| t > 1) {
        let ms = with_threads(threads)?;
        let note = if threads == config.model.threads { ", as configured" } else { "" };
        println!("embed ({threads} threads{note}) {ms:8.2} ms  → {:.2}× the 1-thread speed", one / ms);
    }
    if let Some(other) = compare {
        let mut cfg = config.model.clone();
        cfg.path = other.to_path_buf();
        let theirs = embed_ms(&Embedder::open(&cfg)?, iters)?;
        println!("embed {} {theirs:8.2} ms  → this model runs at {:.2}× its speed", other.display(), theirs / one);
    }

    train_and_predict(config, info)
}

/// Times training on the stored examples, head prediction and the nothing-known check.
fn train_and_predict(config: &Config, info: &crate::embed::ModelInfo) -> Result<()> {
    let examples = match open_store_read_only(config) {
        Ok(store) => store.load(info).examples,
        Err(e) => {
            println!("train                      n/a ({e})");
            return Ok(());
        }
    };
    if examples.is_empty() {
        println!("train                      n/a (no examples stored with this model)");
    } else {
        let labels = crate::train::class_order(&config.labels, examples.iter().map(|e| e.entry.label.as_str()));
        let background = crate::train::background::BackgroundSet::for_config(config, info)?;
        let t = Instant::now();
        match crate::train::train(&examples, &labels, info, &config.head, background.as_ref()) {
            Ok(mut head) => {
                println!("train ({} examples)   {:8.1} ms", examples.len(), t.elapsed().as_secs_f64() * 1e3);
                let v = &examples[0].embedding.vector;
                let open_set = head.open_set.take();
                let us = median_ms(1000, || {
                    let _ = head.predict(v);
                }) * 1e3;
                println!("predict (head only)   {us:8.1} µs");
                if let Some(o) = open_set {
                    let n = o.cache.nrows();
                    let check = median_ms(1000, || {
                        let _ = o.assess(v);
                    }) * 1e3;
                    println!(
                        "nothing-known check   {check:8.1} µs  ({n} background embeddings, {} prototypes)",
                        labels.len()
                    );
                }
            }
            Err(e) => println!("train                      n/a ({e})"),
        }
    }
    Ok(())
}
