//! Multinomial logistic regression (softmax) fitted by Nesterov-accelerated gradient descent.
//!
//! Deterministic: zero initialisation, full batch, a step size from the data's largest
//! curvature (power iteration), so the same examples give the same weights on every machine.

use ndarray::{Array1, Array2, ArrayView2, Axis};

/// Fitting parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitParams {
    /// L2 penalty on the weights (mean loss + `l2/2 · |W|²`).
    pub l2: f32,
    /// Upper bound on gradient steps.
    pub max_iters: usize,
    /// Stop when the gradient's max-norm falls below this.
    pub tolerance: f32,
}

/// Fitted weights: `logits = W·x + b`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    /// `[K, D]` weights.
    pub w: Array2<f32>,
    /// `[K]` biases.
    pub b: Array1<f32>,
    /// Gradient steps taken.
    pub iters: usize,
    /// Final mean cross-entropy (without the penalty).
    pub loss: f32,
}

/// Row-wise softmax of `[N, K]` logits, in place.
pub fn softmax_rows(z: &mut Array2<f32>) {
    for mut row in z.rows_mut() {
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        row.mapv_inplace(|v| (v - max).exp());
        let s = row.sum();
        row.mapv_inplace(|v| v / s);
    }
}

/// Largest eigenvalue of `XᵀX / N` (power iteration from a fixed start).
fn max_curvature(x: ArrayView2<f32>) -> f32 {
    let n = x.nrows() as f32;
    let mut v = Array1::<f32>::from_elem(x.ncols(), 1.0 / (x.ncols() as f32).sqrt());
    let mut lambda = 0.0;
    for _ in 0..30 {
        let xv = x.dot(&v);
        let mut u = x.t().dot(&xv) / n;
        lambda = u.dot(&u).sqrt();
        if lambda == 0.0 {
            break;
        }
        u /= lambda;
        v = u;
    }
    lambda
}

/// Fits `k` classes to rows `x` with integer labels `y` (each `< k`).
pub fn fit(x: ArrayView2<f32>, y: &[usize], k: usize, p: FitParams) -> Fitted {
    fit_weighted(x, y, &vec![1.0; y.len()], k, p)
}

