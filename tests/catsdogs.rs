//! The accuracy bar on real photos: import the first 20 training photos per class, train,
//! then evaluate on all 1 000 test photos. Needs `../shared/data/catsdogs` (or
//! `$TEACHCAM_DATA_DIR`); says NOT RUN loudly when it is absent.

mod common;
use common::*;

#[test]
fn twenty_photos_per_class_beat_the_original_model() {
    let Some(photos) = catsdogs("twenty_photos_per_class_beat_the_original_model") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
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

    let eval: serde_json::Value =
        serde_json::from_str(&ok(&["--data", d, "eval", "--json", photos.join("test").to_str().unwrap()])).unwrap();
    let (acc, base) = (eval["accuracy"].as_f64().unwrap(), eval["baseline_accuracy"].as_f64().unwrap());
    eprintln!("catsdogs: accuracy {acc:.4}, original model {base:.4}, n {}", eval["n"]);
    assert_eq!(eval["n"], 1000);
    assert!(acc >= 0.975, "accuracy {acc} below the 97.5% bar");
    assert!(base < acc, "the trained head ({acc}) beats the zero-shot original model ({base})");
}
