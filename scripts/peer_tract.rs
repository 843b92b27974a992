//! The tract side of `scripts/bench-peers.sh` and `scripts/bench-loop.sh`: teachcam's own
//! embedding path (`Embedder::open` → `TractBackbone`, as the daemon loads it) timed on inputs
//! that another engine can be fed byte for byte.
//!
//!     cargo run --release --example peer_tract -- input PHOTO OUT.f32 [--config FILE]
//!     cargo run --release --example peer_tract -- time INPUT.f32 --threads T --iters N [--config FILE]
//!                                                 [--model FILE] [--embedding OUT.f32]
//!     cargo run --release --example peer_tract -- files PHOTO... --threads T [--config FILE]
//!
//! - `input`: reads and preprocesses PHOTO with teachcam's preprocessing (decode, crop, resize,
//!   normalise) and writes the model input tensor as raw little-endian f32; prints its shape.
//! - `time`: loads the model with `model.threads = T`, runs 2 warm-up inferences on the raw
//!   tensor, then N timed ones; prints `times_ms` and each inference's milliseconds on one line.
//!   `--embedding` writes the embedding (raw f32) for an agreement check with the other engine.
//! - `files`: embed-only throughput on photos: each photo read, decoded, preprocessed and
//!   embedded in turn (what the daemon does per frame, without the loop), then inference alone
//!   on the same photos' tensors; prints frames/s and CPU milliseconds per frame of both.
//!
//! Model load time is left out of every figure. Settings come from `--config` (default: the
//! built-in defaults, i.e. `models/efficientnet-lite0-int8.onnx` from the working directory).

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::time::Instant;
use teachcam::config::Config;
use teachcam::embed::Embedder;
use tract_core::prelude::Tensor;

#[derive(Parser)]
struct Args {
    /// teachcam config file for the `[model]` settings (default: built-in defaults).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Model file, instead of the config's `model.path`.
    #[arg(long, global = true)]
    model: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Preprocesses a photo into a raw f32 input tensor.
    Input { photo: PathBuf, out: PathBuf },
    /// Times inference on a raw f32 input tensor.
    Time {
        input: PathBuf,
        #[arg(long, default_value_t = 1)]
        threads: usize,
        #[arg(long, default_value_t = 20)]
        iters: usize,
        /// Writes the embedding here (raw f32).
        #[arg(long)]
        embedding: Option<PathBuf>,
    },
    /// Embed-only throughput on photos: decode + preprocess + embed, and inference alone.
    Files {
        photos: Vec<PathBuf>,
        #[arg(long, default_value_t = 1)]
        threads: usize,
    },
}

fn config(args: &Args, threads: usize) -> Result<Config> {
    let mut cfg = match &args.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    if let Some(m) = &args.model {
        cfg.model.path = m.clone();
    }
    cfg.model.threads = threads;
    cfg.model.validate().map_err(|e| anyhow::anyhow!("{} = {}: {}", e.key, e.value, e.problem))?;
    Ok(cfg)
}

fn open(cfg: &Config) -> Result<Embedder> {
    Embedder::open(&cfg.model).with_context(|| format!("loading {}", cfg.model.path.display()))
}

fn write_f32(path: &Path, v: &[f32]) -> Result<()> {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

fn read_tensor(path: &Path, shape: [usize; 4]) -> Result<Tensor> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let n: usize = shape.iter().product();
    if bytes.len() != n * 4 {
        bail!("{}: {} bytes, expected {} (f32 {:?})", path.display(), bytes.len(), n * 4, shape);
    }
    let v: Vec<f32> = bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    Tensor::from_shape(&shape, &v)
}

fn tensor_of(embedder: &Embedder, photo: &Path) -> Result<Tensor> {
    let (_, img) = teachcam::imageio::read_image(photo, embedder.image_limits())?;
    let pre = embedder.preprocess();
    Ok(pre.to_tensor(&pre.fit(&img, false)))
}

fn main() -> Result<()> {
    let args = Args::parse();
    match &args.cmd {
        Cmd::Input { photo, out } => {
            let cfg = config(&args, 1)?;
            let pre = cfg.model.preprocess();
            let (_, img) = teachcam::imageio::read_image(photo, &cfg.model.image_limits())?;
            let t = pre.to_tensor(&pre.fit(&img, false));
            write_f32(out, &t.to_plain_array_view::<f32>()?.iter().copied().collect::<Vec<_>>())?;
            println!("input {:?} {}", pre.input_shape(), out.display());
        }
        Cmd::Time { input, threads, iters, embedding } => {
            let embedder = open(&config(&args, *threads)?)?;
            let tensor = read_tensor(input, embedder.preprocess().input_shape())?;
            embedder.run_tensor(tensor.clone())?; // warm-up
            let out = embedder.run_tensor(tensor.clone())?;
            let mut times = Vec::with_capacity(*iters);
            for _ in 0..(*iters).max(1) {
                let t = tensor.clone();
                let s = Instant::now();
                embedder.run_tensor(t)?;
                times.push(s.elapsed().as_secs_f64() * 1e3);
            }
            if let Some(p) = embedding {
                write_f32(p, &out.embedding)?;
            }
            let shown: Vec<String> = times.iter().map(|t| format!("{t:.3}")).collect();
            println!("times_ms {}", shown.join(" "));
        }
        Cmd::Files { photos, threads } => {
            if photos.is_empty() {
                bail!("no photos given");
            }
            let embedder = open(&config(&args, *threads)?)?;
            embedder.run_tensor(tensor_of(&embedder, &photos[0])?)?; // warm-up
            let (s, c) = (Instant::now(), cpu_seconds());
            for p in photos {
                let (_, img) = teachcam::imageio::read_image(p, embedder.image_limits())?;
                embedder.embed(&img, false)?;
            }
            let n = photos.len() as f64;
            let (full, full_cpu) = (n / s.elapsed().as_secs_f64(), (cpu_seconds() - c) * 1e3 / n);
            let tensors: Vec<Tensor> = photos.iter().map(|p| tensor_of(&embedder, p)).collect::<Result<_>>()?;
            let (s, c) = (Instant::now(), cpu_seconds());
            for t in tensors {
                embedder.run_tensor(t)?;
            }
            let (alone, alone_cpu) = (n / s.elapsed().as_secs_f64(), (cpu_seconds() - c) * 1e3 / n);
            println!("frames {} threads {threads}", photos.len());
            println!("decode+preprocess+embed {full:.2} frames/s {full_cpu:.1} cpu_ms/frame");
            println!("inference alone {alone:.2} frames/s {alone_cpu:.1} cpu_ms/frame");
        }
    }
    Ok(())
}

/// CPU time (user + system) this process has used so far, in seconds.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes into the zeroed struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return f64::NAN;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    secs(u.ru_utime) + secs(u.ru_stime)
}
