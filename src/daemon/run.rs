//! `teachcam run`: the daemon on real (or configured) hardware until SIGINT/SIGTERM or QUIT.

use super::{Daemon, Outputs};
use crate::camera::{self, spawn_recovering, Backoff, CameraError, CaptureHandle, FrameSource, SlotMode, SourceConfig};
use crate::config::Config;
use crate::embed::Embedder;
use crate::panel::{self, Buttons, HoldRepeater, Leds};
use anyhow::{anyhow, Context, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the loop waits for a frame before ticking without one (buttons stay live).
const FRAME_WAIT: Duration = Duration::from_millis(200);
/// No frame for this long is a camera problem even when the source reports none.
const STALLED: Duration = Duration::from_secs(5);

/// Runs the daemon with the configured source and panel until SIGINT/SIGTERM or QUIT.
pub fn run(config: &Config) -> Result<()> {
    let source_cfg = config.source.as_ref().ok_or_else(|| {
        anyhow!("the configuration has no [source] section; see config/teachcam.toml or config/desktop.toml")
    })?;
    let panel_cfg = config.panel.as_ref().ok_or_else(|| {
        anyhow!("the configuration has no [panel] section; see config/teachcam.toml or config/desktop.toml")
    })?;
    // Hardware first: a missing camera or GPIO access fails in a second, before the model loads.
    let source = camera::open(source_cfg)?;
    let (buttons, leds) = panel::open(panel_cfg, &config.labels)?;
    let embedder = Arc::new(Embedder::open(&config.model)?);
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).context("installing the signal handlers")?;
    }
    run_with(config, source, buttons, leds, embedder, &stop)
}

/// The daemon loop on given parts, until `stop` is set, QUIT is pressed or the frames end.
/// The newest frame is always processed; frames that arrive while one is embedded are dropped.
/// A failing camera ends nothing: it is reopened with growing pauses while buttons, LEDs and
/// training go on, and the problem is shown (log, status LED) until frames flow again.
pub fn run_with(
    config: &Config,
    source: Box<dyn FrameSource>,
    buttons: Box<dyn Buttons>,
    leds: Box<dyn Leds>,
    embedder: Arc<Embedder>,
    stop: &AtomicBool,
) -> Result<()> {
    let capture = spawn_recovering(source, slot_mode(config.source.as_ref()), Backoff::CAMERA);
    log::info!("camera: {}; labels: {}", capture.describe(), config.labels.join(", "));
    let repeater = HoldRepeater::from_config(&config.capture).with_labels(&config.labels);
    let mut daemon = Daemon::new(config, embedder, buttons, leds, repeater, Instant::now())?;
    let _outputs = Outputs::start(config, &daemon.hub());
    let mut last_frame = Instant::now();
    let result = loop {
        if stop.load(Ordering::Relaxed) || daemon.quit_requested() {
            log::info!("stopping");
            break Ok(());
        }
        let frame = match capture.next(FRAME_WAIT) {
            Ok(frame @ Some(_)) => frame,
            Ok(None) => {
                log::info!("end of the frame stream");
                break Ok(());
            }
            Err(CameraError::FrameTimeout(_)) => None,
            Err(e) => break Err(e.into()),
        };
        let now = Instant::now();
        if frame.is_some() {
            last_frame = now;
        }
        daemon.camera_status(camera_problem(&capture, now - last_frame).as_deref(), now);
        daemon.tick(frame.as_ref(), now);
    };
    if daemon.training() {
        log::info!("waiting for the running training to finish");
        daemon.wait_training(Instant::now());
    }
    daemon.shutdown();
    log::info!("{} stale frames were dropped in favour of newer ones", capture.dropped());
    result
}

/// How the capture thread hands frames over: a camera's newest frame only ([`SlotMode::Latest`]),
/// but an unpaced replay (`fps = 0`) one frame per frame consumed ([`SlotMode::Lockstep`]), as
/// its setting says. In latest mode an unpaced replay decodes images as fast as it can only to
/// drop nearly all of them, taking a core from inference (half the loop's frames/s on 2 cores,
/// `scripts/bench-loop.sh`).
fn slot_mode(source: Option<&SourceConfig>) -> SlotMode {
    match source {
        Some(SourceConfig::Replay(replay)) if replay.fps <= 0.0 => SlotMode::Lockstep,
        _ => SlotMode::Latest,
    }
}

/// What keeps frames from coming, if anything: the capture thread's problem, or a silence of
/// [`STALLED`] or more.
fn camera_problem(capture: &CaptureHandle, since_frame: Duration) -> Option<String> {
    capture.problem().or_else(|| {
        (since_frame >= STALLED)
            .then(|| format!("no frame from {} for {} s", capture.describe(), since_frame.as_secs()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::ReplayConfig;

    #[test]
    fn only_an_unpaced_replay_runs_in_lockstep() {
        let replay = |fps| SourceConfig::Replay(ReplayConfig { fps, ..ReplayConfig::new("frames") });
        assert_eq!(slot_mode(Some(&replay(0.0))), SlotMode::Lockstep);
        assert_eq!(slot_mode(Some(&replay(10.0))), SlotMode::Latest);
        assert_eq!(slot_mode(Some(&SourceConfig::default())), SlotMode::Latest);
        assert_eq!(slot_mode(None), SlotMode::Latest);
    }
}
