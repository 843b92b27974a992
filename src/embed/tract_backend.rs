//! The tract backend: loads an ONNX backbone, checks it against the configuration, runs it.

use super::cache::ModelCache;
use super::{Backbone, BackboneOutput, EmbedError, ModelConfig, ModelInfo, Preprocess};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tract_onnx::prelude::*;

/// An optimised tract plan for an ONNX backbone.
pub struct TractBackbone {
    plan: Arc<TypedRunnableModel>,
    info: ModelInfo,
    has_logits: bool,
}

/// Hex sha256 of a file.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    let bytes = std::fs::read(path)?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// A model as teachcam runs it: checked, analysed (or read from the cache), rewritten and
/// optimised; with the model file's sha256.
pub fn optimised(cfg: &ModelConfig, pre: &Preprocess) -> Result<(TypedModel, String), EmbedError> {
    let path = &cfg.path;
    let unreadable = |reason: String| EmbedError::Unreadable { path: path.clone(), reason };
    if !path.is_file() {
        return Err(unreadable("no such file (set model.path in the config)".into()));
    }
    let not_onnx = |e: TractError| EmbedError::NotOnnx { path: path.clone(), reason: format!("{e:#}") };
    let started = std::time::Instant::now();
    let cache_dir = super::cache::cache_dir(&cfg.cache);
    let sha256 = super::cache::model_sha256(cache_dir.as_deref(), path).map_err(|e| unreadable(e.to_string()))?;
    let shape = pre.input_shape();
    let has_logits = !cfg.logits_output.is_empty();
    let outputs: Vec<&str> =
        [cfg.embedding_output.as_str(), cfg.logits_output.as_str()].into_iter().filter(|o| !o.is_empty()).collect();
    let cache = cache_dir.map(|dir| ModelCache::new(&dir, &sha256, &shape, &outputs));
    let (typed, from) = match cache.as_ref().and_then(ModelCache::load) {
        Some(typed) => (typed, "the cached analysis"),
        None => {
            let typed = analyse(cfg, &shape, has_logits)?;
            if let Some(c) = &cache {
                c.store(&typed);
            }
            (typed, "the ONNX file")
        }
    };
    let analysed = started.elapsed();
    // tract chooses the layouts here (channels last on aarch64, first on x86-64); teachcam's
    // rewrites come after, in whatever layout tract chose.
    let mut typed = typed.into_decluttered().map_err(not_onnx)?;
    // At most 64 MB for one folded constant: the shipped model's largest is 5 MB.
    let folded = super::fold::fold_constants(&mut typed, 64 << 20).map_err(not_onnx)?;
    log::debug!("{folded} constant computations folded at load");
    if cfg.own_depthwise {
        let n = super::dwconv::rewrite(&mut typed).map_err(not_onnx)?;
        log::debug!("{n} depthwise convolutions run by teachcam's own operator");
    }
    if cfg.own_pointwise && cfg!(target_arch = "aarch64") {
        let n = super::pwconv::rewrite(&mut typed).map_err(not_onnx)?;
        log::debug!("{n} pointwise convolutions run by teachcam's own operator");
        let n = super::pwconv::dense::rewrite(&mut typed).map_err(not_onnx)?;
        log::debug!("{n} dense convolutions run by teachcam's own operator");
    }
    let typed = typed.into_optimized().map_err(|e| EmbedError::NotOnnx {
        path: path.clone(),
        reason: format!("cannot run it on a {shape:?} input ({e:#}); check model.input_size and model.layout"),
    })?;
    log::debug!(
        "model {} analysed in {:.0} ms (from {from}) and optimised in {:.0} ms",
        path.display(),
        analysed.as_secs_f64() * 1e3,
        (started.elapsed() - analysed).as_secs_f64() * 1e3
    );
    Ok((typed, sha256))
}

impl TractBackbone {
    /// Loads, checks and optimises the model `cfg.path` for the input `pre` produces.
    pub fn load(cfg: &ModelConfig, pre: &Preprocess) -> Result<Self, EmbedError> {
        let path = &cfg.path;
        let not_onnx = |e: TractError| EmbedError::NotOnnx { path: path.clone(), reason: format!("{e:#}") };
        let (typed, sha256) = optimised(cfg, pre)?;
        let has_logits = !cfg.logits_output.is_empty();
        let dims = output_width(&typed, 0, path, &cfg.embedding_output)?;
        let classes = if has_logits { Some(output_width(&typed, 1, path, &cfg.logits_output)?) } else { None };
        let mut options = RunOptions::default();
        if cfg.threads > 1 {
            options.executor = Some(tract_linalg::multithread::Executor::multithread(cfg.threads));
        }
        let plan = typed.into_runnable_with_options(&options).map_err(not_onnx)?;
        Ok(Self {
            plan,
            info: ModelInfo { path: path.clone(), sha256, dims, classes, preprocess: String::new() },
            has_logits,
        })
    }
}

