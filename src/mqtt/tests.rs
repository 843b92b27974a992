//! Topics and payloads without a broker.

use super::*;
use crate::events::{Confidence, Detection};
use crate::head::TrainReport;
use crate::metrics::Metrics;
use serde_json::{json, Value};

fn detection(label: Option<&str>, nothing_known: bool, confidence: f32) -> Event {
    Event::Detection(Detection {
        label: label.map(String::from),
        nothing_known,
        top: label.unwrap_or("(nothing known)").into(),
        confidence,
        confidences: vec![Confidence { label: "cat".into(), p: confidence }],
        reused: false,
    })
}

fn json_of(m: &Message) -> Value {
    serde_json::from_str(&m.payload).unwrap()
}

#[test]
fn the_label_is_published_on_change_only_and_retained() {
    let mut t = Translator::new(Topics::new("home/cam1"), None);
    let first = t.messages(&detection(Some("cat"), false, 0.91234));
    assert_eq!(first.len(), 2, "{first:?}");
    assert_eq!(first[0], Message { topic: "home/cam1/label".into(), payload: "cat".into(), retain: true });
    assert_eq!(first[1].topic, "home/cam1/detection");
    assert!(first[1].retain);
    assert_eq!(json_of(&first[1]), json!({"label": "cat", "confidence": 0.912, "nothing_known": false}));
    // Same label, another confidence: nothing.
    assert!(t.messages(&detection(Some("cat"), false, 0.6)).is_empty());
    // Nothing detected: "none", and the detection says why.
    let gone = t.messages(&detection(None, true, 0.8));
    assert_eq!(gone[0].payload, NO_LABEL);
    assert_eq!(json_of(&gone[1]), json!({"label": null, "confidence": 0.8, "nothing_known": true}));
    // Still nothing, but now unsure rather than "nothing known": only the detection changes.
    let unsure = t.messages(&detection(None, false, 0.4));
    assert_eq!(unsure.len(), 1);
    assert_eq!(unsure[0].topic, "home/cam1/detection");
}

#[test]
fn the_retained_state_is_what_was_last_published() {
    let mut t = Translator::new(Topics::new("teachcam"), None);
    let start = t.retained();
    let topics: Vec<&str> = start.iter().map(|m| m.topic.as_str()).collect();
    assert_eq!(topics, ["teachcam/availability", "teachcam/label", "teachcam/detection"]);
    assert!(start.iter().all(|m| m.retain));
    assert_eq!((start[0].payload.as_str(), start[1].payload.as_str()), (ONLINE, NO_LABEL));
    t.messages(&detection(Some("dog"), false, 0.7));
    assert_eq!(t.retained()[1].payload, "dog");
    assert_eq!(t.topics().availability_message(false).payload, OFFLINE);
    // A translator started from the hub's last detection begins there.
    let Event::Detection(d) = detection(Some("cat"), false, 0.9) else { unreachable!() };
    assert_eq!(Translator::new(Topics::new("t"), Some(&d)).retained()[1].payload, "cat");
    // Discovery messages come first, so Home Assistant knows the entities before their states.
    let ha = Message { topic: "ha/sensor/x/label/config".into(), payload: "{}".into(), retain: true };
    let with = Translator::new(Topics::new("t"), None).with_discovery(vec![ha.clone()]).retained();
    assert_eq!((with.len(), &with[0]), (4, &ha));
}

