//! The loop through its hub: remote controls act like the buttons, and what happens is
//! published as events and in the state snapshot.

use super::*;
use crate::events::Event;

fn kinds(events: &std::sync::mpsc::Receiver<Arc<Event>>) -> Vec<String> {
    events
        .try_iter()
        .map(|e| serde_json::to_value(&*e).unwrap()["type"].as_str().unwrap().to_string())
        .filter(|k| k != "detection")
        .collect()
}

#[test]
fn remote_controls_capture_train_and_undo_like_the_buttons() {
    let mut rig = Rig::new(&["cat", "dog"]);
    let hub = rig.daemon.hub();
    let events = hub.subscribe(1000);
    hub.press(Control::Label(0)).unwrap();
    assert_eq!(rig.frame(RED).captured, [0], "a remote press captures on the next frame");
    assert!(rig.frame(RED).captured.is_empty(), "once: a press is also a release");
    hub.press(Control::Label(1)).unwrap();
    rig.idle();
    assert_eq!(rig.frame(BLUE).captured, [1], "a press between frames waits for the next frame");
    for (k, colour) in [(0, RED), (1, BLUE), (0, RED), (1, BLUE)] {
        hub.press(Control::Label(k)).unwrap();
        rig.frame(colour);
    }
    assert_eq!(hub.status().counts["cat"], 3);
    hub.press(Control::Train).unwrap();
    rig.idle();
    rig.daemon.wait_training(rig.now);
    rig.settle();
    let s = hub.status();
    assert!(s.training.ready && !s.training.running && s.training.report.is_some(), "{:?}", s.training);
    assert_eq!(rig.shown(BLUE), [false, true]);
    let s = hub.status();
    let d = s.detection.expect("a detection");
    assert_eq!((d.label.as_deref(), d.confidences.len()), (Some("dog"), 3), "cat, dog, nothing known");
    assert_eq!(s.leds.labels, [false, true]);
    hub.press(Control::Undo).unwrap();
    rig.idle();
    assert_eq!(hub.status().counts["dog"], 2);
    assert_eq!(
        kinds(&events),
        ["capture", "capture", "capture", "capture", "capture", "capture", "training_started", "trained", "undo"]
    );
}

#[test]
fn detections_are_published_per_frame_with_label_names_and_speed() {
    let mut rig = Rig::new(&["cat", "dog"]);
    rig.teach(0, RED, 3);
    rig.teach(1, BLUE, 3);
    rig.train();
    let hub = rig.daemon.hub();
    let events = hub.subscribe(100);
    for _ in 0..5 {
        rig.frame(RED);
    }
    let detections: Vec<_> = events
        .try_iter()
        .filter_map(|e| match &*e {
            Event::Detection(d) => Some(d.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(detections.len(), 5);
    assert_eq!(detections[4].label.as_deref(), Some("cat"));
    assert_eq!(detections[4].top, "cat");
    assert!(detections[4].confidences[0].p > 0.5 && detections[4].confidences[0].label == "cat");
    assert!(hub.status().speed.fps > 0.0);
}
