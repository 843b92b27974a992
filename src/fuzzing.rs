//! Entry points of the fuzz targets (`fuzz/fuzz_targets/*.rs`, run by `scripts/fuzz.sh`), also
//! run over the kept corpora by `tests/fuzz_corpora.rs` so that stable-Rust CI replays them.
//!
//! Each function takes arbitrary bytes, feeds them to one reader of untrusted input, and panics
//! only when a property that must hold for every input is broken (a panic of the code under
//! test is a finding too). Errors are fine: bad input must be refused, not accepted.

use crate::camera::mjpeg::{MjpegSplitter, DEFAULT_MAX_FRAME};
use crate::camera::Frame;
use crate::config::Config;
use crate::daemon::Daemon;
use crate::embed::fake::FakeBackbone;
use crate::head::BackgroundSource;
use crate::imageio::{decode_checked, ImageLimits, MAX_SIDE};
use crate::panel::{ButtonEvent, Control, HoldRepeater, SimulatedPanel};
use crate::store::{embfile, index::Index, legacy};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A fuzz target: its name (that of `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/`)
/// and its entry point.
pub type Target = (&'static str, fn(&[u8]));

/// Every fuzz target.
pub const TARGETS: &[Target] =
    &[("mjpeg", mjpeg), ("config", config), ("embfile", embfile), ("index", index), ("image", image)];

/// Splits bytes as an MJPEG stream. The first byte chooses the read sizes (1 to 64 bytes) and
/// whether a small frame size limit applies; the rest is the stream.
///
/// Checks: every frame is one JPEG (SOI … EOI) within the limit; every byte is either in a
/// frame or counted as skipped; without a limit hit, reading in pieces gives exactly the frames
/// of reading at once.
pub fn mjpeg(data: &[u8]) {
    let Some((&ctl, stream)) = data.split_first() else { return };
    let chunk = usize::from(ctl & 0x3F) + 1;
    let max_frame = if ctl & 0x40 != 0 { 16 + usize::from(ctl >> 7) * 48 } else { DEFAULT_MAX_FRAME };
    let split = |pieces: &mut dyn Iterator<Item = &[u8]>| {
        let mut s = MjpegSplitter::new(max_frame);
        let (mut frames, mut too_large) = (Vec::new(), 0);
        for piece in pieces {
            if s.push(piece, &mut frames).is_err() {
                too_large += 1;
            }
        }
        let dropped = s.finish();
        assert_eq!(s.pending_bytes(), 0, "finish leaves nothing pending");
        let framed: usize = frames.iter().map(Vec::len).sum();
        assert_eq!(framed as u64 + s.skipped_bytes(), stream.len() as u64, "every byte framed or skipped");
        for f in &frames {
            assert!(f.len() >= 4 && f.starts_with(&[0xFF, 0xD8]) && f.ends_with(&[0xFF, 0xD9]), "not a JPEG: {f:02X?}");
            assert!(f.len() <= max_frame, "frame of {} bytes over the limit {max_frame}", f.len());
        }
        (frames, dropped, s.skipped_bytes(), too_large)
    };
    let whole = split(&mut std::iter::once(stream));
    let pieces = split(&mut stream.chunks(chunk));
    if whole.3 == 0 && pieces.3 == 0 {
        assert_eq!(whole, pieces, "reading in pieces of {chunk} bytes changes the frames");
    }
}

/// Parses bytes as a config file. Checks: a refused config names the file; an accepted one
/// runs: a daemon built from it (fake backbone, simulated panel, a fresh data folder, no
/// background set) shows a frame and lives a day of time, and its hold-to-burst settings
/// schedule captures.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = Path::new("fuzz/config.toml");
    let config = match Config::parse(text, path) {
        Ok(c) => c,
        Err(e) => {
            assert!(e.to_string().contains("fuzz/config.toml"), "message does not name the file: {e}");
            return;
        }
    };
    let now = Instant::now();
    let mut repeater = HoldRepeater::from_config(&config.capture);
    repeater.on_event(&ButtonEvent::press(Control::Label(0)), now);
    for later in [Duration::ZERO, Duration::from_secs(1), Duration::from_secs(86_400)] {
        repeater.due(now + later);
    }
    let data_dir = tempfile::tempdir_in(scratch()).expect("temporary folder");
    let mut config = Config { data_dir: data_dir.path().into(), ..config };
    // Files a config names (model, background set) are read by their own readers, not here.
    config.head.background = BackgroundSource::Off;
    let embedder = Arc::new(FakeBackbone::embedder(&config.model));
    let (buttons, leds, _sim) = SimulatedPanel::new(config.labels.len());
    let daemon = Daemon::new(&config, embedder, Box::new(buttons), Box::new(leds), HoldRepeater::per_frame(), now);
    let mut daemon = daemon.expect("a fresh data folder opens");
    let image = image::RgbImage::from_fn(6, 4, |x, y| image::Rgb([x as u8 * 40, y as u8 * 60, 90]));
    let frame = Frame { image, seq: 0, source: None };
    daemon.tick(Some(&frame), now);
    daemon.tick(Some(&frame), now + Duration::from_secs(86_400));
    daemon.shutdown();
}

