//! The arithmetic of a pointwise (1×1) convolution: `out[p][o] = Σ_k in[p][k] · w[o][k]`, by
//! tiles of accumulators that stay in registers for the whole sum over `k`.
//!
//! Two register tiles, both outer products with a by-element multiply-add (`FMLA v.4s, v.4s,
//! v.s[lane]` on aarch64), so no operand is ever broadcast or repacked per frame:
//! - [`lanes_tile`]: 8 rows × 4·`NJ` columns. Per `k` it loads 8 values of the row operand (two
//!   vectors, used lane by lane) and `NJ` vectors of the column operand: 24 multiply-adds per 5
//!   loads at `NJ = 3`. It needs both operands `k`-major: an input channels first (a plane per
//!   `k`) and the weights packed per tile of outputs ([`pack`]).
//! - [`rows_tile`]: `R` pixels × 4·`NJ` outputs for an input channels last, where a pixel's
//!   channels are contiguous: one load serves four `k` of one pixel (its lanes), so 5 pixels ×
//!   16 outputs make 80 multiply-adds per 9 loads.
//!
//! The portable form (other architectures) is the same code over `[f32; 4]`; it exists so the
//! tiling is tested everywhere, and tract's own matrix products stay faster there.

use std::ops::Range;

/// Output channels per tile of [`lanes_tile`] when the outputs are its columns.
pub const LANES_COLS: usize = 12;
/// Rows of [`lanes_tile`].
pub const LANES_ROWS: usize = 8;
/// Pixels per tile of [`rows_tile`].
pub const ROWS_PIXELS: usize = 5;
/// Output channels per tile of [`rows_tile`].
pub const ROWS_COLS: usize = 16;

#[cfg(target_arch = "aarch64")]
mod simd {
    use std::arch::aarch64::*;
    pub type V = float32x4_t;
    /// SAFETY: `p` points at 4 readable floats.
    #[inline(always)]
    pub unsafe fn load(p: *const f32) -> V {
        unsafe { vld1q_f32(p) }
    }
    /// `N` vectors from `p` on, in one instruction for 2 to 4 (`LD1 {…}`).
    ///
    /// SAFETY: `p` points at 4·N readable floats.
    #[inline(always)]
    pub unsafe fn loads<const N: usize>(p: *const f32) -> [V; N] {
        // SAFETY (transmute_copy): each arm runs only when N is the count it reads.
        unsafe {
            match N {
                2 => std::mem::transmute_copy(&vld1q_f32_x2(p)),
                3 => std::mem::transmute_copy(&vld1q_f32_x3(p)),
                4 => std::mem::transmute_copy(&vld1q_f32_x4(p)),
                _ => std::array::from_fn(|j| vld1q_f32(p.add(4 * j))),
            }
        }
    }
    /// `acc + b · a[L]`.
    #[inline(always)]
    pub fn fma_lane<const L: i32>(acc: V, b: V, a: V) -> V {
        unsafe { vfmaq_laneq_f32::<L>(acc, b, a) }
    }
    #[inline(always)]
    pub fn to_array(v: V) -> [f32; 4] {
        // SAFETY: a float32x4_t is four f32.
        unsafe { std::mem::transmute::<V, [f32; 4]>(v) }
    }
    #[inline(always)]
    pub fn splat(x: f32) -> V {
        unsafe { vdupq_n_f32(x) }
    }
    /// `min(max(v, lo), hi)`.
    #[inline(always)]
    pub fn clamp(v: V, lo: V, hi: V) -> V {
        unsafe { vminq_f32(vmaxq_f32(v, lo), hi) }
    }
    /// SAFETY: `p` points at 4 writable floats.
    #[inline(always)]
    pub unsafe fn store(p: *mut f32, v: V) {
        unsafe { vst1q_f32(p, v) }
    }
    /// The 4×4 transpose of four vectors.
    #[inline(always)]
    pub fn transpose(v: [V; 4]) -> [V; 4] {
        unsafe {
            let t0 = vreinterpretq_f64_f32(vtrn1q_f32(v[0], v[1]));
            let t1 = vreinterpretq_f64_f32(vtrn2q_f32(v[0], v[1]));
            let t2 = vreinterpretq_f64_f32(vtrn1q_f32(v[2], v[3]));
            let t3 = vreinterpretq_f64_f32(vtrn2q_f32(v[2], v[3]));
            [
                vreinterpretq_f32_f64(vtrn1q_f64(t0, t2)),
                vreinterpretq_f32_f64(vtrn1q_f64(t1, t3)),
                vreinterpretq_f32_f64(vtrn2q_f64(t0, t2)),
                vreinterpretq_f32_f64(vtrn2q_f64(t1, t3)),
            ]
        }
    }
}

