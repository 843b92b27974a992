//! End to end through the binary on synthetic images (always runs): import → train →
//! predict → eval → status, and clear errors for bad input.

mod common;
use common::*;

#[test]
fn import_train_predict_eval_on_synthetic_images() {
    if common::emulated("import_train_predict_eval_on_synthetic_images") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (train, test, data) = (tmp.path().join("train"), tmp.path().join("test"), tmp.path().join("data"));
    synthetic_set(&train, 12, 1, (320, 240));
    synthetic_set(&test, 6, 2, (256, 144));
    let data = data.to_str().unwrap();

    let out = ok(&["--data", data, "import", "--label", "warm", train.join("warm").to_str().unwrap()]);
    assert!(out.contains("added 12, skipped 0"), "{out}");
    let out = ok(&["--data", data, "import", "--label", "cool", train.join("cool").to_str().unwrap()]);
    assert!(out.contains("added 12"), "{out}");
    // Importing the same files again adds nothing.
    let out = ok(&["--data", data, "import", "--label", "cool", train.join("cool").to_str().unwrap()]);
    assert!(out.contains("added 0, skipped 12 (12 already stored, 0 failed)"), "{out}");

    let report: serde_json::Value = serde_json::from_str(&ok(&["--data", data, "train", "--json"])).unwrap();
    assert_eq!(report["labels"], serde_json::json!(["cool", "warm"]));
    assert_eq!(report["holdout"]["accuracy"], 1.0, "{report}");
    assert!(report["baseline"].is_null(), "no ImageNet baseline for warm/cool");

    let preds: serde_json::Value =
        serde_json::from_str(&ok(&["--data", data, "predict", "--json", test.join("warm").to_str().unwrap()])).unwrap();
    let preds = preds.as_array().unwrap();
    assert_eq!(preds.len(), 6);
    assert!(preds.iter().all(|p| p["label"] == "warm"), "{preds:?}");

    let eval: serde_json::Value =
        serde_json::from_str(&ok(&["--data", data, "eval", "--json", test.to_str().unwrap()])).unwrap();
    assert_eq!(eval["n"], 12);
    assert_eq!(eval["accuracy"], 1.0, "{eval}");
    assert!(eval["baseline_accuracy"].is_null());
    assert_eq!(eval["confusion"], serde_json::json!([[6, 0], [0, 6]]));
    let thresholds = eval["thresholds"].as_array().expect("eval --json has the thresholds");
    assert_eq!(thresholds.len(), 2, "{eval}");
    assert!(thresholds.iter().all(|t| t.as_f64().is_some_and(|t| (0.0..=1.0).contains(&t))), "{eval}");

    let status = ok(&["--data", data, "status"]);
    assert!(status.contains("cool") && status.contains("12") && status.contains("head: trained"), "{status}");
}

#[test]
fn bad_input_gets_one_clear_line_and_nothing_is_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let d = data.to_str().unwrap();
    let imgs = tmp.path().join("imgs");
    synthetic_set(&imgs, 2, 3, (200, 150));
    let warm = imgs.join("warm");

    // Training an empty store, or a store with one label.
    assert!(fails(&["--data", d, "train"]).contains("at least 2 labels"));
    ok(&["--data", d, "import", "--label", "warm", warm.to_str().unwrap()]);
    let e = fails(&["--data", d, "train"]);
    assert!(e.contains("at least 2 labels") && e.contains("warm"), "{e}");

    // A corrupt image among good ones: the good one is imported, the bad one named.
    let mixed = tmp.path().join("mixed");
    std::fs::create_dir_all(&mixed).unwrap();
    std::fs::write(mixed.join("broken.jpg"), b"\xff\xd8\xff\xe0 not really a jpeg").unwrap();
    std::fs::copy(imgs.join("cool/cool00.jpg"), mixed.join("good.jpg")).unwrap();
    let out = teachcam(&["--data", d, "import", "--label", "cool", mixed.to_str().unwrap()]);
    assert!(!out.status.success());
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("added 1") && stdout.contains("broken.jpg: truncated JPEG"), "{stdout}");
    assert!(stderr.contains("1 of 2 files could not be imported"), "{stderr}");

    // Predict before training, a missing file, a bad label.
    assert!(fails(&["--data", d, "predict", warm.join("warm00.jpg").to_str().unwrap()]).contains("teachcam train"));
    assert!(fails(&["--data", d, "predict", "/nonexistent/x.jpg"]).contains("/nonexistent/x.jpg"));
    assert!(fails(&["--data", d, "import", "--label", "../up", warm.to_str().unwrap()]).contains("invalid label"));

    // Eval on a folder whose sub-folder is not a known label.
    ok(&["--data", d, "train"]);
    let evaldir = tmp.path().join("eval");
    std::fs::create_dir_all(evaldir.join("horse")).unwrap();
    std::fs::copy(warm.join("warm00.jpg"), evaldir.join("horse/h.jpg")).unwrap();
    let e = fails(&["--data", d, "eval", evaldir.to_str().unwrap()]);
    assert!(e.contains("horse") && e.contains("not a label"), "{e}");
    assert!(fails(&["--data", d, "predict", mixed.join("broken.jpg").to_str().unwrap()]).contains("broken.jpg"));

    // A bad config names file, line and key; a wrong model names the file.
    let conf = tmp.path().join("bad.toml");
    std::fs::write(&conf, "[model]\ncrop = \"diagonal\"\n").unwrap();
    let e = fails(&["--config", conf.to_str().unwrap(), "status"]);
    assert!(e.contains("bad.toml") && e.contains("line 2") && e.contains("crop"), "{e}");
    let fake = tmp.path().join("fake.onnx");
    std::fs::write(&fake, b"this is not onnx").unwrap();
    std::fs::write(&conf, format!("[model]\npath = {:?}\n", fake.to_str().unwrap())).unwrap();
    let e = fails(&["--config", conf.to_str().unwrap(), "--data", d, "train"]);
    assert!(e.contains("fake.onnx") && e.contains("not a usable ONNX model"), "{e}");
    std::fs::write(&conf, "[model]\nembedding_output = \"features\"\n").unwrap();
    let e = fails(&["--config", conf.to_str().unwrap(), "--data", d, "train"]);
    assert!(e.contains("no output named \"features\"") && e.contains("embedding"), "{e}");

    // Through all of that, the stored examples were never touched.
    let status = ok(&["--data", d, "status"]);
    assert!(status.contains("3 examples"), "{status}");
}