/// Where the config target's data folders go: RAM when there is a `/dev/shm` (fsync is free).
fn scratch() -> std::path::PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.into()
    } else {
        std::env::temp_dir()
    }
}

/// Decodes bytes as an `.emb` file. Checks: what decodes is re-encoded to a file that decodes
/// to the same bits (NaNs included), with a well-formed model hash.
pub fn embfile(data: &[u8]) {
    let Ok(file) = embfile::decode(data) else { return };
    assert_eq!(file.model_sha256.len(), 64, "model hash is 32 bytes of hex");
    let again = embfile::encode(&file.model_sha256, &file.embedding);
    let back = embfile::decode(&again).expect("a re-encoded file decodes");
    assert_eq!(embfile::encode(&back.model_sha256, &back.embedding), again, "re-encoding is stable");
}

/// Reads bytes as the `index.json` of an old data folder, as the migration to SQLite does
/// ([`legacy::read`]), in a folder holding the images `examples/cat/1.jpg` and
/// `examples/dog/2.png`. Checks: what parses is written back to JSON that parses to the same
/// index; every example the migration would take is one of those image files (never a path the
/// index names elsewhere), each id once (ids are the database's keys).
pub fn index(data: &[u8]) {
    if let Ok(index) = serde_json::from_slice::<Index>(data) {
        let json = serde_json::to_vec_pretty(&index).expect("an index serialises");
        let back: Index = serde_json::from_slice(&json).expect("a written index parses");
        assert_eq!(back, index, "index changes when written and read back");
    }
    let root = tempfile::tempdir_in(scratch()).expect("temporary folder");
    let images = [("cat", "1.jpg"), ("dog", "2.png")].map(|(label, name)| {
        let dir = root.path().join(legacy::EXAMPLES).join(label);
        std::fs::create_dir_all(&dir).expect("label folder");
        std::fs::write(dir.join(name), b"image").expect("image file");
        dir.join(name)
    });
    std::fs::write(root.path().join(legacy::INDEX), data).expect("index file");
    let found = legacy::read(root.path(), &mut Vec::new());
    for ex in &found {
        assert!(images.contains(&ex.image), "the migration would read {} for {:?}", ex.image.display(), ex.entry);
    }
    let mut ids: Vec<_> = found.iter().map(|e| &e.entry.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), found.len(), "an example is taken twice: {found:?}");
}

/// Decodes bytes as an image with the default size limits, as imports and camera frames are
/// ([`decode_checked`]). Checks: a decoded image has pixels, no more than the limits allow (the
/// header check happened before the decoder allocated), and as many as its size says.
pub fn image(data: &[u8]) {
    let limits = ImageLimits::default();
    let Ok(img) = decode_checked(data, &limits) else { return };
    let (w, h) = img.dimensions();
    assert!(w > 0 && h > 0 && w <= MAX_SIDE && h <= MAX_SIDE, "decoded a {w}×{h} image");
    assert!(u64::from(w) * u64::from(h) <= limits.max_pixels, "decoded {w}×{h}, over the pixel limit");
    assert_eq!(img.as_raw().len(), w as usize * h as usize * 3, "pixel buffer size");
}
