//! Soak test of the live loop: `--frames N` (default 1 000 000) small synthetic frames through
//! the real daemon ([`teachcam::daemon::Daemon`]: capture thread in lockstep, embedding by the
//! fake backbone, captures stored in a temporary data folder, training on its background
//! thread, LEDs), with simulated buttons:
//! - a warm scene and a cool scene alternate every 500 frames; in each, its label button is
//!   tapped once (one capture per 500 frames);
//! - once the store holds `--cap` examples (default 40), UNDO follows every capture, so the
//!   store stays at its cap and the captures keep writing and removing files;
//! - TRAIN every `--train-every` frames (default 50 000), training on the store.
//!
//! Time is virtual (100 ms per frame), so health and telemetry timers run as on a device for
//! the same number of frames.
//!
//! It prints progress every 100 000 frames and, at the end, RSS (VmRSS, and the peak VmHWM) and
//! open file descriptors, measured after a warm-up (the first `--warmup` frames, default
//! 100 000: the store is at its cap and two trainings are done) and at the end.
//!
//! It also counts the heap itself (bytes allocated and not yet freed, through a counting global
//! allocator), which RSS blurs: the allocator keeps freed memory cached, and threads (one per
//! training) get their own arenas, so RSS creeps by some kB per 100 000 frames while the heap
//! stays the same. The counter sees Rust's allocations only; SQLite allocates through C's
//! malloc (its page cache is bounded), which RSS includes.
//!
//! **Flat** means: the same number of open file descriptors at the start and at the end, an end
//! RSS no more than 10 % (at least 4 MB) above the start RSS, and an end heap no more than 10 %
//! (at least 1 MB) above the start heap, since the store and head do not grow after the warm-up;
//! a leak of even 10 bytes per frame would add 9 MB over a million frames. Anything else is
//! reported as GROWING and the exit status is 1.
//!
//! Run with `scripts/soak.sh [FRAMES]`, or `cargo run --release --example soak -- --frames N`.
//! The last line is
//! `soak: frames=F captures=C trainings=T rss_start_kb=A rss_end_kb=B fds_start=X fds_end=Y`.