/// Fits `k` classes to rows `x` with integer labels `y` (each `< k`), row `i` counting
/// `weights[i]` times in the loss (a weighted mean: only the weights' ratios matter). Equal
/// weights give exactly [`fit`].
pub fn fit_weighted(x: ArrayView2<f32>, y: &[usize], weights: &[f32], k: usize, p: FitParams) -> Fitted {
    let (n, d) = x.dim();
    assert_eq!(n, y.len(), "one label per row");
    assert_eq!(n, weights.len(), "one weight per row");
    assert!(n > 0 && k >= 2, "need rows and at least two classes");
    let total: f32 = weights.iter().sum();
    assert!(total > 0.0 && weights.iter().all(|w| w.is_finite() && *w >= 0.0), "weights are finite, ≥ 0, not all 0");
    // Each row's share of the mean loss, as a column to scale per-row terms.
    let share = Array1::from_iter(weights.iter().map(|w| w / total)).insert_axis(Axis(1));
    let mut onehot = Array2::<f32>::zeros((n, k));
    for (i, &c) in y.iter().enumerate() {
        onehot[[i, c]] = 1.0;
    }
    // Böhning's bound: the weighted mean cross-entropy's Hessian is at most
    // ½·(XᵀSX + 1) (bias included), S the rows' shares; XᵀSX/… = X'ᵀX'/N with X' = √(N·S)·X.
    let equal = weights.iter().all(|w| *w == weights[0]);
    let curvature =
        if equal { max_curvature(x) } else { max_curvature((&x * &share.mapv(|s| (s * n as f32).sqrt())).view()) };
    let lipschitz = 0.5 * (curvature + 1.0) + p.l2;
    let step = 1.0 / lipschitz;
    let grad = |w: &Array2<f32>, b: &Array1<f32>| {
        let mut z = x.dot(&w.t()) + b;
        softmax_rows(&mut z);
        let log_p = z.mapv(|v| v.max(1e-12).ln()) * &onehot;
        let loss = if equal { -log_p.sum() / n as f32 } else { -(log_p * &share).sum() };
        let g = if equal { (z - &onehot) / n as f32 } else { (z - &onehot) * &share };
        let gw = g.t().dot(&x) + &(w * p.l2);
        let gb = g.sum_axis(Axis(0));
        (gw, gb, loss)
    };
    let (mut w, mut b) = (Array2::<f32>::zeros((k, d)), Array1::<f32>::zeros(k));
    let (mut yw, mut yb) = (w.clone(), b.clone());
    let mut t = 1.0f32;
    let mut iters = 0;
    let mut loss = f32::NAN;
    while iters < p.max_iters {
        let (gw, gb, l) = grad(&yw, &yb);
        loss = l;
        let gmax = gw.iter().chain(gb.iter()).fold(0f32, |m, v| m.max(v.abs()));
        if gmax < p.tolerance {
            break;
        }
        let w_next = &yw - &(gw * step);
        let b_next = &yb - &(gb * step);
        let t_next = (1.0 + (1.0 + 4.0 * t * t).sqrt()) / 2.0;
        let momentum = (t - 1.0) / t_next;
        yw = &w_next + &((&w_next - &w) * momentum);
        yb = &b_next + &((&b_next - &b) * momentum);
        (w, b, t) = (w_next, b_next, t_next);
        iters += 1;
    }
    Fitted { w, b, iters, loss }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Three well-separated Gaussian blobs in 8 dimensions.
    fn blobs(seed: u64) -> (Array2<f32>, Vec<usize>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut x = Array2::<f32>::zeros((90, 8));
        let y: Vec<usize> = (0..90).map(|i| i % 3).collect();
        for (i, &c) in y.iter().enumerate() {
            for j in 0..8 {
                let centre = if j == c { 2.0 } else { 0.0 };
                x[[i, j]] = centre + rng.random_range(-0.5..0.5);
            }
        }
        (x, y)
    }

    fn predict(f: &Fitted, x: ArrayView2<f32>) -> Vec<usize> {
        let z = x.dot(&f.w.t()) + &f.b;
        z.rows().into_iter().map(|r| r.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0).collect()
    }

    const P: FitParams = FitParams { l2: 1e-3, max_iters: 500, tolerance: 1e-5 };

    #[test]
    fn separable_blobs_are_fitted_exactly() {
        let (x, y) = blobs(1);
        let f = fit(x.view(), &y, 3, P);
        assert_eq!(predict(&f, x.view()), y);
        assert!(f.loss < 0.1, "loss {}", f.loss);
        let (x2, y2) = blobs(2);
        assert_eq!(predict(&f, x2.view()), y2, "generalises to fresh samples");
    }

    #[test]
    fn fitting_is_deterministic() {
        let (x, y) = blobs(3);
        assert_eq!(fit(x.view(), &y, 3, P), fit(x.view(), &y, 3, P));
    }

    #[test]
    fn stronger_penalty_gives_smaller_weights() {
        let (x, y) = blobs(4);
        let weak = fit(x.view(), &y, 3, P);
        let strong = fit(x.view(), &y, 3, FitParams { l2: 1e-1, ..P });
        let norm = |f: &Fitted| f.w.iter().map(|v| v * v).sum::<f32>();
        assert!(norm(&strong) < norm(&weak));
    }

    #[test]
    fn equal_weights_are_the_plain_fit_and_weights_act_like_repeated_rows() {
        let (x, y) = blobs(5);
        assert_eq!(fit_weighted(x.view(), &y, &vec![2.5; y.len()], 3, P), fit(x.view(), &y, 3, P));
        // Class 0 weighted 3× fits like class 0's rows repeated 3 times.
        let w: Vec<f32> = y.iter().map(|&c| if c == 0 { 3.0 } else { 1.0 }).collect();
        let weighted = fit_weighted(x.view(), &y, &w, 3, FitParams { max_iters: 3000, tolerance: 1e-6, ..P });
        let rows: Vec<usize> =
            (0..y.len()).flat_map(|i| std::iter::repeat_n(i, if y[i] == 0 { 3 } else { 1 })).collect();
        let xr = x.select(Axis(0), &rows);
        let yr: Vec<usize> = rows.iter().map(|&i| y[i]).collect();
        let repeated = fit(xr.view(), &yr, 3, FitParams { max_iters: 3000, tolerance: 1e-6, ..P });
        let diff = (&weighted.w - &repeated.w).iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(diff < 1e-3, "max weight difference {diff}");
        assert!((weighted.loss - repeated.loss).abs() < 1e-4, "{} vs {}", weighted.loss, repeated.loss);
    }

    #[test]
    fn softmax_rows_sum_to_one_and_survive_large_logits() {
        let mut z = Array2::from_shape_vec((2, 3), vec![1000.0, 0.0, -1000.0, 1.0, 1.0, 1.0]).unwrap();
        softmax_rows(&mut z);
        assert!((z[[0, 0]] - 1.0).abs() < 1e-6);
        assert!((z[[1, 2]] - 1.0 / 3.0).abs() < 1e-6);
    }
}
