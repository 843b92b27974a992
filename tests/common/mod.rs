//! Helpers shared by the integration tests: running the binary, making synthetic images,
//! finding the shared photo set.

#![allow(dead_code)]

use image::{Rgb, RgbImage};
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the teachcam binary with `args`, from the repository root.
pub fn teachcam(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_teachcam"))
        .args(args)
        .current_dir(repo())
        .env("RUST_LOG", "warn")
        .env_remove("TEACHCAM_CONFIG")
        .output()
        .expect("the teachcam binary runs")
}

/// Runs teachcam and returns stdout, panicking with stderr if it failed.
pub fn ok(args: &[&str]) -> String {
    let out = teachcam(args);
    assert!(out.status.success(), "teachcam {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs teachcam expecting failure; returns stderr.
pub fn fails(args: &[&str]) -> String {
    let out = teachcam(args);
    assert!(!out.status.success(), "teachcam {args:?} should fail, printed:\n{}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!err.contains("panicked"), "a clear error, not a panic: {err}");
    err
}

/// A synthetic "warm" picture: a bright disc on a red/orange gradient, varied by `rng`.
pub fn warm(rng: &mut impl Rng, w: u32, h: u32) -> RgbImage {
    let (cx, cy, r) = (
        rng.random_range(0.3..0.7) * w as f32,
        rng.random_range(0.3..0.7) * h as f32,
        rng.random_range(0.15..0.3) * h as f32,
    );
    let shade = rng.random_range(0..60) as u8;
    RgbImage::from_fn(w, h, |x, y| {
        let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
        if d < r {
            Rgb([255, 240 - shade, 120])
        } else {
            Rgb([200 + (55 * x / w) as u8, (80 + 100 * y / h) as u8 - shade / 2, 30])
        }
    })
}

/// A synthetic "cool" picture: blue/green stripes at a varied angle and pitch.
pub fn cool(rng: &mut impl Rng, w: u32, h: u32) -> RgbImage {
    let (a, pitch) = (rng.random_range(0.0..std::f32::consts::PI), rng.random_range(8.0..20.0f32));
    let (s, c) = a.sin_cos();
    RgbImage::from_fn(w, h, |x, y| {
        let t = (x as f32 * c + y as f32 * s) / pitch;
        if t.rem_euclid(2.0) < 1.0 {
            Rgb([20, 90, 220])
        } else {
            Rgb([30, 200, 140])
        }
    })
}

/// Writes `n` synthetic images of each kind as JPEGs into `dir/warm` and `dir/cool`.
pub fn synthetic_set(dir: &Path, n: usize, seed: u64, size: (u32, u32)) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    for (name, make) in [("warm", warm as fn(&mut rand_chacha::ChaCha8Rng, u32, u32) -> RgbImage), ("cool", cool)] {
        let d = dir.join(name);
        std::fs::create_dir_all(&d).unwrap();
        for i in 0..n {
            make(&mut rng, size.0, size.1).save(d.join(format!("{name}{i:02}.jpg"))).unwrap();
        }
    }
}

/// True (after saying NOT RUN loudly) when `$TEACHCAM_EMULATED` is set: the test suite runs
/// under qemu user-mode emulation, where inference is ~100× slower and wall-clock timings mean
/// nothing. Heavy or timing-based tests skip then; the aarch64 CI step says which.
pub fn emulated(test: &str) -> bool {
    let on = std::env::var_os("TEACHCAM_EMULATED").is_some();
    if on {
        eprintln!("\n*** {test}: NOT RUN under emulation (TEACHCAM_EMULATED is set) ***\n");
    }
    on
}

/// The Kaggle cats/dogs photos: `$TEACHCAM_DATA_DIR`, else `../shared/data/catsdogs`.
/// Returns `None` (and says so loudly) when absent, unless `$TEACHCAM_REQUIRE_DATA` is set,
/// in which case a missing folder fails the test.
pub fn catsdogs(test: &str) -> Option<PathBuf> {
    if emulated(test) {
        return None;
    }
    let dir = std::env::var_os("TEACHCAM_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/data/catsdogs"));
    if dir.join("train/cat").is_dir() && dir.join("test/dog").is_dir() {
        return Some(dir);
    }
    let msg = format!("{test}: NOT RUN — photo folder {} not found (set TEACHCAM_DATA_DIR)", dir.display());
    assert!(std::env::var_os("TEACHCAM_REQUIRE_DATA").is_none(), "{msg}, and TEACHCAM_REQUIRE_DATA is set");
    eprintln!("\n*** {msg} ***\n");
    None
}

/// The photos that show neither a cat nor a dog: `$TEACHCAM_NONE_DIR`, else
/// `../shared/data/none`. Absent: `None` and a loud NOT RUN, or a failure under
/// `$TEACHCAM_REQUIRE_DATA`.
pub fn none_photos(test: &str) -> Option<PathBuf> {
    if emulated(test) {
        return None;
    }
    let dir =
        std::env::var_os("TEACHCAM_NONE_DIR").map(PathBuf::from).unwrap_or_else(|| repo().join("../shared/data/none"));
    if dir.is_dir() {
        return Some(dir);
    }
    let msg = format!("{test}: NOT RUN — photo folder {} not found (set TEACHCAM_NONE_DIR)", dir.display());
    assert!(std::env::var_os("TEACHCAM_REQUIRE_DATA").is_none(), "{msg}, and TEACHCAM_REQUIRE_DATA is set");
    eprintln!("\n*** {msg} ***\n");
    None
}

/// Links the evaluation half of the `none` photos into `dest` with the one rule in
/// `scripts/lib/scenario.sh` (the other half built the shipped background set). Returns how
/// many.
pub fn link_none_eval_half(none: &Path, dest: &Path) -> usize {
    let out = Command::new("bash")
        .arg("-c")
        .arg(". scripts/lib/scenario.sh && scenario_link_none_half \"$1\" eval \"$2\"")
        .arg("link")
        .arg(none)
        .arg(dest)
        .current_dir(repo())
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().parse().expect("a count")
}
