//! [`DepthwiseConv`] against tract's own depthwise convolution on the same model, to 1e-5.

use super::*;
use tract_core::ops::cnn::{PaddingSpec, PoolSpec};

/// A model: input (in `format`) → depthwise conv (→ Max(0) → Min(6) when `relu6`) → output.
#[allow(clippy::too_many_arguments)] // one shape, spelled out at each call
fn model(
    c: usize,
    h: usize,
    w: usize,
    k: usize,
    stride: usize,
    pads: [usize; 4],
    relu6: bool,
    format: DataFormat,
) -> TypedModel {
    let mut m = TypedModel::default();
    let shape = shape_of(format, c, h, w);
    let x = m.add_source("x", f32::fact(&*shape)).unwrap();
    let kernel = Tensor::from_shape(
        &[c, 1, k, k],
        &(0..c * k * k).map(|i| ((i * 7919 % 211) as f32 - 105.0) / 90.0).collect::<Vec<_>>(),
    )
    .unwrap();
    let bias = Tensor::from_shape(&[c], &(0..c).map(|i| i as f32 * 0.1 - 0.4).collect::<Vec<_>>()).unwrap();
    let kernel = m.add_const("k", kernel).unwrap();
    let bias = m.add_const("b", bias).unwrap();
    let conv = Conv {
        pool_spec: PoolSpec {
            data_format: format,
            kernel_shape: tvec![k, k],
            padding: PaddingSpec::Explicit(tvec![pads[0], pads[1]], tvec![pads[2], pads[3]]),
            dilations: None,
            strides: Some(tvec![stride, stride]),
            input_channels: c,
            output_channels: c,
        },
        kernel_fmt: KernelFormat::OIHW,
        group: c,
        q_params: None,
    };
    let mut y = m.wire_node("conv", conv, &[x, kernel, bias]).unwrap()[0];
    if relu6 {
        let ones: TVec<usize> = shape.iter().map(|_| 1).collect();
        let zero = m.add_const("zero", Tensor::from_shape(&ones, &[0f32]).unwrap()).unwrap();
        let six = m.add_const("six", Tensor::from_shape(&ones, &[6f32]).unwrap()).unwrap();
        y = m.wire_node("max", tract_core::ops::math::max(), &[y, zero]).unwrap()[0];
        y = m.wire_node("min", tract_core::ops::math::min(), &[y, six]).unwrap()[0];
    }
    m.select_output_outlets(&[y]).unwrap();
    m
}

fn shape_of(format: DataFormat, c: usize, h: usize, w: usize) -> TVec<usize> {
    match format {
        DataFormat::NCHW => tvec![1, c, h, w],
        DataFormat::CHW => tvec![c, h, w],
        DataFormat::NHWC => tvec![1, h, w, c],
        DataFormat::HWC => tvec![h, w, c],
    }
}

fn run(m: TypedModel, input: &Tensor) -> Vec<f32> {
    let out = m.into_optimized().unwrap().into_runnable().unwrap().run(tvec!(input.clone().into())).unwrap();
    out[0].to_plain_array_view::<f32>().unwrap().iter().copied().collect()
}

#[allow(clippy::too_many_arguments)]
fn compare(c: usize, h: usize, w: usize, k: usize, stride: usize, pads: [usize; 4], relu6: bool, format: DataFormat) {
    let shape = shape_of(format, c, h, w);
    let input = Tensor::from_shape(
        &shape,
        &(0..c * h * w).map(|i| ((i * 104729 % 997) as f32 - 498.0) / 60.0).collect::<Vec<_>>(),
    )
    .unwrap();
    let theirs = run(model(c, h, w, k, stride, pads, relu6, format), &input);
    let mut ours = model(c, h, w, k, stride, pads, relu6, format);
    assert_eq!(rewrite(&mut ours).unwrap(), 1, "rewritten");
    let names: Vec<String> = ours.nodes().iter().map(|n| n.op().name().to_string()).collect();
    assert!(names.iter().any(|n| n == "TeachcamDepthwiseConv"), "{names:?}");
    if relu6 {
        assert!(!names.iter().any(|n| n == "Max" || n == "Min"), "the clamp is fused: {names:?}");
    }
    let ours = run(ours, &input);
    assert_eq!(ours.len(), theirs.len());
    let worst = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs() / (1.0 + b.abs())).fold(0f32, f32::max);
    assert!(worst <= 1e-5, "c{c} {h}x{w} k{k} s{stride} pads {pads:?}: relative difference {worst}");
    if relu6 {
        assert!(theirs.contains(&0.0) && theirs.contains(&6.0), "the clamp matters here");
    }
}

#[test]
fn the_shapes_of_efficientnet_lite0_match_tract() {
    // (channels, size, kernel, stride, TF-SAME pads top/left/bottom/right), scaled-down channel counts.
    for (c, hw, k, s, pads) in [
        (8, 112, 3, 1, [1, 1, 1, 1]),
        (6, 112, 3, 2, [0, 0, 1, 1]),
        (6, 56, 5, 2, [1, 1, 2, 2]),
        (5, 28, 5, 1, [2, 2, 2, 2]),
        (7, 14, 3, 1, [1, 1, 1, 1]),
        (9, 14, 5, 2, [1, 1, 2, 2]),
        (11, 7, 5, 1, [2, 2, 2, 2]),
        (3, 7, 3, 1, [1, 1, 1, 1]),
    ] {
        compare(c, hw, hw, k, s, pads, true, DataFormat::NCHW);
        compare(c, hw, hw, k, s, pads, false, DataFormat::CHW);
        // Channels last (tract's choice on aarch64) needs whole blocks of 16 channels.
        compare(16 * c.div_ceil(4), hw, hw, k, s, pads, true, DataFormat::HWC);
        compare(16, hw, hw, k, s, pads, false, DataFormat::NHWC);
    }
}

#[test]
fn odd_shapes_match_tract() {
    compare(4, 9, 13, 3, 2, [1, 0, 1, 2], true, DataFormat::NCHW);
    compare(3, 5, 6, 5, 1, [0, 0, 0, 0], false, DataFormat::NCHW);
    compare(2, 1, 1, 3, 1, [1, 1, 1, 1], false, DataFormat::NCHW);
    compare(2, 16, 3, 3, 3, [2, 1, 0, 0], true, DataFormat::CHW);
    compare(32, 9, 13, 3, 2, [1, 0, 1, 2], true, DataFormat::HWC);
    compare(16, 5, 6, 5, 1, [0, 0, 0, 0], false, DataFormat::HWC);
    compare(16, 1, 1, 3, 1, [1, 1, 1, 1], false, DataFormat::NHWC);
    compare(48, 16, 3, 3, 3, [2, 1, 0, 0], true, DataFormat::HWC);
}

#[test]
fn what_it_cannot_run_is_left_to_tract() {
    // A grouped (not depthwise) convolution: 4 channels in 2 groups.
    let mut m = model(4, 8, 8, 3, 1, [1, 1, 1, 1], false, DataFormat::NCHW);
    let conv = m.nodes().iter().find(|n| n.op_is::<Conv>()).unwrap().id;
    let mut op = m.node(conv).op_as::<Conv>().unwrap().clone();
    op.group = 2;
    m.node_mut(conv).op = Box::new(op);
    assert_eq!(rewrite(&mut m).unwrap(), 0);
    // Channels last with channels that are not whole blocks of 16.
    let mut m = model(12, 8, 8, 3, 1, [1, 1, 1, 1], false, DataFormat::HWC);
    assert_eq!(rewrite(&mut m).unwrap(), 0);
}
