//! The binary's messages: each problem said once, readably, naming what to fix; read-only
//! commands create nothing; `--help` and `--json` for scripts.

mod common;
use common::*;

#[test]
fn a_toml_error_keeps_its_lines_indented_under_the_first() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("bad.toml");
    std::fs::write(&conf, "labels = [\"cat\", \"dog\"]\n[model]\ncrop = \"diagonal\"\n").unwrap();
    let e = fails(&["--config", conf.to_str().unwrap(), "status"]);
    let lines: Vec<&str> = e.lines().collect();
    assert!(lines[0].starts_with("teachcam: error: config ") && lines[0].contains("bad.toml"), "{e}");
    assert!(lines[0].contains("line 3"), "the position on the first line: {e}");
    assert!(lines.iter().any(|l| l.starts_with("    3 | crop = \"diagonal\"")), "the file's line, indented: {e}");
    assert!(lines.iter().any(|l| l.starts_with("    unknown variant `diagonal`")), "{e}");
    assert!(lines[1..].iter().all(|l| l.starts_with("    ")), "{e}");
}

#[test]
fn importing_an_empty_folder_says_so_without_speaking_of_a_replay() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(empty.join("sub")).unwrap();
    std::fs::write(empty.join("notes.txt"), "not an image").unwrap();
    let data = tmp.path().join("data");
    let e = fails(&["--data", data.to_str().unwrap(), "import", "--label", "cat", empty.to_str().unwrap()]);
    assert!(e.contains(&format!("folder {} has no .jpg/.jpeg/.png images", empty.display())), "{e}");
    assert!(!e.contains("replay"), "{e}");
}

#[test]
fn bench_refuses_bad_arguments_before_timing_anything() {
    let out = teachcam(&["bench", "--iters", "0"]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success() && stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("--iters 0: at least 1 timed run"), "{stderr}");

    let out = teachcam(&["bench", "--compare", "/nonexistent/other.onnx"]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success() && stdout.is_empty(), "nothing was timed first: {stdout}");
    assert!(stderr.contains("--compare /nonexistent/other.onnx: no such model file"), "{stderr}");
}

#[test]
fn read_only_commands_on_a_missing_data_folder_say_so_and_create_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let typo = tmp.path().join("typo-dir");
    let d = typo.to_str().unwrap();
    let img = tmp.path().join("set");
    synthetic_set(&img, 1, 5, (64, 48));
    for args in [vec!["predict", img.join("warm").to_str().unwrap()], vec!["eval", img.to_str().unwrap()]] {
        let mut all = vec!["--data", d];
        all.extend(&args);
        let e = fails(&all);
        assert!(e.contains(&format!("no teachcam data in {d}")) && e.contains("--data"), "{args:?}: {e}");
        assert!(!typo.exists(), "{args:?} created {d}");
    }
}

#[test]
fn bench_json_without_data_creates_no_data_folder() {
    if common::emulated("bench_json_without_data_creates_no_data_folder") {
        return;
    }
    // From an empty working folder, with the default data_dir ("data") and the shipped model.
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("c.toml");
    let model = repo().join("models/efficientnet-lite0-int8.onnx");
    std::fs::write(&conf, format!("[model]\npath = {:?}\n", model.to_str().unwrap())).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_teachcam"))
        .args(["--config", conf.to_str().unwrap(), "bench", "--iters", "1", "--json"])
        .current_dir(tmp.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is one JSON object");
    assert_eq!(v["iters"], 1);
    assert_eq!(v["embed"][0]["threads"], 1);
    assert!(v["embed"][0]["ms"].as_f64().is_some_and(|ms| ms > 0.0), "{v}");
    assert_eq!(v["preprocess"].as_array().map(Vec::len), Some(3), "{v}");
    assert!(v["train"].is_null() && v["train_skipped"].as_str().unwrap().contains("no teachcam data"), "{v}");
    assert!(!tmp.path().join("data").exists(), "bench created ./data");
}

#[test]
fn help_names_rust_log_and_shows_examples() {
    let help = ok(&["--help"]);
    assert!(help.contains("RUST_LOG"), "{help}");
    for example in ["teachcam import --label cat", "teachcam train", "teachcam eval", "config/desktop.toml run"] {
        assert!(help.contains(example), "{example} missing from:\n{help}");
    }
}
