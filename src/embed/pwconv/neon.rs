//! The two register tiles that do nearly all of the arithmetic, as hand-written NEON loops.
//!
//! The same tiles written with intrinsics ([`super::lanes_tile`], [`super::rows_tile`]) compile
//! to ~20 % more instructions than multiply-adds: the compiler splits every multi-register load
//! into pairs and adds a pointer increment beside most of them. Here every load is one
//! `LD1 {…}` or `LDR` with its post-increment built in, so per `k` the 8×12 tile runs 24
//! multiply-adds for 2 loads, and per 4 `k` the 5×16 tile 80 for 9. Both are checked against
//! tract's own result by `super::super::tests` (run under qemu on x86-64 hosts).

use std::arch::aarch64::float32x4_t as V;
use std::arch::asm;

macro_rules! lanes_8x12_step {
    () => {
        concat!(
            "ld1 {{v24.4s, v25.4s}}, [{a}], {sa}\n",
            "ld1 {{v26.4s, v27.4s, v28.4s}}, [{b}], {sb}\n",
            "fmla v0.4s, v26.4s, v24.s[0]\n",
            "fmla v1.4s, v27.4s, v24.s[0]\n",
            "fmla v2.4s, v28.4s, v24.s[0]\n",
            "fmla v3.4s, v26.4s, v24.s[1]\n",
            "fmla v4.4s, v27.4s, v24.s[1]\n",
            "fmla v5.4s, v28.4s, v24.s[1]\n",
            "fmla v6.4s, v26.4s, v24.s[2]\n",
            "fmla v7.4s, v27.4s, v24.s[2]\n",
            "fmla v8.4s, v28.4s, v24.s[2]\n",
            "fmla v9.4s, v26.4s, v24.s[3]\n",
            "fmla v10.4s, v27.4s, v24.s[3]\n",
            "fmla v11.4s, v28.4s, v24.s[3]\n",
            "fmla v12.4s, v26.4s, v25.s[0]\n",
            "fmla v13.4s, v27.4s, v25.s[0]\n",
            "fmla v14.4s, v28.4s, v25.s[0]\n",
            "fmla v15.4s, v26.4s, v25.s[1]\n",
            "fmla v16.4s, v27.4s, v25.s[1]\n",
            "fmla v17.4s, v28.4s, v25.s[1]\n",
            "fmla v18.4s, v26.4s, v25.s[2]\n",
            "fmla v19.4s, v27.4s, v25.s[2]\n",
            "fmla v20.4s, v28.4s, v25.s[2]\n",
            "fmla v21.4s, v26.4s, v25.s[3]\n",
            "fmla v22.4s, v27.4s, v25.s[3]\n",
            "fmla v23.4s, v28.4s, v25.s[3]\n",
        )
    };
}

