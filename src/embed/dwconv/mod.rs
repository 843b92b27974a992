//! teachcam's own depthwise convolution operator for tract, and the model rewrite that uses it.
//!
//! Measured with tract's profiler on the shipped EfficientNet-Lite0 (`tract … -O dump --profile`),
//! its 16 depthwise convolutions took ~48 % of an inference on x86-64, where tract keeps them
//! channels first: the stride-2 ones ran at ~0.6 G multiply-adds/s (a scalar path) and the 7×7
//! ones at ~1 G/s (runs of 7 points). [`DepthwiseConv`] computes them channels first with
//! [`kernel`] (stride phases, whole-plane runs, 16–64 points per block in registers, AVX2+FMA or
//! NEON) and channels last, the layout tract's decluttering chooses on aarch64, with [`hwc`]
//! (NEON across 16 channels; 28.7 → 23.0 M Cortex-A72 instructions per embedding against tract's
//! kernel). The ReLU6 that follows is fused in.
//!
//! [`rewrite`] replaces, in a decluttered model, each f32 depthwise `Conv` (one image, square
//! stride, no dilation, constant kernel and bias; channels last only in whole blocks of 16) and
//! the `Max(·, lo)`/`Min(·, hi)` clamps right after it. Everything else is left to tract, and
//! the layouts stay tract's: forcing aarch64 channels first cost 224 M instructions against 188 M.

pub mod hwc;
pub mod kernel;

use kernel::Geometry;
use tract_core::internal::*;
use tract_core::ops::binary::TypedBinOp;
use tract_core::ops::cnn::conv::{Conv, KernelFormat};
use tract_core::ops::cnn::PoolSpec;
use tract_core::ops::nn::DataFormat;

/// A depthwise convolution of one image with its kernel, bias and output clamp built in.
#[derive(Debug, Clone)]
pub struct DepthwiseConv {
    geometry: Geometry,
    channels: usize,
    /// Channels last (`h × w × c`) rather than first.
    channels_last: bool,
    /// Channels first: `channels × kh × kw` taps; channels last: `kh × kw × channels`.
    taps: Arc<Vec<f32>>,
    bias: Arc<Vec<f32>>,
    /// Output clamp (`-inf, inf` when none was fused).
    clamp: (f32, f32),
    /// Output shape (the input's rank and layout).
    output_shape: TVec<usize>,
}

impl PartialEq for DepthwiseConv {
    fn eq(&self, other: &Self) -> bool {
        self.geometry == other.geometry
            && self.channels == other.channels
            && self.channels_last == other.channels_last
            && self.taps == other.taps
            && self.bias == other.bias
            && self.clamp.0.to_bits() == other.clamp.0.to_bits()
            && self.clamp.1.to_bits() == other.clamp.1.to_bits()
    }
}
impl Eq for DepthwiseConv {}

impl std::hash::Hash for DepthwiseConv {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.geometry.hash(state);
        self.channels.hash(state);
        self.taps.iter().for_each(|t| t.to_bits().hash(state));
    }
}

impl Op for DepthwiseConv {
    fn name(&self) -> StaticName {
        "TeachcamDepthwiseConv".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        let g = &self.geometry;
        Ok(vec![format!(
            "{}x{} stride {} pad {}/{} on {}x{}x{} → {}x{}, clamp {:?}",
            g.kh, g.kw, g.stride, g.pad_top, g.pad_left, self.channels, g.h, g.w, g.oh, g.ow, self.clamp
        )])
    }

    fn validation(&self) -> Validation {
        Validation::Rounding
    }

    op_as_typed_op!();
}

impl EvalOp for DepthwiseConv {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let g = &self.geometry;
        let plane_in = g.h * g.w;
        let plane_out = g.oh * g.ow;
        ensure!(input.len() == self.channels * plane_in, "depthwise input has {} values", input.len());
        let view = input.try_as_plain_ram()?;
        let input = view.as_slice::<f32>()?;
        let mut output = unsafe { Tensor::uninitialized::<f32>(&self.output_shape)? };
        let mut out_view = output.try_as_plain_ram_mut()?;
        let out = out_view.as_slice_mut::<f32>()?;
        let k = g.kh * g.kw;
        let work = self.channels * plane_out * k;
        if self.channels_last {
            let row = g.ow * self.channels;
            tract_linalg::multithread::par_chunks_mut(out, row, work, |first, chunk| {
                hwc::rows(g, self.channels, input, &self.taps, &self.bias, self.clamp, first, chunk);
                Ok(())
            })?;
            return Ok(tvec!(output.into_tvalue()));
        }
        tract_linalg::multithread::par_chunks_mut(out, plane_out, work, |first, chunk| {
            let mut scratch = vec![0f32; g.scratch_len()];
            for (i, out) in chunk.chunks_exact_mut(plane_out).enumerate() {
                let c = first + i;
                kernel::channel(
                    g,
                    &input[c * plane_in..][..plane_in],
                    &self.taps[c * k..][..k],
                    self.bias[c],
                    self.clamp,
                    out,
                    &mut scratch,
                );
            }
            Ok(())
        })?;
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for DepthwiseConv {
    fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::fact(&*self.output_shape)))
    }

    fn cost(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<(Cost, TDim)>> {
        let g = &self.geometry;
        Ok(tvec!((Cost::FMA(f32::datum_type()), (self.channels * g.oh * g.ow * g.kh * g.kw).into())))
    }

    as_op!();
}

