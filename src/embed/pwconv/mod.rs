//! teachcam's own pointwise (1×1) convolution operator for tract on aarch64, and the model
//! rewrite that uses it.
//!
//! `scripts/a64-profile.sh` put 141.8 M of the 179.5 M Cortex-A72 instructions of an embedding
//! in the 33 pointwise convolutions (tract's matrix kernels, their packing and driver), against a
//! floor of ~85 M four-lane FMLA for their ~340 M multiply-adds. tract declutters each one into
//! an `EinSum` (`IHW,OI->HWO`: channels first in, last out; `HWI,OI->OHW`: the reverse), then an
//! `Add` of the bias and a ReLU6. [`PointwiseConv`] computes them with [`kernel`]'s register tiles
//! straight from the input as it lies, the weights packed once at load, the bias and clamp
//! applied as each tile is stored.
//!
//! [`rewrite`] replaces each f32 `EinSum` that is a pointwise convolution (a constant `O×I`
//! weight, one image, channels first or last in and out) with the bias `Add` and the clamps right
//! after it. Everything else is left to tract, and the layouts stay tract's. On other
//! architectures tract's own kernels (AVX2) are faster: teachcam rewrites on aarch64 only
//! (`model.own_pointwise`), and the portable form exists for the tests.
//!
//! [`dense`] runs the stem's 3×3 convolution on the same tile, from a matrix of its patches.

pub mod dense;
pub mod kernel;
#[cfg(target_arch = "aarch64")]
mod neon;

use super::dwconv::{floats, fuse_clamps, substitute};
use kernel::Epilogue;
use tract_core::internal::*;
use tract_core::ops::binary::TypedBinOp;
use tract_core::ops::einsum::EinSum;

/// Where the input and the output keep their channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Form {
    /// Channels first in (`depth × pixels`), last out (`pixels × outputs`).
    ChwToHwc,
    /// Channels first in and out.
    ChwToChw,
    /// Channels last in (`pixels × depth`) and out.
    HwcToHwc,
    /// Channels last in, first out.
    HwcToChw,
}

/// A pointwise convolution of one image with its weights, bias and output clamp built in.
#[derive(Debug, Clone)]
pub struct PointwiseConv {
    /// Input channels.
    depth: usize,
    /// Pixels of the image.
    pixels: usize,
    /// Output channels.
    outputs: usize,
    form: Form,
    /// The weights packed for the form's tiles ([`kernel::pack`]).
    packed: Arc<Vec<f32>>,
    /// One bias per output, zero-padded to a multiple of 16.
    bias: Arc<Vec<f32>>,
    /// Output clamp (`-inf, inf` when none was fused).
    clamp: (f32, f32),
    /// Output shape (the `EinSum`'s).
    output_shape: TVec<usize>,
}

impl PointwiseConv {
    /// The operator for weights `w` (`outputs × depth`, row-major) and `bias` (one per output).
    pub fn new(depth: usize, pixels: usize, outputs: usize, form: Form, w: &[f32], bias: &[f32]) -> Self {
        let width = match form {
            Form::ChwToHwc => kernel::LANES_COLS,
            Form::ChwToChw => kernel::LANES_ROWS,
            Form::HwcToHwc | Form::HwcToChw => kernel::ROWS_COLS,
        };
        let mut padded = bias.to_vec();
        padded.resize(outputs.next_multiple_of(16), 0.0);
        let output_shape = match form {
            Form::ChwToHwc | Form::HwcToHwc => tvec![pixels, outputs],
            Form::ChwToChw | Form::HwcToChw => tvec![outputs, pixels],
        };
        PointwiseConv {
            depth,
            pixels,
            outputs,
            form,
            packed: Arc::new(kernel::pack(w, outputs, depth, width)),
            bias: Arc::new(padded),
            clamp: (f32::NEG_INFINITY, f32::INFINITY),
            output_shape,
        }
    }

