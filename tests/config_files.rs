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
    assert_eq!((c.head.clone(), c.live.clone(), c.capture.clone()), (d.head, d.live, d.capture));
    assert_eq!(c.model, teachcam::embed::ModelConfig { threads: 3, ..d.model });
}

#[test]
fn desktop_config_uses_v4l2_and_keyboard() {
    let c = load("desktop.toml");
    assert!(matches!(c.source, Some(SourceConfig::V4l2(_))));
    assert!(matches!(c.panel, Some(PanelConfig::Keyboard(_))));
}

#[test]
fn demo_config_uses_replay_and_simulated() {
    let c = load("demo.toml");
    assert!(matches!(c.source, Some(SourceConfig::Replay(_))));
    assert!(matches!(c.panel, Some(PanelConfig::Simulated)));
}