/// Reads the ONNX file, checks its input and outputs, and analyses it into a typed model for an
/// input of `shape` (not yet decluttered: decluttering chooses layouts per machine, and the
/// cache is shared by all).
fn analyse(cfg: &ModelConfig, shape: &[usize], has_logits: bool) -> Result<TypedModel, EmbedError> {
    let path = &cfg.path;
    let not_onnx = |e: TractError| EmbedError::NotOnnx { path: path.clone(), reason: format!("{e:#}") };
    let mut model = tract_onnx::onnx().model_for_path(path).map_err(not_onnx)?;
    let inputs = model.input_outlets().map_err(not_onnx)?.len();
    if inputs != 1 {
        return Err(shape_err(path, "the model's inputs", &format!("{inputs} inputs"), "exactly one image input"));
    }
    model.set_input_fact(0, f32::fact(shape).into()).map_err(not_onnx)?;
    // The exporter stores every intermediate shape for its own input size; tract would refuse
    // another `model.input_size` against them ("Impossible to unify Val(112) with Val(96)").
    // Forgetting them lets tract derive each one from the input.
    let sources: Vec<usize> = model.input_outlets().map_err(not_onnx)?.iter().map(|o| o.node).collect();
    for id in 0..model.nodes().len() {
        if sources.contains(&id) || model.node(id).op.name() == "Const" {
            continue;
        }
        for slot in 0..model.node(id).outputs.len() {
            model.set_outlet_fact(OutletId::new(id, slot), InferenceFact::default()).map_err(not_onnx)?;
        }
    }
    let mut outlets = vec![find_output(&model, path, &cfg.embedding_output, "embedding_output")?];
    if has_logits {
        outlets.push(find_output(&model, path, &cfg.logits_output, "logits_output")?);
    }
    model.select_output_outlets(&outlets).map_err(not_onnx)?;
    model.into_typed().map_err(|e| EmbedError::NotOnnx {
        path: path.clone(),
        reason: format!("cannot run it on a {shape:?} input ({e:#}); check model.input_size and model.layout"),
    })
}

fn shape_err(path: &Path, what: &str, shape: &str, expected: &str) -> EmbedError {
    EmbedError::BadShape { path: path.to_path_buf(), what: what.into(), shape: shape.into(), expected: expected.into() }
}

/// Finds an output by ONNX name among the model's outputs (or any node's outlet label).
fn find_output(model: &InferenceModel, path: &Path, name: &str, key: &'static str) -> Result<OutletId, EmbedError> {
    if let Some(o) = model.find_outlet_label(name) {
        return Ok(o);
    }
    if let Ok(node) = model.node_by_name(name) {
        return Ok(OutletId::new(node.id, 0));
    }
    let available = model
        .output_outlets()
        .map(|outs| {
            outs.iter()
                .map(|o| model.outlet_label(*o).map(str::to_string).unwrap_or_else(|| model.node(o.node).name.clone()))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    Err(EmbedError::MissingOutput { path: PathBuf::from(path), name: name.into(), key, available })
}

/// Checks output `ix` is `[1, D]` (or `[1, D, 1, 1]`) and returns D.
fn output_width(model: &TypedModel, ix: usize, path: &Path, name: &str) -> Result<usize, EmbedError> {
    let outlet = model.output_outlets().map_err(|e| EmbedError::Inference(e.to_string()))?[ix];
    let fact = model.outlet_fact(outlet).map_err(|e| EmbedError::Inference(e.to_string()))?;
    let dims: Option<Vec<usize>> = fact.shape.as_concrete().map(|s| s.to_vec());
    let shown = format!("{:?}", fact.shape);
    match dims.as_deref() {
        Some([1, d]) | Some([1, d, 1, 1]) if *d > 0 => Ok(*d),
        _ => Err(shape_err(path, &format!("output {name:?}"), &shown, "[1, D]")),
    }
}

impl Backbone for TractBackbone {
    fn run(&self, input: Tensor) -> Result<BackboneOutput, EmbedError> {
        let out = self.plan.run(tvec!(input.into())).map_err(|e| EmbedError::Inference(format!("{e:#}")))?;
        let flat = |t: &TValue| -> Result<Vec<f32>, EmbedError> {
            let v = t.to_plain_array_view::<f32>().map_err(|e| EmbedError::Inference(e.to_string()))?;
            Ok(v.iter().copied().collect())
        };
        let embedding = flat(&out[0])?;
        let logits = if self.has_logits { Some(flat(&out[1])?) } else { None };
        Ok(BackboneOutput { embedding, logits })
    }

    fn info(&self) -> &ModelInfo {
        &self.info
    }
}
