//! The long-lived responses: the Server-Sent Events stream of what happens and the MJPEG live
//! view. Each ends when the client goes away (a write fails or times out) or the server stops
//! (checked at least every [`TICK`]).

use super::http::head;
use super::Shared;
use crate::events::Event;
use std::io::{self, Write};
use std::net::TcpStream;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest wait before a stream checks whether the server stops.
const TICK: Duration = Duration::from_millis(250);
/// Detections are sent at most this often (the loop decides many more frames).
const DETECTION_EVERY: Duration = Duration::from_millis(250);
/// A comment is sent after this long without anything, so that proxies and the browser see
/// the stream alive (and a gone client is noticed).
const HEARTBEAT: Duration = Duration::from_secs(15);
/// Milliseconds the browser waits before reconnecting a lost stream.
const RETRY_MS: u32 = 2000;
/// Events that may wait for a slow stream before it loses some.
const EVENT_QUEUE: usize = 256;
/// The MJPEG part boundary.
const BOUNDARY: &str = "teachcam-frame";

/// `GET /api/events`: every event as `data: <JSON>` (the JSON's `type` says which), detections
/// at most every [`DETECTION_EVERY`] (the newest), everything else at once.
pub fn events(shared: &Shared, stream: &mut TcpStream) -> io::Result<()> {
    let events = shared.hub.subscribe(EVENT_QUEUE);
    let headers = "X-Accel-Buffering: no\r\n";
    let mut out = head(200, "text/event-stream; charset=utf-8", None, headers).into_bytes();
    out.extend_from_slice(format!("retry: {RETRY_MS}\n: teachcam events\n\n").as_bytes());
    stream.write_all(&out)?;
    let mut pending = None;
    let mut last_detection: Option<Instant> = None;
    let mut last_write = Instant::now();
    while !shared.stopping() && !client_gone(stream) {
        match events.recv_timeout(TICK) {
            Ok(event) if matches!(*event, Event::Detection(_)) => pending = Some(event),
            Ok(event) => {
                send(stream, &event)?;
                last_write = Instant::now();
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        let now = Instant::now();
        if last_detection.is_none_or(|t| now.duration_since(t) >= DETECTION_EVERY) {
            if let Some(event) = pending.take() {
                send(stream, &event)?;
                (last_detection, last_write) = (Some(now), now);
            }
        }
        if now.duration_since(last_write) >= HEARTBEAT {
            stream.write_all(b": ping\n\n")?;
            last_write = now;
        }
    }
    Ok(())
}

/// True when the client closed its side: the stream ends at once instead of at its next
/// write, freeing the connection slot (and the live view's watcher).
fn client_gone(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return true;
    }
    let gone = match stream.peek(&mut [0u8; 1]) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted),
    };
    gone || stream.set_nonblocking(false).is_err()
}

fn send(stream: &mut TcpStream, event: &Arc<Event>) -> io::Result<()> {
    let json = serde_json::to_string(&**event).map_err(io::Error::other)?;
    stream.write_all(format!("data: {json}\n\n").as_bytes())
}

/// `GET /api/stream.mjpg`: the live view as `multipart/x-mixed-replace` JPEGs, at most at the
/// hub's view rate. The frame loop copies frames only while such a stream (or a single-frame
/// request) watches.
pub fn mjpeg(shared: &Shared, stream: &mut TcpStream) -> io::Result<()> {
    let _watching = shared.hub.watch();
    let content_type = format!("multipart/x-mixed-replace; boundary={BOUNDARY}");
    stream.write_all(head(200, &content_type, None, "").as_bytes())?;
    let mut seq = 0;
    let mut last_write = Instant::now();
    while !shared.stopping() && !client_gone(stream) {
        let Some(frame) = shared.hub.next_frame(seq, TICK) else {
            if last_write.elapsed() >= HEARTBEAT {
                // Nothing to show (camera lost): an empty write still detects a gone client.
                stream.write_all(b"\r\n")?;
                last_write = Instant::now();
            }
            continue;
        };
        seq = frame.seq;
        let Some(jpeg) = shared.view.get(&frame) else { continue };
        let part = format!("--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n", jpeg.len());
        stream.write_all(part.as_bytes())?;
        stream.write_all(&jpeg)?;
        stream.write_all(b"\r\n")?;
        last_write = Instant::now();
    }
    Ok(())
}
