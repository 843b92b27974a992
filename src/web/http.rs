//! One HTTP/1.1 exchange on a connection: the request head parsed with `httparse` within size
//! and time limits, then one response and the connection closes (no keep-alive: a page load is
//! a handful of requests, and a closed connection frees its thread at once).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Largest request head (request line and headers), bytes.
pub const MAX_HEAD: usize = 8 * 1024;
/// Largest request body, bytes (the API's POSTs carry none).
pub const MAX_BODY: usize = 1024;
/// Most request headers.
const MAX_HEADERS: usize = 32;
/// A client has this long to send its whole request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// One write may block this long before the client counts as gone (a stalled stream reader).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// A request, as far as the server looks at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path without its query string, e.g. `/api/state`.
    pub path: String,
    /// The `Authorization` header, if sent.
    pub authorization: Option<String>,
}

/// Why a request was not read; the status to answer with, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The client closed or sent nothing in time before a request began: no answer.
    Gone,
    /// An answer with this status (400, 408, 411, 413, 431).
    Status(u16),
}

/// Reads one request from `stream` within [`REQUEST_TIMEOUT`], with its body (up to
/// [`MAX_BODY`], read and dropped).
pub fn read_request(stream: &mut TcpStream) -> Result<Request, Refusal> {
    let deadline = Instant::now() + REQUEST_TIMEOUT;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let (request, head_len, body_len) = loop {
        let n = read_some(stream, &mut chunk, deadline, buf.is_empty())?;
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut headers);
        match parsed.parse(&buf) {
            Ok(httparse::Status::Complete(head_len)) if head_len <= MAX_HEAD => {
                let (request, body_len) = request_of(&parsed)?;
                break (request, head_len, body_len);
            }
            Ok(httparse::Status::Complete(_)) => return Err(Refusal::Status(431)),
            Ok(httparse::Status::Partial) if buf.len() >= MAX_HEAD => return Err(Refusal::Status(431)),
            Ok(httparse::Status::Partial) => {}
            Err(httparse::Error::TooManyHeaders) => return Err(Refusal::Status(431)),
            Err(_) => return Err(Refusal::Status(400)),
        }
    };
    let mut body_left = body_len.saturating_sub(buf.len() - head_len);
    while body_left > 0 {
        let n = read_some(stream, &mut chunk, deadline, false)?;
        body_left = body_left.saturating_sub(n);
    }
    Ok(request)
}

/// The request's method, path and authorization, and its body length.
fn request_of(parsed: &httparse::Request<'_, '_>) -> Result<(Request, usize), Refusal> {
    let (Some(method), Some(target)) = (parsed.method, parsed.path) else {
        return Err(Refusal::Status(400));
    };
    let header = |name: &str| {
        parsed
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
    };
    if header("transfer-encoding").is_some() {
        return Err(Refusal::Status(411));
    }
    let body_len = match header("content-length") {
        None => 0,
        Some(v) => v.parse::<usize>().map_err(|_| Refusal::Status(400))?,
    };
    if body_len > MAX_BODY {
        return Err(Refusal::Status(413));
    }
    let path = target.split(['?', '#']).next().unwrap_or_default().to_string();
    Ok((Request { method: method.to_string(), path, authorization: header("authorization") }, body_len))
}

/// Reads at least one byte before `deadline`. `first`: nothing was read yet, so a client that
/// goes away or stays silent gets no answer.
fn read_some(stream: &mut TcpStream, chunk: &mut [u8], deadline: Instant, first: bool) -> Result<usize, Refusal> {
    let silent = if first { Refusal::Gone } else { Refusal::Status(408) };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(silent);
        }
        stream.set_read_timeout(Some(left)).map_err(|_| Refusal::Gone)?;
        match stream.read(chunk) {
            Ok(0) => return Err(if first { Refusal::Gone } else { Refusal::Status(400) }),
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => return Err(silent),
            Err(_) => return Err(Refusal::Gone),
        }
    }
}

/// The reason phrase of the statuses this server sends.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// Headers sent with every response: no caching unless said otherwise, no sniffing, no
/// framing, and the page may load only its own parts.
const COMMON_HEADERS: &str = "Connection: close\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n\
X-Frame-Options: DENY\r\nContent-Security-Policy: default-src 'self'; img-src 'self' data:; \
frame-ancestors 'none'; base-uri 'none'; form-action 'none'\r\n";

/// The status line and headers of a response; `length` is `None` for a body that runs until
/// the connection closes (streams). `extra` holds whole header lines, each ending in CRLF.
pub fn head(status: u16, content_type: &str, length: Option<usize>, extra: &str) -> String {
    let length = length.map_or(String::new(), |n| format!("Content-Length: {n}\r\n"));
    let cache = if extra.contains("Cache-Control:") { "" } else { "Cache-Control: no-store\r\n" };
    format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\n{length}{cache}{COMMON_HEADERS}{extra}\r\n",
        reason(status)
    )
}

/// Writes a whole response (without the body for `HEAD`).
pub fn respond(
    stream: &mut TcpStream,
    method: &str,
    status: u16,
    content_type: &str,
    extra: &str,
    body: &[u8],
) -> io::Result<()> {
    let mut out = head(status, content_type, Some(body.len()), extra).into_bytes();
    if method != "HEAD" {
        out.extend_from_slice(body);
    }
    stream.write_all(&out)?;
    stream.flush()
}

/// Writes a small JSON answer `{"error": message}` (or `{"ok": true}` for a 2xx status).
pub fn respond_json_message(stream: &mut TcpStream, method: &str, status: u16, message: &str) -> io::Result<()> {
    let body = if (200..300).contains(&status) {
        serde_json::json!({ "ok": true, "message": message })
    } else {
        serde_json::json!({ "error": message })
    };
    respond(stream, method, status, "application/json", "", body.to_string().as_bytes())
}