/// Replaces every depthwise convolution [`DepthwiseConv`] can run; returns how many.
pub fn rewrite(model: &mut TypedModel) -> TractResult<usize> {
    let mut replaced = 0;
    for id in model.eval_order()? {
        let Some(op) = plan(model, id)? else { continue };
        // Fuse the clamps that only this convolution feeds.
        let mut op = op;
        let last;
        (last, op.clamp) = fuse_clamps(model, id, op.clamp)?;
        substitute(model, id, last, op, "teachcam depthwise")?;
        replaced += 1;
    }
    model.compact()?;
    Ok(replaced)
}

/// The operator for node `id`, if it is a depthwise convolution this module runs.
fn plan(model: &TypedModel, id: usize) -> TractResult<Option<DepthwiseConv>> {
    let node = model.node(id);
    let Some(conv) = node.op_as::<Conv>() else { return Ok(None) };
    let spec = &conv.pool_spec;
    let c = spec.input_channels;
    if conv.q_params.is_some() || conv.group != c || spec.output_channels != c || c < 2 || node.inputs.len() != 3 {
        return Ok(None);
    }
    if spec.kernel_shape.len() != 2 || conv.kernel_fmt != KernelFormat::OIHW {
        return Ok(None);
    }
    let channels_last = matches!(spec.data_format, DataFormat::NHWC | DataFormat::HWC);
    if channels_last && c % hwc::CHANNELS != 0 {
        return Ok(None);
    }
    if !channels_last && !matches!(spec.data_format, DataFormat::NCHW | DataFormat::CHW) {
        log::trace!(
            "depthwise {} left to tract: {:?} layout, kernel {:?} {:?}, input {:?}",
            node.name,
            spec.data_format,
            conv.kernel_fmt,
            model.outlet_fact(node.inputs[1]).map(|f| f.shape.clone()),
            model.outlet_fact(node.inputs[0]).map(|f| f.shape.clone())
        );
        return Ok(None);
    }
    let facts: Vec<&TypedFact> = node.inputs.iter().map(|i| model.outlet_fact(*i)).collect::<TractResult<_>>()?;
    if facts[0].datum_type != f32::datum_type() {
        return Ok(None);
    }
    let Some(shape) = facts[0].shape.as_concrete() else { return Ok(None) };
    let shape = shape.to_vec();
    let (n, h, w) = match spec.data_format {
        DataFormat::NCHW if shape.len() == 4 && shape[1] == c => (shape[0], shape[2], shape[3]),
        DataFormat::CHW if shape.len() == 3 && shape[0] == c => (1, shape[1], shape[2]),
        DataFormat::NHWC if shape.len() == 4 && shape[3] == c => (shape[0], shape[1], shape[2]),
        DataFormat::HWC if shape.len() == 3 && shape[2] == c => (1, shape[0], shape[1]),
        _ => return Ok(None),
    };
    let (Some(kernel), Some(bias)) = (facts[1].konst.as_ref(), facts[2].konst.as_ref()) else { return Ok(None) };
    let (kh, kw) = (spec.kernel_shape[0], spec.kernel_shape[1]);
    if n != 1 || kernel.shape() != [c, 1, kh, kw] || kernel.datum_type() != f32::datum_type() {
        return Ok(None);
    }
    let (Some(bias), Some(geometry)) = (bias_values(bias, c)?, geometry(spec, h, w)) else { return Ok(None) };
    let output_shape: TVec<usize> = match spec.data_format {
        DataFormat::NCHW => tvec![1, c, geometry.oh, geometry.ow],
        DataFormat::CHW => tvec![c, geometry.oh, geometry.ow],
        DataFormat::NHWC => tvec![1, geometry.oh, geometry.ow, c],
        DataFormat::HWC => tvec![geometry.oh, geometry.ow, c],
    };
    if node.outputs[0].fact.shape.as_concrete() != Some(&output_shape[..]) {
        return Ok(None);
    }
    let mut taps = floats(kernel)?;
    if channels_last {
        // Tap-major: one vector of channels per tap.
        let k = kh * kw;
        taps = (0..k * c).map(|i| taps[(i % c) * k + i / c]).collect();
    }
    Ok(Some(DepthwiseConv {
        geometry,
        channels: c,
        channels_last,
        taps: Arc::new(taps),
        bias: Arc::new(bias),
        clamp: (f32::NEG_INFINITY, f32::INFINITY),
        output_shape,
    }))
}

