//! `teachcam export`: the one-file ONNX model gives the same probabilities (and open-set score)
//! in teachcam, in tract on the exported file and in ONNX Runtime on it (Python from PyPI in a
//! venv the test makes); and the export refuses clearly when it cannot be done.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use teachcam::embed::{Embedder, ModelConfig};
use teachcam::head::Head;
use tract_onnx::prelude::*;

/// Largest difference allowed between any two of teachcam, tract and ONNX Runtime.
const TOLERANCE: f32 = 1e-4;

/// Imports `n` synthetic warm and cool images into `data` and trains a head.
fn trained(tmp: &Path, n: usize) -> PathBuf {
    let (train, data) = (tmp.join("train"), tmp.join("data"));
    synthetic_set(&train, n, 11, (200, 150));
    let d = data.to_str().unwrap();
    for label in ["warm", "cool"] {
        ok(&["--data", d, "import", "--label", label, train.join(label).to_str().unwrap()]);
    }
    ok(&["--data", d, "train", "--json"]);
    data
}

/// Images to compare on: synthetic ones of each kind and blends of the two (so that the
/// probabilities are not all 0 or 1).
fn eval_images(dir: &Path) -> Vec<PathBuf> {
    synthetic_set(dir, 2, 29, (256, 144));
    let mut files: Vec<PathBuf> =
        ["warm/warm00.jpg", "warm/warm01.jpg", "cool/cool00.jpg", "cool/cool01.jpg"].map(|f| dir.join(f)).to_vec();
    for (i, w) in [0.35f32, 0.5, 0.65].into_iter().enumerate() {
        let a = image::open(dir.join("warm/warm00.jpg")).unwrap().to_rgb8();
        let b = image::open(dir.join(format!("cool/cool0{}.jpg", i % 2))).unwrap().to_rgb8();
        let blend = image::RgbImage::from_fn(a.width(), a.height(), |x, y| {
            let (p, q) = (a.get_pixel(x, y), b.get_pixel(x, y));
            image::Rgb(std::array::from_fn(|c| (w * p[c] as f32 + (1.0 - w) * q[c] as f32).round() as u8))
        });
        let f = dir.join(format!("blend{i}.png"));
        blend.save(&f).unwrap();
        files.push(f);
    }
    files
}

/// Says loudly that the ONNX Runtime part cannot run, or fails under `TEACHCAM_REQUIRE_DATA`.
fn not_run(test: &str, why: &str) -> Option<PathBuf> {
    let msg = format!("{test}: NOT RUN — {why}");
    assert!(std::env::var_os("TEACHCAM_REQUIRE_DATA").is_none(), "{msg}, and TEACHCAM_REQUIRE_DATA is set");
    eprintln!("\n*** {msg} ***\n");
    None
}

/// A Python with onnxruntime and numpy: a venv under `$TEACHCAM_CACHE_DIR` (else the target
/// folder), made once and reused.
fn venv_python(test: &str) -> Option<PathBuf> {
    let base = std::env::var_os("TEACHCAM_CACHE_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")));
    let venv = base.join("export-venv");
    let python = venv.join("bin/python");
    let pkgs = "onnxruntime numpy";
    if python.is_file() && std::fs::read_to_string(venv.join(".pkgs")).ok().as_deref() == Some(pkgs) {
        return Some(python);
    }
    let run = |cmd: &mut Command| match cmd.output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(String::from_utf8_lossy(&o.stderr).lines().last().unwrap_or("").to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = run(Command::new("python3").args(["-m", "venv"]).arg(&venv)) {
        return not_run(test, &format!("cannot make a Python venv with `python3 -m venv` ({e}); install python3-venv"));
    }
    let pip = run(Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "--progress-bar", "off"])
        .args(pkgs.split(' ')));
    if let Err(e) = pip {
        return not_run(test, &format!("cannot pip install {pkgs} into {} ({e})", venv.display()));
    }
    std::fs::write(venv.join(".pkgs"), pkgs).unwrap();
    Some(python)
}

