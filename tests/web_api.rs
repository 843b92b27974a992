//! The status page's HTTP API in-process: `web::serve` on 127.0.0.1:0 over a `Hub` driven by
//! hand (no model, no camera). State JSON, the event stream, the live view, thumbnails, the
//! token on the controls, paths that must not reach the filesystem, request limits, the
//! connection cap, and streams ending when the server stops.

use image::{Rgb, RgbImage};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};
use teachcam::events::{Confidence, Detection, Hub};
use teachcam::panel::Control;
use teachcam::web::{self, Server, WebConfig};

/// Generous bound on waits for things that happen at once; only a broken server hits it.
const PATIENCE: Duration = Duration::from_secs(20);

struct Page {
    server: Server,
    hub: Arc<Hub>,
    _dir: tempfile::TempDir,
}

fn page(token: Option<&str>, max_connections: usize) -> Page {
    let dir = tempfile::tempdir().unwrap();
    let token_file = token.map(|t| {
        let p = dir.path().join("token");
        std::fs::write(&p, format!("{t}\n")).unwrap();
        p
    });
    let cfg =
        WebConfig { enabled: true, listen: "127.0.0.1:0".into(), token_file, max_connections, ..Default::default() };
    let hub = Arc::new(Hub::new(&["a".into(), "b".into()]));
    let server = web::serve(&cfg, Arc::clone(&hub)).expect("the page serves");
    Page { server, hub, _dir: dir }
}

/// A whole exchange: `raw` sent as is, the answer read to its end (the server closes).
fn exchange(addr: SocketAddr, raw: &[u8]) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.write_all(raw).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    split(&out)
}

fn split(out: &[u8]) -> (u16, String, Vec<u8>) {
    let end = out.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete head");
    let head = String::from_utf8_lossy(&out[..end]).to_string();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    (status, head, out[end + 4..].to_vec())
}

fn get(addr: SocketAddr, path: &str) -> (u16, String, Vec<u8>) {
    exchange(addr, format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
}

fn post(addr: SocketAddr, path: &str, auth: Option<&str>) -> (u16, String, Vec<u8>) {
    let auth = auth.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
    exchange(addr, format!("POST {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 0\r\n\r\n").as_bytes())
}

/// Opens a stream and reads until its head and `until` arrived; returns the socket and what
/// was read.
fn open_stream(addr: SocketAddr, path: &str, until: &str) -> (TcpStream, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).unwrap();
    let text = read_until(&mut s, until);
    (s, text)
}

fn read_until(s: &mut TcpStream, until: &str) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains(until) {
        let n = s.read(&mut buf).expect("the stream goes on");
        assert!(n > 0, "the stream ended before {until:?}; got {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&seen).to_string()
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let t = Instant::now();
    while !ok() {
        assert!(t.elapsed() < PATIENCE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn detection(label: &str, p: f32) -> Detection {
    Detection {
        label: Some(label.into()),
        nothing_known: false,
        top: label.into(),
        confidence: p,
        confidences: vec![
            Confidence { label: label.into(), p },
            Confidence { label: "(nothing known)".into(), p: 0.0 },
        ],
        reused: false,
    }
}

fn picture(seed: u8) -> RgbImage {
    RgbImage::from_fn(64, 48, |x, y| Rgb([seed, (x * 4) as u8, (y * 5) as u8]))
}

#[test]
fn state_is_the_hub_status_with_the_controls_flag() {
    let p = page(None, 16);
    p.hub.captured("b", "1700000000000-000", 3, &picture(9));
    p.hub.detected(detection("b", 0.9), Some(Duration::from_millis(7)), Instant::now());
    let (status, head, body) = get(p.server.addr(), "/api/state");
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("Content-Type: application/json"), "{head}");
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["labels"], serde_json::json!(["a", "b"]));
    assert_eq!(v["counts"]["b"], 3);
    assert_eq!(v["detection"]["label"], "b");
    assert_eq!(v["recent_captures"][0]["id"], "1700000000000-000");
    assert_eq!(v["suggested"], serde_json::json!([10, 20]));
    assert_eq!(v["controls"], false);
    let (_, _, body) = get(page(Some("t"), 16).server.addr(), "/api/state");
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&body).unwrap()["controls"], true);

    // The page and its parts, from memory.
    let (status, head, body) = get(p.server.addr(), "/");
    assert_eq!(status, 200);
    assert!(head.contains("text/html") && head.contains("Content-Security-Policy"), "{head}");
    assert!(String::from_utf8_lossy(&body).contains("/app.js"));
    for asset in ["/app.js", "/style.css", "/icon.svg"] {
        assert_eq!(get(p.server.addr(), asset).0, 200, "{asset}");
    }
    assert!(web::page_bytes() < 64 * 1024, "the page stays small: {} bytes", web::page_bytes());
}

