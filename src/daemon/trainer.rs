//! Training on a background thread, so live prediction goes on with the old head meanwhile.

use crate::embed::ModelInfo;
use crate::head::{Head, HeadConfig, HeadError};
use crate::store::Example;
use crate::train::background::BackgroundSet;
use crate::train::{train, TrainError};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Why a background training produced no head.
#[derive(Debug, thiserror::Error)]
pub enum TrainFailed {
    /// Training itself refused (too few labels, …).
    #[error(transparent)]
    Train(#[from] TrainError),
    /// The trained head could not be saved; the old head stays live.
    #[error(transparent)]
    Save(#[from] HeadError),
    /// The training thread could not be started or ended without an answer.
    #[error("the training thread {0}")]
    Thread(&'static str),
}

/// The outcome of one background training: the saved head, or why there is none.
pub type Outcome = Result<Head, TrainFailed>;

/// What one training needs: a snapshot of the examples and where the head goes.
pub struct Job {
    /// The examples, as they were when TRAIN was pressed.
    pub examples: Vec<Example>,
    /// The class order.
    pub labels: Vec<String>,
    /// The backbone the embeddings come from.
    pub model: ModelInfo,
    /// Head settings.
    pub cfg: HeadConfig,
    /// Where the head is saved (atomically) before it is handed back.
    pub head_path: PathBuf,
    /// The background set for the open-set part, if any.
    pub background: Option<Arc<BackgroundSet>>,
}

impl Job {
    fn run(self) -> Outcome {
        let head = train(&self.examples, &self.labels, &self.model, &self.cfg, self.background.as_deref())?;
        head.save(&self.head_path)?;
        Ok(head)
    }
}

/// At most one training at a time.
#[derive(Default)]
pub struct Trainer {
    running: Option<(Receiver<Outcome>, JoinHandle<()>)>,
}

impl Trainer {
    /// True while a training runs.
    pub fn running(&self) -> bool {
        self.running.is_some()
    }

    /// Starts `job` on a background thread. Returns false (and does nothing) if a training
    /// already runs; an error if the thread cannot be started.
    pub fn start(&mut self, job: Job) -> Result<bool, TrainFailed> {
        if self.running.is_some() {
            return Ok(false);
        }
        let (tx, rx) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("teachcam-train".into())
            .spawn(move || {
                let _ = tx.send(job.run());
            })
            .map_err(|_| TrainFailed::Thread("could not be started"))?;
        self.running = Some((rx, handle));
        Ok(true)
    }

    /// The outcome if the training has finished, without waiting.
    pub fn poll(&mut self) -> Option<Outcome> {
        let (rx, _) = self.running.as_ref()?;
        let outcome = match rx.try_recv() {
            Ok(o) => o,
            Err(TryRecvError::Empty) => return None,
            Err(TryRecvError::Disconnected) => Err(TrainFailed::Thread("died")),
        };
        if let Some((_, handle)) = self.running.take() {
            let _ = handle.join();
        }
        Some(outcome)
    }

    /// Waits for the running training, if any, and returns its outcome.
    pub fn wait(&mut self) -> Option<Outcome> {
        let (rx, handle) = self.running.take()?;
        let outcome = rx.recv().unwrap_or(Err(TrainFailed::Thread("died")));
        let _ = handle.join();
        Some(outcome)
    }
}
