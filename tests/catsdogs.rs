//! The accuracy bar on real photos: import the first 20 training photos per class, train (with
//! the built-in background set), then evaluate on all 1 000 test photos, and on the evaluation
//! half of the photos that show neither. Needs `../shared/data/catsdogs` (or
//! `$TEACHCAM_DATA_DIR`) and `../shared/data/none` (or `$TEACHCAM_NONE_DIR`); says NOT RUN
//! loudly when they are absent.

mod common;
use common::*;

#[test]
fn twenty_photos_per_class_beat_the_original_model() {
    let Some(photos) = catsdogs("twenty_photos_per_class_beat_the_original_model") else {
        return;
    };
    let Some(none) = none_photos("twenty_photos_per_class_beat_the_original_model") else { return };
    let tmp = tempfile::tempdir().unwrap();
    let nothing = tempfile::tempdir().unwrap();
    assert_eq!(link_none_eval_half(&none, nothing.path()), 144);
    let d = tmp.path().to_str().unwrap();
    for label in ["cat", "dog"] {
        let files: Vec<String> =
            (0..20).map(|i| photos.join(format!("train/{label}/{label}.{i}.jpg")).display().to_string()).collect();
        let mut args = vec!["--data", d, "import", "--label", label];
        args.extend(files.iter().map(String::as_str));
        assert!(ok(&args).contains("added 20"));
    }
    let report: serde_json::Value = serde_json::from_str(&ok(&["--data", d, "train", "--json"])).unwrap();
    assert!(report["baseline"]["accuracy"].is_number(), "train reports the original model: {report}");

    assert!(report["rejected_rate"].is_number() && report["background_lit_rate"].is_number(), "{report}");

    let test = photos.join("test");
    let args =
        ["--data", d, "eval", "--json", test.to_str().unwrap(), "--background", nothing.path().to_str().unwrap()];
    let eval: serde_json::Value = serde_json::from_str(&ok(&args)).unwrap();
    let (acc, base) = (eval["accuracy"].as_f64().unwrap(), eval["baseline_accuracy"].as_f64().unwrap());
    let (rejected, lit) = (eval["rejected_rate"].as_f64().unwrap(), eval["background_lit_rate"].as_f64().unwrap());
    eprintln!("catsdogs: accuracy {acc:.4}, original model {base:.4}, rejected {rejected:.4}, background lit {lit:.4}");
    assert_eq!(eval["n"], 1000);
    assert_eq!(eval["background_n"], 144);
    assert!(acc >= 0.975, "accuracy {acc} below the 97.5% bar");
    assert!(base < acc, "the trained head ({acc}) beats the zero-shot original model ({base})");
    assert!(rejected <= 0.03, "{rejected} of the test photos called nothing known (bar: 3 %)");
    assert!(lit <= 0.05, "{lit} of the photos that show neither lit an LED (bar: 5 %)");
}
