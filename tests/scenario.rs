//! `teachcam scenario`: a synthetic session (always runs) and the cats/dogs bar on the shared
//! photos (teach 20 + 20 by holding buttons, train, 1 000 test photos × 5 frames; then the same
//! test frames after a "restart" with the same data folder).

mod common;
use common::*;
use std::path::Path;

/// Links the first `n` photos (`label.0.jpg` …) of `from/label` into `to/label`.
fn link_first(from: &Path, to: &Path, label: &str, n: usize) {
    let dir = to.join(label);
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..n {
        std::os::unix::fs::symlink(from.join(label).join(format!("{label}.{i}.jpg")), dir.join(format!("{i:03}.jpg")))
            .unwrap();
    }
}

fn write(path: &Path, text: &str) -> String {
    std::fs::write(path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// Parses the runner's summary line "LED accuracy X% (C of N images…".
fn led_accuracy(out: &str) -> (usize, usize) {
    let line = out.lines().find(|l| l.starts_with("LED accuracy")).expect("summary line");
    let nums: Vec<usize> = line.split(['(', ' ']).filter_map(|w| w.parse().ok()).collect();
    (nums[0], nums[1])
}

#[test]
fn synthetic_session_through_the_daemon() {
    let tmp = tempfile::tempdir().unwrap();
    let (teach, test) = (tmp.path().join("teach"), tmp.path().join("test"));
    synthetic_set(&teach, 8, 11, (320, 240));
    synthetic_set(&test, 6, 12, (320, 180));
    let conf = write(&tmp.path().join("c.toml"), "labels = [\"warm\", \"cool\"]\n");
    let scenario = format!("data = {data:?}\n[[step]]\nfacts = 1\n", data = tmp.path().join("data").to_str().unwrap());
    // A typo in a scenario names the file, line and key.
    let bad = write(&tmp.path().join("bad.toml"), &scenario);
    let e = fails(&["--config", &conf, "scenario", &bad]);
    assert!(e.contains("bad.toml") && e.contains("line 3") && e.contains("facts"), "{e}");

    let good = format!(
        "data = {data:?}\n\
         [[step]]\nframes = {w:?}\nhold = \"warm\"\n\
         [[step]]\nframes = {c:?}\nhold = \"cool\"\n\
         [[step]]\npress = \"train\"\n\
         [[step]]\nframes = {t:?}\nrecurse = true\nrepeat = 3\n",
        data = tmp.path().join("data").to_str().unwrap(),
        w = teach.join("warm").to_str().unwrap(),
        c = teach.join("cool").to_str().unwrap(),
        t = test.to_str().unwrap(),
    );
    let file = write(&tmp.path().join("s.toml"), &good);
    let jsonl = tmp.path().join("out.jsonl");
    let out = ok(&["--config", &conf, "scenario", &file, "--out", jsonl.to_str().unwrap()]);
    assert!(out.contains("examples: cool 8, warm 8"), "one example per held frame: {out}");
    assert_eq!(led_accuracy(&out), (12, 12), "{out}");
    assert!(out.contains("frames with two or more LEDs lit: 0"), "{out}");
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&jsonl).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 16 + 12 * 3, "one line per frame");
    assert_eq!(lines[0]["label"], serde_json::Value::Null, "no head while teaching");
    let last = lines.last().unwrap();
    assert_eq!(last["label"], "warm", "test images are in name order: cool/, then warm/");
    assert_eq!(last["leds"], serde_json::json!({"warm": true, "cool": false}));
    assert!(last["confidence"].as_f64().unwrap() > 0.5);
}

#[test]
fn cats_and_dogs_through_the_daemon_and_after_a_restart() {
    let Some(photos) = catsdogs("cats_and_dogs_through_the_daemon_and_after_a_restart") else { return };
    let tmp = tempfile::tempdir().unwrap();
    let teach = tmp.path().join("teach");
    for label in ["cat", "dog"] {
        link_first(&photos.join("train"), &teach, label, 20);
    }
    let data = tmp.path().join("data");
    let test_step =
        format!("[[step]]\nframes = {:?}\nrecurse = true\nrepeat = 5\n", photos.join("test").to_str().unwrap());
    let first = write(
        &tmp.path().join("teach.toml"),
        &format!(
            "data = {data:?}\n[[step]]\nframes = {c:?}\nhold = \"cat\"\n[[step]]\nframes = {d:?}\nhold = \"dog\"\n\
             [[step]]\npress = \"train\"\n{test_step}",
            data = data.to_str().unwrap(),
            c = teach.join("cat").to_str().unwrap(),
            d = teach.join("dog").to_str().unwrap(),
        ),
    );
    let again = write(&tmp.path().join("again.toml"), &format!("data = {:?}\n{test_step}", data.to_str().unwrap()));
    let out1 = ok(&["scenario", &first]);
    eprintln!("{out1}");
    let (c1, n1) = led_accuracy(&out1);
    assert_eq!(n1, 1000);
    assert!(c1 as f64 / n1 as f64 >= 0.97, "LED accuracy {c1}/{n1} below 97%");
    assert!(out1.contains("frames with two or more LEDs lit: 0"), "{out1}");
    assert!(out1.contains("examples: cat 20, dog 20"), "{out1}");

    let out2 = ok(&["scenario", &again]);
    eprintln!("{out2}");
    assert_eq!(led_accuracy(&out2), (c1, n1), "the restarted detector gives the same result");
}

#[test]
fn a_background_label_lights_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (teach, test) = (tmp.path().join("teach"), tmp.path().join("test"));
    synthetic_set(&teach, 8, 21, (320, 240));
    synthetic_set(&test, 4, 22, (320, 240));
    // The "nothing there" scene: a plain grey wall with a little noise.
    for (dir, seed) in [(&teach, 23u64), (&test, 24)] {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        std::fs::create_dir_all(dir.join("none")).unwrap();
        for i in 0..8 {
            let base: u8 = rng.random_range(90..170);
            image::RgbImage::from_fn(320, 240, |_, _| {
                let v = base.saturating_add(rng.random_range(0..12));
                image::Rgb([v, v, v])
            })
            .save(dir.join(format!("none/none{i:02}.jpg")))
            .unwrap();
        }
    }
    let conf =
        write(&tmp.path().join("c.toml"), "labels = [\"warm\", \"cool\", \"none\"]\n[live]\nno_led = [\"none\"]\n");
    let hold =
        |label: &str| format!("[[step]]\nframes = {:?}\nhold = \"{label}\"\n", teach.join(label).to_str().unwrap());
    let scenario = format!(
        "{}{}{}[[step]]\npress = \"train\"\n[[step]]\nframes = {:?}\nrecurse = true\nrepeat = 3\n",
        hold("warm"),
        hold("cool"),
        hold("none"),
        test.to_str().unwrap()
    );
    let file = write(&tmp.path().join("s.toml"), &scenario);
    let jsonl = tmp.path().join("out.jsonl");
    let out = ok(&["--config", &conf, "scenario", &file, "--out", jsonl.to_str().unwrap()]);
    assert_eq!(led_accuracy(&out), (16, 16), "{out}");
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&jsonl).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let grey: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["frame"].as_str().unwrap().contains("test/none/")).collect();
    assert_eq!(grey.len(), 8 * 3);
    for l in grey.iter().skip(2) {
        assert_eq!(l["label"], "none", "{l}");
        assert_eq!(l["leds"], serde_json::json!({"warm": false, "cool": false, "none": false}), "{l}");
    }
}
