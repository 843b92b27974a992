//! [`PointwiseConv`] against tract's own matrix products on the same model, to 1e-5.

use super::*;

/// The shape of one side of an einsum expression for `c` channels on an `h × w` image.
fn shape_of(axes: &str, c: usize, h: usize, w: usize) -> TVec<usize> {
    axes.chars()
        .map(|a| match a {
            'I' | 'O' | 'k' | 'n' => c,
            'H' | 'm' => h,
            'W' => w,
            _ => 1,
        })
        .collect()
}

/// A model: input → `EinSum(expr)` with constant `O×I` (or `I×O`) weights → bias `Add` (when
/// `bias`) → `Max(0)` → `Min(6)` (when `relu6`).
fn model(
    expr: &str,
    depth: usize,
    outputs: usize,
    h: usize,
    w: usize,
    bias: bool,
    relu6: bool,
) -> (TypedModel, TVec<usize>) {
    let (ins, out) = expr.split_once("->").unwrap();
    let (x_axes, w_axes) = ins.split_once(',').unwrap();
    let mut m = TypedModel::default();
    let x_shape = shape_of(x_axes, depth, h, w);
    let x = m.add_source("x", f32::fact(&*x_shape)).unwrap();
    let w_shape: TVec<usize> = w_axes.chars().map(|a| if a == 'O' || a == 'n' { outputs } else { depth }).collect();
    // Scaled by 1/√depth, as trained weights are, so that outputs stay about the size of inputs.
    let scale = 1.0 / (20.0 * (depth as f32).sqrt());
    let weights = Tensor::from_shape(
        &w_shape,
        &(0..depth * outputs).map(|i| ((i * 7919 % 211) as f32 - 105.0) * scale).collect::<Vec<_>>(),
    )
    .unwrap();
    let weights = m.add_const("w", weights).unwrap();
    let op = EinSum::new(expr.parse().unwrap(), f32::datum_type());
    let mut y = m.wire_node("einsum", op, &[x, weights]).unwrap()[0];
    let out_shape = m.outlet_fact(y).unwrap().shape.as_concrete().unwrap().to_vec();
    if bias {
        let b_shape: TVec<usize> = out.chars().map(|a| if a == 'O' || a == 'n' { outputs } else { 1 }).collect();
        let b = Tensor::from_shape(&b_shape, &(0..outputs).map(|i| i as f32 * 0.1 - 0.8).collect::<Vec<_>>()).unwrap();
        let b = m.add_const("b", b).unwrap();
        y = m.wire_node("bias", tract_core::ops::math::add(), &[y, b]).unwrap()[0];
    }
    if relu6 {
        let ones: TVec<usize> = out_shape.iter().map(|_| 1).collect();
        let zero = m.add_const("zero", Tensor::from_shape(&ones, &[0f32]).unwrap()).unwrap();
        let six = m.add_const("six", Tensor::from_shape(&ones, &[6f32]).unwrap()).unwrap();
        y = m.wire_node("max", tract_core::ops::math::max(), &[y, zero]).unwrap()[0];
        y = m.wire_node("min", tract_core::ops::math::min(), &[y, six]).unwrap()[0];
    }
    m.select_output_outlets(&[y]).unwrap();
    (m, x_shape)
}

fn run(m: TypedModel, input: &Tensor) -> Vec<f32> {
    let out = m.into_optimized().unwrap().into_runnable().unwrap().run(tvec!(input.clone().into())).unwrap();
    out[0].to_plain_array_view::<f32>().unwrap().iter().copied().collect()
}

/// Ours against tract's on `expr` with `depth` inputs, `outputs` outputs on `h × w`.
fn compare(expr: &str, depth: usize, outputs: usize, h: usize, w: usize, bias: bool, relu6: bool) {
    let (theirs_model, x_shape) = model(expr, depth, outputs, h, w, bias, relu6);
    let input = Tensor::from_shape(
        &x_shape,
        &(0..depth * h * w).map(|i| ((i * 104729 % 997) as f32 - 498.0) / 120.0).collect::<Vec<_>>(),
    )
    .unwrap();
    let theirs = run(theirs_model, &input);
    let (mut ours, _) = model(expr, depth, outputs, h, w, bias, relu6);
    assert_eq!(rewrite(&mut ours).unwrap(), 1, "{expr} rewritten");
    let names: Vec<String> = ours.nodes().iter().map(|n| n.op().name().to_string()).collect();
    assert!(names.iter().any(|n| n == "TeachcamPointwiseConv"), "{names:?}");
    assert!(!names.iter().any(|n| ["Add", "Max", "Min", "EinSum"].contains(&n.as_str())), "all fused: {names:?}");
    let ours = run(ours, &input);
    assert_eq!(ours.len(), theirs.len());
    let worst = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs() / (1.0 + b.abs())).fold(0f32, f32::max);
    assert!(worst <= 1e-5, "{expr} {depth}→{outputs} on {h}x{w}: relative difference {worst}");
    if relu6 && theirs.len() >= 1000 {
        assert!(theirs.contains(&0.0) && theirs.contains(&6.0), "the clamp matters here");
    }
}

/// The four layouts tract chooses for EfficientNet-Lite0's pointwise convolutions on aarch64.
const FORMS: [&str; 4] = ["IHW,OI->HWO", "HWI,OI->OHW", "NIHW,OI->OHW", "HWI,OI->HWO"];

