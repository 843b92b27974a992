//! `teachcam scenario FILE.toml [--out FILE.jsonl]`: plays a scripted session through the real
//! daemon (capture thread in lockstep, simulated buttons, background training, persistence),
//! with time driven by frames rather than the wall clock.

mod file;
mod summary;

pub use file::{ScenarioError, ScenarioFile, Step};
pub use summary::Summary;

use crate::camera::replay::{list_images, ReplaySource};
use crate::camera::{spawn_capture, CaptureHandle, Frame, SlotMode};
use crate::config::Config;
use crate::daemon::{Daemon, TickReport, NOTHING};
use crate::embed::Embedder;
use crate::panel::{resolve_action, Control, HoldRepeater, SimHandle, SimulatedPanel};
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Images in a folder of this name show nothing taught: they must light no label LED.
pub const NOTHING_FOLDER: &str = "nothing";

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
            let expected = parent.filter(|p| labels.contains(p) || p == NOTHING_FOLDER);
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
    let embedder = Arc::new(Embedder::open(&config.model)?);
    run_with(config, path, out, embedder)
}

/// [`run`] with a given embedder (tests use a fake backbone).
pub fn run_with(config: &Config, path: &Path, out: Option<&Path>, embedder: Arc<Embedder>) -> Result<Summary> {
    let file = ScenarioFile::load(path)?;
    let controls = resolve_controls(&file, path, &config.labels)?;
    let frames = plan(&file, path, &config.labels)?;
    let temp;
    let data = match &file.data {
        Some(d) => file::resolve(d, path),
        None => {
            temp = tempfile::Builder::new().prefix("teachcam-scenario-").tempdir()?;
            temp.path().to_path_buf()
        }
    };
    let config = Config { data_dir: data.clone(), ..config.clone() };
    let (buttons, leds, sim) = SimulatedPanel::new(config.labels.len());
    let clock = Instant::now();
    let daemon = Daemon::new(
        &config,
        embedder,
        Box::new(buttons),
        Box::new(leds),
        HoldRepeater::per_frame().with_labels(&config.labels),
        clock,
    )?;
    let _outputs = crate::daemon::Outputs::start(&config, &daemon.hub());
    let source = ReplaySource::from_files(frames.iter().map(|p| p.path.clone()).collect(), path);
    let writer = match out {
        Some(p) => Some(BufWriter::new(File::create(p).with_context(|| format!("cannot create {}", p.display()))?)),
        None => None,
    };
    let mut player = Player {
        config: &config,
        daemon,
        sim,
        capture: spawn_capture(Box::new(source), SlotMode::Lockstep),
        clock,
        frames,
        next: 0,
        carried: None,
        writer,
        summary: Summary { data, ..Default::default() },
    };
    for (i, step) in file.steps.iter().enumerate() {
        match (step.frames.is_some(), controls[i]) {
            (true, control) => player.show_step(i, step, control)?,
            (false, Some(control)) => player.press(control)?,
            (false, None) => {}
        }
    }
    player.finish()
}

/// Resolves every step's button before anything runs.
fn resolve_controls(file: &ScenarioFile, path: &Path, labels: &[String]) -> Result<Vec<Option<Control>>> {
    let mut controls = Vec::new();
    for (i, step) in file.steps.iter().enumerate() {
        let name = step.hold.as_ref().or(step.press.as_ref());
        let control = name
            .map(|n| resolve_action(n, labels))
            .transpose()
            .with_context(|| format!("scenario {} step {}", path.display(), i + 1))?;
        if let (Some(_), Some(c)) = (&step.hold, control) {
            if !matches!(c, Control::Label(_)) {
                bail!("scenario {} step {}: hold takes a label ({})", path.display(), i + 1, labels.join(", "));
            }
        }
        controls.push(control);
    }
    Ok(controls)
}

/// A scenario being played: the daemon, its simulated buttons, the frames and what was scored.
struct Player<'a> {
    config: &'a Config,
    daemon: Daemon,
    sim: SimHandle,
    capture: CaptureHandle,
    /// Virtual time: one [`FRAME_PERIOD`] per frame.
    clock: Instant,
    frames: Vec<Planned>,
    /// Index into `frames` of the next planned frame.
    next: usize,
    /// A frame already taken from the capture thread that belongs to a later step (the
    /// frames planned before it were unreadable): shown by that step.
    carried: Option<Frame>,
    writer: Option<BufWriter<File>>,
    summary: Summary,
}

