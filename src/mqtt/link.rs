//! The state of the link to the broker: growing pauses between connection attempts, and one
//! log line per change (lost, back), not one per attempt.

use crate::camera::Backoff;
use std::time::Duration;

/// Pauses between connection attempts: 1 s, doubled up to a minute.
pub const BACKOFF: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));

/// Connected or not, and what to say about it.
#[derive(Debug)]
pub struct Link {
    broker: String,
    backoff: Backoff,
    /// `None` before the first attempt ended; then whether the last one succeeded.
    up: Option<bool>,
}

impl Link {
    /// The link to `broker` (as configured, for the log), not tried yet.
    pub fn new(broker: &str) -> Self {
        Self { broker: broker.to_string(), backoff: BACKOFF, up: None }
    }

    /// True while connected.
    pub fn is_up(&self) -> bool {
        self.up == Some(true)
    }

    /// The broker accepted the connection: the line to log.
    pub fn connected(&mut self) -> String {
        let again = self.up == Some(false);
        self.up = Some(true);
        self.backoff.reset();
        if again {
            format!("MQTT: connected to {} again", self.broker)
        } else {
            format!("MQTT: connected to {}", self.broker)
        }
    }

    /// An attempt failed or the connection broke with `error`: the line to log (only for the
    /// first failure in a row) and the pause before the next attempt.
    pub fn failed(&mut self, error: &str) -> (Option<String>, Duration) {
        let line = match self.up {
            Some(false) => None,
            Some(true) => Some(format!(
                "MQTT: lost the broker {} ({error}); retrying in the background (1 s to 60 s apart)",
                self.broker
            )),
            None => Some(format!(
                "MQTT: cannot connect to the broker {} ({error}); retrying in the background (1 s to 60 s apart)",
                self.broker
            )),
        };
        self.up = Some(false);
        (line, self.backoff.next_delay())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_change_and_pauses_grow_to_a_minute() {
        let mut link = Link::new("pi:1883");
        let (line, pause) = link.failed("connection refused");
        assert!(line.unwrap().contains("cannot connect to the broker pi:1883 (connection refused)"));
        assert_eq!(pause, Duration::from_secs(1));
        let pauses: Vec<u64> = (0..8)
            .map(|_| {
                let (line, pause) = link.failed("connection refused");
                assert!(line.is_none(), "retries are not logged");
                pause.as_secs()
            })
            .collect();
        assert_eq!(pauses, [2, 4, 8, 16, 32, 60, 60, 60]);
        assert!(!link.is_up());
        assert_eq!(link.connected(), "MQTT: connected to pi:1883 again");
        assert!(link.is_up());
        let (line, pause) = link.failed("broken pipe");
        assert!(line.unwrap().contains("lost the broker"), "a loss after a connection is logged once more");
        assert_eq!(pause, Duration::from_secs(1), "back to the first pause after a connection");
    }

    #[test]
    fn the_first_connection_says_so() {
        let mut link = Link::new("localhost:1883");
        assert_eq!(link.connected(), "MQTT: connected to localhost:1883");
    }
}
