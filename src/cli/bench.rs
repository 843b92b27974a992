//! `teachcam bench`: model load, preprocessing, embedding, training and prediction times.
//!
//! Figures are medians over repeated runs in this process; ratios compare peers measured the
//! same way (1 vs N inference threads, this model vs `--compare`), never absolute limits.
//! With `--json` the same figures are printed as one JSON object at the end instead.

use super::{open_embedder, open_store_read_only};
use crate::config::Config;
use crate::embed::{Crop, Embedder, Preprocess};
use anyhow::{bail, Context as _, Result};
use image::RgbImage;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Frame sizes preprocessing and the motion gate are timed on.
const SIZES: [(u32, u32); 3] = [(640, 480), (1280, 720), (1920, 1080)];

/// What `bench --json` prints; times in milliseconds unless the name says µs.
#[derive(Debug, Default, Serialize)]
struct BenchJson {
    /// The configured model file.
    model: PathBuf,
    /// Its embedding length.
    dims: usize,
    /// Its sha256.
    sha256: String,
    /// Time to load it.
    load_ms: f64,
    /// Timed runs per embedding figure (the median is reported).
    iters: usize,
    /// Preprocessing per frame size and crop.
    preprocess: Vec<PreprocessJson>,
    /// Motion gate (thumbnail + comparison) per frame size.
    gate: Vec<GateJson>,
    /// Embedding per inference thread count.
    embed: Vec<EmbedJson>,
    /// The `--compare` model, if any.
    compare: Option<CompareJson>,
    /// Training on the stored examples; `None` when there are none (see `train_skipped`).
    train: Option<TrainJson>,
    /// Why training was not timed.
    train_skipped: Option<String>,
}

/// Preprocessing of one frame size.
#[derive(Debug, Serialize)]
struct PreprocessJson {
    width: u32,
    height: u32,
    center_ms: f64,
    squash_ms: f64,
    pad_ms: f64,
}

/// The motion gate's cost on one frame size.
#[derive(Debug, Serialize)]
struct GateJson {
    width: u32,
    height: u32,
    us: f64,
}

/// Embedding with a thread count.
#[derive(Debug, Serialize)]
struct EmbedJson {
    threads: usize,
    ms: f64,
    frames_per_s: f64,
}

/// The `--compare` model.
#[derive(Debug, Serialize)]
struct CompareJson {
    model: PathBuf,
    embed_ms: f64,
    /// Its embedding time over the configured model's (1 thread each).
    ratio: f64,
}

/// Training and prediction on the stored examples.
#[derive(Debug, Serialize)]
struct TrainJson {
    examples: usize,
    ms: f64,
    predict_us: f64,
    /// The "nothing known" check, when the head has one.
    nothing_known_check_us: Option<f64>,
}

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