impl Player<'_> {
    /// Shows the frames of step `i`, with `control` held throughout when given. Its button is
    /// released before any frame of a later step is processed, whichever frames were unreadable.
    fn show_step(&mut self, i: usize, step: &Step, control: Option<Control>) -> Result<()> {
        if let Some(c) = control {
            self.sim.press(c)?;
        }
        while self.next < self.frames.len() && self.frames[self.next].step == i {
            let frame = match self.carried.take() {
                Some(f) => f,
                None => match self.capture.next(FRAME_WAIT)? {
                    Some(f) => f,
                    None => break,
                },
            };
            // The replay skips unreadable images: skip their planned frames too.
            while self.next < self.frames.len() && Some(&self.frames[self.next].path) != frame.source.as_ref() {
                self.summary.unreadable += 1;
                self.next += 1;
            }
            let Some(planned) = self.frames.get(self.next).cloned() else { break };
            if planned.step != i {
                // This step's last frames were unreadable: the frame is a later step's.
                self.carried = Some(frame);
                break;
            }
            self.next += 1;
            self.clock += FRAME_PERIOD;
            let report = self.daemon.tick(Some(&frame), self.clock);
            self.score(&planned, step.hold.is_some(), &report);
            self.write_line(&planned, &report)?;
        }
        if let Some(c) = control {
            self.sim.release(c)?;
            self.daemon.tick(None, self.clock);
        }
        Ok(())
    }

    /// Presses and releases `control`, then waits for a training and its result pattern, in
    /// frame time.
    fn press(&mut self, control: Control) -> Result<()> {
        self.sim.tap(control)?;
        self.daemon.tick(None, self.clock);
        self.daemon.wait_training(self.clock);
        while self.daemon.feedback_busy(self.clock) {
            self.clock += FRAME_PERIOD;
            self.daemon.tick(None, self.clock);
        }
        Ok(())
    }

    /// Counts the frame; scores it when it is the last frame of an image with a known label
    /// shown while no button is held (frames shown while a button is held are captures).
    fn score(&mut self, planned: &Planned, held: bool, report: &TickReport) {
        let labels = &self.config.labels;
        let lit: Vec<usize> = (0..labels.len()).filter(|&k| report.leds.labels[k]).collect();
        self.summary.frames += 1;
        self.summary.multiple_lit += (lit.len() > 1) as usize;
        let nothing = report.decision.as_ref().and_then(|d| d.label).and_then(|k| self.daemon.label_name(k));
        self.summary.nothing_known += (nothing == Some(NOTHING)) as usize;
        let scored_nothing =
            planned.expected.as_deref() == Some(NOTHING_FOLDER) && !labels.iter().any(|l| l == NOTHING_FOLDER);
        if let (true, false, true) = (planned.last_repeat, held, scored_nothing) {
            self.summary.nothing_scored += 1;
            self.summary.nothing_lit += !lit.is_empty() as usize;
        } else if let (true, false, Some(expected)) = (planned.last_repeat, held, &planned.expected) {
            self.summary.scored += 1;
            let k = labels.iter().position(|l| l == expected).expect("expected labels are config labels");
            let right = if self.config.live.no_led.contains(expected) { lit.is_empty() } else { lit == [k] };
            self.summary.correct += right as usize;
        }
    }

    fn write_line(&mut self, planned: &Planned, report: &TickReport) -> Result<()> {
        let Some(w) = self.writer.as_mut() else { return Ok(()) };
        let head_label = |k: usize| self.daemon.label_name(k);
        let line = FrameLine {
            frame: &planned.path,
            leds: self.config.labels.iter().map(String::as_str).zip(report.leds.labels.iter().copied()).collect(),
            label: report.decision.as_ref().and_then(|d| d.label).and_then(head_label),
            confidence: report.decision.as_ref().map_or(0.0, |d| d.confidence),
        };
        serde_json::to_writer(&mut *w, &line)?;
        w.write_all(b"\n")?;
        Ok(())
    }

    fn finish(mut self) -> Result<Summary> {
        if let Some(mut w) = self.writer.take() {
            w.flush()?;
        }
        self.daemon.shutdown();
        self.summary.examples = self.daemon.counts();
        Ok(self.summary)
    }
}
