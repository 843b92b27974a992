//! The page's files, embedded in the binary: plain HTML, CSS and JavaScript, no build step, no
//! CDN, no external fonts (the Pi may have no internet).

/// One embedded file.
pub struct Asset {
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its content.
    pub body: &'static str,
}

/// Every file the page loads, by path.
const ASSETS: &[(&str, Asset)] = &[
    ("/", Asset { content_type: "text/html; charset=utf-8", body: include_str!("page/index.html") }),
    ("/style.css", Asset { content_type: "text/css; charset=utf-8", body: include_str!("page/style.css") }),
    ("/app.js", Asset { content_type: "text/javascript; charset=utf-8", body: include_str!("page/app.js") }),
    ("/icon.svg", Asset { content_type: "image/svg+xml", body: include_str!("page/icon.svg") }),
];

/// The embedded file served at `path`, if any.
pub fn find(path: &str) -> Option<&'static Asset> {
    let path = if path == "/index.html" { "/" } else { path };
    ASSETS.iter().find(|(p, _)| *p == path).map(|(_, a)| a)
}

/// Bytes of the page and everything it loads (without the live view and API answers).
pub fn page_bytes() -> usize {
    ASSETS.iter().map(|(_, a)| a.body.len()).sum()
}