macro_rules! rows_5x16_step {
    () => {
        concat!(
            "ldr q20, [{x0}], #16\n",
            "ldr q21, [{x1}], #16\n",
            "ldr q22, [{x2}], #16\n",
            "ldr q23, [{x3}], #16\n",
            "ldr q24, [{x4}], #16\n",
            "ld1 {{v25.4s, v26.4s, v27.4s, v28.4s}}, [{b}], #64\n",
            "fmla v0.4s, v25.4s, v20.s[0]\n",
            "fmla v1.4s, v26.4s, v20.s[0]\n",
            "fmla v2.4s, v27.4s, v20.s[0]\n",
            "fmla v3.4s, v28.4s, v20.s[0]\n",
            "fmla v4.4s, v25.4s, v21.s[0]\n",
            "fmla v5.4s, v26.4s, v21.s[0]\n",
            "fmla v6.4s, v27.4s, v21.s[0]\n",
            "fmla v7.4s, v28.4s, v21.s[0]\n",
            "fmla v8.4s, v25.4s, v22.s[0]\n",
            "fmla v9.4s, v26.4s, v22.s[0]\n",
            "fmla v10.4s, v27.4s, v22.s[0]\n",
            "fmla v11.4s, v28.4s, v22.s[0]\n",
            "fmla v12.4s, v25.4s, v23.s[0]\n",
            "fmla v13.4s, v26.4s, v23.s[0]\n",
            "fmla v14.4s, v27.4s, v23.s[0]\n",
            "fmla v15.4s, v28.4s, v23.s[0]\n",
            "fmla v16.4s, v25.4s, v24.s[0]\n",
            "fmla v17.4s, v26.4s, v24.s[0]\n",
            "fmla v18.4s, v27.4s, v24.s[0]\n",
            "fmla v19.4s, v28.4s, v24.s[0]\n",
            "ld1 {{v25.4s, v26.4s, v27.4s, v28.4s}}, [{b}], #64\n",
            "fmla v0.4s, v25.4s, v20.s[1]\n",
            "fmla v1.4s, v26.4s, v20.s[1]\n",
            "fmla v2.4s, v27.4s, v20.s[1]\n",
            "fmla v3.4s, v28.4s, v20.s[1]\n",
            "fmla v4.4s, v25.4s, v21.s[1]\n",
            "fmla v5.4s, v26.4s, v21.s[1]\n",
            "fmla v6.4s, v27.4s, v21.s[1]\n",
            "fmla v7.4s, v28.4s, v21.s[1]\n",
            "fmla v8.4s, v25.4s, v22.s[1]\n",
            "fmla v9.4s, v26.4s, v22.s[1]\n",
            "fmla v10.4s, v27.4s, v22.s[1]\n",
            "fmla v11.4s, v28.4s, v22.s[1]\n",
            "fmla v12.4s, v25.4s, v23.s[1]\n",
            "fmla v13.4s, v26.4s, v23.s[1]\n",
            "fmla v14.4s, v27.4s, v23.s[1]\n",
            "fmla v15.4s, v28.4s, v23.s[1]\n",
            "fmla v16.4s, v25.4s, v24.s[1]\n",
            "fmla v17.4s, v26.4s, v24.s[1]\n",
            "fmla v18.4s, v27.4s, v24.s[1]\n",
            "fmla v19.4s, v28.4s, v24.s[1]\n",
            "ld1 {{v25.4s, v26.4s, v27.4s, v28.4s}}, [{b}], #64\n",
            "fmla v0.4s, v25.4s, v20.s[2]\n",
            "fmla v1.4s, v26.4s, v20.s[2]\n",
            "fmla v2.4s, v27.4s, v20.s[2]\n",
            "fmla v3.4s, v28.4s, v20.s[2]\n",
            "fmla v4.4s, v25.4s, v21.s[2]\n",
            "fmla v5.4s, v26.4s, v21.s[2]\n",
            "fmla v6.4s, v27.4s, v21.s[2]\n",
            "fmla v7.4s, v28.4s, v21.s[2]\n",
            "fmla v8.4s, v25.4s, v22.s[2]\n",
            "fmla v9.4s, v26.4s, v22.s[2]\n",
            "fmla v10.4s, v27.4s, v22.s[2]\n",
            "fmla v11.4s, v28.4s, v22.s[2]\n",
            "fmla v12.4s, v25.4s, v23.s[2]\n",
            "fmla v13.4s, v26.4s, v23.s[2]\n",
            "fmla v14.4s, v27.4s, v23.s[2]\n",
            "fmla v15.4s, v28.4s, v23.s[2]\n",
            "fmla v16.4s, v25.4s, v24.s[2]\n",
            "fmla v17.4s, v26.4s, v24.s[2]\n",
            "fmla v18.4s, v27.4s, v24.s[2]\n",
            "fmla v19.4s, v28.4s, v24.s[2]\n",
            "ld1 {{v25.4s, v26.4s, v27.4s, v28.4s}}, [{b}], #64\n",
            "fmla v0.4s, v25.4s, v20.s[3]\n",
            "fmla v1.4s, v26.4s, v20.s[3]\n",
            "fmla v2.4s, v27.4s, v20.s[3]\n",
            "fmla v3.4s, v28.4s, v20.s[3]\n",
            "fmla v4.4s, v25.4s, v21.s[3]\n",
            "fmla v5.4s, v26.4s, v21.s[3]\n",
            "fmla v6.4s, v27.4s, v21.s[3]\n",
            "fmla v7.4s, v28.4s, v21.s[3]\n",
            "fmla v8.4s, v25.4s, v22.s[3]\n",
            "fmla v9.4s, v26.4s, v22.s[3]\n",
            "fmla v10.4s, v27.4s, v22.s[3]\n",
            "fmla v11.4s, v28.4s, v22.s[3]\n",
            "fmla v12.4s, v25.4s, v23.s[3]\n",
            "fmla v13.4s, v26.4s, v23.s[3]\n",
            "fmla v14.4s, v27.4s, v23.s[3]\n",
            "fmla v15.4s, v28.4s, v23.s[3]\n",
            "fmla v16.4s, v25.4s, v24.s[3]\n",
            "fmla v17.4s, v26.4s, v24.s[3]\n",
            "fmla v18.4s, v27.4s, v24.s[3]\n",
            "fmla v19.4s, v28.4s, v24.s[3]\n",
        )
    };
}