#[test]
fn the_event_stream_carries_captures_at_once_and_throttles_detections() {
    let p = page(None, 16);
    let (mut s, head) = open_stream(p.server.addr(), "/api/events", "retry:");
    assert!(head.contains("Content-Type: text/event-stream"), "{head}");
    for i in 0..200 {
        p.hub.detected(detection("a", i as f32 / 200.0), None, Instant::now());
    }
    p.hub.captured("a", "1700000000001-000", 1, &picture(200));
    let text = read_until(&mut s, "\"type\":\"capture\"");
    let capture = text.lines().find(|l| l.contains("\"type\":\"capture\"")).unwrap();
    let json: serde_json::Value = serde_json::from_str(capture.trim_start_matches("data: ")).unwrap();
    assert_eq!((json["label"].as_str(), json["count"].as_u64()), (Some("a"), Some(1)));
    let detections = text.matches("\"type\":\"detection\"").count();
    assert!(detections < 20, "200 detections published, {detections} sent before the capture: not throttled");

    // The capture's thumbnail is served from memory; an unknown id is not.
    let (status, head, body) = get(p.server.addr(), "/api/thumb/1700000000001-000.jpg");
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("image/jpeg") && body.starts_with(&[0xFF, 0xD8]), "{head}");
    assert_eq!(get(p.server.addr(), "/api/thumb/1700000000009-000.jpg").0, 404);
}

#[test]
fn the_live_view_is_watched_only_while_streamed() {
    let p = page(None, 16);
    assert!(!p.hub.watched());
    let mut s = TcpStream::connect(p.server.addr()).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.write_all(b"GET /api/stream.mjpg HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    wait_for("the stream to watch", || p.hub.watched());
    let offering = {
        let hub = Arc::clone(&p.hub);
        std::thread::spawn(move || {
            for i in 0..400u32 {
                hub.offer_frame(&picture(i as u8), Instant::now());
                std::thread::sleep(Duration::from_millis(25));
                if !hub.watched() && i > 0 {
                    break;
                }
            }
        })
    };
    let text = read_until(&mut s, "Content-Type: image/jpeg");
    assert!(text.contains("multipart/x-mixed-replace; boundary="), "{text}");
    drop(s);
    wait_for("the closed stream to stop watching", || !p.hub.watched());

    // One frame on its own: watched just long enough to get one.
    let single = {
        let hub = Arc::clone(&p.hub);
        std::thread::spawn(move || {
            wait_for("the frame request to watch", || hub.watched());
            while hub.watched() {
                hub.offer_frame(&picture(1), Instant::now());
                std::thread::sleep(Duration::from_millis(25));
            }
        })
    };
    let (status, head, body) = get(p.server.addr(), "/api/frame.jpg");
    assert_eq!(status, 200, "{head}");
    assert!(body.starts_with(&[0xFF, 0xD8]));
    single.join().unwrap();
    offering.join().unwrap();
    assert!(!p.hub.watched());
}

#[test]
fn controls_need_the_token() {
    let p = page(Some("s3cret-token"), 16);
    let addr = p.server.addr();
    assert_eq!(post(addr, "/api/capture/b", None).0, 403);
    assert_eq!(post(addr, "/api/capture/b", Some("Bearer wrong")).0, 403);
    assert_eq!(post(addr, "/api/capture/b", Some("Basic s3cret-token")).0, 403);
    assert_eq!(post(addr, "/api/train", Some("Bearer s3cret-tokenX")).0, 403);
    assert!(p.hub.take_remote().is_empty(), "nothing refused reached the loop");

    let (status, _, body) = post(addr, "/api/capture/b", Some("Bearer s3cret-token"));
    assert_eq!(status, 202, "{}", String::from_utf8_lossy(&body));
    assert_eq!(post(addr, "/api/train", Some("Bearer s3cret-token")).0, 202);
    assert_eq!(post(addr, "/api/undo", Some("Bearer s3cret-token")).0, 202);
    assert_eq!(p.hub.take_remote(), vec![Control::Label(1), Control::Train, Control::Undo]);

    assert_eq!(post(addr, "/api/capture/c", Some("Bearer s3cret-token")).0, 404, "no such label");
    assert_eq!(get(addr, "/api/train").0, 405, "a control is a POST");
    assert_eq!(post(addr, "/api/state", None).0, 405);

    // Without a token file the controls do not exist.
    let ro = page(None, 16);
    let (status, _, body) = post(ro.server.addr(), "/api/capture/a", Some("Bearer anything"));
    assert_eq!(status, 404);
    assert!(String::from_utf8_lossy(&body).contains("token_file"));
    assert!(ro.hub.take_remote().is_empty());
}

#[test]
fn a_missing_or_empty_token_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Arc::new(Hub::new(&["a".into(), "b".into()]));
    let missing = dir.path().join("no-such-token");
    let cfg = WebConfig { listen: "127.0.0.1:0".into(), token_file: Some(missing.clone()), ..Default::default() };
    let e = web::serve(&cfg, Arc::clone(&hub)).err().expect("refused").to_string();
    assert!(e.contains(&missing.display().to_string()), "{e}");
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let cfg = WebConfig { token_file: Some(empty.clone()), ..cfg };
    let e = web::serve(&cfg, hub).err().expect("refused").to_string();
    assert!(e.contains(&empty.display().to_string()) && e.contains("empty"), "{e}");
}

