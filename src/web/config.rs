//! The `[web]` table: the status page and its JSON/event API.

use crate::config::{check_f32, check_int, BadValue};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The `[web]` table.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// Serve the page (`teachcam run` only).
    pub enabled: bool,
    /// Address and port to listen on, e.g. `"0.0.0.0:8080"` (every interface) or
    /// `"127.0.0.1:8080"` (this machine only).
    pub listen: String,
    /// A file holding the token that enables the page's controls (capture, train, undo);
    /// without one the page is read-only.
    pub token_file: Option<PathBuf>,
    /// Highest rate of the live view, frames per second.
    pub view_fps: f32,
    /// Most connections served at once (page, API, streams); more are refused.
    pub max_connections: usize,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self { enabled: false, listen: "0.0.0.0:8080".into(), token_file: None, view_fps: 5.0, max_connections: 16 }
    }
}

impl WebConfig {
    /// The listen address, parsed.
    pub fn address(&self) -> Result<SocketAddr, BadValue> {
        self.listen.parse().map_err(|_| {
            BadValue::new("web.listen", &self.listen, "must be an address and port, e.g. \"0.0.0.0:8080\"")
        })
    }

    /// Checks every value.
    pub fn validate(&self) -> Result<(), BadValue> {
        self.address()?;
        check_f32("web.view_fps", self.view_fps, 0.2, 30.0, " of frames per second")?;
        check_int("web.max_connections", self.max_connections, 2, 256, "connections")?;
        if let Some(p) = &self.token_file {
            if p.as_os_str().is_empty() {
                return Err(BadValue::new("web.token_file", "\"\"", "must name a file, or be left out"));
            }
        }
        Ok(())
    }
}
