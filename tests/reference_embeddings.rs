//! Rust preprocessing + tract agree with the export script's onnxruntime reference
//! (`tests/fixtures/reference/`, made by `scripts/export_model.py`): cosine ≥ 0.998 per image.

mod common;
use teachcam::embed::{cosine, Embedder, ModelConfig};

#[test]
fn rust_embeddings_match_the_python_reference() {
    let dir = common::repo().join("tests/fixtures/reference");
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("reference.json")).unwrap()).unwrap();
    let cfg = ModelConfig { path: common::repo().join("models/efficientnet-lite0-int8.onnx"), ..Default::default() };
    let embedder = Embedder::open(&cfg).unwrap();
    assert_eq!(
        embedder.info().sha256,
        reference["model_sha256"].as_str().unwrap(),
        "fixture made with the shipped model"
    );
    let images = reference["images"].as_array().unwrap();
    assert_eq!(images.len(), 4);
    for img in images {
        let file = img["file"].as_str().unwrap();
        let (_, rgb) = teachcam::imageio::read_image(&dir.join(file), &Default::default()).unwrap();
        let expected: Vec<f32> =
            img["embedding"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
        let out = embedder.run(&rgb, false).unwrap();
        let c = cosine(&out.embedding, &expected);
        eprintln!("{file} {}x{}: cosine {c:.5}", rgb.width(), rgb.height());
        assert!(c >= 0.998, "{file}: cosine {c} < 0.998");
        let logits = out.logits.unwrap();
        let top1 = (0..logits.len()).max_by(|&a, &b| logits[a].total_cmp(&logits[b])).unwrap();
        assert_eq!(top1 as u64, img["top5"][0].as_u64().unwrap(), "{file}: same ImageNet top-1");
    }
}

#[test]
fn a_different_crop_would_be_caught() {
    // The fixture is sensitive to preprocessing: squashing the 16:9 image instead of
    // cropping it must fall below the bar, or the test above proves nothing.
    let dir = common::repo().join("tests/fixtures/reference");
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("reference.json")).unwrap()).unwrap();
    let img = reference["images"].as_array().unwrap().iter().find(|i| i["file"] == "c.png").unwrap();
    let cfg = ModelConfig {
        path: common::repo().join("models/efficientnet-lite0-int8.onnx"),
        crop: teachcam::embed::Crop::Squash,
        ..Default::default()
    };
    let (_, rgb) = teachcam::imageio::read_image(&dir.join("c.png"), &Default::default()).unwrap();
    let expected: Vec<f32> = img["embedding"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
    let c = cosine(&Embedder::open(&cfg).unwrap().run(&rgb, false).unwrap().embedding, &expected);
    assert!(c < 0.99, "squash gives cosine {c}");
}
