//! `teachcam scenario`: synthetic sessions (always run) and the cats/dogs bar on the shared
//! photos through `scripts/catsdogs_scenario.sh` (teach 20 + 20 by holding buttons, train,
//! 1 000 test photos × 5 frames; then the same test frames after a "restart" with the same data
//! folder). Summaries are read from `teachcam scenario --json`.

mod common;
use common::*;
use std::path::Path;

fn write(path: &Path, text: &str) -> String {
    std::fs::write(path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// Runs `teachcam ARGS scenario … --json` and returns its summary.
fn scenario_json(args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_str(&ok(&all)).expect("scenario --json prints one JSON object")
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
    let out = scenario_json(&["--config", &conf, "scenario", &file, "--out", jsonl.to_str().unwrap()]);
    assert_eq!(out["examples"], serde_json::json!({"cool": 8, "warm": 8}), "one example per held frame: {out}");
    assert_eq!((&out["correct"], &out["scored"], &out["accuracy"]), (&12.into(), &12.into(), &1.0.into()), "{out}");
    assert_eq!(out["multiple_lit"], 0, "{out}");
    // The text summary says the same.
    let text = ok(&["--config", &conf, "scenario", &file]);
    assert!(text.contains("LED accuracy 100.00% (12 of 12 images"), "{text}");
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&jsonl).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 16 + 12 * 3, "one line per frame");
    assert_eq!(lines[0]["label"], serde_json::Value::Null, "no head while teaching");
    let last = lines.last().unwrap();
    assert_eq!(last["label"], "warm", "test images are in name order: cool/, then warm/");
    assert_eq!(last["leds"], serde_json::json!({"warm": true, "cool": false}));
    assert!(last["confidence"].as_f64().unwrap() > 0.5);
}

/// The cats/dogs bar through `scripts/catsdogs_scenario.sh` (the same script a person runs):
/// hold CAT over the first 20 training cats, DOG over 20 dogs, TRAIN, then the 1 000 test
/// photos and the 144 evaluation photos that show neither × 5 frames; then the same frames
/// again from the same data folder after a restart. The default config: the built-in
/// background set and "nothing known" on.
/// The script itself fails when the LED states of the two runs differ.
#[test]
fn cats_and_dogs_through_the_daemon_and_after_a_restart() {
    let Some(photos) = catsdogs("cats_and_dogs_through_the_daemon_and_after_a_restart") else { return };
    let out = std::process::Command::new("bash")
        .arg(repo().join("scripts/catsdogs_scenario.sh"))
        .arg(&photos)
        .env("TEACHCAM_BIN", env!("CARGO_BIN_EXE_teachcam"))
        .env("RUST_LOG", "warn")
        .env_remove("TEACHCAM_CONFIG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}");
    assert!(out.status.success(), "catsdogs_scenario.sh failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let runs: Vec<serde_json::Value> =
        stdout.lines().filter_map(|l| l.strip_prefix("json: ")).map(|l| serde_json::from_str(l).unwrap()).collect();
    let [first, again] = runs.as_slice() else { panic!("two summaries expected: {stdout}") };
    assert_eq!(first["scored"], 1000);
    let accuracy = first["accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.97, "LED accuracy {accuracy} below 97%");
    assert_eq!(first["multiple_lit"], 0);
    assert_eq!(first["examples"], serde_json::json!({"cat": 20, "dog": 20}));
    assert_eq!((&again["correct"], &again["scored"]), (&first["correct"], &first["scored"]), "same after a restart");
    // The evaluation half of the photos that show neither (144, 5 frames each) lights nothing.
    assert_eq!(first["nothing_scored"], 144, "{stdout}");
    let lit = first["nothing_lit_rate"].as_f64().unwrap();
    assert!(lit <= 0.05, "{lit} of the photos that show neither lit an LED (bar: 5 %)");
    assert_eq!(again["nothing_lit"], first["nothing_lit"], "same after a restart");
    assert!(stdout.contains("LED states of the 5720 test frames: identical in both runs"), "{stdout}");
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
    let out = scenario_json(&["--config", &conf, "scenario", &file, "--out", jsonl.to_str().unwrap()]);
    assert_eq!((&out["correct"], &out["scored"]), (&16.into(), &16.into()), "{out}");
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

/// A held step whose last image is unreadable: the next step's first frame must be shown with
/// the next step's button, not the previous one (it used to be stored as an example of the
/// label still held). Fake backbone: milliseconds, no model file.
#[test]
fn an_unreadable_last_frame_of_a_held_step_does_not_capture_the_next_step() {
    let tmp = tempfile::tempdir().unwrap();
    let teach = tmp.path().join("teach");
    synthetic_set(&teach, 4, 31, (64, 48));
    std::fs::write(teach.join("warm/warm99.jpg"), b"not a jpeg").unwrap();
    let scenario = format!(
        "[[step]]\nframes = {w:?}\nhold = \"warm\"\n[[step]]\nframes = {c:?}\nhold = \"cool\"\n",
        w = teach.join("warm").to_str().unwrap(),
        c = teach.join("cool").to_str().unwrap(),
    );
    let file = tmp.path().join("s.toml");
    write(&file, &scenario);
    let mut config = teachcam::config::Config {
        labels: vec!["warm".into(), "cool".into()],
        data_dir: tmp.path().join("unused"),
        ..Default::default()
    };
    config.head.background = teachcam::head::BackgroundSource::Off;
    let embedder = std::sync::Arc::new(teachcam::embed::fake::FakeBackbone::embedder(&config.model));
    let summary = teachcam::scenario::run_with(&config, &file, None, embedder).unwrap();
    assert_eq!(summary.unreadable, 1, "{summary:?}");
    assert_eq!(summary.frames, 8, "{summary:?}");
    let expected: std::collections::BTreeMap<String, usize> = [("cool".into(), 4), ("warm".into(), 4)].into();
    assert_eq!(summary.examples, expected, "each frame stored under the label held while it was shown");
}
