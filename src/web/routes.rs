//! What each path answers. Every path is matched exactly against this fixed list: nothing a
//! request names ever reaches the filesystem.

use super::http::{respond, respond_json_message, Request};
use super::{assets, jpeg, streams, Shared};
use crate::events::{RemoteError, Status};
use crate::panel::Control;
use serde::Serialize;
use std::io;
use std::net::TcpStream;
use std::time::Duration;

/// How long `GET /api/frame.jpg` waits for a fresh frame before answering with the last one.
const FRAME_WAIT: Duration = Duration::from_secs(2);

/// `GET /api/state`: the hub's status plus whether the controls are on.
#[derive(Serialize)]
struct State {
    #[serde(flatten)]
    status: Status,
    /// True when a token is configured: the page shows its controls.
    controls: bool,
}

/// Answers `request` on `stream`.
pub fn handle(shared: &Shared, request: &Request, stream: &mut TcpStream) -> io::Result<()> {
    let method = request.method.as_str();
    let path = request.path.as_str();
    let get = method == "GET" || method == "HEAD";
    if let Some(asset) = assets::find(path) {
        if !get {
            return not_allowed(stream, method, "GET");
        }
        let cache = "Cache-Control: no-cache\r\n";
        return respond(stream, method, 200, asset.content_type, cache, asset.body.as_bytes());
    }
    match path {
        "/api/state" | "/api/events" | "/api/stream.mjpg" | "/api/frame.jpg" if !get => {
            not_allowed(stream, method, "GET")
        }
        "/api/state" => {
            let state = State { status: shared.hub.status(), controls: shared.token.is_some() };
            let body = serde_json::to_vec(&state).map_err(io::Error::other)?;
            respond(stream, method, 200, "application/json", "", &body)
        }
        "/api/events" | "/api/stream.mjpg" if method == "HEAD" => {
            let content_type = if path == "/api/events" { "text/event-stream" } else { "multipart/x-mixed-replace" };
            respond(stream, method, 200, content_type, "", b"")
        }
        "/api/events" => streams::events(shared, stream),
        "/api/stream.mjpg" => streams::mjpeg(shared, stream),
        "/api/frame.jpg" => frame(shared, method, stream),
        "/api/train" => control(shared, request, stream, Control::Train, "training asked for"),
        "/api/undo" => control(shared, request, stream, Control::Undo, "undo asked for"),
        _ => {
            if let Some(label) = path.strip_prefix("/api/capture/") {
                let labels = shared.hub.status().labels;
                if let Some(k) = labels.iter().position(|l| l == label) {
                    return control(shared, request, stream, Control::Label(k), &format!("capturing {label}"));
                }
                return respond_json_message(stream, method, 404, &format!("no label {label:?}"));
            }
            if let Some(id) = path.strip_prefix("/api/thumb/").and_then(|p| p.strip_suffix(".jpg")) {
                if get {
                    return thumbnail(shared, method, id, stream);
                }
                return not_allowed(stream, method, "GET");
            }
            respond(stream, method, 404, "text/plain; charset=utf-8", "", b"not found\n")
        }
    }
}

fn not_allowed(stream: &mut TcpStream, method: &str, allowed: &str) -> io::Result<()> {
    respond(stream, method, 405, "text/plain; charset=utf-8", &format!("Allow: {allowed}\r\n"), b"method not allowed\n")
}

/// A control: POST only, with the token.
fn control(shared: &Shared, request: &Request, stream: &mut TcpStream, control: Control, done: &str) -> io::Result<()> {
    let method = request.method.as_str();
    if method != "POST" {
        return not_allowed(stream, method, "POST");
    }
    let Some(token) = &shared.token else {
        return respond_json_message(stream, method, 404, "controls are off: no token_file in [web]");
    };
    if !token.accepts(request.authorization.as_deref()) {
        return respond_json_message(stream, method, 403, "the token is missing or wrong");
    }
    match shared.hub.press(control) {
        Ok(()) => respond_json_message(stream, method, 202, done),
        Err(e @ RemoteError::Busy) => respond_json_message(stream, method, 503, &e.to_string()),
        Err(e) => respond_json_message(stream, method, 404, &e.to_string()),
    }
}

/// `GET /api/frame.jpg`: one live frame (watching just long enough to get a fresh one).
fn frame(shared: &Shared, method: &str, stream: &mut TcpStream) -> io::Result<()> {
    let frame = {
        let _watching = shared.hub.watch();
        let last = shared.hub.last_frame().map_or(0, |f| f.seq);
        shared.hub.next_frame(last, FRAME_WAIT).or_else(|| shared.hub.last_frame())
    };
    match frame.and_then(|f| shared.view.get(&f)) {
        Some(jpeg) => respond(stream, method, 200, "image/jpeg", "", &jpeg),
        None => respond_json_message(stream, method, 503, "no frame yet (is the camera running?)"),
    }
}

/// `GET /api/thumb/<id>.jpg`: a recent capture's thumbnail, from memory.
fn thumbnail(shared: &Shared, method: &str, id: &str, stream: &mut TcpStream) -> io::Result<()> {
    match shared.hub.thumbnail(id).and_then(|t| jpeg::encode(&t)) {
        Some(jpeg) => respond(stream, method, 200, "image/jpeg", "Cache-Control: private, max-age=86400\r\n", &jpeg),
        None => respond(stream, method, 404, "text/plain; charset=utf-8", "", b"no such capture\n"),
    }
}
