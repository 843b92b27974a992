//! `teachcam predict` and `teachcam eval`.

use super::embed_many::{embed_files_showing, progress_bar};
use super::{collect_images, open_embedder, report};
use crate::config::Config;
use crate::embed::imagenet::labels_are_cat_dog;
use crate::head::Head;
use crate::metrics::{evaluate, LabelMetrics};
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One prediction as `predict --json` prints it.
#[derive(Debug, Serialize)]
struct PredictionJson {
    path: PathBuf,
    label: String,
    confidence: f32,
    unsure: bool,
    /// False when the image shows nothing taught (the open-set part rejects it).
    known: bool,
    probabilities: std::collections::BTreeMap<String, f32>,
}

/// Fails, naming the folder, when the data folder does not exist: `predict` and `eval` only
/// read it, and a mistyped `--data` must neither be created nor read as "not trained yet".
fn require_data_folder(config: &Config) -> Result<()> {
    if !config.data_dir.is_dir() {
        return Err(crate::store::StoreError::Missing(config.data_dir.clone()).into());
    }
    Ok(())
}

/// Loads the trained head for the loaded backbone.
fn load_head(config: &Config, embedder: &crate::embed::Embedder) -> Result<Head> {
    Ok(Head::load(&config.head_path(), embedder.info())?)
}

/// Labels each image under `paths`. Images that cannot be read are listed on stderr after the
/// others' labels, and make the command fail.
pub fn predict(config: &Config, paths: &[PathBuf], json: bool) -> Result<()> {
    require_data_folder(config)?;
    let files = collect_images(paths)?;
    if files.is_empty() {
        bail!("no images found in the given paths");
    }
    let embedder = open_embedder(config)?;
    let head = load_head(config, &embedder)?;
    let (mut out, mut failed) = (Vec::new(), Vec::new());
    let bar = progress_bar(files.len(), "labelling", json);
    let embedded = embed_files_showing(&embedder, &files, false, &bar);
    bar.finish_and_clear();
    for (path, r) in files.iter().zip(embedded) {
        let emb = match r {
            Ok(emb) => emb,
            Err(e) => {
                failed.push(e.to_string());
                continue;
            }
        };
        let p = head.predict(&emb.vector);
        let probabilities = head.labels.iter().cloned().zip(p.probs.iter().copied()).collect();
        out.push(PredictionJson {
            path: path.clone(),
            label: head.labels[p.index].clone(),
            confidence: p.confidence,
            unsure: p.unsure,
            known: p.known(),
            probabilities,
        });
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for p in &out {
            let flag = match (p.known, p.unsure) {
                (false, _) => "  (nothing known: closer to the background than to anything taught)",
                (true, true) => "  (unsure)",
                (true, false) => "",
            };
            println!("{}: {} {:.3}{flag}", p.path.display(), p.label, p.confidence);
        }
    }
    if !failed.is_empty() {
        for f in &failed {
            eprintln!("  failed {f}");
        }
        let others = if out.is_empty() { "no image was labelled" } else { "the others were labelled" };
        bail!("{} of {} images could not be read (listed above); {others}", failed.len(), files.len());
    }
    Ok(())
}

/// What `eval --json` prints.
#[derive(Debug, Serialize)]
pub struct EvalJson {
    /// Images evaluated.
    pub n: usize,
    /// Fraction whose top label is right.
    pub accuracy: f32,
    /// The original model's zero-shot accuracy (cat/dog heads only).
    pub baseline_accuracy: Option<f32>,
    /// Labels in class order.
    pub labels: Vec<String>,
    /// Precision, recall, F1 per label.
    pub per_label: Vec<LabelMetrics>,
    /// `confusion[truth][predicted]`.
    pub confusion: Vec<Vec<usize>>,
    /// Each label's confidence threshold, in `labels` order: a top label below its threshold
    /// is reported as unsure.
    pub thresholds: Vec<f32>,
    /// Seconds spent reading and embedding the images.
    pub seconds: f64,
    /// Images whose top label was below its threshold.
    pub unsure: usize,
    /// Share of the labelled images the open-set part calls "nothing known" (`None` for a
    /// head without one).
    pub rejected_rate: Option<f32>,
    /// Share of the `--background` images that would light a label LED (known, above its
    /// threshold, and a label with an LED).
    pub background_lit_rate: Option<f32>,
    /// Number of `--background` images.
    pub background_n: usize,
}

