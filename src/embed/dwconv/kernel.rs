//! The arithmetic of one depthwise channel: gather the padded input into stride phases, run
//! every tap over the whole plane at once, then keep the valid columns (clamped).
//!
//! With the input split into `stride²` phase planes (phase `(py, px)` holds padded rows
//! `stride·i + py` and columns `stride·j + px`), every tap `(ky, kx)` reads one phase plane at a
//! fixed offset, for stride 1 and 2 alike. Computing the output on a grid as wide as the phase
//! plane makes each tap one contiguous run over the whole channel: a 7×7 plane is one run of
//! 77 points instead of seven runs of 7, and stride 2 needs no strided loads. The extra columns
//! are dropped when the result is copied out.

/// The shape of one depthwise convolution, per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Geometry {
    /// Input height and width.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Stride (the same along both axes).
    pub stride: usize,
    /// Zero rows above the input.
    pub pad_top: usize,
    /// Zero columns left of the input.
    pub pad_left: usize,
    /// Output height.
    pub oh: usize,
    /// Output width.
    pub ow: usize,
}

/// Points computed per block: the accumulators stay in registers across all taps.
pub const BLOCK: usize = 16;

impl Geometry {
    /// Rows of a phase plane.
    fn hq(&self) -> usize {
        self.oh + (self.kh - 1) / self.stride
    }

    /// Columns of a phase plane, and the width of the computed output grid.
    fn wq(&self) -> usize {
        self.ow + (self.kw - 1) / self.stride
    }

    /// Points of the computed output grid, rounded up to whole blocks.
    fn grid(&self) -> usize {
        (self.oh * self.wq()).div_ceil(BLOCK) * BLOCK
    }

    /// Floats of one phase plane, with zero slack so that every block of every tap stays inside.
    fn plane(&self) -> usize {
        self.grid() + ((self.kh - 1) / self.stride) * self.wq() + (self.kw - 1) / self.stride
    }

    /// Scratch floats one channel needs ([`channel`]'s `scratch`).
    pub fn scratch_len(&self) -> usize {
        self.stride * self.stride * self.plane() + self.grid()
    }
}

/// One channel: `out[oy·ow + ox] = clamp(bias + Σ taps[ky·kw + kx] · padded_in[s·oy + ky][s·ox + kx])`.
///
/// `input` is the `h × w` plane, `taps` the `kh × kw` kernel, `out` the `oh × ow` plane, `scratch`
/// at least [`Geometry::scratch_len`] floats (its contents do not matter).
pub fn channel(
    g: &Geometry,
    input: &[f32],
    taps: &[f32],
    bias: f32,
    clamp: (f32, f32),
    out: &mut [f32],
    scratch: &mut [f32],
) {
    let (s, wq, plane) = (g.stride, g.wq(), g.plane());
    let (phases, acc) = scratch.split_at_mut(s * s * plane);
    fill_phases(g, input, phases);
    let mut offsets = Vec::with_capacity(g.kh * g.kw);
    for ky in 0..g.kh {
        for kx in 0..g.kw {
            offsets.push(((ky % s) * s + kx % s) * plane + (ky / s) * wq + kx / s);
        }
    }
    let acc = &mut acc[..g.grid()];
    run_taps(phases, &offsets, taps, bias, acc);
    for (oy, row) in out.chunks_exact_mut(g.ow).enumerate() {
        for (o, a) in row.iter_mut().zip(&acc[oy * wq..]) {
            *o = a.max(clamp.0).min(clamp.1);
        }
    }
}

/// Writes the `stride²` zero-padded phase planes of `input`.
fn fill_phases(g: &Geometry, input: &[f32], phases: &mut [f32]) {
    let (s, wq, plane) = (g.stride, g.wq(), g.plane());
    for (p, dst) in phases.chunks_exact_mut(plane).enumerate() {
        let (py, px) = (p / s, p % s);
        dst.fill(0.0);
        // Columns j of this phase read input column s·j + px − pad_left, when inside.
        let first = (g.pad_left.saturating_sub(px)).div_ceil(s);
        let last = ((g.w + g.pad_left).saturating_sub(px)).div_ceil(s).min(wq);
        if first >= last {
            continue;
        }
        for i in 0..g.hq() {
            let y = s * i + py;
            if y < g.pad_top || y - g.pad_top >= g.h {
                continue;
            }
            let src = &input[(y - g.pad_top) * g.w..][..g.w];
            let row = &mut dst[i * wq..][..wq];
            let x0 = s * first + px - g.pad_left;
            if s == 1 {
                row[first..last].copy_from_slice(&src[x0..x0 + last - first]);
            } else {
                for (d, x) in row[first..last].iter_mut().zip((x0..).step_by(s)) {
                    *d = src[x];
                }
            }
        }
    }
}

