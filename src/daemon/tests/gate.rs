//! Motion gating in the loop: what is embedded and what reuses the last embedding, counted in
//! backbone runs, and the decisions that follow.

use super::*;
use crate::daemon::gate::DEFAULT_THRESHOLD;
use crate::decide::Smoothing;

/// A daemon whose head tells RED (cat) from BLUE (dog), with `tweak` applied to its config.
fn trained(tweak: impl FnOnce(&mut Config)) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&["cat", "dog"], dir.path());
    tweak(&mut cfg);
    let mut rig = Rig { _dir: Some(dir), ..Rig::open(cfg) };
    rig.teach(0, RED, 5);
    rig.teach(1, BLUE, 5);
    rig.train();
    rig
}

/// A 640 × 480 frame of `colour` with an object of `object`'s colour (40 × 40 pixels, 0.5 % of
/// the frame) in the bottom right corner.
fn with_object(colour: [u8; 3], object: [u8; 3]) -> RgbImage {
    let mut img = RgbImage::from_pixel(640, 480, Rgb(colour));
    for y in 430..470 {
        for x in 590..630 {
            img.put_pixel(x, y, Rgb(object));
        }
    }
    img
}

/// A 640 × 480 frame of `colour` with independent noise of ±`amp` levels per pixel and channel.
fn noisy(colour: [u8; 3], amp: i32, seed: u64) -> RgbImage {
    let mut state = seed;
    RgbImage::from_fn(640, 480, |_, _| {
        Rgb(colour.map(|c| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let r = ((state >> 33) % (2 * amp as u64 + 1)) as i32 - amp;
            (i32::from(c) + r).clamp(0, 255) as u8
        }))
    })
}

#[test]
fn a_static_scene_is_embedded_once_then_reuses_the_embedding() {
    let mut rig = trained(|_| {});
    let before = rig.calls();
    let shown: Vec<Vec<bool>> = (0..20).map(|_| rig.frame(RED).leds.labels).collect();
    assert_eq!(rig.calls() - before, 1, "one embedding for 20 frames of the same scene");
    assert_eq!(shown.last().unwrap(), &[true, false], "and the cat stays shown");
}

#[test]
fn a_change_is_embedded_on_its_frame_and_decided_there() {
    // No smoothing: each decision is that of its frame alone.
    let mut rig = trained(|c| c.live.smoothing = Smoothing::None);
    for _ in 0..10 {
        assert_eq!(rig.frame(RED).decision.unwrap().lit, Some(0));
    }
    let before = rig.calls();
    let d = rig.frame(BLUE).decision.unwrap();
    assert_eq!(rig.calls(), before + 1, "the new scene is embedded on its first frame");
    assert_eq!((d.top, d.lit), (1, Some(1)), "and the dog is shown on that frame");
    rig.frame(BLUE);
    assert_eq!(rig.calls(), before + 1, "then reused");
}

#[test]
fn a_small_object_entering_a_corner_is_embedded_on_its_frame() {
    let mut rig = trained(|_| {});
    rig.image(with_object(RED, RED));
    rig.image(with_object(RED, RED));
    let before = rig.calls();
    rig.image(with_object(RED, GREEN));
    assert_eq!(rig.calls(), before + 1, "an object on 0.5 % of the frame is a change");
    rig.image(with_object(RED, GREEN));
    assert_eq!(rig.calls(), before + 1, "still there: reused");
}

#[test]
fn sensor_noise_below_the_threshold_reuses_the_embedding() {
    let mut rig = trained(|_| {});
    rig.image(noisy(RED, 10, 1));
    let before = rig.calls();
    for seed in 2..12 {
        rig.image(noisy(RED, 10, seed));
    }
    assert_eq!(rig.calls(), before, "±10 levels of noise on every pixel is no change");
}

#[test]
fn a_slow_drift_adds_up_against_the_last_embedded_frame() {
    let mut rig = trained(|_| {});
    let step = 2u8;
    let at = |i: u8| [RED[0] - i * step, RED[1], RED[2]];
    rig.frame(at(0));
    let before = rig.calls();
    // Each frame moves 2 levels from the previous one: never a change frame to frame, but the
    // distance to the embedded frame grows until it passes the threshold.
    let mut embedded_at = None;
    for i in 1..20u8 {
        rig.frame(at(i));
        if rig.calls() > before {
            embedded_at = Some(i);
            break;
        }
    }
    let expected = (DEFAULT_THRESHOLD / u32::from(step) + 1) as u8;
    assert_eq!(embedded_at, Some(expected), "embedded once the drift passes {DEFAULT_THRESHOLD} levels");
}

