//! A dense convolution over few input channels (EfficientNet-Lite0's stem: 3×3, stride 2, RGB →
//! 32) as the pointwise kernel on its patches.
//!
//! tract runs the stem through its lazy im2col and generic matrix driver: ~7 M Cortex-A72
//! instructions per embedding for 10.8 M multiply-adds. [`DenseConv`] copies the patches once
//! into a `(channels·kh·kw) × pixels` matrix (channels first, as the model's input lies) and
//! hands it to [`PointwiseConv`]'s channels-first tile with the bias and the ReLU6 built in.

use super::{Form, PointwiseConv};
use crate::embed::dwconv::kernel::Geometry;
use crate::embed::dwconv::{bias_values, floats, fuse_clamps, geometry, substitute};
use tract_core::internal::*;
use tract_core::ops::cnn::conv::{Conv, KernelFormat};
use tract_core::ops::nn::DataFormat;

/// Largest patch (`channels·kh·kw`) taken: past it the patch matrix outgrows the image many times
/// and tract's own path is as good.
pub const MAX_PATCH: usize = 64;

/// A channels-first dense convolution of one image, with its bias and output clamp built in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DenseConv {
    geometry: Geometry,
    /// Input channels.
    channels: usize,
    /// The product of the patch matrix with the weights (`ChwToChw`, depth `channels·kh·kw`).
    inner: PointwiseConv,
}

impl DenseConv {
    /// Runs it on `input` (`channels × h × w`) into `out` (`outputs × oh × ow`).
    pub fn compute(&self, input: &[f32], out: &mut [f32]) -> TractResult<()> {
        let g = &self.geometry;
        ensure!(input.len() == self.channels * g.h * g.w, "dense convolution input has {} values", input.len());
        // SAFETY: `im2col` writes every value (the padding as zeros) before anything reads one.
        let mut patches = unsafe { Tensor::uninitialized::<f32>(&[self.inner.depth, g.oh * g.ow])? };
        let mut view = patches.try_as_plain_ram_mut()?;
        let patches = view.as_slice_mut::<f32>()?;
        im2col(g, input, patches);
        self.inner.compute(patches, out)
    }
}

/// Writes into `patches` row `(c·kh + dy)·kw + dx` the input value each output pixel multiplies
/// with tap `(dy, dx)` of channel `c` (zero in the padding), output pixels in row-major order.
pub fn im2col(g: &Geometry, input: &[f32], patches: &mut [f32]) {
    let (plane, pixels, s) = (g.h * g.w, g.oh * g.ow, g.stride);
    for (row, dst) in patches.chunks_exact_mut(pixels).enumerate() {
        let (c, tap) = (row / (g.kh * g.kw), row % (g.kh * g.kw));
        let (dy, dx) = (tap / g.kw, tap % g.kw);
        let src = &input[c * plane..][..plane];
        // Output columns whose input column `ox·s + dx − pad_left` is inside the image.
        let x1 = ((g.w + g.pad_left).saturating_sub(dx)).div_ceil(s).min(g.ow);
        let x0 = g.pad_left.saturating_sub(dx).div_ceil(s).min(x1);
        for (oy, out) in dst.chunks_exact_mut(g.ow).enumerate() {
            let iy = (oy * s + dy).wrapping_sub(g.pad_top);
            if iy >= g.h || x0 == x1 {
                out.fill(0.0);
                continue;
            }
            out[..x0].fill(0.0);
            out[x1..].fill(0.0);
            let first = iy * g.w + x0 * s + dx - g.pad_left;
            let run = &mut out[x0..x1];
            let from = &src[first..first + (run.len() - 1) * s + 1];
            if s == 1 {
                run.copy_from_slice(from);
            } else {
                strided_copy(from, s, run);
            }
        }
    }
}

/// `run[j] = from[j·s]`; `from` holds `(run.len() − 1)·s + 1` values.
fn strided_copy(from: &[f32], s: usize, run: &mut [f32]) {
    #[cfg(target_arch = "aarch64")]
    let done = if s == 2 { every_other(from, run) } else { 0 };
    #[cfg(not(target_arch = "aarch64"))]
    let done = 0;
    let (last, body) = run[done..].split_last_mut().expect("a run of at least one column");
    for (o, i) in body.iter_mut().zip(from[done * s..].chunks_exact(s)) {
        *o = i[0];
    }
    *last = from[from.len() - 1];
}