/// Runs the exported model in ONNX Runtime on raw little-endian f32 input files.
const ORT_SCRIPT: &str = r#"
import json, sys
import numpy as np, onnxruntime as ort
model, shape, files = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
s = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
names = [o.name for o in s.get_outputs()]
inp = s.get_inputs()[0].name
results = []
for f in files:
    x = np.fromfile(f, dtype="<f4").reshape(shape)
    out = s.run(None, {inp: x})
    results.append({n: np.asarray(v).astype(np.float64).ravel().tolist() for n, v in zip(names, out)})
print(json.dumps({"version": ort.__version__, "input": inp, "outputs": names,
                  "metadata": s.get_modelmeta().custom_metadata_map, "results": results}))
"#;

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn exported_model_gives_teachcams_probabilities_in_tract_and_onnxruntime() {
    let test = "exported_model_gives_teachcams_probabilities_in_tract_and_onnxruntime";
    if emulated(test) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = trained(tmp.path(), 8);
    let out = tmp.path().join("warmcool.onnx");
    let printed = ok(&["--data", data.to_str().unwrap(), "export", "--out", out.to_str().unwrap()]);
    assert!(printed.contains("probabilities") && printed.contains("novelty_score"), "{printed}");

    // (a) teachcam itself.
    let cfg = ModelConfig { path: repo().join("models/efficientnet-lite0-int8.onnx"), ..Default::default() };
    let embedder = Embedder::open(&cfg).unwrap();
    let head = Head::load(&data.join("head.json"), embedder.info()).unwrap();
    let open_set = head.open_set.as_ref().expect("trained with the shipped background set");
    let pre = embedder.preprocess().clone();
    // (b) tract on the exported file.
    let plan = tract_onnx::onnx().model_for_path(&out).unwrap().into_optimized().unwrap().into_runnable().unwrap();
    let images = eval_images(&tmp.path().join("eval"));
    let mut inputs = Vec::new();
    let (mut ours, mut tracts) = (Vec::new(), Vec::new());
    for (i, f) in images.iter().enumerate() {
        let (_, rgb) = teachcam::imageio::read_image(f, &Default::default()).unwrap();
        let tensor = pre.to_tensor(&pre.fit(&rgb, false));
        let raw: Vec<u8> = tensor.to_plain_array_view::<f32>().unwrap().iter().flat_map(|v| v.to_le_bytes()).collect();
        let input = tmp.path().join(format!("input{i}.f32"));
        std::fs::write(&input, raw).unwrap();
        inputs.push(input);
        let embedding = embedder.run_tensor(tensor.clone()).unwrap().embedding;
        let novelty = open_set.assess(&embedding);
        ours.push((head.probabilities(&embedding), novelty.score, novelty.known));
        let result = plan.run(tvec!(tensor.into())).unwrap();
        let flat = |t: &TValue| t.to_plain_array_view::<f32>().unwrap().iter().copied().collect::<Vec<f32>>();
        let known = *result[2].to_plain_array_view::<bool>().unwrap().iter().next().unwrap();
        tracts.push((flat(&result[0]), flat(&result[1])[0], known));
    }
    let confident = ours.iter().map(|o| o.0.iter().copied().fold(0.0, f32::max)).fold(1.0, f32::min);
    assert!(confident < 0.99, "some image is not certain, so the comparison means something ({confident})");
    let worst = |a: &[(Vec<f32>, f32, bool)], b: &[(Vec<f32>, f32, bool)]| {
        let p = a.iter().zip(b).map(|(x, y)| max_diff(&x.0, &y.0)).fold(0.0, f32::max);
        let s = a.iter().zip(b).map(|(x, y)| (x.1 - y.1).abs()).fold(0.0, f32::max);
        for (x, y) in a.iter().zip(b) {
            if (x.1 - open_set.margin).abs() > TOLERANCE {
                assert_eq!(x.2, y.2, "the same open-set verdict away from the margin");
            }
        }
        (p, s)
    };
    let (p, s) = worst(&ours, &tracts);
    eprintln!("{} images; teachcam vs tract: probabilities {p:.2e}, novelty score {s:.2e}", images.len());
    assert!(p <= TOLERANCE && s <= TOLERANCE, "teachcam vs tract: {p}, {s}");

    // (c) ONNX Runtime on the exported file.
    let Some(python) = venv_python(test) else { return };
    let script = tmp.path().join("ort.py");
    std::fs::write(&script, ORT_SCRIPT).unwrap();
    let shape = serde_json::to_string(&pre.input_shape()).unwrap();
    let run = Command::new(&python).arg(&script).arg(&out).arg(&shape).args(&inputs).output().unwrap();
    assert!(run.status.success(), "onnxruntime: {}", String::from_utf8_lossy(&run.stderr));
    let ort: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(ort["outputs"], serde_json::json!(["probabilities", "novelty_score", "known"]));
    let meta = &ort["metadata"];
    let labels: Vec<String> = serde_json::from_str(meta["teachcam.labels"].as_str().unwrap()).unwrap();
    assert_eq!(labels, head.labels);
    let thresholds: Vec<f32> = serde_json::from_str(meta["teachcam.thresholds"].as_str().unwrap()).unwrap();
    assert_eq!(thresholds, head.thresholds);
    assert_eq!(meta["teachcam.backbone_sha256"], embedder.info().sha256.as_str());
    let preprocessing: serde_json::Value =
        serde_json::from_str(meta["teachcam.preprocessing"].as_str().unwrap()).unwrap();
    assert_eq!(preprocessing["key"], pre.key().as_str());
    let floats = |v: &serde_json::Value| -> Vec<f32> {
        v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
    };
    let orts: Vec<(Vec<f32>, f32, bool)> = ort["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (floats(&r["probabilities"]), floats(&r["novelty_score"])[0], floats(&r["known"])[0] == 1.0))
        .collect();
    let (p2, s2) = worst(&ours, &orts);
    let (p3, s3) = worst(&tracts, &orts);
    eprintln!("onnxruntime {}: teachcam vs ORT: probabilities {p2:.2e}, novelty score {s2:.2e}", ort["version"]);
    eprintln!("tract vs ORT: probabilities {p3:.2e}, novelty score {s3:.2e}");
    assert!(p2 <= TOLERANCE && s2 <= TOLERANCE, "teachcam vs onnxruntime: {p2}, {s2}");
    assert!(p3 <= TOLERANCE && s3 <= TOLERANCE, "tract vs onnxruntime: {p3}, {s3}");
}

#[test]
fn export_refuses_without_a_head_for_another_backbone_and_to_an_unwritable_path() {
    if emulated("export_refuses_without_a_head_for_another_backbone_and_to_an_unwritable_path") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("m.onnx");
    let o = out.to_str().unwrap();
    let empty = tmp.path().join("empty");
    let e = fails(&["--data", empty.to_str().unwrap(), "export", "--out", o]);
    assert!(e.contains("no trained head") && e.contains("teachcam train"), "{e}");

    let data = trained(tmp.path(), 3);
    let d = data.to_str().unwrap();
    let e = fails(&["--data", d, "export", "--out", tmp.path().join("no/such/folder/m.onnx").to_str().unwrap()]);
    assert!(e.contains("no/such/folder/m.onnx") && e.contains("cannot be written"), "{e}");
    let e = fails(&["--data", d, "export", "--out", tmp.path().to_str().unwrap()]);
    assert!(e.contains("is a folder"), "{e}");
    assert!(!out.exists());

    let head_file = data.join("head.json");
    let text = std::fs::read_to_string(&head_file).unwrap();
    let mut head: serde_json::Value = serde_json::from_str(&text).unwrap();
    head["model_sha256"] = "0".repeat(64).into();
    std::fs::write(&head_file, serde_json::to_vec(&head).unwrap()).unwrap();
    let e = fails(&["--data", d, "export", "--out", o]);
    assert!(e.contains("trained with model sha256 000000000000") && e.contains("retrain"), "{e}");
    assert!(!out.exists(), "nothing written");
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().filter(|e| e.path().is_file()).collect();
    assert!(leftovers.is_empty(), "no temporary file left: {leftovers:?}");
}
