//! The channels-last (HWC) form of the depthwise arithmetic, the layout tract chooses on aarch64.
//!
//! Vectorised across channels: per output pixel and block of 16 channels, four NEON registers
//! accumulate every tap, four (or two) pixels at a time where all see the whole kernel row, so
//! each tap's four weight registers serve four pixels. Taps outside the input are skipped (no
//! padded copy).

use super::kernel::Geometry;

/// Channels per block (four NEON registers).
pub const CHANNELS: usize = 16;

/// `out[oy][ox][c] = clamp(bias[c] + Σ taps[ky·kw + kx][c] · in[s·oy + ky − pt][s·ox + kx − pl][c])`.
///
/// `input` is `h × w × channels`, `taps` tap-major (`kh·kw × channels`), `out` the output rows
/// from `first_row` on (`ow × channels` each); `channels` a multiple of [`CHANNELS`].
#[allow(clippy::too_many_arguments)]
pub fn rows(
    g: &Geometry,
    channels: usize,
    input: &[f32],
    taps: &[f32],
    bias: &[f32],
    clamp: (f32, f32),
    first_row: usize,
    out: &mut [f32],
) {
    debug_assert_eq!(channels % CHANNELS, 0);
    debug_assert_eq!(input.len(), g.h * g.w * channels);
    debug_assert_eq!(out.len() % (g.ow * channels), 0);
    let span = |o: usize, pad: usize, k: usize, size: usize| {
        // Kernel taps 0..k of output `o` read input `s·o + t − pad`: those inside 0..size.
        let first = (g.stride * o) as isize - pad as isize;
        let lo = (-first).max(0) as usize;
        let hi = (size as isize - first).clamp(0, k as isize) as usize;
        (first, lo.min(hi), hi)
    };
    for (row, out) in out.chunks_exact_mut(g.ow * channels).enumerate() {
        let oy = first_row + row;
        let (iy0, ky_lo, ky_hi) = span(oy, g.pad_top, g.kh, g.h);
        let mut ox = 0;
        while ox < g.ow {
            let (ix0, kx_lo, kx_hi) = span(ox, g.pad_left, g.kw, g.w);
            // Neighbours that see the whole kernel row share each tap's weights: 4, else 2.
            let whole_to =
                |last: usize| last < g.ow && (kx_lo, kx_hi) == (0, g.kw) && span(last, g.pad_left, g.kw, g.w).2 == g.kw;
            let pixels = if whole_to(ox + 3) {
                4
            } else if whole_to(ox + 1) {
                2
            } else {
                1
            };
            for cb in (0..channels).step_by(CHANNELS) {
                let run = Run {
                    input,
                    taps,
                    channels,
                    w: g.w,
                    kw: g.kw,
                    stride: g.stride,
                    iy0,
                    ix0,
                    ky: ky_lo..ky_hi,
                    kx: kx_lo..kx_hi,
                    cb,
                };
                let at = ox * channels + cb;
                match pixels {
                    4 => run.pixels::<4>(&bias[cb..], clamp, &mut out[at..], channels),
                    2 => run.pixels::<2>(&bias[cb..], clamp, &mut out[at..], channels),
                    _ => run.pixels::<1>(&bias[cb..], clamp, &mut out[at..], channels),
                }
            }
            ox += pixels;
        }
    }
}

/// One block of channels for `P` neighbouring output pixels of the same row.
struct Run<'a> {
    input: &'a [f32],
    taps: &'a [f32],
    channels: usize,
    w: usize,
    kw: usize,
    stride: usize,
    /// Input row and column of tap (0, 0) for the first pixel (may be negative).
    iy0: isize,
    ix0: isize,
    ky: std::ops::Range<usize>,
    kx: std::ops::Range<usize>,
    cb: usize,
}

