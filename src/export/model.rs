//! `teachcam export`: the backbone's ONNX graph with the trained head appended, as one file.
//!
//! After the backbone's embedding output the graph computes exactly what teachcam does per
//! frame ([`crate::head::Features::apply`], then the weights, then softmax):
//!
//! ```text
//! n = e / max(‖e‖₂, tiny)          (Flatten, ReduceSumSquare, Sqrt, Max, Div)
//! x = (n − centre) · scale         (Sub, Mul)
//! probabilities = softmax(x·Wᵀ + b) (Gemm, Softmax)          → output `probabilities` [1, K]
//! ```
//!
//! When the head has an open-set part ("nothing known"), it is in the graph too, as exact as
//! the rest: `novelty_score` [1, 1] (nearest taught prototype minus nearest background
//! embedding, cosines of background-centred directions) and `known` [1, 1] (`score ≥ margin`).
//! Nodes only the ImageNet logits needed are left out. Labels, thresholds, the preprocessing
//! and where the model came from are in the model's metadata (`teachcam.*` keys).

use super::graph::{value_info, Attr, Builder};
use super::ExportError;
use crate::config::Config;
use crate::embed::{Crop, Embedder, Layout, Preprocess};
use crate::head::Head;
use prost::Message as _;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::Path;
use tract_onnx::pb;
use tract_onnx::pb::tensor_proto::DataType;

/// Name of the probabilities output.
pub const PROBABILITIES: &str = "probabilities";
/// Name of the open-set score output.
pub const NOVELTY_SCORE: &str = "novelty_score";
/// Name of the open-set verdict output.
pub const KNOWN: &str = "known";

/// What was exported.
#[derive(Debug, Clone)]
pub struct Exported {
    /// Label names, in the order of the probabilities.
    pub labels: Vec<String>,
    /// The graph's outputs.
    pub outputs: Vec<String>,
    /// The input's name and shape.
    pub input: (String, Vec<usize>),
    /// Size of the written file in bytes.
    pub bytes: usize,
}

/// Exports the configured backbone with the data folder's head to `out` (written atomically).
pub fn export(config: &Config, out: &Path) -> Result<Exported, ExportError> {
    let model_path = &config.model.path;
    if same_file(out, model_path) {
        return Err(ExportError::Output {
            path: out.to_path_buf(),
            reason: "is the backbone itself; choose another file".into(),
        });
    }
    if out.is_dir() {
        return Err(ExportError::Output { path: out.to_path_buf(), reason: "is a folder".into() });
    }
    let head_path = config.head_path();
    // Fails early and clearly when there is no head, before the model is loaded.
    Head::read(&head_path)?;
    let embedder = Embedder::open(&config.model)?;
    let head = Head::load(&head_path, embedder.info())?;
    let bytes = std::fs::read(model_path)
        .map_err(|e| ExportError::Model { path: model_path.clone(), reason: e.to_string() })?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    if sha256 != head.model_sha256 {
        return Err(ExportError::Model {
            path: model_path.clone(),
            reason: "changed while it was being exported; try again".into(),
        });
    }
    let proto = pb::ModelProto::decode(bytes.as_slice())
        .map_err(|e| ExportError::Model { path: model_path.clone(), reason: format!("not an ONNX model: {e}") })?;
    let meta = Metadata { head: &head, pre: embedder.preprocess(), sha256: &sha256 };
    let (proto, exported) = with_head(proto, &config.model.embedding_output, &meta)
        .map_err(|reason| ExportError::Model { path: model_path.clone(), reason })?;
    let encoded = proto.encode_to_vec();
    crate::fsutil::write_atomic(out, &encoded)
        .map_err(|e| ExportError::Output { path: out.to_path_buf(), reason: format!("cannot be written: {e}") })?;
    Ok(Exported { bytes: encoded.len(), ..exported })
}

