//! Teaching: the store and the examples loaded from it, captures, undo, and training in the
//! background. Everything a button press changes lives here.

use super::trainer::{Job, Outcome, TrainFailed, Trainer};
use crate::camera::Frame;
use crate::config::Config;
use crate::embed::{EmbedError, Embedder, Embedding};
use crate::head::HeadConfig;
use crate::imageio::encode_jpeg;
use crate::store::{Entry, Example, NewExample, Origin, Store, StoreError};
use crate::train::background::BackgroundSet;
use crate::train::{class_order, load_examples};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why a capture stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The mirrored view (augmentation) could not be embedded.
    #[error("embedding the mirrored frame: {0}")]
    Embed(#[from] EmbedError),
    /// The example could not be written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why TRAIN did not start a training.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Fewer than two labels have examples; `missing` are the config labels without any.
    #[error("TRAIN needs examples of at least 2 labels; have {have}. Hold a label button to capture examples first")]
    TooFewLabels {
        /// The labels that have examples, for the message.
        have: String,
        /// Indices of the config labels that have none.
        missing: Vec<usize>,
    },
    /// A training is already running.
    #[error("TRAIN pressed while training; ignored")]
    Busy,
    /// The training could not be started.
    #[error(transparent)]
    Failed(#[from] TrainFailed),
}

/// The settings teaching needs, taken from the config once.
#[derive(Debug, Clone)]
struct Settings {
    labels: Vec<String>,
    head: HeadConfig,
    head_path: PathBuf,
    jpeg_quality: u8,
    mirror: bool,
    background: Option<Arc<BackgroundSet>>,
}

/// The taught examples and what changes them.
pub struct Teacher {
    store: Store,
    examples: Vec<Example>,
    trainer: Trainer,
    embedder: Arc<Embedder>,
    settings: Settings,
    reopened: Option<Instant>,
}

/// How often a read-only store is tried again for writing while captures are asked for.
const REOPEN_EVERY: Duration = Duration::from_secs(10);

impl Teacher {
    /// Opens the data folder and loads every example, re-embedding stale ones.
    pub fn open(config: &Config, embedder: Arc<Embedder>) -> Result<Self, StoreError> {
        let mut store = Store::open(&config.data_dir)?;
        for p in store.problems() {
            log::warn!("{p}");
        }
        let examples = load_examples(&mut store, &embedder, config.model.mirror_augment)?.examples;
        let settings = Settings {
            labels: config.labels.clone(),
            head: config.head.clone(),
            head_path: config.head_path(),
            jpeg_quality: config.capture.jpeg_quality,
            mirror: config.model.mirror_augment,
            background: match BackgroundSet::for_config(config, embedder.info()) {
                Ok(set) => set.map(Arc::new),
                Err(e) => {
                    log::error!("{e}; training without it: \"nothing known\" is off");
                    None
                }
            },
        };
        Ok(Self { store, examples, trainer: Trainer::default(), embedder, settings, reopened: None })
    }

    /// Why captures cannot be stored, while the data folder is read-only (full or read-only
    /// disk when it was opened).
    pub fn read_only(&self) -> Option<&str> {
        self.store.read_only()
    }

    /// Reopens a read-only store for writing once in a while (space freed, disk remounted).
    fn try_writable(&mut self) {
        let due = self.reopened.is_none_or(|t| t.elapsed() >= REOPEN_EVERY);
        if self.store.read_only().is_none() || !due {
            return;
        }
        self.reopened = Some(Instant::now());
        if let Ok(store) = Store::open(self.store.root()) {
            if store.read_only().is_none() {
                log::info!("data folder {} is writable again", store.root().display());
                self.store = store;
            }
        }
    }

    /// Examples held per label, in name order.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        self.store.counts()
    }

    /// Number of examples loaded.
    pub fn len(&self) -> usize {
        self.examples.len()
    }

    /// True when nothing has been taught.
    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    /// Stores `frame` as an example of config label `k`, with its `embedding` (and the
    /// mirrored view's, when configured). Returns the entry once it is durable.
    pub fn capture(&mut self, k: usize, frame: &Frame, embedding: &Embedding) -> Result<Entry, CaptureError> {
        self.try_writable();
        let label = &self.settings.labels[k];
        let mut embedding = embedding.clone();
        if self.settings.mirror {
            embedding.mirrored = Some(self.embedder.run(&frame.image, true)?.embedding);
        }
        let jpeg = encode_jpeg(&frame.image, self.settings.jpeg_quality);
        let origin = frame.source.clone().map_or(Origin::Camera, Origin::File);
        let new = NewExample { label, image: &jpeg, ext: "jpg", embedding: &embedding, origin };
        let entry = self.store.add(new, self.embedder.info())?;
        self.examples.push(Example { entry: entry.clone(), embedding });
        Ok(entry)
    }

    /// Removes the newest example, if any.
    pub fn undo(&mut self) -> Result<Option<Entry>, StoreError> {
        let Some(last) = self.store.last().map(|e| e.id) else { return Ok(None) };
        let removed = self.store.remove(&last)?;
        self.examples.retain(|e| e.entry.id != last);
        Ok(removed)
    }

    /// Starts training on the examples as they are now. Returns how many there are.
    pub fn start_training(&mut self) -> Result<usize, StartError> {
        if self.trainer.running() {
            return Err(StartError::Busy);
        }
        let counts = self.store.counts();
        if counts.len() < 2 {
            let labels = &self.settings.labels;
            return Err(StartError::TooFewLabels {
                have: if counts.is_empty() {
                    "none".into()
                } else {
                    counts.keys().cloned().collect::<Vec<_>>().join(", ")
                },
                missing: (0..labels.len()).filter(|&k| !counts.contains_key(&labels[k])).collect(),
            });
        }
        let job = Job {
            examples: self.examples.clone(),
            labels: class_order(&self.settings.labels, counts.keys().map(String::as_str)),
            model: self.embedder.info().clone(),
            cfg: self.settings.head.clone(),
            head_path: self.settings.head_path.clone(),
            background: self.settings.background.clone(),
        };
        self.trainer.start(job)?;
        Ok(self.examples.len())
    }

    /// True while a training runs.
    pub fn training(&self) -> bool {
        self.trainer.running()
    }

    /// The finished training's outcome, without waiting.
    pub fn poll_training(&mut self) -> Option<Outcome> {
        self.trainer.poll()
    }

    /// Waits for the running training, if any.
    pub fn wait_training(&mut self) -> Option<Outcome> {
        self.trainer.wait()
    }
}