impl Run<'_> {
    /// Index in `input` of channel `cb` at tap (ky, kx) of pixel `p` (inside the input).
    fn at(&self, ky: usize, kx: usize, p: usize) -> usize {
        let y = (self.iy0 + ky as isize) as usize;
        let x = (self.ix0 + (kx + p * self.stride) as isize) as usize;
        (y * self.w + x) * self.channels + self.cb
    }

    fn pixels<const P: usize>(&self, bias: &[f32], clamp: (f32, f32), out: &mut [f32], channels: usize) {
        #[cfg(target_arch = "aarch64")]
        // SAFETY: every index comes from `at` over taps inside the input, plus at most
        // CHANNELS − 1 within the block; `out` holds P pixels of `channels` from the block on.
        unsafe {
            self.neon::<P>(bias, clamp, out, channels)
        }
        #[cfg(not(target_arch = "aarch64"))]
        self.portable::<P>(bias, clamp, out, channels)
    }

    #[cfg_attr(target_arch = "aarch64", allow(dead_code))]
    fn portable<const P: usize>(&self, bias: &[f32], clamp: (f32, f32), out: &mut [f32], channels: usize) {
        let mut acc = [[0f32; CHANNELS]; P];
        for a in acc.iter_mut() {
            a.copy_from_slice(&bias[..CHANNELS]);
        }
        for ky in self.ky.clone() {
            for kx in self.kx.clone() {
                let t = &self.taps[(ky * self.kw + kx) * self.channels + self.cb..][..CHANNELS];
                for (p, a) in acc.iter_mut().enumerate() {
                    let x = &self.input[self.at(ky, kx, p)..][..CHANNELS];
                    // Not `mul_add`: without the FMA feature that is a libm call per value.
                    for ((a, x), t) in a.iter_mut().zip(x).zip(t) {
                        *a += x * t;
                    }
                }
            }
        }
        for (p, a) in acc.iter().enumerate() {
            for (o, a) in out[p * channels..][..CHANNELS].iter_mut().zip(a) {
                *o = a.max(clamp.0).min(clamp.1);
            }
        }
    }

    #[cfg(target_arch = "aarch64")]
    unsafe fn neon<const P: usize>(&self, bias: &[f32], clamp: (f32, f32), out: &mut [f32], channels: usize) {
        use std::arch::aarch64::*;
        unsafe {
            let b = [0, 1, 2, 3].map(|r| vld1q_f32(bias.as_ptr().add(4 * r)));
            let mut acc = [b; P];
            let input = self.input.as_ptr();
            let taps = self.kx.len();
            if taps == 0 {
                // Nothing of the kernel row falls inside the input.
            } else if P == 4 && !self.ky.is_empty() {
                // As below for four pixels: per tap one load of weights for 16 multiply-adds.
                let acc = &mut *(&mut acc as *mut [[float32x4_t; 4]; P] as *mut [[float32x4_t; 4]; 4]);
                let step = self.channels * 4;
                let (ky, kx) = (self.ky.start, self.kx.start);
                let tp = self.taps.as_ptr().add((ky * self.kw + kx) * self.channels + self.cb);
                let [i0, i1, i2, i3] = [0, 1, 2, 3].map(|p| input.add(self.at(ky, kx, p)));
                let [[a0, a1, a2, a3], [a4, a5, a6, a7], [a8, a9, a10, a11], [a12, a13, a14, a15]] = acc;
                std::arch::asm!(
                    "3:",
                    "mov {n}, {taps}",
                    "2:",
                    "ld1 {{v16.4s, v17.4s, v18.4s, v19.4s}}, [{tp}], {step}",
                    "ld1 {{v20.4s, v21.4s, v22.4s, v23.4s}}, [{i0}], {step}",
                    "ld1 {{v24.4s, v25.4s, v26.4s, v27.4s}}, [{i1}], {step}",
                    "fmla v0.4s, v20.4s, v16.4s",
                    "fmla v1.4s, v21.4s, v17.4s",
                    "fmla v2.4s, v22.4s, v18.4s",
                    "fmla v3.4s, v23.4s, v19.4s",
                    "ld1 {{v20.4s, v21.4s, v22.4s, v23.4s}}, [{i2}], {step}",
                    "fmla v4.4s, v24.4s, v16.4s",
                    "fmla v5.4s, v25.4s, v17.4s",
                    "fmla v6.4s, v26.4s, v18.4s",
                    "fmla v7.4s, v27.4s, v19.4s",
                    "ld1 {{v24.4s, v25.4s, v26.4s, v27.4s}}, [{i3}], {step}",
                    "fmla v8.4s, v20.4s, v16.4s",
                    "fmla v9.4s, v21.4s, v17.4s",
                    "fmla v10.4s, v22.4s, v18.4s",
                    "fmla v11.4s, v23.4s, v19.4s",
                    "fmla v12.4s, v24.4s, v16.4s",
                    "fmla v13.4s, v25.4s, v17.4s",
                    "fmla v14.4s, v26.4s, v18.4s",
                    "fmla v15.4s, v27.4s, v19.4s",
                    "subs {n}, {n}, #1",
                    "b.ne 2b",
                    "add {tp}, {tp}, {tskip}",
                    "add {i0}, {i0}, {iskip}",
                    "add {i1}, {i1}, {iskip}",
                    "add {i2}, {i2}, {iskip}",
                    "add {i3}, {i3}, {iskip}",
                    "subs {rows}, {rows}, #1",
                    "b.ne 3b",
                    n = out(reg) _,
                    rows = inout(reg) self.ky.len() => _,
                    taps = in(reg) taps,
                    tp = inout(reg) tp => _,
                    i0 = inout(reg) i0 => _,
                    i1 = inout(reg) i1 => _,
                    i2 = inout(reg) i2 => _,
                    i3 = inout(reg) i3 => _,
                    step = in(reg) step,
                    tskip = in(reg) (self.kw - taps) * step,
                    iskip = in(reg) (self.w - taps) * step,
                    inout("v0") *a0, inout("v1") *a1, inout("v2") *a2, inout("v3") *a3,
                    inout("v4") *a4, inout("v5") *a5, inout("v6") *a6, inout("v7") *a7,
                    inout("v8") *a8, inout("v9") *a9, inout("v10") *a10, inout("v11") *a11,
                    inout("v12") *a12, inout("v13") *a13, inout("v14") *a14, inout("v15") *a15,
                    out("v16") _, out("v17") _, out("v18") _, out("v19") _,
                    out("v20") _, out("v21") _, out("v22") _, out("v23") _,
                    out("v24") _, out("v25") _, out("v26") _, out("v27") _,
                    options(nostack, readonly),
                );
            } else if P <= 2 && !self.ky.is_empty() {
                // The whole kernel in one NEON loop: per tap one `LD1 {4 registers}` of weights
                // and one per pixel, each with its step to the next tap built in, and a skip to
                // the next kernel row (the intrinsics compile to twice as many loads plus the
                // pointer arithmetic).
                let step = self.channels * 4;
                let tskip = (self.kw - taps) * step;
                let iskip = (self.w - taps) * step;
                let (ky, kx) = (self.ky.start, self.kx.start);
                let tp = self.taps.as_ptr().add((ky * self.kw + kx) * self.channels + self.cb);
                let i0 = input.add(self.at(ky, kx, 0));
                let rows = self.ky.len();
                let (first, second) = acc.split_at_mut(1);
                let [a0, a1, a2, a3] = &mut first[0];
                if let Some([a4, a5, a6, a7]) = second.first_mut() {
                    let i1 = input.add(self.at(ky, kx, 1));
                    std::arch::asm!(
                        "3:",
                        "mov {n}, {taps}",
                        "2:",
                        "ld1 {{v16.4s, v17.4s, v18.4s, v19.4s}}, [{tp}], {step}",
                        "ld1 {{v20.4s, v21.4s, v22.4s, v23.4s}}, [{i0}], {step}",
                        "ld1 {{v24.4s, v25.4s, v26.4s, v27.4s}}, [{i1}], {step}",
                        "fmla v0.4s, v20.4s, v16.4s",
                        "fmla v1.4s, v21.4s, v17.4s",
                        "fmla v2.4s, v22.4s, v18.4s",
                        "fmla v3.4s, v23.4s, v19.4s",
                        "fmla v4.4s, v24.4s, v16.4s",
                        "fmla v5.4s, v25.4s, v17.4s",
                        "fmla v6.4s, v26.4s, v18.4s",
                        "fmla v7.4s, v27.4s, v19.4s",
                        "subs {n}, {n}, #1",
                        "b.ne 2b",
                        "add {tp}, {tp}, {tskip}",
                        "add {i0}, {i0}, {iskip}",
                        "add {i1}, {i1}, {iskip}",
                        "subs {rows}, {rows}, #1",
                        "b.ne 3b",
                        n = out(reg) _,
                        rows = inout(reg) rows => _,
                        taps = in(reg) taps,
                        tp = inout(reg) tp => _,
                        i0 = inout(reg) i0 => _,
                        i1 = inout(reg) i1 => _,
                        step = in(reg) step,
                        tskip = in(reg) tskip,
                        iskip = in(reg) iskip,
                        inout("v0") *a0, inout("v1") *a1, inout("v2") *a2, inout("v3") *a3,
                        inout("v4") *a4, inout("v5") *a5, inout("v6") *a6, inout("v7") *a7,
                        out("v16") _, out("v17") _, out("v18") _, out("v19") _,
                        out("v20") _, out("v21") _, out("v22") _, out("v23") _,
                        out("v24") _, out("v25") _, out("v26") _, out("v27") _,
                        options(nostack, readonly),
                    );
                } else {
                    std::arch::asm!(
                        "3:",
                        "mov {n}, {taps}",
                        "2:",
                        "ld1 {{v16.4s, v17.4s, v18.4s, v19.4s}}, [{tp}], {step}",
                        "ld1 {{v20.4s, v21.4s, v22.4s, v23.4s}}, [{i0}], {step}",
                        "fmla v0.4s, v20.4s, v16.4s",
                        "fmla v1.4s, v21.4s, v17.4s",
                        "fmla v2.4s, v22.4s, v18.4s",
                        "fmla v3.4s, v23.4s, v19.4s",
                        "subs {n}, {n}, #1",
                        "b.ne 2b",
                        "add {tp}, {tp}, {tskip}",
                        "add {i0}, {i0}, {iskip}",
                        "subs {rows}, {rows}, #1",
                        "b.ne 3b",
                        n = out(reg) _,
                        rows = inout(reg) rows => _,
                        taps = in(reg) taps,
                        tp = inout(reg) tp => _,
                        i0 = inout(reg) i0 => _,
                        step = in(reg) step,
                        tskip = in(reg) tskip,
                        iskip = in(reg) iskip,
                        inout("v0") *a0, inout("v1") *a1, inout("v2") *a2, inout("v3") *a3,
                        out("v16") _, out("v17") _, out("v18") _, out("v19") _,
                        out("v20") _, out("v21") _, out("v22") _, out("v23") _,
                        options(nostack, readonly),
                    );
                }
            } else {
                for ky in self.ky.clone() {
                    for kx in self.kx.clone() {
                        let tp = self.taps.as_ptr().add((ky * self.kw + kx) * self.channels + self.cb);
                        let t = [0, 1, 2, 3].map(|r| vld1q_f32(tp.add(4 * r)));
                        for (p, a) in acc.iter_mut().enumerate() {
                            let ip = input.add(self.at(ky, kx, p));
                            for (r, (a, t)) in a.iter_mut().zip(&t).enumerate() {
                                *a = vfmaq_f32(*a, vld1q_f32(ip.add(4 * r)), *t);
                            }
                        }
                    }
                }
            }
            let (lo, hi) = (vdupq_n_f32(clamp.0), vdupq_n_f32(clamp.1));
            for (p, a) in acc.iter().enumerate() {
                let op = out.as_mut_ptr().add(p * channels);
                for (r, a) in a.iter().enumerate() {
                    vst1q_f32(op.add(4 * r), vminq_f32(vmaxq_f32(*a, lo), hi));
                }
            }
        }
    }
}
