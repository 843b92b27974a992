//! `teachcam scenario FILE.toml [--out FILE.jsonl]`: plays a scripted session through the real
//! daemon (capture thread in lockstep, simulated buttons, background training, persistence),
//! with time driven by frames rather than the wall clock.

mod file;

pub use file::{ScenarioError, ScenarioFile, Step};

use crate::camera::replay::{list_images, ReplaySource};
use crate::camera::{spawn_capture, SlotMode};
use crate::config::Config;
use crate::daemon::Daemon;
use crate::embed::Embedder;
use crate::panel::{resolve_action, Control, HoldRepeater, SimulatedPanel};
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Virtual time between two frames.
pub const FRAME_PERIOD: Duration = Duration::from_millis(100);
/// Longest wait for one frame from the capture thread (decoding, not the clock).
const FRAME_WAIT: Duration = Duration::from_secs(60);

/// One frame the scenario will show.
#[derive(Debug, Clone)]
struct Planned {
    path: PathBuf,
    /// Index of the step it belongs to.
    step: usize,
    /// The last of the `repeat` frames of its image: the one scored.
    last_repeat: bool,
    /// The label it shows, when its parent folder is named after one.
    expected: Option<String>,
}

/// What a scenario run measured.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Summary {
    /// The data folder used.
    pub data: PathBuf,
    /// Frames shown.
    pub frames: usize,
    /// Images whose last frame was scored (their expected label is known and no button was held).
    pub scored: usize,
    /// Of those, the ones whose LEDs were right.
    pub correct: usize,
    /// Frames with two or more label LEDs lit.
    pub multiple_lit: usize,
    /// Planned frames that could not be read (skipped).
    pub unreadable: usize,
    /// Examples per label at the end.
    pub examples: BTreeMap<String, usize>,
}

impl Summary {
    /// LED accuracy over the scored images (0 when none).
    pub fn accuracy(&self) -> f64 {
        if self.scored == 0 {
            0.0
        } else {
            self.correct as f64 / self.scored as f64
        }
    }
}

/// One line of `--out`.
#[derive(Serialize)]
struct FrameLine<'a> {
    frame: &'a Path,
    leds: BTreeMap<&'a str, bool>,
    label: Option<&'a str>,
    confidence: f32,
}

/// Builds the frame plan of the frame steps.
fn plan(file: &ScenarioFile, path: &Path, labels: &[String]) -> Result<Vec<Planned>> {
    let mut out = Vec::new();
    for (i, step) in file.steps.iter().enumerate() {
        let Some(dir) = &step.frames else { continue };
        let dir = file::resolve(dir, path);
        let images =
            list_images(&dir, step.recurse).with_context(|| format!("scenario {} step {}", path.display(), i + 1))?;
        for img in images {
            let parent = img.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().to_string());
            let expected = parent.filter(|p| labels.contains(p));
            for r in 0..step.repeat {
                out.push(Planned {
                    path: img.clone(),
                    step: i,
                    last_repeat: r + 1 == step.repeat,
                    expected: expected.clone(),
                });
            }
        }
    }
    Ok(out)
}

/// Runs the scenario at `path` with `config` (its model, labels and live settings), writing
/// per-frame lines to `out` when given.
pub fn run(config: &Config, path: &Path, out: Option<&Path>) -> Result<Summary> {
    let file = ScenarioFile::load(path)?;
    let labels = config.labels.clone();
    // Check every control before anything runs.
    let mut controls = Vec::new();
    for (i, step) in file.steps.iter().enumerate() {
        let name = step.hold.as_ref().or(step.press.as_ref());
        let control = name
            .map(|n| resolve_action(n, &labels))
            .transpose()
            .with_context(|| format!("scenario {} step {}", path.display(), i + 1))?;
        if let (Some(_), Some(c)) = (&step.hold, control) {
            if !matches!(c, Control::Label(_)) {
                bail!("scenario {} step {}: hold takes a label ({})", path.display(), i + 1, labels.join(", "));
            }
        }
        controls.push(control);
    }
    let frames = plan(&file, path, &labels)?;

    let temp;
    let data = match &file.data {
        Some(d) => file::resolve(d, path),
        None => {
            temp = tempfile::Builder::new().prefix("teachcam-scenario-").tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let mut config = config.clone();
    config.data_dir = data.clone();

    let embedder = Arc::new(Embedder::open(&config.model)?);
    let (buttons, leds, sim) = SimulatedPanel::new(labels.len());
    let mut clock = Instant::now();
    let mut daemon =
        Daemon::new(config.clone(), embedder, Box::new(buttons), Box::new(leds), HoldRepeater::per_frame(), clock)?;
    let source = ReplaySource::from_files(frames.iter().map(|p| p.path.clone()).collect(), path);
    let capture = spawn_capture(Box::new(source), SlotMode::Lockstep);
    let mut writer = match out {
        Some(p) => Some(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => None,
    };
    let mut summary = Summary { data: data.clone(), ..Default::default() };
    let mut next = 0; // index into `frames` of the next planned frame
    for (i, step) in file.steps.iter().enumerate() {
        let control = controls[i];
        if step.frames.is_some() {
            if let Some(c) = control {
                sim.press(c)?;
            }
            while next < frames.len() && frames[next].step == i {
                let Some(frame) = capture.next(FRAME_WAIT)? else { break };
                // The replay skips unreadable images: skip their planned frames too.
                while next < frames.len() && Some(&frames[next].path) != frame.source.as_ref() {
                    summary.unreadable += 1;
                    next += 1;
                }
                let Some(planned) = frames.get(next) else { break };
                next += 1;
                clock += FRAME_PERIOD;
                let report = daemon.tick(Some(&frame), clock)?;
                summary.frames += 1;
                let lit: Vec<usize> = (0..labels.len()).filter(|&k| report.leds.labels[k]).collect();
                summary.multiple_lit += (lit.len() > 1) as usize;
                // Frames shown while a button is held are captures, not tests.
                if let (true, None, Some(expected)) = (planned.last_repeat, &step.hold, &planned.expected) {
                    summary.scored += 1;
                    let k = labels.iter().position(|l| l == expected).expect("expected labels are config labels");
                    let right = if config.live.no_led.contains(expected) { lit.is_empty() } else { lit == [k] };
                    summary.correct += right as usize;
                }
                if let Some(w) = writer.as_mut() {
                    let head_label = |k: usize| daemon.head().map(|h| h.labels[k].as_str());
                    let line = FrameLine {
                        frame: &planned.path,
                        leds: labels.iter().map(String::as_str).zip(report.leds.labels.iter().copied()).collect(),
                        label: report.decision.as_ref().and_then(|d| d.label).and_then(head_label),
                        confidence: report.decision.as_ref().map_or(0.0, |d| d.confidence),
                    };
                    serde_json::to_writer(&mut *w, &line)?;
                    w.write_all(b"\n")?;
                }
            }
            if let Some(c) = control {
                sim.release(c)?;
                daemon.tick(None, clock)?;
            }
        } else if let Some(c) = control {
            sim.tap(c)?;
            daemon.tick(None, clock)?;
            // The step waits for the training, then for its result pattern, in frame time.
            daemon.wait_training(clock);
            while daemon.feedback_busy(clock) {
                clock += FRAME_PERIOD;
                daemon.tick(None, clock)?;
            }
        }
    }
    if let Some(mut w) = writer {
        w.flush()?;
    }
    daemon.shutdown();
    summary.examples = daemon.counts();
    Ok(summary)
}