/// `acc[q] = bias + Σ_t taps[t] · phases[offsets[t] + q]`, a block of [`BLOCK`] points at a time.
fn run_taps(phases: &[f32], offsets: &[usize], taps: &[f32], bias: f32, acc: &mut [f32]) {
    debug_assert!(offsets.iter().all(|&o| o + acc.len() <= phases.len()));
    debug_assert_eq!(acc.len() % BLOCK, 0);
    #[cfg(target_arch = "aarch64")]
    {
        // SAFETY: NEON is part of the aarch64 baseline; bounds are checked above (the offsets
        // plus the grid stay inside the phase planes by construction of `Geometry::plane`).
        unsafe { neon::run_taps(phases, offsets, taps, bias, acc) }
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: the features were just detected; bounds as above.
            return unsafe { avx2::run_taps(phases, offsets, taps, bias, acc) };
        }
        portable(phases, offsets, taps, bias, acc)
    }
    #[cfg(not(any(target_arch = "aarch64", target_arch = "x86_64")))]
    portable(phases, offsets, taps, bias, acc)
}

/// The plain version of [`run_taps`] (also the reference the vector versions are tested against).
#[cfg_attr(target_arch = "aarch64", allow(dead_code))]
fn portable(phases: &[f32], offsets: &[usize], taps: &[f32], bias: f32, acc: &mut [f32]) {
    for (b, block) in acc.chunks_exact_mut(BLOCK).enumerate() {
        let mut sum = [bias; BLOCK];
        for (&o, &t) in offsets.iter().zip(taps) {
            let src = &phases[o + b * BLOCK..][..BLOCK];
            for (a, x) in sum.iter_mut().zip(src) {
                *a += t * x;
            }
        }
        block.copy_from_slice(&sum);
    }
}

#[cfg(target_arch = "aarch64")]
mod neon {
    use super::BLOCK;
    use std::arch::aarch64::*;

    /// Eight q registers of accumulators per 32 points (independent FMLA chains), then four per
    /// block for the last block of an odd count.
    ///
    /// # Safety
    /// `offsets[t] + acc.len() <= phases.len()` for every tap; `acc.len()` a multiple of BLOCK.
    pub unsafe fn run_taps(phases: &[f32], offsets: &[usize], taps: &[f32], bias: f32, acc: &mut [f32]) {
        unsafe {
            let mut q = 0;
            while q + 2 * BLOCK <= acc.len() {
                block::<8>(phases, offsets, taps, bias, acc, q);
                q += 2 * BLOCK;
            }
            while q < acc.len() {
                block::<4>(phases, offsets, taps, bias, acc, q);
                q += BLOCK;
            }
        }
    }

