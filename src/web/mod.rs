//! The status page: a small HTTP server in the daemon, serving an embedded page, the state as
//! JSON, an event stream and the live view, read from the [`crate::events::Hub`].

mod config;

pub use config::WebConfig;
