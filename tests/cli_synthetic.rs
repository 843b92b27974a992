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
    assert!(out.contains("added 0, skipped 12") && out.contains("already stored"), "{out}");

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
    assert!(stdout.contains("added 1") && stdout.contains("broken.jpg"), "{stdout}");
    assert!(stderr.contains("could not be read"), "{stderr}");

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