#[cfg(not(target_arch = "aarch64"))]
mod simd {
    pub type V = [f32; 4];
    /// SAFETY: `p` points at 4 readable floats.
    #[inline(always)]
    pub unsafe fn load(p: *const f32) -> V {
        unsafe { std::ptr::read_unaligned(p as *const V) }
    }
    /// `N` vectors from `p` on.
    ///
    /// SAFETY: `p` points at 4·N readable floats.
    #[inline(always)]
    pub unsafe fn loads<const N: usize>(p: *const f32) -> [V; N] {
        std::array::from_fn(|j| unsafe { load(p.add(4 * j)) })
    }
    /// `acc + b · a[L]` (not `mul_add`: without FMA that is a libm call per value).
    #[inline(always)]
    pub fn fma_lane<const L: i32>(acc: V, b: V, a: V) -> V {
        std::array::from_fn(|i| acc[i] + b[i] * a[L as usize])
    }
    #[inline(always)]
    pub fn to_array(v: V) -> [f32; 4] {
        v
    }
    #[inline(always)]
    pub fn splat(x: f32) -> V {
        [x; 4]
    }
    /// `min(max(v, lo), hi)`.
    #[inline(always)]
    pub fn clamp(v: V, lo: V, hi: V) -> V {
        std::array::from_fn(|i| v[i].max(lo[i]).min(hi[i]))
    }
    /// SAFETY: `p` points at 4 writable floats.
    #[inline(always)]
    pub unsafe fn store(p: *mut f32, v: V) {
        unsafe { std::ptr::write_unaligned(p as *mut V, v) }
    }
    /// The 4×4 transpose of four vectors.
    #[inline(always)]
    pub fn transpose(v: [V; 4]) -> [V; 4] {
        std::array::from_fn(|i| std::array::from_fn(|j| v[j][i]))
    }
}

use simd::{clamp, fma_lane, load, loads, splat, store, to_array, transpose, V};

/// `acc[r][j] += b[j] · a[r]` for the four rows held in the lanes of `a`.
#[inline(always)]
fn four_rows<const NJ: usize>(acc: &mut [[V; NJ]], b: &[V; NJ], a: V) {
    for j in 0..NJ {
        acc[0][j] = fma_lane::<0>(acc[0][j], b[j], a);
        acc[1][j] = fma_lane::<1>(acc[1][j], b[j], a);
        acc[2][j] = fma_lane::<2>(acc[2][j], b[j], a);
        acc[3][j] = fma_lane::<3>(acc[3][j], b[j], a);
    }
}

/// `acc[r][j] += Σ_k a[k·sa + r] · b[k·sb + 4j .. 4j + 4]` for `r < 8`, `j < NJ`.
///
/// SAFETY: for every `k < depth`, `a[k·sa ..][..8]` and `b[k·sb ..][..4·NJ]` are readable.
#[inline(always)]
unsafe fn lanes_tile<const NJ: usize>(
    mut acc: [[V; NJ]; LANES_ROWS],
    depth: usize,
    a: *const f32,
    sa: usize,
    b: *const f32,
    sb: usize,
) -> [[V; NJ]; LANES_ROWS] {
    #[cfg(target_arch = "aarch64")]
    if NJ == 3 {
        // SAFETY: the same type when NJ is 3; the caller's promise covers the loop's reads.
        unsafe {
            super::neon::lanes_8x12(&mut *(&mut acc as *mut _ as *mut [[V; 3]; LANES_ROWS]), depth, a, sa, b, sb)
        };
        return acc;
    }
    let (mut a, mut b) = (a, b);
    let mut step = |acc: &mut [[V; NJ]; LANES_ROWS]| unsafe {
        let [a0, a1] = loads::<2>(a);
        let bv = loads::<NJ>(b);
        four_rows(&mut acc[..4], &bv, a0);
        four_rows(&mut acc[4..], &bv, a1);
        a = a.add(sa);
        b = b.add(sb);
    };
    for _ in 0..depth / 4 {
        step(&mut acc);
        step(&mut acc);
        step(&mut acc);
        step(&mut acc);
    }
    for _ in 0..depth % 4 {
        step(&mut acc);
    }
    acc
}

