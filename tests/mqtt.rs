//! MQTT events against a real broker: Debian's `mosquitto` on a free loopback port (anonymous,
//! no persistence), a subscriber in the test, and the daemon with the fake backbone (colour
//! means: warm and cool scenes differ), either through a replay scenario or ticked frame by
//! frame. Needs `mosquitto` (`apt-get install mosquitto`): without it the tests say NOT RUN,
//! and fail under `TEACHCAM_REQUIRE_DATA`.

mod common;

use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use serde_json::{json, Value};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use teachcam::camera::Frame;
use teachcam::config::Config;
use teachcam::daemon::Daemon;
use teachcam::embed::fake::FakeBackbone;
use teachcam::mqtt::MqttConfig;
use teachcam::panel::{HoldRepeater, SimulatedPanel};

/// How fast a stretch of frames went.
struct Speed {
    fps: f64,
    loop_us: f64,
    process_us: f64,
}

impl std::fmt::Display for Speed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:6.0} frames/s, CPU per frame: loop thread {:5.0} µs, whole process {:5.0} µs",
            self.fps, self.loop_us, self.process_us
        )
    }
}

/// CPU seconds of `clock` (a thread's or the process's CPU-time clock).
fn cpu(clock: libc::clockid_t) -> f64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid timespec for clock_gettime to fill.
    unsafe { libc::clock_gettime(clock, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// Longest wait for anything from the broker (a failure, not a timing check).
const WAIT: Duration = Duration::from_secs(30);

/// `mosquitto`, or `None` after a loud NOT RUN (a failure under `TEACHCAM_REQUIRE_DATA`).
fn mosquitto(test: &str) -> Option<PathBuf> {
    if common::emulated(test) {
        return None;
    }
    let found = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file());
    if found.is_none() {
        let msg = format!("{test}: NOT RUN — mosquitto not found (apt-get install mosquitto)");
        assert!(std::env::var_os("TEACHCAM_REQUIRE_DATA").is_none(), "{msg}, and TEACHCAM_REQUIRE_DATA is set");
        eprintln!("\n*** {msg} ***\n");
    }
    found
}

/// A mosquitto process on a loopback port; killed when dropped.
struct Broker {
    exe: PathBuf,
    conf: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Broker {
    fn start(exe: &Path, dir: &Path) -> Self {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap().local_addr().unwrap().port();
        let conf = dir.join("mosquitto.conf");
        std::fs::write(&conf, format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")).unwrap();
        let mut broker = Self { exe: exe.into(), conf, port, child: None };
        broker.restart();
        broker
    }

    /// Starts it (again) on the same port, empty: no retained messages survive.
    fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let child = Command::new(&self.exe)
            .arg("-c")
            .arg(&self.conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto starts");
        self.child = Some(child);
        let deadline = Instant::now() + WAIT;
        while TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_err() {
            assert!(Instant::now() < deadline, "mosquitto does not listen on port {}", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One message received.
#[derive(Debug, Clone)]
struct Received {
    topic: String,
    payload: String,
    retain: bool,
}

/// A subscriber to `FILTER` on a thread of its own, collecting what it receives.
struct Subscriber {
    got: Arc<Mutex<Vec<Received>>>,
    client: Client,
}

impl Subscriber {
    /// Subscribes and waits until the broker confirmed the subscription.
    fn new(broker: &Broker, id: &str, filter: &str) -> Self {
        let mut options = MqttOptions::new(id, "127.0.0.1", broker.port);
        options.set_keep_alive(Duration::from_secs(5));
        let (client, mut connection) = Client::new(options, 64);
        client.subscribe(filter, QoS::AtLeastOnce).unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let (subscribed_tx, subscribed) = std::sync::mpsc::channel();
        let sink = Arc::clone(&got);
        std::thread::spawn(move || {
            for event in connection.iter() {
                match event {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = subscribed_tx.send(());
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => sink.lock().unwrap().push(Received {
                        topic: p.topic.clone(),
                        payload: String::from_utf8_lossy(&p.payload).into_owned(),
                        retain: p.retain,
                    }),
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        });
        subscribed.recv_timeout(WAIT).expect("the broker confirms the subscription");
        Self { got, client }
    }

    fn all(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `done` holds for what was received; panics with `what` and the messages after
    /// [`WAIT`].
    fn wait_for(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = Instant::now() + WAIT;
        loop {
            let all = self.all();
            if done(&all) {
                return all;
            }
            assert!(Instant::now() < deadline, "never received {what}; got:\n{}", transcript(&all));
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The payload of the retained message on `topic` this subscriber got on subscribing.
    fn retained(&self, topic: &str) -> Option<String> {
        self.all().into_iter().find(|m| m.topic == topic && m.retain).map(|m| m.payload)
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.client.disconnect();
    }
}

fn transcript(messages: &[Received]) -> String {
    messages
        .iter()
        .map(|m| format!("{} {}{}\n", m.topic, m.payload, if m.retain { " (retained)" } else { "" }))
        .collect()
}

fn payloads<'a>(messages: &'a [Received], topic: &str) -> Vec<&'a str> {
    messages.iter().filter(|m| m.topic == topic).map(|m| m.payload.as_str()).collect()
}

fn json_payloads(messages: &[Received], topic: &str) -> Vec<Value> {
    payloads(messages, topic).iter().map(|p| serde_json::from_str(p).expect("JSON payload")).collect()
}

fn mqtt_config(broker: &Broker, prefix: &str, id: &str) -> MqttConfig {
    MqttConfig {
        broker: broker.address(),
        topic_prefix: prefix.into(),
        client_id: Some(id.into()),
        keep_alive_s: 5,
        ..Default::default()
    }
}

/// A scenario teaching `teach/warm` and `teach/cool` (held), then TRAIN, then `test` frames.
fn scenario(dir: &Path, data: &Path, teach: &Path, test: Option<&Path>) -> PathBuf {
    let mut text = format!(
        "data = {data:?}\n[[step]]\nframes = {w:?}\nhold = \"warm\"\n[[step]]\nframes = {c:?}\nhold = \"cool\"\n\
         [[step]]\npress = \"train\"\n",
        data = data.to_str().unwrap(),
        w = teach.join("warm").to_str().unwrap(),
        c = teach.join("cool").to_str().unwrap(),
    );
    if let Some(test) = test {
        text += &format!("[[step]]\nframes = {:?}\nrecurse = true\nrepeat = 3\n", test.to_str().unwrap());
    }
    let file = dir.join("scenario.toml");
    std::fs::write(&file, text).unwrap();
    file
}

/// The scenario of `tests/scenario.rs` with `[mqtt]`: what a subscriber sees, and what a
/// subscriber that comes afterwards finds retained.
#[test]
fn a_scenario_publishes_captures_trainings_and_the_label() {
    let Some(exe) = mosquitto("a_scenario_publishes_captures_trainings_and_the_label") else { return };
    let tmp = tempfile::tempdir().unwrap();
    let broker = Broker::start(&exe, tmp.path());
    let (teach, test) = (tmp.path().join("teach"), tmp.path().join("test"));
    common::synthetic_set(&teach, 8, 11, (320, 240));
    common::synthetic_set(&test, 4, 12, (320, 180));
    let prefix = "test/cam";
    let watcher = Subscriber::new(&broker, "test-watcher", &format!("{prefix}/#"));
    let mqtt = MqttConfig {
        discovery_prefix: Some("test/ha".into()),
        ..mqtt_config(&broker, prefix, "teachcam-scenario-test")
    };
    let config = Config { labels: vec!["warm".into(), "cool".into()], mqtt: Some(mqtt), ..Default::default() };
    let file = scenario(tmp.path(), &tmp.path().join("data"), &teach, Some(&test));
    let embedder = Arc::new(FakeBackbone::embedder(&config.model));
    let summary = teachcam::scenario::run_with(&config, &file, None, embedder).unwrap();
    assert_eq!((summary.correct, summary.scored), (8, 8), "the scenario itself went right");

    let topic = |name: &str| format!("{prefix}/{name}");
    let got = watcher.wait_for("availability offline", |m| payloads(m, &topic("availability")).contains(&"offline"));
    eprintln!("messages seen:\n{}", transcript(&got));
    // The stop's own "offline" and, when the link closes before the broker took the
    // disconnection (a loaded machine), the last will's: the same retained state, possibly twice.
    let mut availability = payloads(&got, &topic("availability"));
    availability.dedup();
    assert_eq!(availability, ["online", "offline"], "online, then offline on a clean stop");
    let captures = json_payloads(&got, &topic("capture"));
    assert_eq!(captures.len(), 16, "one message per capture");
    for (i, c) in captures.iter().enumerate() {
        let (label, count) = if i < 8 { ("warm", i + 1) } else { ("cool", i - 7) };
        assert_eq!((&c["label"], &c["count"]), (&json!(label), &json!(count)), "{c}");
        assert!(c["id"].as_str().is_some_and(|id| !id.is_empty()), "{c}");
    }
    let trainings = json_payloads(&got, &topic("training"));
    assert_eq!(trainings.len(), 2, "{trainings:?}");
    assert_eq!(trainings[0], json!({"state": "started", "examples": 16}));
    assert_eq!(trainings[1]["state"], "trained");
    assert_eq!(trainings[1]["labels"], json!(["warm", "cool"]));
    assert!(trainings[1]["summary"].as_str().is_some_and(|s| !s.is_empty()), "{}", trainings[1]);
    // The label ("none" until the first detection, when the publisher connected that early),
    // then the test frames: cool/, then warm/; on change only.
    let labels = payloads(&got, &topic("label"));
    assert_eq!(labels.last(), Some(&"warm"), "{labels:?}");
    assert!(labels.contains(&"cool"), "{labels:?}");
    assert!(labels.windows(2).all(|w| w[0] != w[1]), "published on change only: {labels:?}");
    assert!(labels.len() < 8, "not per frame: {labels:?}");
    let last = json_payloads(&got, &topic("detection")).pop().unwrap();
    assert_eq!((&last["label"], &last["nothing_known"]), (&json!("warm"), &json!(false)), "{last}");
    assert!(last["confidence"].as_f64().unwrap() > 0.5, "{last}");

    // Somebody subscribing now finds the last label and detection, "offline", and the Home
    // Assistant discovery messages.
    let late = Subscriber::new(&broker, "test-late", "#");
    late.wait_for("the retained messages", |m| m.iter().filter(|m| m.retain).count() >= 6);
    let sensor = late.retained("test/ha/sensor/teachcam-scenario-test/label/config").expect("discovery config");
    let sensor: Value = serde_json::from_str(&sensor).unwrap();
    assert_eq!(
        (&sensor["state_topic"], &sensor["availability_topic"]),
        (&json!(topic("label")), &json!(topic("availability")))
    );
    assert!(late.retained("test/ha/binary_sensor/teachcam-scenario-test/cool/config").is_some());
    assert_eq!(late.retained(&topic("label")).as_deref(), Some("warm"));
    assert_eq!(late.retained(&topic("availability")).as_deref(), Some("offline"));
    let detection: Value = serde_json::from_str(&late.retained(&topic("detection")).unwrap()).unwrap();
    assert_eq!(detection["label"], "warm");
    assert!(late.all().iter().all(|m| m.topic != topic("capture")), "captures are not retained");
}

/// The daemon ticked frame by frame (as `teachcam run` does) while the broker is killed and
/// started again: the loop goes on at the same pace (frames/s printed: without MQTT, with the
/// broker, without it), and after the broker comes back the label is published again.
#[test]
fn a_dead_broker_does_not_slow_the_loop_and_the_label_comes_back() {
    let Some(exe) = mosquitto("a_dead_broker_does_not_slow_the_loop_and_the_label_comes_back") else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut broker = Broker::start(&exe, tmp.path());
    let teach = tmp.path().join("teach");
    common::synthetic_set(&teach, 8, 21, (320, 240));
    let data = tmp.path().join("data");
    let mut config = Config { labels: vec!["warm".into(), "cool".into()], ..Default::default() };
    // Teach and train first (without MQTT), then run the daemon on what it learned.
    let embedder = Arc::new(FakeBackbone::embedder(&config.model));
    let file = scenario(tmp.path(), &data, &teach, None);
    teachcam::scenario::run_with(&config, &file, None, Arc::clone(&embedder)).unwrap();
    config.data_dir = data;
    let prefix = "test/loop";
    let mqtt = mqtt_config(&broker, prefix, "teachcam-loop-test");
    config.mqtt = Some(mqtt.clone());

    let (buttons, leds, _sim) = SimulatedPanel::new(2);
    let clock = Instant::now();
    let repeater = HoldRepeater::per_frame().with_labels(&config.labels);
    let mut daemon = Daemon::new(&config, embedder, Box::new(buttons), Box::new(leds), repeater, clock).unwrap();
    let scenes = |kind: &str| -> Vec<Frame> {
        let dir = teach.join(kind);
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
        paths.sort();
        paths.iter().map(|p| Frame { image: image::open(p).unwrap().to_rgb8(), seq: 0, source: None }).collect()
    };
    let (warm, cool) = (scenes("warm"), scenes("cool"));
    let mut seq = 0u64;
    // Ticks `n` frames of `shown` on a virtual clock (100 ms apart): frames per wall second, and
    // CPU µs per frame of this thread (the loop) and of the whole process (with MQTT's threads).
    let mut run = |daemon: &mut Daemon, shown: &[Frame], n: usize| -> Speed {
        let (start, thread, process) =
            (Instant::now(), cpu(libc::CLOCK_THREAD_CPUTIME_ID), cpu(libc::CLOCK_PROCESS_CPUTIME_ID));
        for i in 0..n {
            let mut frame = shown[i % shown.len()].clone();
            seq += 1;
            frame.seq = seq;
            daemon.tick(Some(&frame), clock + Duration::from_millis(100 * seq));
        }
        Speed {
            fps: n as f64 / start.elapsed().as_secs_f64(),
            loop_us: (cpu(libc::CLOCK_THREAD_CPUTIME_ID) - thread) * 1e6 / n as f64,
            process_us: (cpu(libc::CLOCK_PROCESS_CPUTIME_ID) - process) * 1e6 / n as f64,
        }
    };
    const FRAMES: usize = 400;
    let without = run(&mut daemon, &warm, FRAMES);

    let watcher = Subscriber::new(&broker, "test-watcher-2", &format!("{prefix}/#"));
    let publisher = teachcam::mqtt::start(&mqtt, daemon.hub()).unwrap();
    let label = format!("{prefix}/label");
    watcher.wait_for("availability online", |m| payloads(m, &format!("{prefix}/availability")).contains(&"online"));
    let alive = run(&mut daemon, &warm, FRAMES);
    watcher.wait_for("the label warm", |m| payloads(m, &label).contains(&"warm"));
    drop(watcher);

    // The broker goes away; the scene changes while it is away.
    broker.kill();
    let dead = run(&mut daemon, &cool, FRAMES);
    eprintln!("the ticked loop, fake backbone, {FRAMES} frames each:\n  without MQTT   {without}\n  broker alive   {alive}\n  broker killed  {dead}");

    // It comes back empty; the publisher reconnects (1–2 s pauses) and publishes the retained
    // state again, while the loop goes on.
    broker.restart();
    let deadline = Instant::now() + WAIT;
    let mut ticked = 0;
    loop {
        ticked += 50;
        run(&mut daemon, &cool, 50);
        let probe = Subscriber::new(&broker, "test-probe", &format!("{prefix}/#"));
        std::thread::sleep(Duration::from_millis(100));
        if probe.retained(&label).as_deref() == Some("cool") {
            assert_eq!(probe.retained(&format!("{prefix}/availability")).as_deref(), Some("online"));
            break;
        }
        assert!(Instant::now() < deadline, "the label was not published again after the broker came back");
    }
    eprintln!("label published again after the broker came back ({ticked} frames later)");
    drop(publisher);
    daemon.shutdown();
}