/// True when `a` and `b` name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// What goes into the metadata besides the graph.
pub struct Metadata<'a> {
    /// The head.
    pub head: &'a Head,
    /// The preprocessing its embeddings were made with.
    pub pre: &'a Preprocess,
    /// The backbone file's sha256.
    pub sha256: &'a str,
}

/// The backbone `proto` with the head appended after the tensor `embedding`; the outputs are
/// the head's only. Errors say what is wrong with the backbone's graph.
pub fn with_head(
    mut proto: pb::ModelProto,
    embedding: &str,
    meta: &Metadata<'_>,
) -> Result<(pb::ModelProto, Exported), String> {
    let opset = proto
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
        .ok_or("it imports no standard ONNX operator set")?;
    if opset < 13 {
        return Err(format!("its operator set is {opset}; teachcam exports from opset 13 on"));
    }
    let graph = proto.graph.as_mut().ok_or("it has no graph")?;
    if graph.initializer.iter().any(|t| t.data_location == Some(pb::tensor_proto::DataLocation::External as i32)) {
        return Err("its weights are in external data files, which the export does not carry".into());
    }
    let input = image_input(graph, meta.pre)?;
    let embedding = embedding_tensor(graph, embedding)?;
    let head = meta.head;
    let (k, d) = (head.labels.len(), head.dims);
    let mut b = Builder::new(graph, "teachcam", opset);
    let flat = b.node("Flatten", "embedding", &[&embedding], &[("axis", Attr::Int(1))]);
    let n = b.l2_normalised("normalised", &flat);
    let centre = b.floats("centre", &[1, d as i64], &head.features.centre);
    let centred = b.node("Sub", "centred", &[&n, &centre], &[]);
    let scale = b.floats("scale", &[], &[head.features.scale]);
    let x = b.node("Mul", "features", &[&centred, &scale], &[]);
    let weights: Vec<f32> = head.weights.iter().flatten().copied().collect();
    let w = b.floats("weights", &[k as i64, d as i64], &weights);
    let bias = b.floats("bias", &[k as i64], &head.bias);
    let z = b.node("Gemm", "logits", &[&x, &w, &bias], &[("transB", Attr::Int(1))]);
    b.node_exact("Softmax", PROBABILITIES.into(), &[&z], &[("axis", Attr::Int(1))]);
    let mut outputs = vec![value_info(PROBABILITIES, &[1, k as i64], DataType::Float)];
    if let Some(o) = &head.open_set {
        open_set(&mut b, &n, o, d)?;
        outputs.push(value_info(NOVELTY_SCORE, &[1, 1], DataType::Float));
        outputs.push(value_info(KNOWN, &[1, 1], DataType::Bool));
    }
    graph.output = outputs;
    prune(graph);
    proto.metadata_props.extend(metadata(meta, &input.0));
    proto.producer_name = "teachcam".into();
    proto.producer_version = env!("CARGO_PKG_VERSION").into();
    proto.doc_string = format!(
        "{} with a teachcam head for {}; see the teachcam.* metadata for labels, thresholds and preprocessing",
        if proto.doc_string.is_empty() { "backbone" } else { proto.doc_string.as_str() },
        head.labels.join(", ")
    );
    let outputs = proto.graph.iter().flat_map(|g| g.output.iter().map(|o| o.name.clone())).collect();
    Ok((proto, Exported { labels: head.labels.clone(), outputs, input, bytes: 0 }))
}