    /// Runs it on `input` (`depth × pixels` or `pixels × depth`, as the form says) into `out`.
    pub fn compute(&self, input: &[f32], out: &mut [f32]) -> TractResult<()> {
        let (depth, pixels, outputs) = (self.depth, self.pixels, self.outputs);
        ensure!(input.len() == depth * pixels, "pointwise input has {} values, not {}", input.len(), depth * pixels);
        ensure!(out.len() == outputs * pixels, "pointwise output has room for {} values", out.len());
        let clamped = self.clamp.0 > f32::NEG_INFINITY || self.clamp.1 < f32::INFINITY;
        let epi = Epilogue { bias: &self.bias, clamp: clamped.then_some(self.clamp) };
        let work = depth * pixels * outputs;
        let packed = &self.packed[..];
        use tract_linalg::multithread::par_chunks_mut;
        match self.form {
            Form::ChwToHwc => par_chunks_mut(out, outputs, work, |first, chunk| {
                let px = first..first + chunk.len() / outputs;
                kernel::chw_to_hwc(depth, pixels, outputs, input, packed, &epi, px, chunk);
                Ok(())
            }),
            Form::HwcToHwc => par_chunks_mut(out, outputs, work, |first, chunk| {
                let px = first..first + chunk.len() / outputs;
                kernel::hwc(depth, pixels, outputs, input, packed, &epi, px, 0..outputs, false, chunk);
                Ok(())
            }),
            Form::ChwToChw => {
                // Threads split the outputs by whole tiles.
                let group = if outputs.is_multiple_of(kernel::LANES_ROWS) { kernel::LANES_ROWS } else { outputs };
                par_chunks_mut(out, group * pixels, work, |first, chunk| {
                    let co = first * group..first * group + chunk.len() / pixels;
                    kernel::chw_to_chw(depth, pixels, outputs, input, packed, &epi, co, chunk);
                    Ok(())
                })
            }
            Form::HwcToChw => {
                let group = if outputs.is_multiple_of(kernel::ROWS_COLS) { kernel::ROWS_COLS } else { outputs };
                par_chunks_mut(out, group * pixels, work, |first, chunk| {
                    let co = first * group..first * group + chunk.len() / pixels;
                    kernel::hwc(depth, pixels, outputs, input, packed, &epi, 0..pixels, co, true, chunk);
                    Ok(())
                })
            }
        }
    }
}

impl PartialEq for PointwiseConv {
    fn eq(&self, other: &Self) -> bool {
        (self.depth, self.pixels, self.outputs, self.form) == (other.depth, other.pixels, other.outputs, other.form)
            && self.packed == other.packed
            && self.bias == other.bias
            && self.clamp.0.to_bits() == other.clamp.0.to_bits()
            && self.clamp.1.to_bits() == other.clamp.1.to_bits()
            && self.output_shape == other.output_shape
    }
}
impl Eq for PointwiseConv {}

impl std::hash::Hash for PointwiseConv {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.depth, self.pixels, self.outputs, self.form).hash(state);
        self.packed.iter().for_each(|t| t.to_bits().hash(state));
    }
}

impl Op for PointwiseConv {
    fn name(&self) -> StaticName {
        "TeachcamPointwiseConv".into()
    }

    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!(
            "{} → {} channels on {} pixels, {:?}, clamp {:?}",
            self.depth, self.outputs, self.pixels, self.form, self.clamp
        )])
    }

    fn validation(&self) -> Validation {
        Validation::Rounding
    }

    op_as_typed_op!();
}

impl EvalOp for PointwiseConv {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let view = input.try_as_plain_ram()?;
        let input = view.as_slice::<f32>()?;
        let mut output = unsafe { Tensor::uninitialized::<f32>(&self.output_shape)? };
        let mut out_view = output.try_as_plain_ram_mut()?;
        self.compute(input, out_view.as_slice_mut::<f32>()?)?;
        Ok(tvec!(output.into_tvalue()))
    }
}

impl TypedOp for PointwiseConv {
    fn output_facts(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::fact(&*self.output_shape)))
    }

    fn cost(&self, _inputs: &[&TypedFact]) -> TractResult<TVec<(Cost, TDim)>> {
        Ok(tvec!((Cost::FMA(f32::datum_type()), (self.depth * self.pixels * self.outputs).into())))
    }

    as_op!();
}

/// Replaces every pointwise convolution [`PointwiseConv`] can run; returns how many.
pub fn rewrite(model: &mut TypedModel) -> TractResult<usize> {
    let mut replaced = 0;
    for id in model.eval_order()? {
        let Some((mut op, channel_axis)) = plan(model, id)? else { continue };
        let mut last = id;
        if let Some((add, bias)) = bias_after(model, id, op.outputs, channel_axis)? {
            op.bias = Arc::new(bias.into_iter().chain(std::iter::repeat(0.0)).take(op.bias.len()).collect());
            last = add;
        }
        (last, op.clamp) = fuse_clamps(model, last, op.clamp)?;
        substitute(model, id, last, op, "teachcam pointwise")?;
        replaced += 1;
    }
    model.compact()?;
    Ok(replaced)
}

