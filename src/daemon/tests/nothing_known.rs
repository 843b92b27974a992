//! "Nothing known" in the loop: a background set for the fake backbone, a scene that shows
//! nothing taught.

use super::*;

#[test]
fn with_a_background_set_an_unknown_scene_is_nothing_known_and_lights_no_led() {
    let dir = tempfile::tempdir().unwrap();
    // The background: greys and dark colours, embedded by the fake backbone.
    let embedder = FakeBackbone::embedder(&Config::default().model);
    let vectors = [[128, 128, 128], [60, 60, 60], [200, 200, 200], [90, 60, 40], [40, 60, 90], [160, 140, 120]]
        .iter()
        .map(|&c| embedder.embed(&RgbImage::from_pixel(16, 16, Rgb(c)), false).unwrap().vector)
        .collect();
    let set = crate::train::background::BackgroundSet {
        model_sha256: embedder.info().sha256.clone(),
        preprocess: embedder.info().preprocess.clone(),
        vectors,
    };
    let bg_path = dir.path().join("bg.bin");
    set.save(&bg_path).unwrap();
    let mut cfg = config(&["cat", "dog"], &dir.path().join("data"));
    cfg.head.background = crate::head::BackgroundSource::File(bg_path);
    let mut rig = Rig { _dir: Some(dir), ..Rig::open(cfg) };
    rig.teach(0, RED, 5);
    rig.teach(1, BLUE, 5);
    rig.train();
    assert!(rig.daemon.head().unwrap().open_set.is_some(), "trained with the background set");
    assert_eq!(rig.shown(RED), [true, false]);
    let grey = [120, 120, 125];
    let r = (0..4).map(|_| rig.frame(grey)).last().unwrap();
    assert_eq!(r.leds.labels, [false, false], "nothing taught in view: no LED");
    let k = r.decision.as_ref().and_then(|d| d.label).expect("a decision");
    assert_eq!(rig.daemon.label_name(k), Some(NOTHING));
    // The status LED beats slowly while nothing known is in view (dark part of each 2 s).
    let status: Vec<bool> = (0..20).map(|_| rig.frame(grey).leds.status).collect();
    assert!(status.contains(&true) && status.contains(&false), "{status:?}");
    assert_eq!(rig.shown(BLUE), [false, true], "a taught scene lights again");
    assert!((0..20).all(|_| rig.frame(BLUE).leds.status), "status steady while something known is in view");
}