/// Runs the benchmark and prints its figures, as they come or (`json`) as one object at the end.
pub fn run(config: &Config, iters: usize, compare: Option<&Path>, json: bool) -> Result<()> {
    if iters == 0 {
        bail!("--iters 0: at least 1 timed run is needed (the median of the runs is reported; default 30)");
    }
    // A wrong --compare model fails now, not after the whole benchmark.
    let other = match compare {
        Some(path) if !path.is_file() => bail!("--compare {}: no such model file", path.display()),
        Some(path) => Some(
            Embedder::open(&crate::embed::ModelConfig { path: path.to_path_buf(), ..config.model.clone() })
                .with_context(|| format!("--compare {}", path.display()))?,
        ),
        None => None,
    };
    let say = |line: String| {
        if !json {
            println!("{line}");
        }
    };
    let t = Instant::now();
    let embedder = open_embedder(config)?;
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let info = embedder.info();
    let mut report = BenchJson {
        model: info.path.clone(),
        dims: info.dims,
        sha256: info.sha256.clone(),
        load_ms,
        iters,
        ..BenchJson::default()
    };
    say(format!("model {} ({} dims, sha256 {:.12}…)", info.path.display(), info.dims, info.sha256));
    say(format!("model load            {load_ms:8.1} ms"));

    let pre = embedder.preprocess().clone();
    for (w, h) in SIZES {
        let img = frame(w, h);
        let ms: Vec<f64> = [Crop::Center, Crop::Squash, Crop::Pad]
            .iter()
            .map(|&crop| {
                let p = Preprocess { crop, ..pre.clone() };
                median_ms(iters.min(20), || {
                    let _ = p.to_tensor(&p.fit(&img, false));
                })
            })
            .collect();
        say(format!("preprocess {w:>4}x{h:<4}   Center {:6.2}  Squash {:6.2}  Pad {:6.2} ms", ms[0], ms[1], ms[2]));
        report.preprocess.push(PreprocessJson {
            width: w,
            height: h,
            center_ms: ms[0],
            squash_ms: ms[1],
            pad_ms: ms[2],
        });
    }
    // Motion gating's cost per frame: the thumbnail and its comparison with the last one.
    for (w, h) in SIZES {
        let (img, last) = (frame(w, h), crate::daemon::Thumbnail::of(&frame(w, h)));
        let ms = median_ms(iters.max(200), || {
            let t = crate::daemon::Thumbnail::of(&img);
            std::hint::black_box(t.zip(last.as_ref()).and_then(|(t, l)| t.largest_change(l)));
        });
        report.gate.push(GateJson { width: w, height: h, us: ms * 1e3 });
    }
    let gate: Vec<String> = report.gate.iter().map(|g| format!("{:.1}", g.us)).collect();
    say(format!("gate thumbnail + compare 640x480 / 1280x720 / 1920x1080: {} µs", gate.join(" / ")));

    // The loaded embedder runs with the configured thread count: time 1 thread and all cores
    // with embedders of their own unless the configuration already is that.
    let with_threads = |threads: usize| -> Result<f64> {
        if threads == config.model.threads {
            return embed_ms(&embedder, iters);
        }
        embed_ms(&Embedder::open(&crate::embed::ModelConfig { threads, ..config.model.clone() })?, iters)
    };
    let one = with_threads(1)?;
    say(format!("embed (1 thread)      {one:8.2} ms  (median of {iters}; {:.1} frames/s)", 1e3 / one));
    report.embed.push(EmbedJson { threads: 1, ms: one, frames_per_s: 1e3 / one });
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut counts = vec![cores, config.model.threads];
    counts.dedup();
    for threads in counts.into_iter().filter(|&t| t > 1) {
        let ms = with_threads(threads)?;
        let note = if threads == config.model.threads { ", as configured" } else { "" };
        say(format!("embed ({threads} threads{note}) {ms:8.2} ms  → {:.2}× the 1-thread speed", one / ms));
        report.embed.push(EmbedJson { threads, ms, frames_per_s: 1e3 / ms });
    }
    if let (Some(other), Some(path)) = (&other, compare) {
        let theirs = embed_ms(other, iters)?;
        say(format!("embed {} {theirs:8.2} ms  → this model runs at {:.2}× its speed", path.display(), theirs / one));
        report.compare = Some(CompareJson { model: path.to_path_buf(), embed_ms: theirs, ratio: theirs / one });
    }

    train_and_predict(config, info, &mut report, &say)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(())
}

/// Times training on the stored examples, head prediction and the nothing-known check.
fn train_and_predict(
    config: &Config,
    info: &crate::embed::ModelInfo,
    report: &mut BenchJson,
    say: &dyn Fn(String),
) -> Result<()> {
    let mut skip = |why: String| {
        say(format!("train                      n/a ({why})"));
        report.train_skipped = Some(why);
    };
    let examples = match open_store_read_only(config) {
        Ok(store) => store.load(info).examples,
        Err(e) => {
            skip(super::errors::error_line(&e));
            return Ok(());
        }
    };
    if examples.is_empty() {
        skip("no examples stored with this model".into());
        return Ok(());
    }
    let labels = crate::train::class_order(&config.labels, examples.iter().map(|e| e.entry.label.as_str()));
    let background = crate::train::background::BackgroundSet::for_config(config, info)?;
    let t = Instant::now();
    let mut head = match crate::train::train(&examples, &labels, info, &config.head, background.as_ref()) {
        Ok(head) => head,
        Err(e) => {
            skip(e.to_string());
            return Ok(());
        }
    };
    let ms = t.elapsed().as_secs_f64() * 1e3;
    say(format!("train ({} examples)   {ms:8.1} ms", examples.len()));
    let v = &examples[0].embedding.vector;
    let open_set = head.open_set.take();
    let predict_us = median_ms(1000, || {
        let _ = head.predict(v);
    }) * 1e3;
    say(format!("predict (head only)   {predict_us:8.1} µs"));
    let check = open_set.map(|o| {
        let us = median_ms(1000, || {
            let _ = o.assess(v);
        }) * 1e3;
        let n = o.cache.nrows();
        say(format!("nothing-known check   {us:8.1} µs  ({n} background embeddings, {} prototypes)", labels.len()));
        us
    });
    report.train = Some(TrainJson { examples: examples.len(), ms, predict_us, nothing_known_check_us: check });
    Ok(())
}
