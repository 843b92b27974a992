//! The last warnings and errors logged, kept in memory for the status page: a logger that
//! passes every record on to the real one and keeps a copy of the warnings.

use super::{lock, unix_now, Warning};
use std::collections::VecDeque;
use std::sync::Mutex;

/// Warnings kept.
pub const KEPT: usize = 20;

static RECENT: Mutex<VecDeque<Warning>> = Mutex::new(VecDeque::new());

/// Wraps a logger: every record goes to it; warnings and errors are also kept for
/// [`recent`].
pub struct Tee<L>(pub L);

impl<L: log::Log> log::Log for Tee<L> {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        self.0.enabled(metadata)
    }

    fn log(&self, record: &log::Record) {
        if record.level() <= log::Level::Warn && self.0.enabled(record.metadata()) {
            keep(record.level(), record.args().to_string());
        }
        self.0.log(record);
    }

    fn flush(&self) {
        self.0.flush();
    }
}

/// Keeps one warning (what the logger does; tests call it directly).
pub fn keep(level: log::Level, message: String) {
    let mut recent = lock(&RECENT);
    if recent.len() == KEPT {
        recent.pop_front();
    }
    recent.push_back(Warning { at: unix_now(), level: level.to_string(), message });
}

/// The last warnings and errors, oldest first.
pub fn recent() -> Vec<Warning> {
    lock(&RECENT).iter().cloned().collect()
}