#[test]
fn no_path_reaches_the_filesystem() {
    let p = page(None, 16);
    for path in [
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/..%2f..%2fetc%2fpasswd",
        "//etc/passwd",
        "/etc/passwd",
        "/style.css/../../../etc/passwd",
        "/api/thumb/../../../../etc/passwd.jpg",
        "/api/thumb/%2e%2e%2f%2e%2e%2fetc%2fpasswd.jpg",
        "/Cargo.toml",
        "/src/web/page/app.js",
        "/page/app.js",
        "/api/",
        "/api",
        "/static/",
    ] {
        let (status, _, body) = get(p.server.addr(), path);
        assert_eq!(status, 404, "{path}");
        let body = String::from_utf8_lossy(&body);
        assert!(!body.contains("root:") && !body.contains("[package]"), "{path}: {body}");
    }
}

#[test]
fn oversized_and_malformed_requests_are_refused() {
    let p = page(Some("t"), 16);
    let addr = p.server.addr();
    let big_body = "POST /api/train HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Length: 100000\r\n\r\n";
    assert_eq!(exchange(addr, big_body.as_bytes()).0, 413);
    let chunked = "POST /api/train HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    assert_eq!(exchange(addr, chunked.as_bytes()).0, 411);
    let huge_head = format!("GET / HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n", "a".repeat(20_000));
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    let _ = s.write_all(huge_head.as_bytes()); // the server may close before reading it all
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    assert_eq!(split(&out).0, 431);
    assert_eq!(exchange(addr, b"NONSENSE\r\n\r\n").0, 400);
    assert!(p.hub.take_remote().is_empty(), "nothing refused reached the loop");
    // A small body is fine.
    let small = "POST /api/train HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\nContent-Length: 2\r\n\r\n{}";
    assert_eq!(exchange(addr, small.as_bytes()).0, 202);
}

#[test]
fn connections_beyond_the_cap_get_503() {
    let p = page(None, 2);
    let addr = p.server.addr();
    let (first, _) = open_stream(addr, "/api/events", "retry:");
    let (_second, _) = open_stream(addr, "/api/events", "retry:");
    let (status, head, _) = get(addr, "/api/state");
    assert_eq!(status, 503, "{head}");
    assert!(head.contains("Retry-After"), "{head}");
    drop(first);
    wait_for("the closed stream's slot", || p.server.open_connections() < 2);
    assert_eq!(get(addr, "/api/state").0, 200);
}

#[test]
fn streams_end_when_the_server_stops() {
    let p = page(None, 16);
    let addr = p.server.addr();
    let (mut events, _) = open_stream(addr, "/api/events", "retry:");
    let mut view = TcpStream::connect(addr).unwrap();
    view.set_read_timeout(Some(PATIENCE)).unwrap();
    view.write_all(b"GET /api/stream.mjpg HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    wait_for("the view to watch", || p.hub.watched());
    drop(p.server);
    let mut rest = Vec::new();
    events.read_to_end(&mut rest).expect("the event stream ends cleanly");
    view.read_to_end(&mut rest).expect("the view stream ends cleanly");
    wait_for("the view to stop watching", || !p.hub.watched());
    assert!(TcpStream::connect(addr).is_err(), "nothing listens any more");
}

#[test]
fn shipped_configs_document_the_web_table() {
    let load = |name: &str| {
        teachcam::config::Config::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config").join(name))
            .unwrap()
    };
    assert_eq!(load("teachcam.toml").web, WebConfig::default(), "the Pi config documents the defaults: off");
    for name in ["desktop.toml", "demo.toml"] {
        let web = load(name).web;
        assert!(web.enabled, "{name}: the page is on");
        assert_eq!(web.address().unwrap().port(), 8080, "{name}");
    }
}