/// The open-set part: `novelty_score` and `known` from the normalised embedding `n`
/// ([`crate::head::OpenSet::assess`] in ONNX operators).
fn open_set(b: &mut Builder<'_>, n: &str, o: &crate::head::OpenSet, d: usize) -> Result<(), String> {
    let centre = b.floats("openset_centre", &[1, d as i64], &o.centre);
    let diff = b.node("Sub", "openset_diff", &[n, &centre], &[]);
    let x = b.l2_normalised("openset_direction", &diff);
    let minus_one = b.floats("minus_one", &[], &[-1.0]);
    // Nearest taught prototype (classes without examples have none).
    let protos: Vec<&Vec<f32>> = o.prototypes.iter().filter(|p| !p.is_empty()).collect();
    let near_taught = nearest(b, "taught", &x, &minus_one, protos.len(), |b| {
        let t: Vec<f32> = (0..d).flat_map(|i| protos.iter().map(move |p| p[i])).collect();
        b.floats("prototypes_t", &[d as i64, protos.len() as i64], &t)
    });
    // Nearest background embedding, stored as int8 with one scale per embedding, as in the head.
    let values = hex::decode(&o.background.values).map_err(|_| "the head's background set cannot be decoded")?;
    let rows = o.background.scales.len();
    if o.background.dims != d || values.len() != rows * d {
        return Err("the head's background set has inconsistent sizes".into());
    }
    let near_bg = nearest(b, "background", &x, &minus_one, rows, |b| {
        let values = &values;
        let t: Vec<i8> = (0..d).flat_map(|i| (0..rows).map(move |r| values[r * d + i] as i8)).collect();
        let q = b.int8s("background_t_int8", &[d as i64, rows as i64], &t);
        let f = b.node("Cast", "background_t_float", &[&q], &[("to", Attr::Int(DataType::Float as i64))]);
        let scales = b.floats("background_scales", &[1, rows as i64], &o.background.scales);
        b.node("Mul", "background_t", &[&f, &scales], &[])
    });
    let score = b.node_exact("Sub", NOVELTY_SCORE.into(), &[&near_taught, &near_bg], &[]);
    let margin = b.floats("margin", &[], &[o.margin]);
    let below = b.node("Less", "below_margin", &[&score, &margin], &[]);
    b.node_exact("Not", KNOWN.into(), &[&below], &[]);
    Ok(())
}

/// `max(−1, max over columns of x·M)` as a `[1, 1]` tensor, where `make` adds the `[D, count]`
/// matrix M; just −1 when `count` is 0 (teachcam's `nearest` of an empty set).
fn nearest(
    b: &mut Builder<'_>,
    what: &str,
    x: &str,
    minus_one: &str,
    count: usize,
    make: impl FnOnce(&mut Builder<'_>) -> String,
) -> String {
    if count == 0 {
        return b.floats(&format!("nearest_{what}"), &[1, 1], &[-1.0]);
    }
    let m = make(b);
    let sims = b.node("MatMul", &format!("{what}_cosines"), &[x, &m], &[]);
    let best = b.reduce_axis1("ReduceMax", &format!("{what}_best"), &sims);
    b.node("Max", &format!("nearest_{what}"), &[&best, minus_one], &[])
}

/// The graph's one image input, re-declared with the shape the preprocessing produces: returns
/// its name and shape. When that shape differs from the one the file declares, the stored
/// intermediate shapes are dropped (runtimes derive them from the input).
fn image_input(graph: &mut pb::GraphProto, pre: &Preprocess) -> Result<(String, Vec<usize>), String> {
    let initializers: HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs: Vec<usize> =
        (0..graph.input.len()).filter(|&i| !initializers.contains(graph.input[i].name.as_str())).collect();
    let [ix] = inputs[..] else {
        return Err(format!("it has {} inputs; teachcam exports models with one image input", inputs.len()));
    };
    let shape = pre.input_shape();
    let dims: Vec<i64> = shape.iter().map(|&s| s as i64).collect();
    let new = value_info(&graph.input[ix].name, &dims, DataType::Float);
    if graph.input[ix].r#type != new.r#type {
        graph.value_info.clear();
    }
    graph.input[ix] = new;
    Ok((graph.input[ix].name.clone(), shape.to_vec()))
}