/// One whole tile of [`lanes_tile`] (8 rows × 12 columns), from the bias to the stores: the
/// accumulators start from `bias[r]` along row `r` (`per_row`) or from `bias[..12]` along every
/// row, and row `r` is stored clamped at `out[r·so ..][..12]`. On aarch64 it is one assembly
/// loop ([`super::neon::lanes_8x12_tile`]).
///
/// SAFETY: as [`lanes_tile`] for 12 columns; every `out[r·so ..][..12]` for `r < 8` is writable.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn whole_tile(
    depth: usize,
    a: *const f32,
    sa: usize,
    b: *const f32,
    sb: usize,
    bias: &[f32],
    per_row: bool,
    clamp: Option<(f32, f32)>,
    out: *mut f32,
    so: usize,
) {
    assert!(bias.len() >= if per_row { LANES_ROWS } else { LANES_COLS });
    #[cfg(target_arch = "aarch64")]
    // SAFETY: the caller's promise; `bias` holds what is read, checked above.
    unsafe {
        super::neon::lanes_8x12_tile(depth, a, sa, b, sb, bias.as_ptr(), per_row, clamp, out, so)
    };
    #[cfg(not(target_arch = "aarch64"))]
    {
        let init: [[V; 3]; LANES_ROWS] = if per_row {
            std::array::from_fn(|r| [splat(bias[r]); 3])
        } else {
            // SAFETY: checked above.
            [unsafe { loads::<3>(bias.as_ptr()) }; LANES_ROWS]
        };
        // SAFETY: the caller's promise.
        let acc = unsafe { lanes_tile::<3>(init, depth, a, sa, b, sb) };
        let bounds = clamp.map(|(lo, hi)| (splat(lo), splat(hi)));
        for (r, row) in acc.iter().enumerate() {
            // SAFETY: the caller's promise.
            unsafe { put_row(row, bounds, out.add(r * so)) };
        }
    }
}

/// `acc[r][j] += Σ_k x[r·sx + k] · b[k·sb + 4j .. 4j + 4]` for `r < R`, `j < NJ`: row `r`'s four
/// values of `k` come in one load and serve as the lanes of four multiply-adds.
///
/// SAFETY: `depth` is a multiple of 4, every `x[r·sx ..][..depth]` and, for every `k < depth`,
/// `b[k·sb ..][..4·NJ]` are readable.
#[inline(always)]
unsafe fn rows_tile<const R: usize, const NJ: usize>(
    mut acc: [[V; NJ]; R],
    depth: usize,
    x: *const f32,
    sx: usize,
    b: *const f32,
    sb: usize,
) -> [[V; NJ]; R] {
    #[cfg(target_arch = "aarch64")]
    if R == 5 && NJ == 4 && sb == 16 {
        // SAFETY: the same type when R is 5 and NJ 4; the caller's promise covers the reads.
        unsafe { super::neon::rows_5x16(&mut *(&mut acc as *mut _ as *mut [[V; 4]; 5]), depth, x, sx, b) };
        return acc;
    }
    #[cfg(target_arch = "aarch64")]
    if R == 5 && NJ == 2 && sb == 8 {
        // SAFETY: as above, for NJ 2.
        unsafe { super::neon::rows_5x8(&mut *(&mut acc as *mut _ as *mut [[V; 2]; 5]), depth, x, sx, b) };
        return acc;
    }
    let (mut x, mut b) = (x, b);
    for _ in 0..depth / 4 {
        unsafe {
            let xv: [V; R] = std::array::from_fn(|r| load(x.add(r * sx)));
            macro_rules! lane {
                ($l:literal) => {
                    let bl = loads::<NJ>(b.add($l * sb));
                    for r in 0..R {
                        for j in 0..NJ {
                            acc[r][j] = fma_lane::<$l>(acc[r][j], bl[j], xv[r]);
                        }
                    }
                };
            }
            lane!(0);
            lane!(1);
            lane!(2);
            lane!(3);
            x = x.add(4);
            b = b.add(4 * sb);
        }
    }
    acc
}

