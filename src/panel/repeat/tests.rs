use super::*;

fn press(label: usize) -> ButtonEvent {
    ButtonEvent::press(Control::Label(label))
}

fn release(label: usize) -> ButtonEvent {
    ButtonEvent::release(Control::Label(label))
}

/// Holds `label` from 0 to `hold_ms`, polling `due` every `poll_ms` (the fake clock);
/// returns the capture times in ms.
fn burst(r: &mut HoldRepeater, hold_ms: u64, poll_ms: u64) -> Vec<u64> {
    let t0 = Instant::now();
    let at = |ms| t0 + Duration::from_millis(ms);
    r.on_event(&press(0), t0);
    let mut times: Vec<u64> = r.due(t0).iter().map(|_| 0).collect();
    let mut ms = poll_ms;
    while ms < hold_ms {
        times.extend(r.due(at(ms)).iter().map(|_| ms));
        ms += poll_ms;
    }
    r.on_event(&release(0), at(hold_ms));
    for ms in (hold_ms..hold_ms + 2000).step_by(poll_ms as usize) {
        assert!(r.due(at(ms)).is_empty(), "capture after release");
    }
    times
}

#[test]
fn one_second_hold_at_5hz_without_delay() {
    let mut r = HoldRepeater::timed(Duration::from_millis(200), 5.0);
    // Press at 0 captures at once, then 200, 400, 600, 800 ms; release at 1000.
    assert_eq!(burst(&mut r, 1000, 10), vec![0, 200, 400, 600, 800]);
}

#[test]
fn one_second_hold_with_default_delay() {
    let mut r = HoldRepeater::default();
    assert_eq!(burst(&mut r, 1000, 5), vec![0, 500, 700, 900]);
}

#[test]
fn short_tap_captures_once() {
    let mut r = HoldRepeater::default();
    assert_eq!(burst(&mut r, 120, 5), vec![0]);
}

#[test]
fn a_tap_within_one_poll_still_captures_once() {
    // The keyboard panel gives a press and its release in the same poll.
    let t0 = Instant::now();
    let mut r = HoldRepeater::default();
    r.on_event(&press(1), t0);
    r.on_event(&release(1), t0);
    assert_eq!(r.due(t0), vec![1]);
    assert!(r.due(t0 + Duration::from_secs(5)).is_empty());
}

#[test]
fn rates_out_of_range_are_kept_in_range_instead_of_panicking() {
    let t0 = Instant::now();
    for rate in [1e-300, 0.0, -5.0, f64::NAN, f64::INFINITY, 1e300] {
        let mut r = HoldRepeater::timed(Duration::ZERO, rate);
        r.on_event(&press(0), t0);
        assert_eq!(r.due(t0), vec![0], "rate {rate}");
        let (lo, hi) = HOLD_RATE_RANGE;
        // The next repeat comes between 1/30 s and 10 s later.
        assert!(r.due(t0 + Duration::from_secs_f64(1.0 / hi / 2.0)).is_empty(), "rate {rate}");
        assert_eq!(r.due(t0 + Duration::from_secs_f64(1.0 / lo)), vec![0], "rate {rate}");
    }
}

#[test]
fn late_polling_skips_instead_of_bursting() {
    let t0 = Instant::now();
    let at = |ms| t0 + Duration::from_millis(ms);
    let mut r = HoldRepeater::timed(Duration::from_millis(100), 10.0);
    r.on_event(&press(2), t0);
    assert_eq!(r.due(t0), vec![2]);
    assert!(r.due(at(99)).is_empty());
    // Due at 100, 200, 300, 400; polled only at 450: one capture.
    assert_eq!(r.due(at(450)), vec![2]);
    assert!(r.due(at(549)).is_empty());
    assert_eq!(r.due(at(550)), vec![2]);
}

