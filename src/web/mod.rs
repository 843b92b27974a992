//! The status page: a small HTTP server in the daemon, serving an embedded page, the state as
//! JSON, an event stream and the live view, read from the [`crate::events::Hub`].
//!
//! One thread accepts connections; each connection gets a thread of its own for one request
//! (streams keep theirs until the client leaves or the server stops), up to
//! `max_connections` at once: beyond that a connection is answered 503. Requests are parsed by
//! `httparse` within size and time limits ([`http`]); every path is matched against a fixed
//! list ([`routes`]), never looked up on disk. JPEGs are encoded on these threads, never on the
//! frame loop's.

mod assets;
mod config;
mod http;
mod jpeg;
mod routes;
mod streams;
mod token;

pub use assets::page_bytes;
pub use config::WebConfig;

use crate::config::BadValue;
use crate::events::Hub;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use token::Token;

/// Connections answered 503 at once at most (each needs a thread to read its request, so a
/// flood beyond this is simply closed).
const MAX_REFUSING: usize = 4;
/// How long a refused connection may take to send its request before it is closed.
const REFUSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Why the page could not be served.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// A `[web]` value is wrong.
    #[error("{}: {:?} {}", .0.key, .0.value, .0.problem)]
    Config(BadValue),
    /// The listen address cannot be bound (in use, not this machine's, a privileged port).
    #[error("cannot listen on {addr} (web.listen): {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The token file cannot be read.
    #[error("cannot read the token file {} (web.token_file): {reason}", path.display())]
    TokenUnreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The token file holds only whitespace.
    #[error("the token file {} (web.token_file) is empty; put a long random token in it, e.g. `openssl rand -hex 16`", path.display())]
    TokenEmpty {
        /// The file.
        path: PathBuf,
    },
    /// The server's thread could not be started.
    #[error("cannot start the status page's thread: {0}")]
    Thread(std::io::Error),
}

/// What every connection's thread reads.
struct Shared {
    hub: Arc<Hub>,
    token: Option<Token>,
    stop: AtomicBool,
    view: jpeg::ViewJpeg,
    max_connections: usize,
    open: AtomicUsize,
    refusing: AtomicUsize,
}

impl Shared {
    /// True once the server stops: streams end.
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn open_counter(&self) -> &AtomicUsize {
        &self.open
    }

    fn refusing_counter(&self) -> &AtomicUsize {
        &self.refusing
    }
}

/// The running server; stops when dropped (streams end within a fraction of a second).
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    /// The address it listens on (with the port chosen when `listen` asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections being served now.
    pub fn open_connections(&self) -> usize {
        self.shared.open.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept thread with a connection of our own.
        let wake = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::new(Ipv4Addr::LOCALHOST.into(), self.addr.port()),
            IpAddr::V6(ip) if ip.is_unspecified() => SocketAddr::new(Ipv6Addr::LOCALHOST.into(), self.addr.port()),
            _ => self.addr,
        };
        let woken = TcpStream::connect_timeout(&wake, Duration::from_secs(1)).is_ok();
        if let Some(accept) = self.accept.take() {
            if woken {
                let _ = accept.join();
            }
        }
    }
}

/// Serves the page on `cfg.listen`, reading `hub`.
pub fn serve(cfg: &WebConfig, hub: Arc<Hub>) -> Result<Server, WebError> {
    cfg.validate().map_err(WebError::Config)?;
    let addr = cfg.address().map_err(WebError::Config)?;
    let token = cfg.token_file.as_deref().map(Token::load).transpose()?;
    let listener = TcpListener::bind(addr).map_err(|source| WebError::Listen { addr, source })?;
    let addr = listener.local_addr().map_err(|source| WebError::Listen { addr, source })?;
    hub.set_view_fps(cfg.view_fps);
    let shared = Arc::new(Shared {
        hub,
        token,
        stop: AtomicBool::new(false),
        view: jpeg::ViewJpeg::default(),
        max_connections: cfg.max_connections,
        open: AtomicUsize::new(0),
        refusing: AtomicUsize::new(0),
    });
    let accept = {
        let shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("web-accept".into())
            .spawn(move || accept_loop(&listener, &shared))
            .map_err(WebError::Thread)?
    };
    let controls = if shared.token.is_some() { "controls on (token)" } else { "read-only (no token_file)" };
    log::info!("status page on http://{addr}/ ({controls})");
    Ok(Server { addr, shared, accept: Some(accept) })
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stopping() {
            break;
        }
        let stream = match conn {
            Ok(s) => s,
            Err(e) => {
                log::debug!("status page: accept failed: {e}");
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let _ = stream.set_write_timeout(Some(http::WRITE_TIMEOUT));
        if shared.open.fetch_add(1, Ordering::SeqCst) >= shared.max_connections {
            shared.open.fetch_sub(1, Ordering::SeqCst);
            refuse(stream, shared);
            continue;
        }
        let guard = Counted(Arc::clone(shared), Shared::open_counter);
        let spawned = std::thread::Builder::new().name("web-conn".into()).spawn(move || {
            let guard = guard;
            serve_connection(stream, &guard.0);
        });
        if let Err(e) = spawned {
            log::warn!("status page: cannot start a connection's thread: {e}");
        }
    }
}

/// Answers one connection beyond the cap with 503, on a thread of its own if fewer than
/// [`MAX_REFUSING`] are being refused; otherwise closes it at once.
fn refuse(mut stream: TcpStream, shared: &Arc<Shared>) {
    if shared.refusing.fetch_add(1, Ordering::SeqCst) >= MAX_REFUSING {
        shared.refusing.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    let guard = Counted(Arc::clone(shared), Shared::refusing_counter);
    let spawned = std::thread::Builder::new().name("web-refuse".into()).spawn(move || {
        let _guard = guard;
        let _ = stream.set_read_timeout(Some(REFUSE_TIMEOUT));
        let _ = stream.set_write_timeout(Some(REFUSE_TIMEOUT));
        // Read what the client sent first, so that closing does not reset the connection
        // before it reads the answer.
        let mut buf = [0u8; http::MAX_HEAD];
        let _ = std::io::Read::read(&mut stream, &mut buf);
        let body = b"{\"error\":\"too many connections; try again in a moment\"}";
        let head = http::head(503, "application/json", Some(body.len()), "Retry-After: 2\r\n");
        let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body));
    });
    if let Err(e) = spawned {
        log::debug!("status page: cannot refuse a connection politely: {e}");
    }
}

/// Serves one request on `stream`.
fn serve_connection(mut stream: TcpStream, shared: &Shared) {
    let request = match http::read_request(&mut stream) {
        Ok(r) => r,
        Err(http::Refusal::Gone) => return,
        Err(http::Refusal::Status(status)) => {
            let _ = http::respond(
                &mut stream,
                "GET",
                status,
                "text/plain; charset=utf-8",
                "",
                http::reason(status).as_bytes(),
            );
            return;
        }
    };
    if let Err(e) = routes::handle(shared, &request, &mut stream) {
        log::debug!("status page: {} {}: {e}", request.method, request.path);
    }
}

/// Holds one unit of a counter of [`Shared`] and gives it back when dropped (also when the
/// connection's thread panics or was never started).
struct Counted(Arc<Shared>, fn(&Shared) -> &AtomicUsize);

impl Drop for Counted {
    fn drop(&mut self) {
        (self.1)(&self.0).fetch_sub(1, Ordering::SeqCst);
    }
}
