//! Folder replay through the public factory.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use image::{Rgb, RgbImage};
use teachcam::camera::{self, CameraError, FrameSource, SourceConfig};

fn write_png(path: &Path, value: u8) {
    RgbImage::from_pixel(8, 6, Rgb([value, 0, 255 - value])).save(path).unwrap();
}

fn write_jpg(path: &Path, value: u8) {
    RgbImage::from_pixel(16, 16, Rgb([value, value, value])).save(path).unwrap();
}

fn replay(toml_extra: &str, dir: &Path) -> Result<Box<dyn FrameSource>, CameraError> {
    let text = format!("kind = \"replay\"\ndir = {:?}\n{toml_extra}", dir.display().to_string());
    let cfg: SourceConfig = toml::from_str(&text).unwrap();
    camera::open(&cfg)
}

fn drain(src: &mut dyn FrameSource) -> Vec<(u64, String, [u8; 3])> {
    let mut out = Vec::new();
    while let Some(f) = src.next_frame().unwrap() {
        let name = f.source.as_ref().unwrap();
        let name = name.strip_prefix(name.ancestors().nth(2).unwrap()).unwrap().to_string_lossy().into_owned();
        out.push((f.seq, name, f.image.get_pixel(0, 0).0));
        assert!(out.len() < 100, "replay did not end");
    }
    out
}

#[test]
fn replays_in_name_order_skipping_corrupt_and_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("frames");
    fs::create_dir(&d).unwrap();
    write_png(&d.join("b.png"), 20);
    write_png(&d.join("a.PNG"), 10);
    write_jpg(&d.join("c.jpeg"), 200);
    fs::write(d.join("bb.jpg"), b"this is not a jpeg").unwrap();
    fs::write(d.join("notes.txt"), b"ignored").unwrap();
    write_png(&d.join(".hidden.png"), 99);
    fs::create_dir(d.join("sub")).unwrap();
    write_png(&d.join("sub").join("x.png"), 50);

    let mut src = replay("", &d).unwrap();
    assert!(src.describe().contains("4 images"), "{}", src.describe());
    let frames = drain(src.as_mut());
    assert_eq!(frames.len(), 3);
    assert_eq!(frames[0], (0, "frames/a.PNG".into(), [10, 0, 245]));
    assert_eq!(frames[1], (1, "frames/b.png".into(), [20, 0, 235]));
    assert_eq!(frames[2].0, 2);
    assert_eq!(frames[2].1, "frames/c.jpeg");
    // JPEG is lossy; a flat grey survives almost exactly.
    assert!(frames[2].2.iter().all(|&v| v.abs_diff(200) <= 2));
    // End of stream stays the end.
    assert!(src.next_frame().unwrap().is_none());
}

#[test]
fn recursion_visits_sub_folders_in_name_order() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("root");
    fs::create_dir_all(d.join("b")).unwrap();
    write_png(&d.join("a.png"), 1);
    write_png(&d.join("b").join("x.png"), 2);
    write_png(&d.join("b").join("y.png"), 3);
    write_png(&d.join("c.png"), 4);
    let mut src = replay("recurse = true", &d).unwrap();
    let values: Vec<u8> = drain(src.as_mut()).iter().map(|f| f.2[0]).collect();
    assert_eq!(values, vec![1, 2, 3, 4]);
}

#[test]
fn looping_starts_over() {
    let dir = tempfile::tempdir().unwrap();
    write_png(&dir.path().join("1.png"), 1);
    write_png(&dir.path().join("2.png"), 2);
    let mut src = replay("looping = true", dir.path()).unwrap();
    let mut values = Vec::new();
    for expected_seq in 0..5 {
        let f = src.next_frame().unwrap().unwrap();
        assert_eq!(f.seq, expected_seq);
        values.push(f.image.get_pixel(0, 0).0[0]);
    }
    assert_eq!(values, vec![1, 2, 1, 2, 1]);
}

#[test]
fn fps_paces_frames() {
    let dir = tempfile::tempdir().unwrap();
    write_png(&dir.path().join("1.png"), 1);
    let mut src = replay("looping = true\nfps = 20.0", dir.path()).unwrap();
    let start = Instant::now();
    for _ in 0..6 {
        src.next_frame().unwrap().unwrap();
    }
    // First frame at once, then 5 intervals of 50 ms.
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(245), "{took:?}");
    assert!(took < Duration::from_millis(1000), "{took:?}");

    let mut fast = replay("looping = true", dir.path()).unwrap();
    let start = Instant::now();
    for _ in 0..20 {
        fast.next_frame().unwrap().unwrap();
    }
    assert!(start.elapsed() < Duration::from_millis(245));
}

#[test]
fn missing_and_empty_folders_are_errors_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let err = replay("", &missing).err().unwrap();
    assert!(matches!(err, CameraError::ReplayDirMissing { .. }));
    assert!(err.to_string().contains(&missing.display().to_string()));

    let empty = dir.path().join("empty");
    fs::create_dir_all(empty.join("inner")).unwrap();
    write_png(&empty.join("inner").join("1.png"), 1);
    let msg = replay("", &empty).err().unwrap().to_string();
    assert!(msg.contains(&empty.display().to_string()), "{msg}");
    assert!(msg.contains("recurse = true"), "{msg}");
    assert!(replay("recurse = true", &empty).is_ok());
}

#[test]
fn all_corrupt_looping_replay_errors_instead_of_spinning() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("1.jpg"), b"junk").unwrap();
    fs::write(dir.path().join("2.png"), b"junk").unwrap();
    let mut src = replay("looping = true", dir.path()).unwrap();
    let err = src.next_frame().expect_err("must fail");
    assert!(matches!(err, CameraError::ReplayAllCorrupt { count: 2, .. }), "{err}");
}