/// `run[j] = from[2j]`, four outputs per de-interleaving load of eight values, while eight are
/// in `from`; returns how many outputs it wrote (fewer than `run.len()`).
#[cfg(target_arch = "aarch64")]
fn every_other(from: &[f32], run: &mut [f32]) -> usize {
    use std::arch::aarch64::{vld2q_f32, vst1q_f32};
    let whole = (from.len() / 8).min(run.len() / 4);
    for (src, dst) in from.chunks_exact(8).zip(run.chunks_exact_mut(4)).take(whole) {
        // SAFETY: `src` holds 8 readable floats and `dst` 4 writable ones.
        unsafe { vst1q_f32(dst.as_mut_ptr(), vld2q_f32(src.as_ptr()).0) };
    }
    4 * whole
}

impl Op for DenseConv {
    fn name(&self) -> StaticName {
        "TeachcamDenseConv".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        let g = &self.geometry;
        Ok(vec![format!(
            "{}x{} stride {} pad {}/{} on {}x{}x{} → {}x{}x{}, clamp {:?}",
            g.kh,
            g.kw,
            g.stride,
            g.pad_top,
            g.pad_left,
            self.channels,
            g.h,
            g.w,
            self.inner.outputs,
            g.oh,
            g.ow,
            self.inner.clamp
        )])
    }

    fn validation(&self) -> Validation {
        Validation::Rounding
    }

    op_as_typed_op!();
}

impl EvalOp for DenseConv {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let view = input.try_as_plain_ram()?;
        let input = view.as_slice::<f32>()?;
        let mut output = unsafe { Tensor::uninitialized::<f32>(&self.inner.output_shape)? };
        let mut out_view = output.try_as_plain_ram_mut()?;
        self.compute(input, out_view.as_slice_mut::<f32>()?)?;
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for DenseConv {
    fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::fact(&*self.inner.output_shape)))
    }

    fn cost(&self, inputs: &[&TypedFact]) -> TractResult<TVec<(Cost, TDim)>> {
        self.inner.cost(inputs)
    }

    as_op!();
}

/// Replaces every dense convolution [`DenseConv`] can run, with the clamps after it; returns how
/// many.
pub fn rewrite(model: &mut TypedModel) -> TractResult<usize> {
    let mut replaced = 0;
    for id in model.eval_order()? {
        let Some(mut op) = plan(model, id)? else { continue };
        let last;
        (last, op.inner.clamp) = fuse_clamps(model, id, op.inner.clamp)?;
        substitute(model, id, last, op, "teachcam dense")?;
        replaced += 1;
    }
    model.compact()?;
    Ok(replaced)
}

/// The operator for node `id`, if it is a dense convolution this module runs: f32, one image
/// channels first, one group, a square stride, no dilation, a constant kernel (OIHW) and bias, a
/// patch of at most [`MAX_PATCH`] values.
fn plan(model: &TypedModel, id: usize) -> TractResult<Option<DenseConv>> {
    let node = model.node(id);
    let Some(conv) = node.op_as::<Conv>() else { return Ok(None) };
    let spec = &conv.pool_spec;
    let (c, o) = (spec.input_channels, spec.output_channels);
    if conv.q_params.is_some() || conv.group != 1 || node.inputs.len() != 3 || c == 0 || o == 0 {
        return Ok(None);
    }
    if spec.kernel_shape.len() != 2 || conv.kernel_fmt != KernelFormat::OIHW {
        return Ok(None);
    }
    let (kh, kw) = (spec.kernel_shape[0], spec.kernel_shape[1]);
    if kh == 0 || kw == 0 || c * kh * kw > MAX_PATCH {
        return Ok(None);
    }
    let facts: Vec<&TypedFact> = node.inputs.iter().map(|i| model.outlet_fact(*i)).collect::<TractResult<_>>()?;
    let Some(shape) = facts[0].shape.as_concrete() else { return Ok(None) };
    let (h, w) = match spec.data_format {
        DataFormat::NCHW if shape.len() == 4 && shape[0] == 1 && shape[1] == c => (shape[2], shape[3]),
        DataFormat::CHW if shape.len() == 3 && shape[0] == c => (shape[1], shape[2]),
        _ => return Ok(None),
    };
    let (Some(kernel), Some(bias)) = (facts[1].konst.as_ref(), facts[2].konst.as_ref()) else { return Ok(None) };
    if facts[0].datum_type != f32::datum_type()
        || kernel.datum_type() != f32::datum_type()
        || kernel.shape() != [o, c, kh, kw]
    {
        return Ok(None);
    }
    let (Some(bias), Some(geometry)) = (bias_values(bias, o)?, geometry(spec, h, w)) else { return Ok(None) };
    let Some(out_shape) = node.outputs[0].fact.shape.as_concrete() else { return Ok(None) };
    let pixels = geometry.oh * geometry.ow;
    if out_shape.len() < 3
        || out_shape[out_shape.len() - 3] != o
        || out_shape[out_shape.len() - 2..] != [geometry.oh, geometry.ow]
        || out_shape.iter().product::<usize>() != o * pixels
    {
        return Ok(None);
    }
    // OIHW flattens to `outputs × (c·kh·kw)` in the patch rows' order.
    let mut inner = PointwiseConv::new(c * kh * kw, pixels, o, Form::ChwToChw, &floats(kernel)?, &bias);
    inner.output_shape = out_shape.into();
    Ok(Some(DenseConv { geometry, channels: c, inner }))
}

