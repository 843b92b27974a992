//! Where tract spends an inference, by operator type: loads an ONNX model at an input size,
//! optimises it as teachcam does (1 thread), runs it 11 times on a fixed synthetic input and
//! prints, per optimised op type, the mean wall time of its nodes over the last 10 runs.
//!
//! ```text
//! cargo run --release --example node_profile -- MODEL.onnx [INPUT_SIZE] [--teachcam]
//! ```
//! With `--teachcam` the model is prepared as teachcam runs it (its constant folding and its own
//! depthwise operator, `teachcam::embed::tract_backend::optimised`) instead of by tract alone.
//! Used to see which ops a quantised model really runs (e.g. whether a QLinearConv's
//! requantisation is fused into `OptMatMul` or left as separate `Scale`/`Sub`/`Reduce<Sum>` nodes).
//! Wall times on a shared machine are noisy: compare op types within one run.
use std::collections::HashMap;
use std::time::Instant;
use tract_onnx::prelude::*;

fn main() -> TractResult<()> {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: node_profile MODEL.onnx [INPUT_SIZE]");
        std::process::exit(2);
    };
    let size: usize = args
        .get(2)
        .filter(|a| !a.starts_with("--"))
        .map_or(Ok(224), |s| s.parse())
        .map_err(|_| anyhow::anyhow!("INPUT_SIZE is a number"))?;
    let optimised = if args.iter().any(|a| a == "--teachcam") {
        let cfg = teachcam::embed::ModelConfig {
            path: path.into(),
            input_size: size as u32,
            cache: "off".into(),
            ..Default::default()
        };
        teachcam::embed::tract_backend::optimised(&cfg, &cfg.preprocess())?.0
    } else {
        let mut model = tract_onnx::onnx().model_for_path(path)?;
        model.set_input_fact(0, f32::fact([1, 3, size, size]).into())?;
        model.into_optimized()?
    };
    let plan = optimised.into_runnable()?;
    let input: Tensor = tract_ndarray::Array4::<f32>::from_shape_fn((1, 3, size, size), |(_, c, y, x)| {
        ((x * 7 + y * 3 + c * 11) % 255) as f32 / 128.0 - 1.0
    })
    .into();
    let mut times: HashMap<String, (f64, usize)> = HashMap::new();
    let mut state = plan.spawn()?;
    let n = 10;
    for i in 0..n + 1 {
        state.run_plan_with_eval(tvec!(input.clone().into()), |ctx, st, node, inp| {
            let t = Instant::now();
            let r = tract_core::plan::eval(ctx, st, node, inp);
            if i > 0 {
                let e = times.entry(node.op().name().to_string()).or_default();
                e.0 += t.elapsed().as_secs_f64() * 1e3 / n as f64;
                e.1 += 1;
            }
            r
        })?;
    }
    let mut v: Vec<_> = times.into_iter().collect();
    v.sort_by(|a, b| b.1 .0.total_cmp(&a.1 .0));
    let total: f64 = v.iter().map(|x| x.1 .0).sum();
    println!("total {total:.2} ms");
    for (k, (ms, c)) in v {
        println!("{ms:8.2} ms  {:5} nodes  {k}", c / n);
    }
    Ok(())
}