#[test]
fn every_frame_is_embedded_while_a_label_button_is_held() {
    let mut rig = trained(|_| {});
    rig.frame(RED);
    let before = rig.calls();
    rig.sim.press(Control::Label(0)).unwrap();
    for _ in 0..6 {
        assert_eq!(rig.frame(RED).captured, [0]);
    }
    rig.sim.release(Control::Label(0)).unwrap();
    assert_eq!(rig.calls(), before + 6, "each capture embeds its own frame");
    rig.settle();
    rig.frame(RED);
    assert_eq!(rig.calls(), before + 6, "released: the same scene reuses the last embedding again");
}

#[test]
fn a_new_head_decides_on_a_fresh_embedding() {
    let mut rig = trained(|_| {});
    // The last frames embedded before the training show RED, as the frames after it do.
    rig.teach(0, RED, 3);
    rig.train();
    let before = rig.calls();
    rig.frame(RED);
    assert_eq!(rig.calls(), before + 1, "first frame after the swap: embedded");
    rig.frame(RED);
    assert_eq!(rig.calls(), before + 1, "then reused");
}

#[test]
fn a_still_scene_is_embedded_again_after_max_reuse_s() {
    let mut rig = trained(|c| c.gate.max_reuse_s = 1.0);
    let before = rig.calls();
    // 30 frames, 0.1 s apart: embedded at 0 s, 1 s and 2 s.
    for _ in 0..30 {
        rig.frame(RED);
    }
    assert_eq!(rig.calls() - before, 3);
}

#[test]
fn with_the_gate_off_every_frame_is_embedded() {
    let mut rig = trained(|c| c.gate.enabled = false);
    let before = rig.calls();
    for _ in 0..10 {
        rig.frame(RED);
    }
    assert_eq!(rig.calls() - before, 10);
}

#[test]
fn a_camera_problem_or_a_failed_embedding_forgets_the_reference() {
    let mut rig = trained(|_| {});
    rig.frame(RED);
    let before = rig.calls();
    rig.daemon.camera_status(Some("simulated camera loss"), rig.now);
    rig.daemon.camera_status(None, rig.now);
    rig.frame(RED);
    assert_eq!(rig.calls(), before + 1, "after a camera problem: embedded");

    rig.fail.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(rig.frame(BLUE).decision, None, "the embedding fails");
    rig.fail.store(false, std::sync::atomic::Ordering::SeqCst);
    rig.settle();
    rig.frame(RED);
    assert_eq!(rig.calls(), before + 3, "after a failed embedding: the old scene is embedded again");
}

#[test]
fn gating_leaves_the_leds_as_embedding_every_frame_would() {
    let mut gated = trained(|_| {});
    let mut every = trained(|c| c.gate.enabled = false);
    let mut frames: Vec<RgbImage> = Vec::new();
    frames.extend((0..8).map(|_| RgbImage::from_pixel(640, 480, Rgb(RED))));
    frames.extend((0..5).map(|s| noisy(RED, 8, s)));
    frames.extend((0..4).map(|_| with_object(RED, BLUE)));
    frames.extend((0..8).map(|_| RgbImage::from_pixel(640, 480, Rgb(BLUE))));
    frames.extend((0..4).map(|_| with_object(BLUE, GREEN)));
    frames.extend((0..6).map(|_| RgbImage::from_pixel(640, 480, Rgb(RED))));
    let (g0, e0) = (gated.calls(), every.calls());
    for (i, f) in frames.into_iter().enumerate() {
        let (a, b) = (gated.image(f.clone()), every.image(f));
        assert_eq!(a.leds, b.leds, "frame {i}");
        assert_eq!(a.decision.map(|d| d.label), b.decision.map(|d| d.label), "frame {i}");
    }
    let (g, e) = (gated.calls() - g0, every.calls() - e0);
    assert_eq!(e, 35);
    assert_eq!(g, 5, "one embedding per scene");
}