use clap::Parser;
use image::{Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use teachcam::camera::{spawn_capture, CameraError, Frame, FrameSource, SlotMode};
use teachcam::config::Config;
use teachcam::daemon::Daemon;
use teachcam::embed::fake::FakeBackbone;
use teachcam::panel::{Control, HoldRepeater, LedState, Leds, PanelError, SimulatedPanel};

/// The system allocator, counting the bytes allocated and not yet freed: the heap the program
/// holds, whatever the allocator keeps cached or fragmented (which RSS includes).
struct Counting;

static LIVE_BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only a counter is updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE_BYTES.fetch_sub(layout.size() as u64, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE_BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
            LIVE_BYTES.fetch_sub(layout.size() as u64, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Virtual time between two frames.
const FRAME_PERIOD: Duration = Duration::from_millis(100);
/// Frames per scene (warm, then cool).
const SCENE: u64 = 500;

#[derive(Parser)]
#[command(about = "Soak test: a million frames through the live loop, RSS and fds before and after")]
struct Args {
    /// Frames to run.
    #[arg(long, default_value_t = 1_000_000)]
    frames: u64,
    /// Frames before the start measurement.
    #[arg(long, default_value_t = 100_000)]
    warmup: u64,
    /// Examples kept in the store: above it, UNDO follows each capture.
    #[arg(long, default_value_t = 40)]
    cap: usize,
    /// Frames between two TRAIN presses.
    #[arg(long, default_value_t = 50_000)]
    train_every: u64,
    /// Seed of the synthetic scenes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// An in-memory camera: scene `seq / SCENE % 2` (warm, cool), one of a few variants each.
struct Synthetic {
    scenes: [Vec<RgbImage>; 2],
    seq: u64,
    frames: u64,
}

impl FrameSource for Synthetic {
    fn next_frame(&mut self) -> Result<Option<Frame>, CameraError> {
        if self.seq == self.frames {
            return Ok(None);
        }
        let variants = &self.scenes[(self.seq / SCENE % 2) as usize];
        let image = variants[(self.seq as usize / 7) % variants.len()].clone();
        let frame = Frame { image, seq: self.seq, source: None };
        self.seq += 1;
        Ok(Some(frame))
    }

    fn describe(&self) -> String {
        "synthetic soak scenes".into()
    }
}

/// A warm (orange-red, noisy) or cool (blue-green, noisy) 32×24 scene.
fn scene(warm: bool, rng: &mut impl Rng) -> RgbImage {
    let base = if warm { [230, 120, 40] } else { [30, 110, 210] };
    RgbImage::from_fn(32, 24, |_, _| Rgb(base.map(|c: i32| (c + rng.random_range(-25..=25)).clamp(0, 255) as u8)))
}

/// LEDs that only count changes (the simulated panel's LEDs keep a history, which would grow).
struct CountingLeds(Arc<AtomicU64>, LedState);

impl Leds for CountingLeds {
    fn set(&mut self, state: &LedState) -> Result<(), PanelError> {
        if *state != self.1 {
            self.0.fetch_add(1, Ordering::Relaxed);
            self.1 = state.clone();
        }
        Ok(())
    }

    fn off(&mut self) {
        self.1 = LedState::off(self.1.labels.len());
    }
}

/// (VmRSS, VmHWM, RssAnon) in kB, from /proc/self/status. RssAnon is the heap and stacks
/// without the mapped binary and libraries, whose pages count in VmRSS once first used.
fn memory_kb() -> (u64, u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"), field("RssAnon:"))
}

/// Open file descriptors (entries of /proc/self/fd).
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

fn main() -> anyhow::Result<()> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let args = Args::parse();
    let data = tempfile::Builder::new().prefix("teachcam-soak-").tempdir()?;
    let mut config =
        Config { labels: vec!["warm".into(), "cool".into()], data_dir: data.path().into(), ..Default::default() };
    // The shipped background set belongs to the real model, not the fake backbone.
    config.head.background = teachcam::head::BackgroundSource::Off;
    let embedder = Arc::new(FakeBackbone::embedder(&config.model));
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(args.seed);
    let scenes = [0, 1].map(|k| (0..6).map(|_| scene(k == 0, &mut rng)).collect::<Vec<_>>());
    let (buttons, _sim_leds, sim) = SimulatedPanel::new(2);
    let led_changes = Arc::new(AtomicU64::new(0));
    let leds = Box::new(CountingLeds(Arc::clone(&led_changes), LedState::off(2)));
    let mut clock = Instant::now();
    let mut daemon = Daemon::new(&config, embedder, Box::new(buttons), leds, HoldRepeater::per_frame(), clock)?;
    let capture = spawn_capture(Box::new(Synthetic { scenes, seq: 0, frames: args.frames }), SlotMode::Lockstep);
    println!("soak: {} frames through the live loop, data folder {}", args.frames, data.path().display());

    let (mut frames, mut captures, mut undos, mut trainings, mut was_training) = (0u64, 0usize, 0u64, 0u64, false);
    let mut start: Option<(u64, usize, u64)> = None;
    let started = Instant::now();
    let mut measured_at = started;
    while let Some(frame) = capture.next(Duration::from_secs(60))? {
        let seq = frame.seq;
        if seq % SCENE == SCENE / 2 {
            sim.tap(Control::Label((seq / SCENE % 2) as usize))?;
        }
        if seq % SCENE == SCENE / 2 + 10 && daemon.counts().values().sum::<usize>() > args.cap {
            sim.tap(Control::Undo)?;
            undos += 1;
        }
        if seq % args.train_every == args.train_every - 1 {
            sim.tap(Control::Train)?;
        }
        clock += FRAME_PERIOD;
        captures += daemon.tick(Some(&frame), clock).captured.len();
        let training = daemon.training();
        trainings += (was_training && !training) as u64;
        was_training = training;
        frames += 1;
        // Measured between trainings: a running one holds a file open while it saves the head.
        if start.is_none() && frames >= args.warmup.min(args.frames) && !training {
            start = Some((memory_kb().0, open_fds(), LIVE_BYTES.load(Ordering::Relaxed) / 1024));
            measured_at = Instant::now();
        }
        if frames % 100_000 == 0 {
            let (rss, hwm, anon) = memory_kb();
            let fps = frames as f64 / started.elapsed().as_secs_f64();
            let examples: usize = daemon.counts().values().sum();
            println!(
                "{frames:>9} frames  {fps:>7.0} frames/s  rss {rss} kB (peak {hwm}, anon {anon}, heap {})  fds {}  examples {examples}  \
                 captures {captures}  undos {undos}  trainings {trainings}",
                LIVE_BYTES.load(Ordering::Relaxed) / 1024,
                open_fds()
            );
        }
    }
    daemon.wait_training(clock);
    trainings += was_training as u64;
    let (rss_end, hwm, _) = memory_kb();
    let fds_end = open_fds();
    let heap_end = LIVE_BYTES.load(Ordering::Relaxed) / 1024;
    let (rss_start, fds_start, heap_start) = start.unwrap_or((rss_end, fds_end, heap_end));
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{frames} frames in {elapsed:.1} s: {:.0} frames/s ({:.0} frames/s after the warm-up)",
        frames as f64 / elapsed,
        (frames - args.warmup.min(frames)) as f64 / measured_at.elapsed().as_secs_f64().max(1e-9)
    );
    println!(
        "captures {captures}, undos {undos}, trainings {trainings}, LED changes {}, examples at the end {:?}, head {}",
        led_changes.load(Ordering::Relaxed),
        daemon.counts(),
        if daemon.head().is_some() { "trained" } else { "NONE" }
    );
    println!(
        "after warm-up: rss {rss_start} kB, fds {fds_start}; end: rss {rss_end} kB (peak {hwm} kB), fds {fds_end}"
    );
    println!("heap (bytes allocated and not freed): after warm-up {heap_start} kB, end {heap_end} kB");
    let flat = fds_end == fds_start
        && rss_end <= rss_start + (rss_start / 10).max(4096)
        && heap_end <= heap_start + (heap_start / 10).max(1024);
    println!("{}", if flat { "flat" } else { "GROWING (see the header of scripts/soak.rs for what flat means)" });
    println!(
        "soak: frames={frames} captures={captures} trainings={trainings} rss_start_kb={rss_start} rss_end_kb={rss_end} \
         fds_start={fds_start} fds_end={fds_end}"
    );
    if !flat || frames != args.frames {
        std::process::exit(1);
    }
    Ok(())
}