/// A PNG header claiming `w`×`h` pixels, followed by the start of its image data: a tiny file
/// that decodes to nothing, so only a check of the header can answer for it.
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for chunk in [ihdr, b"IDAT\x78\x9c".to_vec()] {
        out.extend_from_slice(&(chunk.len() as u32 - 4).to_be_bytes());
        out.extend_from_slice(&chunk);
        out.extend_from_slice(&crc32fast::hash(&chunk).to_be_bytes());
    }
    out
}

/// A folder with two good images and one of each kind of bad one; returns the bad ones' names
/// with the reason each must be given.
fn hostile_folder(dir: &std::path::Path, good: &std::path::Path) -> Vec<(&'static str, &'static str)> {
    std::fs::create_dir_all(dir).unwrap();
    for (n, f) in std::fs::read_dir(good).unwrap().flatten().take(2).enumerate() {
        std::fs::copy(f.path(), dir.join(format!("good{n}.jpg"))).unwrap();
    }
    let jpeg = std::fs::read(dir.join("good0.jpg")).unwrap();
    std::fs::write(dir.join("cut.jpg"), &jpeg[..jpeg.len() * 2 / 3]).unwrap();
    std::fs::write(dir.join("huge.png"), png_header(30_000, 30_000)).unwrap();
    std::fs::write(dir.join("text.jpg"), b"hello").unwrap();
    vec![
        ("cut.jpg", "truncated JPEG: no end-of-image marker"),
        ("huge.png", "30000×30000 pixels (900.0 MP), more than model.max_image_pixels (32.0 MP)"),
        ("text.jpg", "not a JPEG or PNG"),
    ]
}

#[test]
fn import_and_predict_go_on_past_bad_files_and_list_them() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    let d = d.to_str().unwrap();
    synthetic_set(&tmp.path().join("set"), 2, 4, (160, 120));
    let warm = tmp.path().join("warm");
    let bad = hostile_folder(&warm, &tmp.path().join("set/warm"));

    let out = teachcam(&["--data", d, "import", "--label", "warm", warm.to_str().unwrap()]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success() && !stderr.contains("panicked"), "{stderr}");
    assert!(stdout.contains("warm: added 2, skipped 3 (0 already stored, 3 failed) (2 stored)"), "{stdout}");
    for (name, why) in &bad {
        let line = format!("  failed {}: {why}\n", warm.join(name).display());
        assert!(stdout.contains(&line), "{line:?} missing from:\n{stdout}");
    }
    assert!(stderr.contains("teachcam: error: 3 of 5 files could not be imported"), "{stderr}");
    // What was good is stored; a second import finds it there and still lists the bad ones.
    assert!(ok(&["--data", d, "status"]).contains("2 examples"));
    let again =
        String::from_utf8_lossy(&teachcam(&["--data", d, "import", "--label", "warm", warm.to_str().unwrap()]).stdout)
            .to_string();
    assert!(again.contains("added 0, skipped 5 (2 already stored, 3 failed)"), "{again}");

    let cool = tmp.path().join("set/cool");
    ok(&["--data", d, "import", "--label", "cool", cool.to_str().unwrap()]);
    ok(&["--data", d, "train"]);
    let out = teachcam(&["--data", d, "predict", "--json", warm.to_str().unwrap()]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "{stdout}");
    let preds: serde_json::Value = serde_json::from_str(&stdout).expect("stdout stays JSON");
    assert_eq!(preds.as_array().unwrap().len(), 2, "the good images are labelled: {preds}");
    for (name, why) in &bad {
        assert!(stderr.contains(&format!("  failed {}: {why}", warm.join(name).display())), "{name}: {stderr}");
    }
    assert!(stderr.contains("3 of 5 images could not be read"), "{stderr}");
}

#[test]
fn a_cause_is_printed_once() {
    let e = fails(&["--config", "/nonexistent/teachcam.toml", "status"]);
    assert_eq!(e.matches("os error 2").count(), 1, "{e}");
    assert!(e.starts_with("teachcam: error: cannot read config /nonexistent/teachcam.toml: "), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
}
