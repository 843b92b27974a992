//! The shipped configuration files parse, and say what they claim.

use std::path::Path;
use teachcam::camera::SourceConfig;
use teachcam::config::Config;
use teachcam::panel::PanelConfig;

fn load(name: &str) -> Config {
    Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config").join(name)).unwrap()
}

#[test]
fn pi_config_uses_rpicam_and_gpio_and_documented_defaults() {
    let c = load("teachcam.toml");
    assert!(matches!(c.source, Some(SourceConfig::Rpicam(_))));
    assert!(matches!(c.panel, Some(PanelConfig::Gpio(_))));
    assert_eq!(c.labels, ["cat", "dog"]);
    // The file documents the defaults: everything but the Pi settings equals them.
    let d = Config::default();
    assert_eq!(
        (c.head.clone(), c.live.clone(), c.capture.clone(), c.gate.clone()),
        (d.head, d.live, d.capture, d.gate)
    );
    assert!(c.gate.enabled, "motion gating is on on the Pi");
    assert_eq!(c.model, teachcam::embed::ModelConfig { threads: 3, ..d.model });
}

#[test]
fn desktop_config_uses_v4l2_and_keyboard() {
    let c = load("desktop.toml");
    assert!(matches!(c.source, Some(SourceConfig::V4l2(_))));
    assert!(matches!(c.panel, Some(PanelConfig::Keyboard(_))));
    assert!(c.gate.enabled, "motion gating saves a laptop's battery too");
}

#[test]
fn demo_config_uses_replay_and_simulated() {
    let c = load("demo.toml");
    assert!(matches!(c.source, Some(SourceConfig::Replay(_))));
    assert!(matches!(c.panel, Some(PanelConfig::Simulated)));
}

#[test]
fn keyboard_replay_config_pairs_replayed_photos_with_the_keyboard() {
    let c = load("keyboard-replay.toml");
    let Some(SourceConfig::Replay(replay)) = &c.source else { panic!("a replay source: {:?}", c.source) };
    assert!(replay.fps > 0.0 && replay.looping, "paced and looping, to be watched: {replay:?}");
    assert!(matches!(&c.panel, Some(PanelConfig::Keyboard(k)) if k.undo_key), "keyboard with c = undo");
}

#[test]
fn every_shipped_config_documents_the_image_limits() {
    for name in ["teachcam.toml", "desktop.toml", "demo.toml", "keyboard-replay.toml"] {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config").join(name)).unwrap();
        assert!(text.contains("max_image_pixels = ") && text.contains("max_image_bytes = "), "{name}");
        let c = load(name);
        assert_eq!(c.model.image_limits(), teachcam::imageio::ImageLimits::default(), "{name}: the defaults");
    }
}

/// Each bad value is refused by the one validation, with a message naming the file, the key
/// and (after `=`) the value.
#[test]
fn bad_values_are_refused_naming_file_key_and_value() {
    for (text, expected) in [
        (
            "[live]\nlog_every_s = inf",
            "live.log_every_s = inf: must be a finite number of seconds between 0.1 and 86400",
        ),
        ("[live]\nlog_every_s = nan", "live.log_every_s = NaN: must be a finite number of seconds"),
        ("[live]\nlog_every_s = 0.0", "live.log_every_s = 0: must be"),
        ("[live]\nwindow = 0", "live.window = 0: must be 1 to 100 frames"),
        ("[live]\nhysteresis = nan", "live.hysteresis = NaN: must be"),
        ("[live]\nthresholds = { cat = inf }", "live.thresholds.cat = inf: must be a finite number between 0 and 1"),
        ("[live]\nthresholds = { horse = 0.5 }", "live.thresholds.horse = \"horse\": is not in labels (cat, dog)"),
        ("[live]\nno_led = [\"cat\", \"dog\"]", "live.no_led = [\"cat\", \"dog\"]: lists every label"),
        (
            "[model]\nmean = [nan, 127.0, 127.0]",
            "model.mean = [NaN, 127.0, 127.0]: must be 3 numbers between 0 and 255",
        ),
        ("[model]\nmean = [127.0, inf, 127.0]", "model.mean = [127.0, inf, 127.0]"),
        ("[model]\nstd = [128.0, 0.0, 128.0]", "model.std = [128.0, 0.0, 128.0]: must be 3 numbers above 0"),
        ("[model]\nstd = [128.0, -inf, 128.0]", "model.std = [128.0, -inf, 128.0]"),
        ("[model]\nthreads = 0", "model.threads = 0: must be 1 to 64 threads"),
        ("[model]\ninput_size = 5", "model.input_size = 5: must be 16 to 1024 pixels"),
        ("[model]\nmax_image_pixels = 0", "model.max_image_pixels = 0: must be 100000 to 1000000000 pixels"),
        ("[model]\nmax_image_bytes = 10", "model.max_image_bytes = 10: must be 100000 to 2000000000 bytes"),
        ("labels = []", "labels = []: must list at least 2 labels"),
        ("labels = [\"cat\"]", "labels = [\"cat\"]: must list at least 2 labels"),
        ("labels = [\"cat\", \"cat\"]", "labels = [\"cat\", \"cat\"]: lists \"cat\" twice"),
        ("labels = [\"cat\", \"../x\"]", "labels = [\"cat\", \"../x\"]: invalid label \"../x\""),
        ("[head]\nl2 = inf", "head.l2 = inf: must be a finite number between 0 and 100"),
        ("[head]\nholdout = nan", "head.holdout = NaN: must be"),
        ("[head]\nholdout = 1.0", "head.holdout = 1: must be"),
        ("[head]\nmax_iters = 0", "head.max_iters = 0: must be 1 to 100000 gradient steps"),
        ("[head]\nmin_examples_for_holdout = 1", "head.min_examples_for_holdout = 1: must be 2 to 10000"),
        ("[head]\ndefault_threshold = -0.1", "head.default_threshold = -0.1: must be"),
        ("[head]\nreject_margin = nan", "head.reject_margin = NaN: must be a finite number"),
        ("[head]\nbackground = \"\"", "head.background = \"\": must be \"builtin\", \"off\" or a file"),
        ("[gate]\nthreshold = 0", "gate.threshold = 0: must be 1 to 255 grey levels"),
        ("[gate]\nthreshold = 300", "gate.threshold = 300: must be 1 to 255 grey levels"),
        ("[gate]\nmax_reuse_s = 0.0", "gate.max_reuse_s = 0: must be a finite number of seconds between 0.1 and 3600"),
        ("[gate]\nmax_reuse_s = inf", "gate.max_reuse_s = inf: must be"),
    ] {
        let e = Config::parse(text, Path::new("conf/bad.toml")).unwrap_err().to_string();
        assert!(e.starts_with("config conf/bad.toml: ") && e.contains(expected), "{text:?}: {e}");
    }
}

#[test]
fn wrong_array_lengths_are_parse_errors_naming_the_key() {
    for (text, key) in [("[model]\nmean = [127.0, 127.0]", "mean"), ("[model]\nstd = [1.0, 1.0, 1.0, 1.0]", "std")] {
        let e = Config::parse(text, Path::new("conf/bad.toml")).unwrap_err().to_string();
        assert!(e.contains("conf/bad.toml") && e.contains("line 2") && e.contains(key), "{text:?}: {e}");
    }
}