/// Weights `w` (`outputs × depth`, row-major) packed for the tiles: per tile of `width` outputs
/// (the last one `4·⌈rest/4⌉` wide), `depth` rows of `width` values, zero past the outputs.
pub fn pack(w: &[f32], outputs: usize, depth: usize, width: usize) -> Vec<f32> {
    debug_assert_eq!(w.len(), outputs * depth);
    let mut packed = Vec::with_capacity(outputs.next_multiple_of(4) * depth);
    for o0 in (0..outputs).step_by(width) {
        let tw = tile_width(outputs, o0, width);
        for k in 0..depth {
            packed.extend((o0..o0 + tw).map(|o| if o < outputs { w[o * depth + k] } else { 0.0 }));
        }
    }
    packed
}

/// Width of the tile of outputs starting at `o0`: `width`, or the rest rounded up to 4.
fn tile_width(outputs: usize, o0: usize, width: usize) -> usize {
    width.min((outputs - o0).next_multiple_of(4))
}

/// The tiles of `width` outputs that cover `range` (starting at a multiple of `width`):
/// `(first output, width, offset in the packed weights)`.
fn tiles(
    outputs: usize,
    depth: usize,
    width: usize,
    range: Range<usize>,
) -> impl Iterator<Item = (usize, usize, usize)> {
    debug_assert_eq!(range.start % width, 0);
    range.step_by(width).map(move |o0| (o0, tile_width(outputs, o0, width), o0 * depth))
}

/// Columns `px` of a channels-first input (`depth × pixels`) into `scratch`, each of its `depth`
/// rows zero-padded to `width`: a partial tile's operand, readable `width` wide.
fn padded_columns(input: &[f32], depth: usize, pixels: usize, px: Range<usize>, width: usize, scratch: &mut Vec<f32>) {
    scratch.clear();
    for k in 0..depth {
        scratch.extend(input[k * pixels..][px.clone()].iter().copied());
        scratch.extend(std::iter::repeat_n(0.0, width - px.len()));
    }
}

/// What follows the sum: a bias per output channel (the accumulators start from it), then a
/// clamp.
pub struct Epilogue<'a> {
    /// One bias per output channel, zero-padded to a multiple of 16.
    pub bias: &'a [f32],
    /// Output clamp, if any.
    pub clamp: Option<(f32, f32)>,
}

impl Epilogue<'_> {
    /// The bias of outputs `o0 .. o0 + 4·NJ`, as the starting columns of `R` rows.
    fn columns<const R: usize, const NJ: usize>(&self, o0: usize) -> [[V; NJ]; R] {
        let b = &self.bias[o0..][..4 * NJ];
        // SAFETY: the slice above holds 4·NJ floats.
        [unsafe { loads::<NJ>(b.as_ptr()) }; R]
    }

    /// The clamp as vectors.
    fn bounds(&self) -> Option<(V, V)> {
        self.clamp.map(|(lo, hi)| (splat(lo), splat(hi)))
    }
}

/// Writes the first `dst.len()` values of a tile row, clamped: whole vectors, then the rest.
#[inline(always)]
fn put<const NJ: usize>(row: &[V; NJ], bounds: Option<(V, V)>, dst: &mut [f32]) {
    debug_assert!(dst.len() <= 4 * NJ);
    if dst.len() == 4 * NJ {
        // SAFETY: `dst` holds the whole row.
        unsafe { put_row(row, bounds, dst.as_mut_ptr()) };
        return;
    }
    for (j, v) in row.iter().enumerate() {
        let v = bounds.map_or(*v, |(lo, hi)| clamp(*v, lo, hi));
        if let Some(d) = dst.get_mut(4 * j..) {
            let n = d.len().min(4);
            d[..n].copy_from_slice(&to_array(v)[..n]);
        }
    }
}

/// Writes a whole tile row, clamped.
///
/// SAFETY: `dst` points at 4·NJ writable floats.
#[inline(always)]
unsafe fn put_row<const NJ: usize>(row: &[V; NJ], bounds: Option<(V, V)>, dst: *mut f32) {
    for (j, v) in row.iter().enumerate() {
        let v = bounds.map_or(*v, |(lo, hi)| clamp(*v, lo, hi));
        unsafe { store(dst.add(4 * j), v) };
    }
}

