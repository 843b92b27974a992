//! Training on a background thread, so live prediction goes on with the old head meanwhile.

use crate::head::Head;
use crate::store::Example;
use crate::train::{train, HeadConfig};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::thread::JoinHandle;

/// The outcome of one background training: the saved head, or why it failed.
pub type Outcome = Result<Head, String>;

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

    /// Starts training on `examples`; the head is saved atomically to `head_path` before it is
    /// handed back. Returns false (and does nothing) if a training already runs.
    pub fn start(
        &mut self,
        examples: Vec<Example>,
        model_sha256: String,
        dims: usize,
        cfg: HeadConfig,
        head_path: PathBuf,
    ) -> bool {
        if self.running.is_some() {
            return false;
        }
        let (tx, rx) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("teachcam-train".into())
            .spawn(move || {
                let outcome = train(&examples, &model_sha256, dims, &cfg)
                    .map_err(|e| e.to_string())
                    .and_then(|head| head.save(&head_path).map(|()| head).map_err(|e| e.to_string()));
                let _ = tx.send(outcome);
            })
            .expect("spawning the training thread");
        self.running = Some((rx, handle));
        true
    }

    /// The outcome if the training has finished, without waiting.
    pub fn poll(&mut self) -> Option<Outcome> {
        let (rx, _) = self.running.as_ref()?;
        let outcome = match rx.try_recv() {
            Ok(o) => o,
            Err(TryRecvError::Empty) => return None,
            Err(TryRecvError::Disconnected) => Err("the training thread died".to_string()),
        };
        let (_, handle) = self.running.take().expect("checked above");
        let _ = handle.join();
        Some(outcome)
    }

    /// Waits for the running training, if any, and returns its outcome.
    pub fn wait(&mut self) -> Option<Outcome> {
        let (rx, handle) = self.running.take()?;
        let outcome = rx.recv().unwrap_or_else(|_| Err("the training thread died".to_string()));
        let _ = handle.join();
        Some(outcome)
    }
}