/// Lists `dir`'s label sub-folders and their images, checking every folder is a head label.
fn labelled_images(dir: &Path, head: &Head) -> Result<(Vec<PathBuf>, Vec<usize>)> {
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read evaluation folder {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    if subdirs.is_empty() {
        bail!("{} has no sub-folders: put each label's images in a sub-folder named after it", dir.display());
    }
    let (mut files, mut truth) = (Vec::new(), Vec::new());
    for sub in subdirs {
        let name = sub.file_name().unwrap_or_default().to_string_lossy().to_string();
        let Some(k) = head.label_index(&name) else {
            bail!("folder {} is not a label the head knows (it knows: {})", sub.display(), head.labels.join(", "));
        };
        let images = collect_images(std::slice::from_ref(&sub))?;
        truth.extend(std::iter::repeat_n(k, images.len()));
        files.extend(images);
    }
    if files.is_empty() {
        bail!("no images found under {}", dir.display());
    }
    Ok((files, truth))
}

/// Would `p` light a label LED on its own (one frame, no smoothing)?
fn lights(config: &Config, head: &Head, p: &crate::head::Prediction) -> bool {
    p.known() && !p.unsure && !config.live.no_led.contains(&head.labels[p.index])
}

/// The share of the images under `dir` that would light a label LED.
fn background_lit(
    config: &Config,
    embedder: &crate::embed::Embedder,
    head: &Head,
    dir: &Path,
    json: bool,
) -> Result<(f32, usize)> {
    let files = collect_images(&[dir.to_path_buf()])?;
    if files.is_empty() {
        bail!("no images found under {}", dir.display());
    }
    let bar = progress_bar(files.len(), "background", json);
    let embedded = embed_files_showing(embedder, &files, false, &bar);
    bar.finish_and_clear();
    let mut lit = 0;
    for r in embedded {
        let emb = r?;
        lit += lights(config, head, &head.predict(&emb.vector)) as usize;
    }
    Ok((lit as f32 / files.len() as f32, files.len()))
}

/// Evaluates the head on a labelled folder, and on `background` images that show nothing taught.
pub fn eval(config: &Config, dir: &Path, background: Option<&Path>, json: bool) -> Result<()> {
    require_data_folder(config)?;
    let embedder = open_embedder(config)?;
    let head = load_head(config, &embedder)?;
    let (files, truth) = labelled_images(dir, &head)?;
    let started = std::time::Instant::now();
    let bar = progress_bar(files.len(), "evaluating", json);
    let embedded = embed_files_showing(&embedder, &files, false, &bar);
    bar.finish_and_clear();
    let (mut top, mut unsure, mut rejected, mut zero_shot) = (Vec::new(), 0, 0, Vec::new());
    let cat_dog = labels_are_cat_dog(&head.labels);
    for r in embedded {
        let emb = r?;
        let p = head.predict(&emb.vector);
        unsure += p.unsure as usize;
        rejected += !p.known() as usize;
        top.push(p.index);
        if let (true, Some(z)) = (cat_dog, emb.zero_shot) {
            zero_shot.push(head.labels.iter().position(|l| l.eq_ignore_ascii_case(z.label())).expect("cat/dog head"));
        }
    }
    let m = evaluate(&head.labels, &truth, &top);
    let baseline = (zero_shot.len() == truth.len()).then(|| evaluate(&head.labels, &truth, &zero_shot));
    let rejected_rate = head.open_set.is_some().then(|| rejected as f32 / m.n as f32);
    let (background_lit_rate, background_n) = match background {
        Some(d) => background_lit(config, &embedder, &head, d, json).map(|(r, n)| (Some(r), n))?,
        None => (None, 0),
    };
    // Part of the report (not a log line, which would land among its lines).
    let seconds = started.elapsed().as_secs_f64();
    if json {
        let out = EvalJson {
            n: m.n,
            accuracy: m.accuracy,
            baseline_accuracy: baseline.as_ref().map(|b| b.accuracy),
            labels: head.labels.clone(),
            per_label: m.per_label.clone(),
            confusion: m.confusion.clone(),
            thresholds: head.thresholds.clone(),
            seconds,
            unsure,
            rejected_rate,
            background_lit_rate,
            background_n,
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!("{}", report::accuracy_line(m.accuracy, m.n, baseline.as_ref().map(|b| b.accuracy)));
        print!("{}", report::metrics_table(&m, Some(&head.thresholds)));
        println!("  {unsure} of {} below their label's threshold (reported as unsure)", m.n);
        match rejected_rate {
            Some(r) => println!("  {rejected} of {} called \"nothing known\" ({})", m.n, report::pct(r)),
            None => println!("  no \"nothing known\" check: the head was trained without a background set"),
        }
        if let Some(r) = background_lit_rate {
            println!(
                "  background: {} of {background_n} images showing nothing taught would light an LED",
                report::pct(r)
            );
        }
        println!("  {} images read and embedded in {seconds:.1} s", m.n + background_n);
    }
    Ok(())
}