/// Input channels first (`depth × pixels`), output channels last (`pixels × outputs`): the rows
/// of [`lanes_tile`] are pixels, its columns output channels. `out` holds the pixels `px`.
#[allow(clippy::too_many_arguments)]
pub fn chw_to_hwc(
    depth: usize,
    pixels: usize,
    outputs: usize,
    input: &[f32],
    packed: &[f32],
    epi: &Epilogue,
    px: Range<usize>,
    out: &mut [f32],
) {
    assert!(input.len() >= depth * pixels && out.len() == px.len() * outputs && px.end <= pixels);
    let bounds = epi.bounds();
    let mut scratch = Vec::new();
    for p0 in px.clone().step_by(LANES_ROWS) {
        let n = LANES_ROWS.min(px.end - p0);
        let first = (p0 - px.start) * outputs;
        if n < LANES_ROWS && depth.is_multiple_of(4) {
            // The last few pixels (one of a 7×7 plane's 49): a full tile would mostly compute
            // padding. Their channels, copied pixel by pixel, go through the rows tile instead.
            scratch.clear();
            for r in 0..n {
                scratch.extend((0..depth).map(|k| input[k * pixels + p0 + r]));
            }
            tail_rows(depth, outputs, &scratch, packed, LANES_COLS, epi, n, &mut out[first..]);
            continue;
        }
        // A partial tile reads a zero-padded copy: a plane is not always followed by another.
        let (a, sa) = if n == LANES_ROWS {
            (input[p0..].as_ptr(), pixels)
        } else {
            padded_columns(input, depth, pixels, p0..p0 + n, LANES_ROWS, &mut scratch);
            (scratch.as_ptr(), LANES_ROWS)
        };
        let tile_out = &mut out[first..first + n * outputs];
        for (o0, tw, offset) in tiles(outputs, depth, LANES_COLS, 0..outputs) {
            let b = packed[offset..][..depth * tw].as_ptr();
            let m = tw.min(outputs - o0);
            if n == LANES_ROWS && m == LANES_COLS {
                // The last row's run ends inside `tile_out`: o0 + 12 ≤ outputs.
                assert!((LANES_ROWS - 1) * outputs + o0 + LANES_COLS <= tile_out.len());
                let dst = tile_out[o0..].as_mut_ptr();
                // SAFETY: `a` and `b` as below; the rows' runs, checked above.
                unsafe { whole_tile(depth, a, sa, b, tw, &epi.bias[o0..], false, epi.clamp, dst, outputs) };
                continue;
            }
            macro_rules! run {
                ($nj:literal) => {{
                    // SAFETY: `a` holds `depth` runs of 8 at stride `sa` (a full tile of the
                    // input, whose last plane has 8 values from p0 on, or the padded copy), `b`
                    // `depth` rows of `tw` = 4·$nj (sliced above).
                    let acc = unsafe { lanes_tile::<$nj>(epi.columns(o0), depth, a, sa, b, tw) };
                    if n == LANES_ROWS && m == tw {
                        let dst = tile_out[o0..].as_mut_ptr();
                        // The last row's run ends inside `tile_out`: o0 + tw ≤ outputs.
                        assert!((LANES_ROWS - 1) * outputs + o0 + tw <= tile_out.len());
                        for (r, row) in acc.iter().enumerate() {
                            // SAFETY: row r's run, checked above.
                            unsafe { put_row(row, bounds, dst.add(r * outputs)) };
                        }
                    } else {
                        for (r, row) in acc.iter().enumerate().take(n) {
                            put(row, bounds, &mut tile_out[r * outputs + o0..][..m]);
                        }
                    }
                }};
            }
            match tw / 4 {
                3 => run!(3),
                2 => run!(2),
                _ => run!(1),
            }
        }
    }
}