/// The geometry of a 2-D convolution with `spec` on an `h × w` input: `None` unless its kernel
/// is 2-D, it has no dilation and a square stride of 1 to 4, and its output is not empty.
pub(super) fn geometry(spec: &PoolSpec, h: usize, w: usize) -> Option<Geometry> {
    if spec.kernel_shape.len() != 2 || spec.dilations.as_ref().is_some_and(|d| d.iter().any(|&x| x != 1)) {
        return None;
    }
    let strides = spec.strides.clone().unwrap_or_else(|| tvec![1, 1]);
    if strides.len() != 2 || strides[0] != strides[1] || strides[0] == 0 || strides[0] > 4 {
        return None;
    }
    let (kh, kw) = (spec.kernel_shape[0], spec.kernel_shape[1]);
    let padded = spec.padding.compute(&[h, w], &[kh, kw], &[1, 1], &strides);
    let geometry = Geometry {
        h,
        w,
        kh,
        kw,
        stride: strides[0],
        pad_top: padded[0].pad_before,
        pad_left: padded[1].pad_before,
        oh: padded[0].convoluted,
        ow: padded[1].convoluted,
    };
    (geometry.oh > 0 && geometry.ow > 0).then_some(geometry)
}

/// A convolution's bias as `n` values (one per output channel): `None` unless it is f32 and a
/// scalar or `n` values.
pub(super) fn bias_values(bias: &Tensor, n: usize) -> TractResult<Option<Vec<f32>>> {
    if bias.datum_type() != f32::datum_type() {
        return Ok(None);
    }
    Ok(match floats(bias)?.as_slice() {
        [b] => Some(vec![*b; n]),
        b if b.len() == n => Some(b.to_vec()),
        _ => None,
    })
}

/// Folds into `clamp` the `Max`/`Min` clamps that follow node `last` alone, one after the
/// other; returns the last node folded (or `last`) and the clamp.
pub(super) fn fuse_clamps(
    model: &TypedModel,
    mut last: usize,
    mut clamp: (f32, f32),
) -> TractResult<(usize, (f32, f32))> {
    while let Some((next, lo, hi)) = clamp_after(model, last)? {
        let tighter = (clamp.0.max(lo), clamp.1.min(hi));
        if tighter.0 > tighter.1 {
            break;
        }
        clamp = tighter;
        last = next;
    }
    Ok((last, clamp))
}

/// Replaces nodes `first ..= last` (a chain) with `op` on `first`'s input, named as `first`.
pub(super) fn substitute<O: TypedOp>(
    model: &mut TypedModel,
    first: usize,
    last: usize,
    op: O,
    why: &str,
) -> TractResult<()> {
    let mut patch = TypedModelPatch::new(why);
    let input = patch.tap_model(model, model.node(first).inputs[0])?;
    let name = model.node(first).name.clone();
    let out = patch.wire_node(name, op, &[input])?[0];
    patch.shunt_outside(model, OutletId::new(last, 0), out)?;
    patch.apply(model)
}

/// The values of an f32 tensor.
pub(super) fn floats(t: &Tensor) -> TractResult<Vec<f32>> {
    Ok(t.try_as_plain_ram()?.as_slice::<f32>()?.to_vec())
}

/// If node `id`'s only consumer is `Max` or `Min` with a scalar constant, that node and the
/// clamp it adds (`lo`, `hi`).
pub(super) fn clamp_after(model: &TypedModel, id: usize) -> TractResult<Option<(usize, f32, f32)>> {
    let node = model.node(id);
    if node.outputs.len() != 1
        || node.outputs[0].successors.len() != 1
        || model.output_outlets()?.contains(&OutletId::new(id, 0))
    {
        return Ok(None);
    }
    let next = model.node(node.outputs[0].successors[0].node);
    let Some(bin) = next.op_as::<TypedBinOp>() else { return Ok(None) };
    if next.inputs.len() != 2 {
        return Ok(None);
    }
    let other = next.inputs.iter().find(|i| i.node != id);
    let Some(value) = other.and_then(|o| model.outlet_fact(*o).ok()).and_then(|f| f.konst.clone()) else {
        return Ok(None);
    };
    if value.len() != 1 || value.datum_type() != f32::datum_type() {
        return Ok(None);
    }
    let v = floats(&value)?[0];
    if next.outputs[0].fact.shape != node.outputs[0].fact.shape {
        return Ok(None);
    }
    Ok(match bin.0.name() {
        "Max" => Some((next.id, v, f32::INFINITY)),
        "Min" => Some((next.id, f32::NEG_INFINITY, v)),
        _ => None,
    })
}

#[cfg(test)]
mod tests;
