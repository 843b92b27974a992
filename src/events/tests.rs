use super::*;
use crate::panel::Control;

fn hub() -> Arc<Hub> {
    Arc::new(Hub::new(&["cat".to_string(), "dog".to_string()]))
}

fn detection(label: Option<&str>) -> Detection {
    Detection {
        label: label.map(String::from),
        nothing_known: false,
        top: label.unwrap_or("cat").into(),
        confidence: 0.9,
        confidences: vec![],
        reused: false,
    }
}

#[test]
fn subscribers_get_events_in_order_and_a_slow_one_loses_instead_of_blocking() {
    let hub = hub();
    let fast = hub.subscribe(100);
    let slow = hub.subscribe(2);
    let t = Instant::now();
    for i in 0..10 {
        hub.detected(detection(Some(if i % 2 == 0 { "cat" } else { "dog" })), None, t);
    }
    let got: Vec<_> = fast.try_iter().collect();
    assert_eq!(got.len(), 10);
    assert!(matches!(&*got[1], Event::Detection(d) if d.label.as_deref() == Some("dog")));
    assert_eq!(slow.try_iter().count(), 2, "the slow subscriber keeps what fits");
    assert_eq!(hub.lost_events(), 8);
    drop(fast);
    hub.detected(detection(None), None, t);
    assert_eq!(lock(&hub.subscribers).len(), 1, "a dropped receiver is unsubscribed");
}

#[test]
fn captures_and_undo_update_counts_recent_captures_and_thumbnails() {
    let hub = hub();
    let events = hub.subscribe(10);
    let frame = RgbImage::from_pixel(640, 480, image::Rgb([200, 10, 10]));
    hub.captured("cat", "0001", 1, &frame);
    hub.captured("dog", "0002", 1, &frame);
    let s = hub.status();
    assert_eq!(s.counts["cat"], 1);
    assert_eq!(s.recent_captures[0].id, "0002", "newest first");
    let thumb = hub.thumbnail("0001").expect("thumbnail kept");
    assert_eq!((thumb.width(), thumb.height()), (THUMBNAIL_SIDE, THUMBNAIL_SIDE * 3 / 4));
    hub.undone("dog", "0002", 0);
    let s = hub.status();
    assert_eq!((s.counts["dog"], s.recent_captures.len()), (0, 1));
    assert!(hub.thumbnail("0002").is_none());
    let kinds: Vec<String> =
        events.try_iter().map(|e| serde_json::to_value(&*e).unwrap()["type"].as_str().unwrap().to_string()).collect();
    assert_eq!(kinds, ["capture", "capture", "undo"]);
    for i in 0..RECENT_CAPTURES + 3 {
        hub.captured("cat", &format!("x{i}"), i + 2, &frame);
    }
    assert_eq!(hub.status().recent_captures.len(), RECENT_CAPTURES);
    assert!(hub.thumbnail("x0").is_none(), "only the last captures' thumbnails are kept");
}

#[test]
fn frames_are_copied_only_while_watched_and_at_the_view_rate() {
    let hub = hub();
    hub.set_view_fps(5.0);
    let frame = RgbImage::new(8, 8);
    let t = Instant::now();
    hub.offer_frame(&frame, t);
    assert!(hub.last_frame().is_none(), "nobody watches: no copy");
    let watching = hub.watch();
    hub.offer_frame(&frame, t);
    hub.offer_frame(&frame, t + Duration::from_millis(100));
    assert_eq!(hub.last_frame().unwrap().seq, 1, "5 fps: the frame 100 ms later is skipped");
    hub.offer_frame(&frame, t + Duration::from_millis(200));
    assert_eq!(hub.next_frame(1, Duration::ZERO).unwrap().seq, 2);
    assert!(hub.next_frame(2, Duration::from_millis(10)).is_none(), "nothing newer: times out");
    drop(watching);
    assert!(!hub.watched());
}

#[test]
fn a_waiting_viewer_wakes_on_the_next_frame() {
    let hub = hub();
    let _w = hub.watch();
    let reader = {
        let hub = Arc::clone(&hub);
        std::thread::spawn(move || hub.next_frame(0, Duration::from_secs(10)).map(|f| f.seq))
    };
    std::thread::sleep(Duration::from_millis(20));
    hub.offer_frame(&RgbImage::new(4, 4), Instant::now());
    assert_eq!(reader.join().unwrap(), Some(1));
}

#[test]
fn remote_controls_are_checked_and_bounded() {
    let hub = hub();
    assert_eq!(hub.press(Control::Label(2)), Err(RemoteError::NoSuchLabel(2)));
    assert_eq!(hub.press(Control::Quit), Err(RemoteError::NotRemote));
    hub.press(Control::Label(1)).unwrap();
    hub.press(Control::Train).unwrap();
    assert_eq!(hub.take_remote(), vec![Control::Label(1), Control::Train]);
    assert!(hub.take_remote().is_empty());
    for _ in 0..REMOTE_QUEUE {
        hub.press(Control::Undo).unwrap();
    }
    assert_eq!(hub.press(Control::Undo), Err(RemoteError::Busy));
}

#[test]
fn problems_are_published_when_they_start_and_end() {
    let hub = hub();
    let events = hub.subscribe(10);
    let camera = Problem { area: "camera".into(), message: "unplugged".into() };
    hub.problems(vec![camera.clone()]);
    hub.problems(vec![camera.clone()]);
    hub.problems(vec![]);
    let got: Vec<Event> = events.try_iter().map(|e| (*e).clone()).collect();
    assert_eq!(
        got,
        vec![
            Event::Problem { area: "camera".into(), message: "unplugged".into() },
            Event::Recovered { area: "camera".into() }
        ]
    );
    assert!(hub.status().problems.is_empty());
}

#[test]
fn speed_counts_frames_and_embedding_time_over_the_window() {
    let hub = hub();
    let t = Instant::now();
    for i in 0..10u64 {
        let embed = (i % 2 == 0).then_some(Duration::from_millis(20));
        hub.detected(detection(None), embed, t + Duration::from_millis(100 * i));
    }
    let mut meter = lock(&hub.speed);
    let s = meter.speed(t + Duration::from_millis(1000));
    assert!((s.fps - 10.0).abs() < 0.01, "{s:?}");
    assert!((s.embed_ms - 20.0).abs() < 0.01 && (s.reused - 0.5).abs() < 1e-6, "{s:?}");
    assert_eq!(meter.speed(t + Duration::from_secs(10)), Speed::default(), "old frames leave the window");
}