    /// `R` registers (4 points each) from point `q` on, every tap, then stored.
    #[inline(always)]
    unsafe fn block<const R: usize>(
        phases: &[f32],
        offsets: &[usize],
        taps: &[f32],
        bias: f32,
        acc: &mut [f32],
        q: usize,
    ) {
        unsafe {
            let mut a = [vdupq_n_f32(bias); R];
            for (&o, &t) in offsets.iter().zip(taps) {
                let p = phases.as_ptr().add(o + q);
                for (r, a) in a.iter_mut().enumerate() {
                    *a = vfmaq_n_f32(*a, vld1q_f32(p.add(4 * r)), t);
                }
            }
            for (r, a) in a.iter().enumerate() {
                vst1q_f32(acc.as_mut_ptr().add(q + 4 * r), *a);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::BLOCK;
    use std::arch::x86_64::*;

    /// Eight ymm accumulators per 64 points (independent FMA chains: one chain would wait on the
    /// FMA latency), then two per block for the rest.
    ///
    /// # Safety
    /// AVX2 and FMA available; `offsets[t] + acc.len() <= phases.len()` for every tap;
    /// `acc.len()` a multiple of BLOCK.
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn run_taps(phases: &[f32], offsets: &[usize], taps: &[f32], bias: f32, acc: &mut [f32]) {
        unsafe {
            let mut q = 0;
            while q + 4 * BLOCK <= acc.len() {
                block::<8>(phases, offsets, taps, bias, acc, q);
                q += 4 * BLOCK;
            }
            while q < acc.len() {
                block::<2>(phases, offsets, taps, bias, acc, q);
                q += BLOCK;
            }
        }
    }

    /// `R` registers (8 points each) from point `q` on, every tap, then stored.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn block<const R: usize>(
        phases: &[f32],
        offsets: &[usize],
        taps: &[f32],
        bias: f32,
        acc: &mut [f32],
        q: usize,
    ) {
        unsafe {
            let mut a = [_mm256_set1_ps(bias); R];
            for (&o, &t) in offsets.iter().zip(taps) {
                let p = phases.as_ptr().add(o + q);
                let k = _mm256_set1_ps(t);
                for (r, a) in a.iter_mut().enumerate() {
                    *a = _mm256_fmadd_ps(_mm256_loadu_ps(p.add(8 * r)), k, *a);
                }
            }
            for (r, a) in a.iter().enumerate() {
                _mm256_storeu_ps(acc.as_mut_ptr().add(q + 8 * r), *a);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, point by point.
    fn reference(g: &Geometry, input: &[f32], taps: &[f32], bias: f32) -> Vec<f32> {
        let mut out = vec![0.0; g.oh * g.ow];
        for oy in 0..g.oh {
            for ox in 0..g.ow {
                let mut sum = bias;
                for ky in 0..g.kh {
                    for kx in 0..g.kw {
                        let y = (g.stride * oy + ky) as isize - g.pad_top as isize;
                        let x = (g.stride * ox + kx) as isize - g.pad_left as isize;
                        if y >= 0 && x >= 0 && (y as usize) < g.h && (x as usize) < g.w {
                            sum += taps[ky * g.kw + kx] * input[y as usize * g.w + x as usize];
                        }
                    }
                }
                out[oy * g.ow + ox] = sum;
            }
        }
        out
    }

    fn geometry(h: usize, w: usize, k: usize, stride: usize, pads: (usize, usize, usize, usize)) -> Geometry {
        let (pt, pl, pb, pr) = pads;
        Geometry {
            h,
            w,
            kh: k,
            kw: k,
            stride,
            pad_top: pt,
            pad_left: pl,
            oh: (h + pt + pb - k) / stride + 1,
            ow: (w + pl + pr - k) / stride + 1,
        }
    }

    #[test]
    fn every_shape_matches_the_definition() {
        let mut n = 0;
        for k in [1, 3, 5] {
            for stride in [1, 2] {
                for (h, w) in [(7, 7), (14, 14), (9, 13), (28, 28), (1, 1), (2, 5)] {
                    for pads in [
                        (0, 0, 0, 0),
                        (k / 2, k / 2, k / 2, k / 2),
                        (0, 0, k - 1, k - 1),
                        (k - 1, k - 1, 0, 0),
                        (1, 0, 0, 1),
                    ] {
                        if h + pads.0 + pads.2 < k || w + pads.1 + pads.3 < k {
                            continue;
                        }
                        let g = geometry(h, w, k, stride, pads);
                        let input: Vec<f32> = (0..h * w).map(|i| ((i * 37 % 101) as f32 - 50.0) / 17.0).collect();
                        let taps: Vec<f32> = (0..k * k).map(|i| ((i * 13 % 7) as f32 - 3.0) / 5.0).collect();
                        let mut out = vec![f32::NAN; g.oh * g.ow];
                        let mut scratch = vec![f32::NAN; g.scratch_len()];
                        channel(&g, &input, &taps, 0.5, (f32::NEG_INFINITY, f32::INFINITY), &mut out, &mut scratch);
                        let want = reference(&g, &input, &taps, 0.5);
                        for (i, (a, b)) in out.iter().zip(&want).enumerate() {
                            assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{g:?} point {i}: {a} vs {b}");
                        }
                        n += 1;
                    }
                }
            }
        }
        assert!(n > 100, "{n} shapes");
    }

    #[test]
    fn the_clamp_is_applied() {
        let g = geometry(4, 4, 3, 1, (1, 1, 1, 1));
        let input: Vec<f32> = (0..16).map(|i| i as f32 - 8.0).collect();
        let taps = [1.0; 9];
        let mut out = vec![0.0; 16];
        let mut scratch = vec![0.0; g.scratch_len()];
        channel(&g, &input, &taps, 0.0, (0.0, 6.0), &mut out, &mut scratch);
        let want = reference(&g, &input, &taps, 0.0);
        for (a, b) in out.iter().zip(&want) {
            assert_eq!(*a, b.clamp(0.0, 6.0));
        }
        assert!(want.iter().any(|v| *v < 0.0) && want.iter().any(|v| *v > 6.0), "both sides are exercised");
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_vector_version_matches_the_portable_one() {
        let phases: Vec<f32> = (0..420).map(|i| (i as f32 * 0.37).sin()).collect();
        let offsets = [0, 3, 17, 40, 41];
        let taps = [0.5, -1.25, 2.0, 0.1, -0.3];
        let (mut a, mut b) = (vec![0.0; 336], vec![0.0; 336]);
        portable(&phases, &offsets, &taps, 0.25, &mut a);
        run_taps(&phases, &offsets, &taps, 0.25, &mut b);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 1e-5 * (1.0 + x.abs()), "{x} vs {y}");
        }
    }
}