/// Input and output channels first: the rows of [`lanes_tile`] are output channels (packed
/// weights, 8 per tile), its columns pixels. `out` holds the output channels `co` (whole planes);
/// `co.start` is a multiple of 8.
#[allow(clippy::too_many_arguments)]
pub fn chw_to_chw(
    depth: usize,
    pixels: usize,
    outputs: usize,
    input: &[f32],
    packed: &[f32],
    epi: &Epilogue,
    co: Range<usize>,
    out: &mut [f32],
) {
    assert!(input.len() >= depth * pixels && out.len() == co.len() * pixels && co.end <= outputs);
    let bounds = epi.bounds();
    let mut scratch = Vec::new();
    let mut padded = Vec::new();
    for p0 in (0..pixels).step_by(LANES_COLS) {
        let n = LANES_COLS.min(pixels - p0);
        let (b, sb, nj) = if n == LANES_COLS {
            (input[p0..].as_ptr(), pixels, LANES_COLS / 4)
        } else {
            let width = n.next_multiple_of(4);
            padded_columns(input, depth, pixels, p0..p0 + n, width, &mut scratch);
            (scratch.as_ptr(), width, width / 4)
        };
        for (o0, tw, offset) in tiles(outputs, depth, LANES_ROWS, co.clone()) {
            // The last tile may be 4 wide: its rows are read 8 wide from a zero-padded copy.
            let a = if tw == LANES_ROWS {
                packed[offset..][..depth * tw].as_ptr()
            } else {
                padded.clear();
                for k in 0..depth {
                    padded.extend(packed[offset + k * tw..][..tw].iter().copied().chain([0.0; 4]));
                }
                padded.as_ptr()
            };
            let rows = LANES_ROWS.min(co.end - o0);
            let first = (o0 - co.start) * pixels + p0;
            if n == LANES_COLS && rows == LANES_ROWS {
                // The last row's run ends inside `out`.
                assert!(first + (LANES_ROWS - 1) * pixels + LANES_COLS <= out.len());
                let dst = out[first..].as_mut_ptr();
                // SAFETY: `a` holds `depth` rows of 8, `b` `depth` runs of 12 at stride `sb`;
                // the rows' runs, checked above.
                unsafe { whole_tile(depth, a, LANES_ROWS, b, sb, &epi.bias[o0..], true, epi.clamp, dst, pixels) };
                continue;
            }
            let mut bias = [0.0; LANES_ROWS];
            bias[..rows].copy_from_slice(&epi.bias[o0..o0 + rows]);
            macro_rules! run {
                ($nj:literal) => {{
                    let init: [[V; $nj]; LANES_ROWS] = std::array::from_fn(|r| [splat(bias[r]); $nj]);
                    // SAFETY: `a` holds `depth` rows of 8, `b` `depth` runs of 4·$nj at stride `sb`
                    // (a full tile of the input or the padded copy).
                    let acc = unsafe { lanes_tile::<$nj>(init, depth, a, LANES_ROWS, b, sb) };
                    for (r, row) in acc.iter().enumerate().take(rows) {
                        put(row, bounds, &mut out[first + r * pixels..][..n]);
                    }
                }};
            }
            match nj {
                3 => run!(3),
                2 => run!(2),
                _ => run!(1),
            }
        }
    }
}

/// Input channels last (`pixels × depth`, `depth` a multiple of 4): [`rows_tile`] over pixels and
/// output channels. The output is channels last (`pixels × outputs`, `out` holding the pixels
/// `px`, `co` all outputs) or, with `channels_first`, channels first (`outputs × pixels`, `out`
/// holding the output channels `co` from a multiple of 16, `px` all pixels).
#[allow(clippy::too_many_arguments)]
pub fn hwc(
    depth: usize,
    pixels: usize,
    outputs: usize,
    input: &[f32],
    packed: &[f32],
    epi: &Epilogue,
    px: Range<usize>,
    co: Range<usize>,
    channels_first: bool,
    out: &mut [f32],
) {
    assert!(depth.is_multiple_of(4) && input.len() >= depth * pixels && px.end <= pixels && co.end <= outputs);
    assert!(out.len() == px.len() * co.len());
    assert!(if channels_first { px == (0..pixels) } else { co == (0..outputs) });
    let bounds = epi.bounds();
    let mut p0 = px.start;
    while p0 < px.end {
        let n = ROWS_PIXELS.min(px.end - p0);
        let x = input[p0 * depth..(p0 + n) * depth].as_ptr();
        for (o0, tw, offset) in tiles(outputs, depth, ROWS_COLS, co.clone()) {
            let b = packed[offset..][..depth * tw].as_ptr();
            let m = tw.min(co.end - o0);
            macro_rules! run {
                ($r:literal, $nj:literal) => {{
                    // SAFETY: `x` holds $r rows of `depth` floats (sliced above), `b` `depth` rows
                    // of `tw` = 4·$nj floats.
                    let acc = unsafe { rows_tile::<$r, $nj>(epi.columns(o0), depth, x, depth, b, tw) };
                    if channels_first {
                        put_transposed(&acc, bounds, &mut out[(o0 - co.start) * pixels..], pixels, p0, m);
                    } else {
                        for (r, row) in acc.iter().enumerate() {
                            put(row, bounds, &mut out[(p0 - px.start + r) * outputs + o0..][..m]);
                        }
                    }
                }};
            }
            macro_rules! cols {
                ($r:literal) => {
                    match tw / 4 {
                        4 => run!($r, 4),
                        3 => run!($r, 3),
                        2 => run!($r, 2),
                        _ => run!($r, 1),
                    }
                };
            }
            match n {
                5 => cols!(5),
                4 => cols!(4),
                3 => cols!(3),
                2 => cols!(2),
                _ => cols!(1),
            }
        }
        p0 += n;
    }
}

