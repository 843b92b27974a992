//! The rpicam-vid pipe source, with a shell script standing in for rpicam-vid.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use image::{Rgb, RgbImage};
use teachcam::camera::{self, CameraError, RpicamCodec, RpicamConfig, SlotMode, SourceConfig};

/// Writes an executable script `name` running `body` under /bin/sh.
/// Writes an executable shell script. The executable is written by `install`, a process of
/// its own: were it written here, a test forking a child on another thread at that moment
/// would inherit the open file and make running the script fail with "Text file busy".
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let (text, path) = (dir.join(format!("{name}.txt")), dir.join(name));
    fs::write(&text, format!("#!/bin/sh\n{body}\n")).unwrap();
    let status = std::process::Command::new("install").arg("-m").arg("755").arg(&text).arg(&path).status().unwrap();
    assert!(status.success(), "install {}", path.display());
    path
}

fn jpeg(value: u8) -> Vec<u8> {
    let img = RgbImage::from_pixel(32, 24, Rgb([value, 255 - value, 128]));
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 95).encode_image(&img).unwrap();
    bytes
}

fn cfg(command: &Path) -> RpicamConfig {
    RpicamConfig {
        command: command.display().to_string(),
        width: 32,
        height: 24,
        fps: 10,
        max_restarts: 2,
        ..RpicamConfig::default()
    }
}

fn red(f: &camera::Frame) -> u8 {
    f.image.get_pixel(16, 12).0[0]
}

#[test]
fn mjpeg_pipe_is_split_decoded_and_restarted() {
    let dir = tempfile::tempdir().unwrap();
    // Garbage before, between and after frames; the last frame is truncated.
    let last = jpeg(250);
    let stream = [
        b"rpicam banner\n".to_vec(),
        jpeg(20),
        vec![0xFF, 0x00, 0x13],
        jpeg(120),
        jpeg(200),
        last[..last.len() / 2].to_vec(),
    ]
    .concat();
    let data = dir.path().join("stream.mjpeg");
    fs::write(&data, stream).unwrap();
    let args = dir.path().join("args.txt");
    let cmd = script(
        dir.path(),
        "fake-rpicam-vid",
        &format!(
            "echo \"$@\" > {args:?}\necho starting >&2\nexec cat {data:?}",
            args = args.display().to_string(),
            data = data.display().to_string()
        ),
    );
    let mut src =
        camera::open(&SourceConfig::Rpicam(RpicamConfig { extra_args: vec!["--hflip".into()], ..cfg(&cmd) })).unwrap();
    let mut got = Vec::new();
    for seq in 0..5 {
        let f = src.next_frame().unwrap().expect("live source never ends");
        assert_eq!(f.seq, seq);
        assert_eq!(f.source, None);
        assert_eq!(f.image.dimensions(), (32, 24));
        got.push(red(&f));
    }
    // Three frames per run of the script; the fourth comes from a restart.
    let expected = [20u8, 120, 200, 20, 120];
    for (g, e) in got.iter().zip(expected) {
        assert!(g.abs_diff(e) <= 3, "got {got:?}, expected {expected:?}");
    }
    assert_eq!(
        fs::read_to_string(&args).unwrap().trim(),
        "-t 0 -n --codec mjpeg --width 32 --height 24 --framerate 10 -o - --hflip"
    );
}

#[test]
fn command_that_keeps_failing_reports_its_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = script(dir.path(), "broken", "echo 'ERROR: *** no cameras available ***' >&2\nexit 255");
    let mut src = camera::open(&SourceConfig::Rpicam(cfg(&cmd))).unwrap();
    let err = src.next_frame().expect_err("must fail");
    match &err {
        CameraError::CommandFailed { attempts, status, .. } => {
            assert_eq!(*attempts, 3);
            assert!(status.contains("255"), "{status}");
        }
        other => panic!("unexpected error {other}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("no cameras available"), "{msg}");
    assert!(msg.contains("broken"), "{msg}");
}

#[test]
fn yuv420_frames_with_padded_rows() {
    let dir = tempfile::tempdir().unwrap();
    // 66x4 frames: rows padded to a 128-byte stride, chroma rows to 64.
    let (w, h, stride) = (66usize, 4usize, 128usize);
    let frame = |y: u8, u: u8, v: u8| {
        let mut f = Vec::new();
        for _ in 0..h {
            f.extend(std::iter::repeat_n(y, w));
            f.extend(std::iter::repeat_n(0xEE, stride - w));
        }
        for c in [u, v] {
            for _ in 0..h / 2 {
                f.extend(std::iter::repeat_n(c, w / 2));
                f.extend(std::iter::repeat_n(0xEE, stride / 2 - w / 2));
            }
        }
        f
    };
    let stream = [frame(81, 90, 240), frame(41, 240, 110)].concat();
    assert_eq!(stream.len(), 2 * 768);
    let data = dir.path().join("stream.yuv");
    fs::write(&data, stream).unwrap();
    let cmd = script(dir.path(), "fake-yuv", &format!("exec cat {:?}", data.display().to_string()));
    let mut src = camera::open(&SourceConfig::Rpicam(RpicamConfig {
        codec: RpicamCodec::Yuv420,
        width: 66,
        height: 4,
        ..cfg(&cmd)
    }))
    .unwrap();
    let red = src.next_frame().unwrap().unwrap();
    assert_eq!(red.image.dimensions(), (66, 4));
    assert!(red.image.pixels().all(|p| p.0 == [255, 0, 0]));
    let blue = src.next_frame().unwrap().unwrap();
    assert!(blue.image.pixels().all(|p| p.0 == [0, 0, 255]));
}

#[test]
fn capture_thread_over_a_live_pipe_keeps_the_latest_frame() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("one.jpg");
    fs::write(&data, jpeg(77)).unwrap();
    // An endless stream, as from a real camera.
    let cmd = script(dir.path(), "endless", &format!("while cat {:?}; do :; done", data.display().to_string()));
    let src = camera::open(&SourceConfig::Rpicam(cfg(&cmd))).unwrap();
    let capture = camera::spawn_capture(src, SlotMode::Latest);
    let first = capture.next(Duration::from_secs(5)).unwrap().unwrap();
    assert!(red(&first).abs_diff(77) <= 3);
    std::thread::sleep(Duration::from_millis(300));
    let later = capture.next(Duration::from_secs(5)).unwrap().unwrap();
    // Frames were produced while we slept; all but the newest were dropped.
    assert!(later.seq > first.seq + 1, "{} {}", first.seq, later.seq);
    // Every frame between the two taken ones was dropped; the thread may have dropped more
    // since `later` was taken, as it keeps reading the endless pipe.
    assert!(capture.dropped() >= later.seq - first.seq - 1, "{} < {}", capture.dropped(), later.seq - first.seq - 1);
    drop(capture); // kills the child; must not hang
}
