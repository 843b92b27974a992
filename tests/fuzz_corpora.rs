//! The fuzz corpora on stable Rust: every kept seed (`fuzz/corpus/<target>/`) and every past
//! crash input (`fuzz/regressions/<target>/`) goes through the same entry point as its fuzz
//! target (`teachcam::fuzzing`), so a fix that regresses fails CI without nightly or
//! cargo-fuzz. `scripts/fuzz.sh` does the fuzzing itself.

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `dir`, in name order (none when it does not exist).
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    out.sort();
    out
}

/// Runs `target` over `inputs`; returns the inputs that panicked, with the panic message.
fn run(target: fn(&[u8]), inputs: &[PathBuf]) -> Vec<String> {
    let mut failed = Vec::new();
    for path in inputs {
        let data = std::fs::read(path).unwrap();
        if let Err(panic) = std::panic::catch_unwind(|| target(&data)) {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(format!("{}: {msg}", path.display()));
        }
    }
    failed
}

#[test]
fn every_target_has_a_fuzz_target_file_and_seeds() {
    for (name, _) in teachcam::fuzzing::TARGETS {
        let target = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        let source = std::fs::read_to_string(&target).unwrap_or_else(|e| panic!("{}: {e}", target.display()));
        assert!(source.contains(&format!("teachcam::fuzzing::{name}(")), "{} calls another entry", target.display());
        assert!(!files(&fuzz_dir().join("corpus").join(name)).is_empty(), "no seeds for {name}");
    }
}

#[test]
fn corpora_and_past_crashes_pass() {
    let mut failed = Vec::new();
    let mut count = 0;
    for (name, target) in teachcam::fuzzing::TARGETS {
        let mut inputs = files(&fuzz_dir().join("corpus").join(name));
        inputs.extend(files(&fuzz_dir().join("regressions").join(name)));
        count += inputs.len();
        failed.extend(run(*target, &inputs));
    }
    println!("{count} inputs replayed");
    assert!(failed.is_empty(), "{} inputs fail:\n{}", failed.len(), failed.join("\n"));
}

#[test]
fn regression_folders_name_targets() {
    for dir in dirs(&fuzz_dir().join("regressions")) {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            teachcam::fuzzing::TARGETS.iter().any(|(t, _)| *t == name),
            "{} is not named after a fuzz target, so nothing replays it",
            dir.display()
        );
    }
}

fn dirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries.map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect()
}