#[cfg(test)]
mod tests {
    //! [`DenseConv`] against tract's own convolution on the same model, to 1e-5.

    use super::*;
    use tract_core::ops::cnn::{PaddingSpec, PoolSpec};

    /// One convolution to build: `c → o` channels, `kh × kw` kernel on `h × w`.
    #[derive(Clone, Copy)]
    struct Case {
        c: usize,
        o: usize,
        h: usize,
        w: usize,
        kh: usize,
        kw: usize,
        stride: usize,
        /// Top, left, bottom, right.
        pads: [usize; 4],
        format: DataFormat,
        group: usize,
    }

    fn case(c: usize, o: usize, h: usize, w: usize, k: usize, stride: usize, pads: [usize; 4]) -> Case {
        Case { c, o, h, w, kh: k, kw: k, stride, pads, format: DataFormat::NCHW, group: 1 }
    }

    /// Input → Conv (→ Max(0) → Min(6) when `relu6`).
    fn model(t: Case, relu6: bool) -> (TypedModel, TVec<usize>) {
        let mut m = TypedModel::default();
        let shape: TVec<usize> = match t.format {
            DataFormat::NCHW => tvec![1, t.c, t.h, t.w],
            DataFormat::CHW => tvec![t.c, t.h, t.w],
            DataFormat::NHWC => tvec![1, t.h, t.w, t.c],
            DataFormat::HWC => tvec![t.h, t.w, t.c],
        };
        let x = m.add_source("x", f32::fact(&*shape)).unwrap();
        let n = t.o * t.c / t.group * t.kh * t.kw;
        let scale = 1.0 / (20.0 * ((t.c * t.kh * t.kw) as f32).sqrt());
        let kernel = Tensor::from_shape(
            &[t.o, t.c / t.group, t.kh, t.kw],
            &(0..n).map(|i| ((i * 7919 % 211) as f32 - 105.0) * scale).collect::<Vec<_>>(),
        )
        .unwrap();
        let bias = Tensor::from_shape(&[t.o], &(0..t.o).map(|i| i as f32 * 0.1 - 0.4).collect::<Vec<_>>()).unwrap();
        let kernel = m.add_const("k", kernel).unwrap();
        let bias = m.add_const("b", bias).unwrap();
        let conv = Conv {
            pool_spec: PoolSpec {
                data_format: t.format,
                kernel_shape: tvec![t.kh, t.kw],
                padding: PaddingSpec::Explicit(tvec![t.pads[0], t.pads[1]], tvec![t.pads[2], t.pads[3]]),
                dilations: None,
                strides: Some(tvec![t.stride, t.stride]),
                input_channels: t.c,
                output_channels: t.o,
            },
            kernel_fmt: KernelFormat::OIHW,
            group: t.group,
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
        (m, shape)
    }

    fn run(m: TypedModel, input: &Tensor) -> Vec<f32> {
        let out = m.into_optimized().unwrap().into_runnable().unwrap().run(tvec!(input.clone().into())).unwrap();
        out[0].to_plain_array_view::<f32>().unwrap().iter().copied().collect()
    }

    fn compare(t: Case, relu6: bool) {
        let (theirs, shape) = model(t, relu6);
        let input = Tensor::from_shape(
            &shape,
            &(0..t.c * t.h * t.w).map(|i| ((i * 104729 % 997) as f32 - 498.0) / 60.0).collect::<Vec<_>>(),
        )
        .unwrap();
        let theirs = run(theirs, &input);
        let (mut ours, _) = model(t, relu6);
        assert_eq!(rewrite(&mut ours).unwrap(), 1, "rewritten");
        let names: Vec<String> = ours.nodes().iter().map(|n| n.op().name().to_string()).collect();
        assert!(!names.iter().any(|n| ["Conv", "Max", "Min"].contains(&n.as_str())), "all fused: {names:?}");
        let ours = run(ours, &input);
        assert_eq!(ours.len(), theirs.len());
        let worst = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs() / (1.0 + b.abs())).fold(0f32, f32::max);
        let (c, o, h, w, k, s, p) = (t.c, t.o, t.h, t.w, t.kh, t.stride, t.pads);
        assert!(worst <= 1e-5, "{c}→{o} {k}x{k} stride {s} pads {p:?} on {h}x{w}: relative difference {worst}");
        if relu6 && theirs.len() >= 1000 {
            assert!(theirs.contains(&0.0) && theirs.contains(&6.0), "the clamp matters here");
        }
    }