/// `acc[r][j] += Σ_k a[k·sa + r] · b[k·sb + 4j .. k·sb + 4j + 4]`: [`super::lanes_tile`] for
/// 8 rows × 12 columns.
///
/// SAFETY: for every `k < depth`, `a[k·sa ..][..8]` and `b[k·sb ..][..12]` are readable.
#[inline(always)]
pub unsafe fn lanes_8x12(acc: &mut [[V; 3]; 8], depth: usize, a: *const f32, sa: usize, b: *const f32, sb: usize) {
    let [[c0, c1, c2], [c3, c4, c5], [c6, c7, c8], [c9, c10, c11], [c12, c13, c14], [c15, c16, c17], [c18, c19, c20], [c21, c22, c23]] =
        acc;
    unsafe {
        asm!(
            "cbz {q}, 3f",
            "2:",
            lanes_8x12_step!(),
            lanes_8x12_step!(),
            lanes_8x12_step!(),
            lanes_8x12_step!(),
            "subs {q}, {q}, #1",
            "b.ne 2b",
            "3:",
            "cbz {r}, 5f",
            "4:",
            lanes_8x12_step!(),
            "subs {r}, {r}, #1",
            "b.ne 4b",
            "5:",
            q = inout(reg) depth / 4 => _,
            r = inout(reg) depth % 4 => _,
            a = inout(reg) a => _,
            b = inout(reg) b => _,
            sa = in(reg) sa * 4,
            sb = in(reg) sb * 4,
            inout("v0") *c0,
            inout("v1") *c1,
            inout("v2") *c2,
            inout("v3") *c3,
            inout("v4") *c4,
            inout("v5") *c5,
            inout("v6") *c6,
            inout("v7") *c7,
            inout("v8") *c8,
            inout("v9") *c9,
            inout("v10") *c10,
            inout("v11") *c11,
            inout("v12") *c12,
            inout("v13") *c13,
            inout("v14") *c14,
            inout("v15") *c15,
            inout("v16") *c16,
            inout("v17") *c17,
            inout("v18") *c18,
            inout("v19") *c19,
            inout("v20") *c20,
            inout("v21") *c21,
            inout("v22") *c22,
            inout("v23") *c23,
            out("v24") _,
            out("v25") _,
            out("v26") _,
            out("v27") _,
            out("v28") _,
            options(nostack, readonly),
        );
    }
}

/// `acc[r][j] += Σ_k x[r·sx + k] · b[16k + 4j .. 16k + 4j + 4]`: [`super::rows_tile`] for
/// 5 rows × 16 columns, `b` packed 16 wide.
///
/// SAFETY: `depth` is a multiple of 4; every `x[r·sx ..][..depth]` and `b[..16·depth]` are
/// readable.
#[inline(always)]
pub unsafe fn rows_5x16(acc: &mut [[V; 4]; 5], depth: usize, x: *const f32, sx: usize, b: *const f32) {
    let [[c0, c1, c2, c3], [c4, c5, c6, c7], [c8, c9, c10, c11], [c12, c13, c14, c15], [c16, c17, c18, c19]] = acc;
    unsafe {
        asm!(
            "cbz {q}, 3f",
            "2:",
            rows_5x16_step!(),
            "subs {q}, {q}, #1",
            "b.ne 2b",
            "3:",
            q = inout(reg) depth / 4 => _,
            x0 = inout(reg) x => _,
            x1 = inout(reg) x.add(sx) => _,
            x2 = inout(reg) x.add(2 * sx) => _,
            x3 = inout(reg) x.add(3 * sx) => _,
            x4 = inout(reg) x.add(4 * sx) => _,
            b = inout(reg) b => _,
            inout("v0") *c0,
            inout("v1") *c1,
            inout("v2") *c2,
            inout("v3") *c3,
            inout("v4") *c4,
            inout("v5") *c5,
            inout("v6") *c6,
            inout("v7") *c7,
            inout("v8") *c8,
            inout("v9") *c9,
            inout("v10") *c10,
            inout("v11") *c11,
            inout("v12") *c12,
            inout("v13") *c13,
            inout("v14") *c14,
            inout("v15") *c15,
            inout("v16") *c16,
            inout("v17") *c17,
            inout("v18") *c18,
            inout("v19") *c19,
            out("v20") _,
            out("v21") _,
            out("v22") _,
            out("v23") _,
            out("v24") _,
            out("v25") _,
            out("v26") _,
            out("v27") _,
            out("v28") _,
            options(nostack, readonly),
        );
    }
}