/// The operator for node `id`, if it is a pointwise convolution this module runs, and the axis
/// of its output channels.
fn plan(model: &TypedModel, id: usize) -> TractResult<Option<(PointwiseConv, usize)>> {
    let node = model.node(id);
    let Some(einsum) = node.op_as::<EinSum>() else { return Ok(None) };
    if einsum.q_params.is_some() || einsum.operating_dt != f32::datum_type() || node.inputs.len() != 2 {
        return Ok(None);
    }
    let input = model.outlet_fact(node.inputs[0])?;
    let weights = model.outlet_fact(node.inputs[1])?;
    let (Some(in_shape), Some(w), Some(out_shape)) =
        (input.shape.as_concrete(), weights.konst.as_ref(), node.outputs[0].fact.shape.as_concrete())
    else {
        return Ok(None);
    };
    if input.datum_type != f32::datum_type() || w.datum_type() != f32::datum_type() || w.rank() != 2 {
        return Ok(None);
    }
    // Sort the axes: the summed one (input and weights), the output channels (weights and
    // output), the pixels (input and output); any other must be of size 1.
    let (mut k, mut o, mut spatial) = (None, None, Vec::new());
    for axis in einsum.axes.iter_all_axes() {
        let (a, b, c) = (&axis.inputs[0], &axis.inputs[1], &axis.outputs[0]);
        if a.len() > 1 || b.len() > 1 || c.len() > 1 {
            return Ok(None);
        }
        match (a.first(), b.first(), c.first()) {
            (Some(&a), Some(&b), None) if k.is_none() => k = Some((a, b)),
            (None, Some(&b), Some(&c)) if o.is_none() => o = Some((b, c)),
            (Some(&a), None, Some(&c)) if in_shape[a] == out_shape[c] => {
                if in_shape[a] > 1 {
                    spatial.push((a, c))
                }
            }
            (Some(&a), None, None) if in_shape[a] == 1 => {}
            (None, None, Some(&c)) if out_shape[c] == 1 => {}
            _ => return Ok(None),
        }
    }
    let (Some((k_in, k_w)), Some((o_w, o_out))) = (k, o) else { return Ok(None) };
    let (depth, outputs) = (in_shape[k_in], w.shape()[o_w]);
    let pixels: usize = spatial.iter().map(|&(a, _)| in_shape[a]).product();
    // The pixels in the same order in and out, each side all before or all after the channels.
    spatial.sort();
    if depth == 0 || outputs == 0 || !spatial.windows(2).all(|s| s[0].1 < s[1].1) {
        return Ok(None);
    }
    let side = |channels: usize, positions: &mut dyn Iterator<Item = usize>| {
        let positions: Vec<usize> = positions.collect();
        if positions.iter().all(|&p| p > channels) {
            Some(true) // channels first
        } else if positions.iter().all(|&p| p < channels) {
            Some(false)
        } else {
            None
        }
    };
    let (Some(in_first), Some(out_first)) =
        (side(k_in, &mut spatial.iter().map(|s| s.0)), side(o_out, &mut spatial.iter().map(|s| s.1)))
    else {
        return Ok(None);
    };
    // One pixel (the classifier's matrix-vector product): both layouts are the same; the rows
    // tile reads the input's channels four at a time.
    let (in_first, out_first) = if spatial.is_empty() { (false, false) } else { (in_first, out_first) };
    let form = match (in_first, out_first) {
        (true, false) => Form::ChwToHwc,
        (true, true) => Form::ChwToChw,
        (false, false) => Form::HwcToHwc,
        (false, true) => Form::HwcToChw,
    };
    if !in_first && !depth.is_multiple_of(4) {
        return Ok(None);
    }
    let mut values = floats(w)?;
    if k_w == 0 {
        // Stored `I × O`: make it `O × I`.
        values = (0..outputs * depth).map(|i| values[(i % depth) * outputs + i / depth]).collect();
    } else if o_w != 0 {
        return Ok(None);
    }
    debug_assert_eq!(w.shape()[k_w], depth);
    let mut op = PointwiseConv::new(depth, pixels, outputs, form, &values, &vec![0.0; outputs]);
    // Unit axes aside, the output's values are in the order `compute` writes them.
    op.output_shape = out_shape.into();
    Ok(Some((op, o_out)))
}

/// If node `id`'s only consumer adds a constant bias along the output channels (axis `channels`),
/// that node and the bias (one per output).
fn bias_after(
    model: &TypedModel,
    id: usize,
    outputs: usize,
    channels: usize,
) -> TractResult<Option<(usize, Vec<f32>)>> {
    let node = model.node(id);
    if node.outputs[0].successors.len() != 1 || model.output_outlets()?.contains(&OutletId::new(id, 0)) {
        return Ok(None);
    }
    let next = model.node(node.outputs[0].successors[0].node);
    let Some(bin) = next.op_as::<TypedBinOp>() else { return Ok(None) };
    if bin.0.name() != "Add" || next.inputs.len() != 2 || next.outputs[0].fact.shape != node.outputs[0].fact.shape {
        return Ok(None);
    }
    let Some(other) = next.inputs.iter().find(|i| i.node != id) else { return Ok(None) };
    let Some(bias) = model.outlet_fact(*other)?.konst.clone() else { return Ok(None) };
    if bias.datum_type() != f32::datum_type() {
        return Ok(None);
    }
    let Some(out_shape) = node.outputs[0].fact.shape.as_concrete() else { return Ok(None) };
    // A scalar, or one value per output channel along the output's channel axis.
    let values = floats(&bias)?;
    if values.len() == 1 {
        return Ok(Some((next.id, vec![values[0]; outputs])));
    }
    let along_channels = bias.rank() == out_shape.len()
        && bias.shape().iter().enumerate().all(|(axis, &b)| b == 1 || (axis == channels && b == outputs))
        && values.len() == outputs;
    Ok(along_channels.then_some((next.id, values)))
}

#[cfg(test)]
mod tests;