#[test]
fn other_controls_do_not_touch_a_burst() {
    let t0 = Instant::now();
    let at = |ms| t0 + Duration::from_millis(ms);
    let mut r = HoldRepeater::timed(Duration::from_millis(100), 10.0);
    r.on_event(&press(0), t0);
    // TRAIN (and UNDO, QUIT) while a label is held: the burst goes on.
    r.on_event(&ButtonEvent::press(Control::Train), t0);
    r.on_event(&ButtonEvent::release(Control::Train), t0);
    r.on_event(&ButtonEvent::press(Control::Undo), at(10));
    assert_eq!(r.due(at(10)), vec![0]);
    // A repeated press event while held does not restart the burst.
    r.on_event(&press(0), at(60));
    assert!(r.due(at(60)).is_empty());
    assert_eq!(r.due(at(100)), vec![0]);
    assert!(!r.chord());
}

#[test]
fn two_labels_pressed_together_capture_neither() {
    let t0 = Instant::now();
    let at = |ms| t0 + Duration::from_millis(ms);
    let mut r = HoldRepeater::timed(Duration::from_millis(100), 10.0).with_labels(&["cat".into(), "dog".into()]);
    // Both go down within one poll: the first one's capture is withdrawn.
    r.on_event(&press(0), t0);
    r.on_event(&press(1), t0);
    assert!(r.chord());
    assert_eq!(r.held(), vec![0, 1]);
    for ms in (0..2000).step_by(10) {
        assert!(r.due(at(ms)).is_empty(), "captured during a chord at {ms} ms");
    }
    // Releasing one is not enough: the other may be the wrong label.
    r.on_event(&release(0), at(2000));
    assert!(r.chord());
    assert!(r.due(at(2500)).is_empty());
    r.on_event(&release(1), at(2600));
    assert!(!r.chord());
    // The next single press captures again.
    r.on_event(&press(1), at(3000));
    assert_eq!(r.due(at(3000)), vec![1]);
    assert_eq!(r.due(at(3100)), vec![1]);
}

#[test]
fn a_second_label_during_a_burst_stops_it() {
    let t0 = Instant::now();
    let at = |ms| t0 + Duration::from_millis(ms);
    let mut r = HoldRepeater::timed(Duration::from_millis(100), 10.0);
    r.on_event(&press(0), t0);
    assert_eq!(r.due(t0), vec![0], "the first label captured before the second came");
    assert_eq!(r.due(at(100)), vec![0]);
    r.on_event(&press(1), at(150));
    assert!(r.due(at(150)).is_empty() && r.due(at(400)).is_empty());
    // A label tapped and released before the chord keeps its capture.
    let mut r = HoldRepeater::timed(Duration::from_millis(100), 10.0);
    r.on_event(&press(2), t0);
    r.on_event(&release(2), t0);
    r.on_event(&press(0), t0);
    r.on_event(&press(1), t0);
    assert_eq!(r.due(t0), vec![2]);
}

#[test]
fn per_frame_mode_captures_once_per_tick_while_held() {
    let t0 = Instant::now();
    let mut r = HoldRepeater::per_frame();
    assert!(r.tick().is_empty());
    r.on_event(&press(1), t0);
    assert_eq!(r.tick(), vec![1]);
    assert_eq!(r.tick(), vec![1]);
    assert_eq!(r.tick(), vec![1]);
    r.on_event(&release(1), t0);
    assert!(r.tick().is_empty());
    assert!(r.due(t0 + Duration::from_secs(9)).is_empty());
}

#[test]
fn per_frame_tap_between_ticks_still_captures_once() {
    let t0 = Instant::now();
    let mut r = HoldRepeater::per_frame();
    r.on_event(&press(0), t0);
    r.on_event(&release(0), t0);
    r.on_event(&press(2), t0);
    assert_eq!(r.tick(), vec![0, 2]);
    assert_eq!(r.tick(), vec![2]);
}

#[test]
fn per_frame_chord_captures_nothing() {
    let t0 = Instant::now();
    let mut r = HoldRepeater::per_frame();
    r.on_event(&press(0), t0);
    r.on_event(&press(1), t0);
    assert!(r.tick().is_empty() && r.tick().is_empty());
    r.on_event(&release(0), t0);
    r.on_event(&release(1), t0);
    r.on_event(&press(0), t0);
    assert_eq!(r.tick(), vec![0]);
}