#[test]
fn the_shapes_of_efficientnet_lite0_match_tract() {
    // (inputs, outputs, size): expansions and projections, channel counts as in the model, sizes
    // scaled down where the count does not change the tiling.
    for (depth, outputs, hw) in [
        (32, 16, 23),
        (16, 96, 21),
        (96, 24, 13),
        (24, 144, 12),
        (144, 40, 9),
        (40, 240, 7),
        (1152, 320, 7),
        (320, 1280, 7),
    ] {
        for expr in FORMS {
            compare(expr, depth, outputs, hw, hw, true, true);
        }
    }
}

#[test]
fn odd_shapes_match_tract() {
    for expr in FORMS {
        // Every tail: pixels and outputs past whole tiles, outputs not a multiple of 4.
        for (depth, outputs, h, w) in
            [(4, 1, 1, 5), (8, 3, 3, 3), (12, 7, 2, 9), (20, 13, 5, 5), (4, 30, 1, 17), (28, 17, 6, 1)]
        {
            compare(expr, depth, outputs, h, w, true, false);
            compare(expr, depth, outputs, h, w, false, true);
        }
    }
    // Channels first in, the summed depth needs no multiple of 4.
    compare("IHW,OI->HWO", 5, 9, 3, 4, true, true);
    compare("IHW,OI->OHW", 7, 33, 4, 5, true, true);
    // Weights stored inputs × outputs.
    compare("IHW,IO->HWO", 8, 12, 4, 4, true, true);
    compare("HWI,IO->OHW", 8, 12, 4, 4, true, true);
    // One pixel: the classifier's matrix-vector product.
    compare("mk,nk->mn", 1280, 1000, 1, 1, true, false);
    compare("mk,nk->mn", 20, 9, 1, 1, true, true);
    // A scalar bias.
    let (mut m, _) = model("IHW,OI->HWO", 8, 12, 4, 4, false, false);
    let y = m.output_outlets().unwrap()[0];
    let b = m.add_const("b", Tensor::from_shape(&[1usize, 1, 1], &[0.5f32]).unwrap()).unwrap();
    let y = m.wire_node("bias", tract_core::ops::math::add(), &[y, b]).unwrap()[0];
    m.select_output_outlets(&[y]).unwrap();
    assert_eq!(rewrite(&mut m).unwrap(), 1);
    assert!(!m.nodes().iter().any(|n| n.op().name() == "Add"), "the scalar bias is fused");
}

#[test]
fn what_it_cannot_run_is_left_to_tract() {
    // Channels last with a depth that is not a multiple of 4.
    assert_eq!(rewrite(&mut model("HWI,OI->HWO", 6, 8, 4, 4, true, false).0).unwrap(), 0);
    // Pixels in another order out than in.
    assert_eq!(rewrite(&mut model("IHW,OI->WHO", 8, 8, 4, 5, true, false).0).unwrap(), 0);
    // Channels between the pixels.
    assert_eq!(rewrite(&mut model("HIW,OI->OHW", 8, 8, 4, 5, true, false).0).unwrap(), 0);
}

#[test]
fn a_bias_along_a_pixel_axis_is_not_taken_for_the_channels() {
    // 8 outputs on an 8 × 8 image: a bias shaped along H has the channel count but is not a bias.
    let (mut m, x_shape) = model("IHW,OI->HWO", 4, 8, 8, 8, false, false);
    let y = m.output_outlets().unwrap()[0];
    let along_h = Tensor::from_shape(&[8usize, 1, 1], &(0..8).map(|i| i as f32).collect::<Vec<_>>()).unwrap();
    let b = m.add_const("b", along_h).unwrap();
    let y = m.wire_node("bias", tract_core::ops::math::add(), &[y, b]).unwrap()[0];
    m.select_output_outlets(&[y]).unwrap();
    let input = Tensor::from_shape(&x_shape, &(0..4 * 64).map(|i| (i % 13) as f32 / 7.0).collect::<Vec<_>>()).unwrap();
    let theirs = run(m.clone(), &input);
    assert_eq!(rewrite(&mut m).unwrap(), 1);
    assert!(m.nodes().iter().any(|n| n.op().name() == "Add"), "the Add stays");
    let ours = run(m, &input);
    let worst = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(worst <= 1e-5, "difference {worst}");
}

#[test]
fn threads_split_the_work_without_changing_the_result() {
    let (m, x_shape) = model("HWI,OI->OHW", 64, 48, 20, 20, true, true);
    let input =
        Tensor::from_shape(&x_shape, &(0..64 * 400).map(|i| ((i * 31 % 101) as f32 - 50.0) / 40.0).collect::<Vec<_>>())
            .unwrap();
    let mut ours = m.clone();
    rewrite(&mut ours).unwrap();
    let single = run(ours.clone(), &input);
    let plan = ours.into_optimized().unwrap();
    let options =
        RunOptions { executor: Some(tract_linalg::multithread::Executor::multithread(3)), ..Default::default() };
    let out = plan.into_runnable_with_options(&options).unwrap().run(tvec!(input.into())).unwrap();
    let threaded: Vec<f32> = out[0].to_plain_array_view::<f32>().unwrap().iter().copied().collect();
    assert_eq!(single, threaded);
}