#[test]
fn captures_undo_trainings_and_problems() {
    let mut t = Translator::new(Topics::new("tc"), None);
    let one = |t: &mut Translator, e: Event| {
        let mut m = t.messages(&e);
        assert_eq!(m.len(), 1, "{m:?}");
        let m = m.remove(0);
        assert!(!m.retain, "events are not retained: {m:?}");
        (m.topic.clone(), json_of(&m))
    };
    assert_eq!(
        one(&mut t, Event::Capture { label: "cat".into(), id: "a1".into(), count: 3 }),
        ("tc/capture".into(), json!({"label": "cat", "id": "a1", "count": 3}))
    );
    assert_eq!(
        one(&mut t, Event::Undo { label: "cat".into(), id: "a1".into(), count: 2 }),
        ("tc/undo".into(), json!({"label": "cat", "id": "a1", "count": 2}))
    );
    assert_eq!(
        one(&mut t, Event::TrainingStarted { examples: 40 }),
        ("tc/training".into(), json!({"state": "started", "examples": 40}))
    );
    let report = TrainReport {
        labels: vec!["cat".into(), "dog".into()],
        counts: vec![20, 20],
        holdout: Some(Metrics { n: 8, accuracy: 0.875, per_label: vec![], confusion: vec![] }),
        ..Default::default()
    };
    let (topic, trained) = one(&mut t, Event::Trained { report: Box::new(report), summary: "ok".into() });
    assert_eq!(topic, "tc/training");
    assert_eq!(
        trained,
        json!({"state": "trained", "accuracy": 0.875, "labels": ["cat", "dog"], "examples": 40, "summary": "ok"})
    );
    let (_, trained) = one(&mut t, Event::Trained { report: Box::default(), summary: String::new() });
    assert_eq!(trained["accuracy"], Value::Null, "no held-out set, no accuracy");
    assert_eq!(
        one(&mut t, Event::TrainingFailed { reason: "one label".into() }).1,
        json!({"state": "failed", "reason": "one label"})
    );
    assert_eq!(
        one(&mut t, Event::Problem { area: "data folder".into(), message: "full".into() }),
        ("tc/problem".into(), json!({"area": "data folder", "message": "full", "active": true}))
    );
    assert_eq!(
        one(&mut t, Event::Recovered { area: "data folder".into() }).1,
        json!({"area": "data folder", "active": false})
    );
}

#[test]
fn a_lost_camera_clears_the_label() {
    let mut t = Translator::new(Topics::new("tc"), None);
    t.messages(&detection(Some("cat"), false, 0.9));
    let m = t.messages(&Event::Problem { area: "camera".into(), message: "unplugged".into() });
    let topics: Vec<&str> = m.iter().map(|m| m.topic.as_str()).collect();
    assert_eq!(topics, ["tc/problem", "tc/label", "tc/detection"]);
    assert_eq!(m[1].payload, NO_LABEL);
    // The first frame after it publishes the label again.
    assert_eq!(t.messages(&detection(Some("cat"), false, 0.9))[0].payload, "cat");
}

#[test]
fn client_ids_come_from_the_host_name() {
    assert_eq!(client_id_for("raspberrypi\n"), "teachcam-raspberrypi");
    assert_eq!(client_id_for("shelf pi.local"), "teachcam-shelfpilocal");
    assert_eq!(client_id_for(""), "teachcam");
    assert!(client_id_for(&"x".repeat(100)).len() <= 64);
}

#[test]
fn start_refuses_a_missing_credentials_file_by_name() {
    let cfg = MqttConfig { credentials_file: Some("/nonexistent/mqtt-secret".into()), ..Default::default() };
    let hub = Arc::new(Hub::new(&["cat".into()]));
    let e = start(&cfg, hub).err().expect("an error").to_string();
    assert!(e.contains("/nonexistent/mqtt-secret"), "{e}");
}

#[test]
fn a_broker_that_is_not_there_does_not_hold_up_start_or_stop() {
    // Port 1 on loopback: nothing listens, connections are refused at once.
    let cfg =
        MqttConfig { broker: "127.0.0.1:1".into(), client_id: Some("teachcam-unit".into()), ..Default::default() };
    let hub = Arc::new(Hub::new(&["cat".into()]));
    let publisher = start(&cfg, Arc::clone(&hub)).expect("starts without a broker");
    // Captures keep coming while nothing can be sent: the queue fills and messages are
    // dropped (counted) instead of anybody waiting.
    let frame = image::RgbImage::new(4, 4);
    let mut i = 0;
    while publisher.dropped() == 0 {
        assert!(i < 100_000, "the queue to an absent broker never filled");
        hub.captured("cat", &format!("id{i}"), i, &frame);
        i += 1;
        if i % 200 == 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    drop(publisher);
}