/// Writes a tile of `R` pixels × `m` output channels (clamped) into planes: value `(r, o)` to
/// `out[o·pixels + p0 + r]`. Four pixels at a time go through a 4×4 transpose.
#[inline(always)]
fn put_transposed<const R: usize, const NJ: usize>(
    acc: &[[V; NJ]; R],
    bounds: Option<(V, V)>,
    out: &mut [f32],
    pixels: usize,
    p0: usize,
    m: usize,
) {
    for j in 0..NJ {
        let v: [V; R] = std::array::from_fn(|r| bounds.map_or(acc[r][j], |(lo, hi)| clamp(acc[r][j], lo, hi)));
        let cols = m.saturating_sub(4 * j).min(4);
        let mut r = 0;
        while r + 4 <= R {
            let t = transpose([v[r], v[r + 1], v[r + 2], v[r + 3]]);
            for (c, t) in t.iter().enumerate().take(cols) {
                let d = &mut out[(4 * j + c) * pixels + p0 + r..][..4];
                // SAFETY: the chunk holds 4 floats.
                unsafe { store(d.as_mut_ptr(), *t) };
            }
            r += 4;
        }
        for (r, v) in v.iter().enumerate().skip(r) {
            for (c, x) in to_array(*v).iter().enumerate().take(cols) {
                out[(4 * j + c) * pixels + p0 + r] = *x;
            }
        }
    }
}

/// `n` pixels of channels-last rows (`x`, `depth` values each, `depth` a multiple of 4) through
/// [`rows_tile`], four at a time, against weights packed `width` (a multiple of 4, at most 16)
/// wide; written channels last (`out` from the first pixel's row on).
#[allow(clippy::too_many_arguments)]
fn tail_rows(
    depth: usize,
    outputs: usize,
    x: &[f32],
    packed: &[f32],
    width: usize,
    epi: &Epilogue,
    n: usize,
    out: &mut [f32],
) {
    assert!(depth.is_multiple_of(4) && x.len() >= n * depth && width.is_multiple_of(4) && width <= 16);
    let bounds = epi.bounds();
    let mut r0 = 0;
    while r0 < n {
        let rn = (n - r0).min(4);
        let xp = x[r0 * depth..(r0 + rn) * depth].as_ptr();
        for (o0, tw, offset) in tiles(outputs, depth, width, 0..outputs) {
            let b = packed[offset..][..depth * tw].as_ptr();
            let m = tw.min(outputs - o0);
            macro_rules! run {
                ($r:literal, $nj:literal) => {{
                    // SAFETY: `xp` holds $r rows of `depth` floats, `b` `depth` rows of `tw` = 4·$nj.
                    let acc = unsafe { rows_tile::<$r, $nj>(epi.columns(o0), depth, xp, depth, b, tw) };
                    for (r, row) in acc.iter().enumerate() {
                        put(row, bounds, &mut out[(r0 + r) * outputs + o0..][..m]);
                    }
                }};
            }
            macro_rules! cols {
                ($r:literal) => {
                    match tw / 4 {
                        4 => run!($r, 4),
                        3 => run!($r, 3),
                        2 => run!($r, 2),
                        _ => run!($r, 1),
                    }
                };
            }
            match rn {
                4 => cols!(4),
                3 => cols!(3),
                2 => cols!(2),
                _ => cols!(1),
            }
        }
        r0 += rn;
    }
}
