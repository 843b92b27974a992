//! The status page: a small HTTP server in the daemon, serving an embedded page, the state as
//! JSON, an event stream and the live view, read from the [`crate::events::Hub`].

mod config;

pub use config::WebConfig;

use crate::events::Hub;
use std::sync::Arc;

/// Why the page could not be served.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Not written yet.
    #[error("the status page is not built yet")]
    Unbuilt,
}

/// The running server; stops when dropped.
pub struct Server {}

/// Serves the page on `cfg.listen`, reading `hub`.
pub fn serve(_cfg: &WebConfig, _hub: Arc<Hub>) -> Result<Server, WebError> {
    Err(WebError::Unbuilt)
}
