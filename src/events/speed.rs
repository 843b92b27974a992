//! Frames per second and embedding time over the last few seconds, for the status page.

use super::Speed;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The window the figures are computed over.
const WINDOW: Duration = Duration::from_secs(3);

/// The frames of the last [`WINDOW`]: when each was decided and its embedding time (`None` when
/// it reused the last embedding).
#[derive(Debug, Default)]
pub struct SpeedMeter {
    frames: VecDeque<(Instant, Option<Duration>)>,
}

impl SpeedMeter {
    /// Counts one frame decided at `now`.
    pub fn frame(&mut self, embed: Option<Duration>, now: Instant) {
        self.frames.push_back((now, embed));
        self.trim(now);
    }

    /// The figures at `now`.
    pub fn speed(&mut self, now: Instant) -> Speed {
        self.trim(now);
        let n = self.frames.len();
        if n == 0 {
            return Speed::default();
        }
        let embedded: Vec<Duration> = self.frames.iter().filter_map(|f| f.1).collect();
        let span = now.saturating_duration_since(self.frames[0].0).max(Duration::from_millis(500)).min(WINDOW);
        Speed {
            fps: n as f32 / span.as_secs_f32(),
            embed_ms: if embedded.is_empty() {
                0.0
            } else {
                embedded.iter().sum::<Duration>().as_secs_f32() * 1e3 / embedded.len() as f32
            },
            reused: (n - embedded.len()) as f32 / n as f32,
        }
    }

    fn trim(&mut self, now: Instant) {
        while self.frames.front().is_some_and(|f| now.saturating_duration_since(f.0) > WINDOW) {
            self.frames.pop_front();
        }
    }
}