    #[test]
    fn the_stem_of_efficientnet_lite0_matches_tract() {
        // RGB → 32, 3×3, stride 2, padded after only (TensorFlow's "same"), at full size.
        compare(case(3, 32, 224, 224, 3, 2, [0, 0, 1, 1]), true);
        // The same on odd sizes, where the last column and row read the padding or not.
        compare(case(3, 32, 37, 29, 3, 2, [0, 0, 1, 1]), true);
        compare(case(3, 32, 36, 30, 3, 2, [0, 0, 1, 1]), false);
    }

    #[test]
    fn other_shapes_match_tract() {
        for (c, o, h, w, k, stride, pads) in [
            (3, 16, 20, 21, 3, 1, [1, 1, 1, 1]),
            (1, 7, 9, 11, 5, 2, [2, 2, 2, 2]),
            (2, 13, 17, 8, 3, 3, [0, 1, 2, 0]),
            (4, 9, 6, 7, 4, 1, [0, 0, 0, 0]),
            (3, 33, 5, 5, 3, 4, [3, 3, 3, 3]),
            (2, 8, 1, 30, 3, 2, [1, 1, 1, 1]),
        ] {
            compare(case(c, o, h, w, k, stride, pads), true);
            compare(case(c, o, h, w, k, stride, pads), false);
        }
        // Three-axis input (no batch), a non-square kernel.
        compare(Case { format: DataFormat::CHW, kh: 1, kw: 3, ..case(3, 10, 12, 14, 3, 1, [0, 1, 0, 1]) }, true);
    }

    #[test]
    fn what_it_cannot_run_is_left_to_tract() {
        // Channels last, grouped, or a patch past MAX_PATCH.
        let nhwc = Case { format: DataFormat::NHWC, ..case(3, 8, 10, 10, 3, 1, [1, 1, 1, 1]) };
        let grouped = Case { group: 2, ..case(4, 8, 10, 10, 3, 1, [1, 1, 1, 1]) };
        let wide = case(8, 8, 10, 10, 3, 1, [1, 1, 1, 1]);
        for t in [nhwc, grouped, wide] {
            assert_eq!(rewrite(&mut model(t, true).0).unwrap(), 0);
        }
    }

    #[test]
    fn threads_split_the_work_without_changing_the_result() {
        let (m, shape) = model(case(3, 32, 40, 40, 3, 2, [0, 0, 1, 1]), true);
        let input = Tensor::from_shape(
            &shape,
            &(0..3 * 1600).map(|i| ((i * 31 % 101) as f32 - 50.0) / 9.0).collect::<Vec<_>>(),
        )
        .unwrap();
        let mut ours = m;
        rewrite(&mut ours).unwrap();
        let single = run(ours.clone(), &input);
        let options =
            RunOptions { executor: Some(tract_linalg::multithread::Executor::multithread(3)), ..Default::default() };
        let plan = ours.into_optimized().unwrap().into_runnable_with_options(&options).unwrap();
        let out = plan.run(tvec!(input.into())).unwrap();
        let threaded: Vec<f32> = out[0].to_plain_array_view::<f32>().unwrap().iter().copied().collect();
        assert_eq!(single, threaded);
    }
}