/// The tensor named by `model.embedding_output`: a node output of that name, else the first
/// output of the node of that name.
fn embedding_tensor(graph: &pb::GraphProto, name: &str) -> Result<String, String> {
    if graph.node.iter().any(|n| n.output.iter().any(|o| o == name)) {
        return Ok(name.to_string());
    }
    graph
        .node
        .iter()
        .find(|n| n.name == name)
        .and_then(|n| n.output.first().cloned())
        .ok_or_else(|| format!("no tensor or node named {name:?} (model.embedding_output)"))
}

/// Removes the nodes, initializers and shape notes the outputs do not need (the ImageNet
/// classifier). Nodes are in topological order, as ONNX requires.
fn prune(graph: &mut pb::GraphProto) {
    let mut needed: HashSet<String> = graph.output.iter().map(|o| o.name.clone()).collect();
    let mut keep = vec![false; graph.node.len()];
    for (i, node) in graph.node.iter().enumerate().rev() {
        if node.output.iter().any(|o| needed.contains(o)) {
            keep[i] = true;
            needed.extend(node.input.iter().filter(|s| !s.is_empty()).cloned());
        }
    }
    let mut it = keep.iter();
    graph.node.retain(|_| *it.next().unwrap_or(&true));
    graph.initializer.retain(|t| needed.contains(&t.name));
    graph.value_info.retain(|v| needed.contains(&v.name));
    let initializers: HashSet<String> = graph.initializer.iter().map(|t| t.name.clone()).collect();
    graph.input.retain(|v| !initializers.contains(&v.name) || needed.contains(&v.name));
}

/// The `teachcam.*` metadata entries.
fn metadata(meta: &Metadata<'_>, input: &str) -> Vec<pb::StringStringEntryProto> {
    let (head, pre) = (meta.head, meta.pre);
    let crop = match pre.crop {
        Crop::Center => "the largest centred square of the image",
        Crop::Squash => "the whole image, squashed to a square (aspect ratio not kept)",
        Crop::Pad => "the whole image, resized to fit and letterboxed with the mean colour (rounded)",
    };
    let layout = match pre.layout {
        Layout::Nchw => "NCHW",
        Layout::Nhwc => "NHWC",
    };
    let preprocessing = serde_json::json!({
        "input": input,
        "shape": pre.input_shape(),
        "layout": layout,
        "channels": "RGB",
        "crop": crop,
        "resize": format!("to {0}x{0}, bilinear with antialiasing (a triangle filter over the whole scale, as Pillow's BILINEAR); skipped when already that size", pre.size),
        "mean": pre.mean,
        "std": pre.std,
        "formula": "(pixel - mean) / std per channel, pixel values 0..255",
        "key": pre.key(),
    });
    let open_set = match &head.open_set {
        Some(o) => format!(
            "in the graph: output {NOVELTY_SCORE} is the cosine to the nearest taught prototype minus the cosine to the nearest background photo (directions centred on the background mean); {KNOWN} is {NOVELTY_SCORE} >= margin ({}). teachcam shows \"nothing known\" when known is false",
            o.margin
        ),
        None => "none: this head was trained without a background set, so every image gets one of the labels".into(),
    };
    let entries = [
        ("teachcam.version", env!("CARGO_PKG_VERSION").to_string()),
        ("teachcam.labels", serde_json::json!(head.labels).to_string()),
        ("teachcam.thresholds", serde_json::json!(head.thresholds).to_string()),
        ("teachcam.thresholds_note", "a label is shown as sure when its probability is at least its threshold".into()),
        ("teachcam.preprocessing", preprocessing.to_string()),
        ("teachcam.backbone_sha256", meta.sha256.to_string()),
        ("teachcam.trained_at", head.trained_at.to_string()),
        ("teachcam.open_set", open_set),
        (
            "teachcam.not_in_graph",
            "the preprocessing (crop, resize, normalise) and the smoothing over frames the daemon applies before lighting an LED".into(),
        ),
    ];
    entries.into_iter().map(|(key, value)| pb::StringStringEntryProto { key: key.into(), value }).collect()
}
