//! Lasting problems the daemon serves through (camera lost, store not writable, buttons
//! failing, training failing): each is logged when it starts, at most once a minute while it
//! lasts (with how many times it recurred), and once when it ends; while any is active the
//! status LED shows a fast flicker.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

/// How often a lasting problem is logged again while it lasts.
pub const RELOG_EVERY: Duration = Duration::from_secs(60);

/// What a problem is about; one active problem per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Area {
    /// The camera gives no frames (unplugged, `rpicam-vid` exited, replay unreadable).
    Camera,
    /// The data folder cannot be written (full, read-only, damaged).
    Store,
    /// The buttons cannot be read.
    Buttons,
    /// The last training failed.
    Training,
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Area::Camera => "camera",
            Area::Store => "data folder",
            Area::Buttons => "buttons",
            Area::Training => "training",
        })
    }
}

#[derive(Debug, Clone)]
struct Active {
    message: String,
    since: Instant,
    logged: Instant,
    repeats: u64,
}

/// The problems active now.
#[derive(Debug, Default)]
pub struct Health {
    active: BTreeMap<Area, Active>,
}

impl Health {
    /// `area` fails with `message` at `now`: logged at once if new, then at most once per
    /// [`RELOG_EVERY`]. Returns true when this call logged.
    pub fn fail(&mut self, area: Area, message: &str, now: Instant) -> bool {
        match self.active.get_mut(&area) {
            None => {
                log::error!("{area}: {message}");
                self.active.insert(area, Active { message: message.to_string(), since: now, logged: now, repeats: 0 });
                true
            }
            Some(a) => {
                a.repeats += 1;
                a.message = message.to_string();
                if now.saturating_duration_since(a.logged) >= RELOG_EVERY {
                    let secs = now.saturating_duration_since(a.since).as_secs();
                    log::error!("{area}: {message} (still failing after {secs} s, {} times)", a.repeats + 1);
                    a.logged = now;
                    true
                } else {
                    false
                }
            }
        }
    }

    /// `area` works again at `now`; logs the recovery if it was failing.
    pub fn ok(&mut self, area: Area, now: Instant) {
        if let Some(a) = self.active.remove(&area) {
            let secs = now.saturating_duration_since(a.since).as_secs();
            log::info!("{area}: working again after {secs} s");
        }
    }

    /// True while any problem is active.
    pub fn failing(&self) -> bool {
        !self.active.is_empty()
    }

    /// True while `area` is failing.
    pub fn is_failing(&self, area: Area) -> bool {
        self.active.contains_key(&area)
    }

    /// The active problems with their latest message, for status output.
    pub fn problems(&self) -> impl Iterator<Item = (Area, &str)> {
        self.active.iter().map(|(a, p)| (*a, p.message.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_once_then_rate_limited_then_recovers() {
        let t0 = Instant::now();
        let mut h = Health::default();
        assert!(h.fail(Area::Store, "disk full", t0));
        for s in 1..60 {
            assert!(!h.fail(Area::Store, "disk full", t0 + Duration::from_secs(s)), "quiet at {s} s");
        }
        assert!(h.fail(Area::Store, "disk full", t0 + RELOG_EVERY), "logged again after a minute");
        assert!(h.failing() && h.is_failing(Area::Store) && !h.is_failing(Area::Camera));
        assert!(h.fail(Area::Camera, "gone", t0), "another area logs on its own");
        h.ok(Area::Store, t0 + RELOG_EVERY * 2);
        assert_eq!(h.problems().map(|(a, _)| a).collect::<Vec<_>>(), vec![Area::Camera]);
        h.ok(Area::Camera, t0);
        assert!(!h.failing());
    }
}
