//! Open-set study (issue 8): which "nothing known" rule to ship, measured on the cats/dogs
//! few-shot subsets against photos that show neither.
//!
//! Build four stores (from the repository root, any teachcam binary of this branch; no
//! mirrored views — the shipped config has `mirror_augment = false`):
//! ```text
//! T=target/release/teachcam; D=/work/shared/data
//! # the none photos, sorted by byte order: index 0,2,4,… = BUILD half, 1,3,5,… = EVAL half
//! (cd $D/none && LC_ALL=C ls *.jpg | LC_ALL=C sort | awk 'NR%2==1') > /tmp/study/build.txt
//! (cd $D/none && LC_ALL=C ls *.jpg | LC_ALL=C sort | awk 'NR%2==0') > /tmp/study/eval.txt
//! $T --data /tmp/study/none-build-store import --label none $(sed "s|^|$D/none/|" /tmp/study/build.txt)
//! $T --data /tmp/study/none-eval-store  import --label none $(sed "s|^|$D/none/|" /tmp/study/eval.txt)
//! for l in cat dog; do
//!   $T --data /tmp/study/train import --label $l $D/catsdogs/train/$l
//!   $T --data /tmp/study/test  import --label $l $D/catsdogs/test/$l
//! done
//! cargo run --release --example openset_study -- /tmp/study/train /tmp/study/test \
//!     /tmp/study/none-build-store /tmp/study/none-eval-store [SHOTS]
//! ```
//! Training subset `s` (10 of them) holds the photos numbered `[s·shots, (s+1)·shots)` of each
//! label. Every candidate = a classifier (the 2-class head, or a head with an extra
//! `background` class trained on the none BUILD half) + an optional rejection score with a
//! threshold rule. Threshold rules only see the taught examples (their out-of-fold scores
//! from a 5-fold split) and the BUILD half (its out-of-fold scores); never the EVAL half or
//! the test store. Figures per candidate, mean and worst over subsets:
//! (a) share of none-EVAL photos lit (cat or dog, not rejected); (b) share of the test photos
//! right and not rejected; (c) share of test photos rejected; plain top-1 accuracy.
#![allow(clippy::type_complexity)] // a study: its tuples are read once, where they are built

use ndarray::Array2;
use std::time::Instant;
use teachcam::embed::tract_backend::file_sha256;
use teachcam::embed::{l2_normalised, ModelInfo};
use teachcam::head::softmax::{fit as fit_softmax, FitParams};
use teachcam::head::{fit, Features, Head, HeadConfig};
use teachcam::store::{Example, Origin, Store};
use teachcam::train::train;

const FOLDS: usize = 5;
const BG: usize = 2;

/// The photo number of an imported `label.N.jpg`.
fn photo_number(e: &Example) -> usize {
    let Origin::File(path) = &e.entry.origin else { panic!("{} was not imported from a file", e.entry.id) };
    let file = path.file_name().and_then(|f| f.to_str()).unwrap_or_default();
    file.split('.').nth(1).and_then(|n| n.parse().ok()).expect("imported from label.N.jpg")
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A training set: taught rows (normalised embedding, class 0/1) and background rows.
struct Set<'a> {
    taught: Vec<(&'a [f32], usize)>,
    bg: Vec<&'a [f32]>,
}

/// How the background class is weighted in the 3-class head.
#[derive(Clone, Copy, Debug, PartialEq)]
enum BgMode {
    /// No background class: the plain 2-class head.
    None,
    /// All BUILD rows, unweighted.
    All,
    /// All BUILD rows; taught rows repeated so each class weighs as much as the background.
    Balanced,
    /// Every k-th BUILD row, as many as the larger taught class.
    Subsampled,
}

/// The vector space a similarity score works in.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Space {
    /// L2-normalised embedding.
    Norm,
    /// Normalised, minus the mean of the BUILD half (a shipped constant), renormalised.
    BgCentred,
    /// The 2-class head's features (normalised, minus the taught mean).
    Taught,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Score {
    /// No rejection score (only the classifier's own decision).
    Off,
    /// Top softmax probability (over the taught classes; with a background class, 1 − p(bg)
    /// is not used: the argmax already rejects).
    MaxProb,
    /// Largest taught logit.
    MaxLogit,
    /// log Σ exp(taught logits) (negative energy).
    Energy,
    /// Cosine to the nearest class prototype (mean of the class's vectors, renormalised).
    Proto(Space),
    /// Cosine to the nearest taught example.
    Nn(Space),
    /// −Σ (x−μ_k)²/σ² to the nearest class mean, σ² per dimension from the BUILD half.
    Maha,
    /// Cosine to the nearest prototype minus cosine to the nearest BUILD embedding.
    ProtoVsBg(Space),
    /// Cosine to the nearest taught example minus cosine to the nearest BUILD embedding.
    NnVsBg(Space),
    /// ProtoVsBg(BgCentred) after dropping the BUILD embeddings that would reject a taught
    /// example (closer to it than its own leave-one-out prototype).
    ProtoVsPrunedBg,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Rule {
    /// The q-quantile of the taught examples' out-of-fold scores.
    TaughtQ(f32),
    /// Best Youden split between taught and BUILD out-of-fold scores.
    Youden,
    /// The q-quantile of the BUILD half's out-of-fold scores (keep above it).
    BgQ(f32),
    /// The lower of TaughtQ(0) (the taught minimum) and BgQ(q).
    MinOf(f32),
    /// Midpoint of the taught minimum and the BUILD q-quantile.
    Mid(f32),
    /// A fixed value (no calibration).
    Fixed(f32),
}

/// Constants shipped with the backbone: the BUILD half's mean and per-dimension variance.
struct Shipped {
    bg_mean: Vec<f32>,
    bg_var: Vec<f32>,
}

fn to_space(v: &[f32], space: Space, shipped: &Shipped, taught_features: &Features) -> Vec<f32> {
    match space {
        Space::Norm => v.to_vec(),
        Space::BgCentred => l2_normalised(&v.iter().zip(&shipped.bg_mean).map(|(x, m)| x - m).collect::<Vec<_>>()),
        Space::Taught => l2_normalised(taught_features.apply(v).as_slice().unwrap()),
    }
}

/// A trained candidate classifier + score.
struct Model {
    head: Head,
    classes: usize,
    taught_features: Features,
    /// per space: (prototypes, examples, BUILD rows) in that space
    protos: Vec<(Space, [Vec<f32>; 2], Vec<(Vec<f32>, usize)>, Vec<Vec<f32>>)>,
    maha_means: [Vec<f32>; 2],
    pruned_bgc: Vec<Vec<f32>>,
}

impl Model {
    fn build(set: &Set, bg_mode: BgMode, model: &ModelInfo, cfg: &HeadConfig, shipped: &Shipped) -> Model {
        let mut rows: Vec<(&[f32], usize)> = Vec::new();
        let n_cls = [0, 1].map(|k| set.taught.iter().filter(|r| r.1 == k).count());
        let repeat = match bg_mode {
            BgMode::Balanced => ((set.bg.len() as f32 / n_cls[0].max(n_cls[1]) as f32).round() as usize).max(1),
            _ => 1,
        };
        for _ in 0..repeat {
            rows.extend(set.taught.iter().copied());
        }
        match bg_mode {
            BgMode::None => {}
            BgMode::All | BgMode::Balanced => rows.extend(set.bg.iter().map(|v| (*v, BG))),
            BgMode::Subsampled => {
                let want = n_cls[0].max(n_cls[1]).max(1);
                let step = (set.bg.len() as f32 / want as f32).max(1.0);
                let mut i = 0.0f32;
                while (i as usize) < set.bg.len() {
                    rows.push((set.bg[i as usize], BG));
                    i += step;
                }
            }
        }
        let classes = if bg_mode == BgMode::None { 2 } else { 3 };
        let labels: Vec<String> = ["cat", "dog", "background"][..classes].iter().map(|s| s.to_string()).collect();
        let head = fit(&rows, &labels, model, cfg);
        let taught_features = Features::fit(set.taught.iter().map(|r| r.0), model.dims);
        let mut protos = Vec::new();
        for space in [Space::Norm, Space::BgCentred, Space::Taught] {
            let ex: Vec<(Vec<f32>, usize)> =
                set.taught.iter().map(|(v, k)| (to_space(v, space, shipped, &taught_features), *k)).collect();
            let p = [0, 1].map(|k| {
                let mut m = vec![0f32; model.dims];
                for (v, _) in ex.iter().filter(|e| e.1 == k) {
                    m.iter_mut().zip(v).for_each(|(a, b)| *a += b);
                }
                l2_normalised(&m)
            });
            let b: Vec<Vec<f32>> = set.bg.iter().map(|v| to_space(v, space, shipped, &taught_features)).collect();
            protos.push((space, p, ex, b));
        }
        let maha_means = [0, 1].map(|k| {
            let mut m = vec![0f32; model.dims];
            let n = n_cls[k].max(1) as f32;
            for (v, _) in set.taught.iter().filter(|e| e.1 == k) {
                m.iter_mut().zip(*v).for_each(|(a, b)| *a += b / n);
            }
            m
        });
        let pruned_bgc = {
            let (_, p, ex, b) = protos.iter().find(|p| p.0 == Space::BgCentred).unwrap();
            let sums = [0, 1].map(|k| {
                let mut m = vec![0f32; model.dims];
                for (v, _) in ex.iter().filter(|e| e.1 == k) {
                    m.iter_mut().zip(v).for_each(|(a, b)| *a += b);
                }
                m
            });
            // Each taught example's similarity to the known classes without itself.
            let known: Vec<(&Vec<f32>, f32)> = ex
                .iter()
                .map(|(v, k)| {
                    let own: Vec<f32> = sums[*k].iter().zip(v).map(|(s, x)| s - x).collect();
                    (v, dot(v, &l2_normalised(&own)).max(dot(v, &p[1 - k])))
                })
                .collect();
            b.iter().filter(|e| known.iter().all(|(v, s)| dot(v, e) < *s)).cloned().collect()
        };
        Model { head, classes, taught_features, protos, maha_means, pruned_bgc }
    }

    fn logits(&self, v: &[f32]) -> Vec<f32> {
        let x = self.head.features.apply(v);
        let x = x.as_slice().expect("contiguous");
        (0..self.classes).map(|k| dot(&self.head.weights[k], x) + self.head.bias[k]).collect()
    }

    /// (argmax over all classes, argmax over the taught classes, score).
    fn decide(&self, v: &[f32], score: Score, shipped: &Shipped) -> (usize, usize, f32) {
        let z = self.logits(v);
        let argmax = |z: &[f32]| z.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        let all = argmax(&z);
        let top = argmax(&z[..2]);
        let s = match score {
            Score::Off => 0.0,
            Score::MaxProb => {
                let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let e: Vec<f32> = z.iter().map(|x| (x - m).exp()).collect();
                e[top] / e.iter().sum::<f32>()
            }
            Score::MaxLogit => z[top],
            Score::Energy => {
                let m = z[..2].iter().copied().fold(f32::NEG_INFINITY, f32::max);
                m + z[..2].iter().map(|x| (x - m).exp()).sum::<f32>().ln()
            }
            Score::Proto(space) | Score::Nn(space) | Score::ProtoVsBg(space) | Score::NnVsBg(space) => {
                let (_, p, ex, b) = self.protos.iter().find(|p| p.0 == space).unwrap();
                let x = to_space(v, space, shipped, &self.taught_features);
                let known = if matches!(score, Score::Proto(_) | Score::ProtoVsBg(_)) {
                    dot(&x, &p[0]).max(dot(&x, &p[1]))
                } else {
                    ex.iter().map(|(e, _)| dot(&x, e)).fold(f32::NEG_INFINITY, f32::max)
                };
                let near_bg = b.iter().map(|e| dot(&x, e)).fold(f32::NEG_INFINITY, f32::max);
                if matches!(score, Score::ProtoVsBg(_) | Score::NnVsBg(_)) {
                    known - near_bg
                } else {
                    known
                }
            }
            Score::ProtoVsPrunedBg => {
                let (_, p, _, _) = self.protos.iter().find(|p| p.0 == Space::BgCentred).unwrap();
                let x = to_space(v, Space::BgCentred, shipped, &self.taught_features);
                let near_bg = self.pruned_bgc.iter().map(|e| dot(&x, e)).fold(f32::NEG_INFINITY, f32::max);
                dot(&x, &p[0]).max(dot(&x, &p[1])) - near_bg
            }
            Score::Maha => {
                let d = |m: &[f32]| -> f32 {
                    v.iter().zip(m).zip(&shipped.bg_var).map(|((x, m), s)| (x - m) * (x - m) / s).sum()
                };
                -d(&self.maha_means[0]).min(d(&self.maha_means[1]))
            }
        };
        (all, top, s)
    }
}

fn quantile(sorted: &[f32], q: f32) -> f32 {
    sorted[((q * (sorted.len() - 1) as f32).round() as usize).min(sorted.len() - 1)]
}

fn threshold(rule: Rule, taught: &[f32], bg: &[f32]) -> f32 {
    let mut t = taught.to_vec();
    t.sort_by(f32::total_cmp);
    let mut b = bg.to_vec();
    b.sort_by(f32::total_cmp);
    match rule {
        Rule::TaughtQ(q) => quantile(&t, q),
        Rule::BgQ(q) => quantile(&b, q),
        Rule::MinOf(q) => t[0].min(quantile(&b, q)),
        Rule::Mid(q) => (t[0] + quantile(&b, q)) / 2.0,
        Rule::Fixed(v) => v,
        Rule::Youden => {
            let mut all: Vec<f32> = t.iter().chain(&b).copied().collect();
            all.sort_by(f32::total_cmp);
            all.dedup();
            let mut best = (f32::NEG_INFINITY, all[0]);
            for w in all.windows(2) {
                let th = (w[0] + w[1]) / 2.0;
                let tpr = t.iter().filter(|&&s| s >= th).count() as f32 / t.len() as f32;
                let fpr = b.iter().filter(|&&s| s >= th).count() as f32 / b.len() as f32;
                if tpr - fpr > best.0 {
                    best = (tpr - fpr, th);
                }
            }
            best.1
        }
    }
}

#[derive(Clone, Copy, Default)]
struct Figures {
    lit_none: f64,
    right_kept: f64,
    rejected: f64,
    top1: f64,
}

struct Data {
    train: Vec<(Vec<f32>, usize, usize)>, // normalised, class, photo number
    test: Vec<(Vec<f32>, usize)>,
    build: Vec<Vec<f32>>,
    eval: Vec<Vec<f32>>,
    train_examples: Vec<Example>,
}

fn class_of(e: &Example) -> usize {
    match e.entry.label.as_str() {
        "cat" => 0,
        "dog" => 1,
        l => panic!("unexpected label {l}"),
    }
}

/// Deterministic fold of the i-th taught example (within its class) and of the i-th BUILD row.
fn folds_of_subset(sub: &[(&[f32], usize)]) -> Vec<usize> {
    let mut seen = [0usize; 2];
    sub.iter()
        .map(|(_, k)| {
            seen[*k] += 1;
            (seen[*k] - 1) % FOLDS
        })
        .collect()
}

fn evaluate_candidates(
    data: &Data,
    subsets: usize,
    shots: usize,
    model: &ModelInfo,
    shipped: &Shipped,
    cands: &[(BgMode, Score, Option<Rule>)],
    cfg: &HeadConfig,
) -> Vec<Vec<Figures>> {
    let mut out = vec![Vec::new(); cands.len()];
    for s in 0..subsets {
        let range = s * shots..(s + 1) * shots;
        let taught: Vec<(&[f32], usize)> =
            data.train.iter().filter(|e| range.contains(&e.2)).map(|e| (e.0.as_slice(), e.1)).collect();
        let bg: Vec<&[f32]> = data.build.iter().map(Vec::as_slice).collect();
        let tf = folds_of_subset(&taught);
        let modes: Vec<BgMode> = {
            let mut m: Vec<BgMode> = cands.iter().map(|c| c.0).collect();
            m.dedup();
            let mut u = Vec::new();
            for x in m {
                if !u.contains(&x) {
                    u.push(x)
                }
            }
            u
        };
        for mode in modes {
            let full = Model::build(&Set { taught: taught.clone(), bg: bg.clone() }, mode, model, cfg, shipped);
            let need_oof = cands.iter().any(|c| c.0 == mode && c.2.is_some());
            let fold_models: Vec<Model> = if need_oof {
                (0..FOLDS)
                    .map(|f| {
                        let t = taught.iter().zip(&tf).filter(|(_, &g)| g != f).map(|(r, _)| *r).collect();
                        let b = bg.iter().enumerate().filter(|(i, _)| i % FOLDS != f).map(|(_, v)| *v).collect();
                        Model::build(&Set { taught: t, bg: b }, mode, model, cfg, shipped)
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let mut cache: Vec<(Score, Vec<f32>, Vec<f32>, Vec<(usize, usize, f32)>, Vec<(usize, usize, f32)>)> =
                Vec::new();
            for (ci, (_, score, rule)) in cands.iter().enumerate().filter(|(_, c)| c.0 == mode) {
                if !cache.iter().any(|c| c.0 == *score) {
                    let (t, b) = if need_oof {
                        (
                            taught
                                .iter()
                                .zip(&tf)
                                .map(|((v, _), &f)| fold_models[f].decide(v, *score, shipped).2)
                                .collect(),
                            bg.iter()
                                .enumerate()
                                .map(|(i, v)| fold_models[i % FOLDS].decide(v, *score, shipped).2)
                                .collect(),
                        )
                    } else {
                        (Vec::new(), Vec::new())
                    };
                    let ev = data.eval.iter().map(|v| full.decide(v, *score, shipped)).collect();
                    let te = data.test.iter().map(|(v, _)| full.decide(v, *score, shipped)).collect();
                    cache.push((*score, t, b, ev, te));
                }
                let (_, t, b, ev, te) = cache.iter().find(|c| c.0 == *score).unwrap();
                let thr = rule.map(|rule| threshold(rule, t, b));
                let kept = |s: f32| thr.is_none_or(|t| s >= t);
                let mut f = Figures::default();
                for &(all, _, sc) in ev {
                    f.lit_none += (all != BG && kept(sc)) as usize as f64 / data.eval.len() as f64;
                }
                let n = data.test.len() as f64;
                for (&(all, top, sc), (_, k)) in te.iter().zip(&data.test) {
                    let rej = all == BG || !kept(sc);
                    f.rejected += rej as usize as f64 / n;
                    f.right_kept += (!rej && all == *k) as usize as f64 / n;
                    f.top1 += (top == *k) as usize as f64 / n;
                }
                out[ci].push(f);
            }
        }
    }
    out
}

fn mean_worst(v: &[f64], worst_is_max: bool) -> (f64, f64) {
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let worst =
        if worst_is_max { v.iter().copied().fold(0.0, f64::max) } else { v.iter().copied().fold(1.0, f64::min) };
    (mean * 100.0, worst * 100.0)
}

fn print_row(name: &str, figs: &[Figures]) {
    let (a, aw) = mean_worst(&figs.iter().map(|f| f.lit_none).collect::<Vec<_>>(), true);
    let (b, bw) = mean_worst(&figs.iter().map(|f| f.right_kept).collect::<Vec<_>>(), false);
    let (c, cw) = mean_worst(&figs.iter().map(|f| f.rejected).collect::<Vec<_>>(), true);
    let (t, tw) = mean_worst(&figs.iter().map(|f| f.top1).collect::<Vec<_>>(), false);
    let ok = aw <= 5.0 && bw >= 97.0 && cw <= 3.0 && tw >= 97.5;
    println!(
        "| {name:<52} | {a:5.1} / {aw:5.1} | {b:5.1} / {bw:5.1} | {c:5.1} / {cw:5.1} | {t:5.1} / {tw:5.1} | {} |",
        if ok { "pass" } else { "" }
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, train_dir, test_dir, build_dir, eval_dir, rest @ ..] = args.as_slice() else {
        eprintln!("usage: openset_study TRAIN_STORE TEST_STORE NONE_BUILD_STORE NONE_EVAL_STORE [SHOTS]");
        std::process::exit(2);
    };
    let shots: usize = rest.first().map(|s| s.parse().expect("SHOTS is a number")).unwrap_or(20);
    let path = std::path::PathBuf::from("models/efficientnet-lite0-int8.onnx");
    let sha256 = file_sha256(&path).expect("run from the repository root");
    let model = ModelInfo { path, sha256, dims: 1280, classes: Some(1000), preprocess: String::new() };
    let load = |d: &String| Store::open(d.as_ref()).expect("store").load(&model).examples;
    let (train_ex, test_ex, build_ex, eval_ex) = (load(train_dir), load(test_dir), load(build_dir), load(eval_dir));
    let data = Data {
        train: train_ex.iter().map(|e| (l2_normalised(&e.embedding.vector), class_of(e), photo_number(e))).collect(),
        test: test_ex.iter().map(|e| (l2_normalised(&e.embedding.vector), class_of(e))).collect(),
        build: build_ex.iter().map(|e| l2_normalised(&e.embedding.vector)).collect(),
        eval: eval_ex.iter().map(|e| l2_normalised(&e.embedding.vector)).collect(),
        train_examples: train_ex.clone(),
    };
    let mut data = data;
    if let Some(n) = std::env::var("CONTAM").ok().and_then(|v| v.parse::<usize>().ok()) {
        // Stress test: the background set also holds n photos of each taught label (photos
        // numbered 300-n..300, never in a subset), as if the user taught an object the
        // background set happens to show.
        let moved: Vec<Vec<f32>> = data.train.iter().filter(|e| e.2 >= 300 - n).map(|e| e.0.clone()).collect();
        data.train.retain(|e| e.2 < 300 - n);
        println!("BUILD set contaminated with {} taught-label photos", moved.len());
        data.build.extend(moved);
    }
    if std::env::var("QUANT").is_ok_and(|v| v == "1") {
        // As shipped: int8 with one f32 scale per vector (max-abs / 127), then renormalised.
        for v in &mut data.build {
            let scale = v.iter().fold(0f32, |a, x| a.max(x.abs())) / 127.0;
            *v = l2_normalised(&v.iter().map(|x| (x / scale).round().clamp(-127.0, 127.0) * scale).collect::<Vec<_>>());
        }
        println!("BUILD embeddings quantised to int8 (one f32 scale per vector)");
    }
    let dims = model.dims;
    let n = data.build.len() as f32;
    let bg_mean: Vec<f32> = (0..dims).map(|d| data.build.iter().map(|v| v[d]).sum::<f32>() / n).collect();
    let bg_var: Vec<f32> =
        (0..dims).map(|d| data.build.iter().map(|v| (v[d] - bg_mean[d]).powi(2)).sum::<f32>() / n + 1e-6).collect();
    let shipped = Shipped { bg_mean, bg_var };
    let largest = data.train.iter().map(|e| e.2).max().unwrap_or(0) + 1;
    let subsets = (largest / shots).min(10);
    println!(
        "{shots} shots per label, {subsets} subsets; {} test, {} none BUILD, {} none EVAL",
        data.test.len(),
        data.build.len(),
        data.eval.len()
    );
    let cfg = HeadConfig { use_mirrored: false, ..Default::default() };

    // 1. Today's head, exactly as `train` makes it (best-F1 max-prob thresholds).
    println!("\n| candidate | (a) none-EVAL lit % mean/worst | (b) right & kept % | (c) rejected % | top-1 % | bars |");
    println!("|---|---|---|---|---|---|");
    let today: Vec<Figures> = (0..subsets)
        .map(|s| {
            let range = s * shots..(s + 1) * shots;
            let sub: Vec<Example> =
                data.train_examples.iter().filter(|e| range.contains(&photo_number(e))).cloned().collect();
            let labels = vec!["cat".to_string(), "dog".to_string()];
            let head = train(&sub, &labels, &model, &cfg, None).expect("two labels");
            let mut f = Figures::default();
            for e in &eval_ex {
                f.lit_none += !head.predict(&e.embedding.vector).unsure as usize as f64 / eval_ex.len() as f64;
            }
            for e in &test_ex {
                let p = head.predict(&e.embedding.vector);
                let k = class_of(e);
                f.rejected += p.unsure as usize as f64 / test_ex.len() as f64;
                f.right_kept += (!p.unsure && p.index == k) as usize as f64 / test_ex.len() as f64;
                f.top1 += (p.index == k) as usize as f64 / test_ex.len() as f64;
            }
            f
        })
        .collect();
    print_row("today: 2-class head, best-F1 max-prob threshold", &today);

    let rules = [
        Rule::TaughtQ(0.0),
        Rule::TaughtQ(0.05),
        Rule::Youden,
        Rule::BgQ(0.95),
        Rule::BgQ(0.98),
        Rule::BgQ(1.0),
        Rule::MinOf(0.98),
        Rule::Mid(1.0),
        Rule::Fixed(0.0),
    ];
    let scores = [
        Score::MaxProb,
        Score::MaxLogit,
        Score::Energy,
        Score::Proto(Space::Norm),
        Score::Proto(Space::BgCentred),
        Score::Proto(Space::Taught),
        Score::Nn(Space::Norm),
        Score::Nn(Space::BgCentred),
        Score::Nn(Space::Taught),
        Score::Maha,
        Score::ProtoVsBg(Space::Norm),
        Score::ProtoVsBg(Space::BgCentred),
        Score::ProtoVsBg(Space::Taught),
        Score::NnVsBg(Space::Norm),
        Score::NnVsBg(Space::BgCentred),
        Score::NnVsBg(Space::Taught),
        Score::ProtoVsPrunedBg,
    ];
    let only: Option<String> = std::env::var("ONLY").ok();
    let mut cands: Vec<(BgMode, Score, Option<Rule>)> = Vec::new();
    for mode in [BgMode::None, BgMode::All, BgMode::Balanced, BgMode::Subsampled] {
        if mode != BgMode::None {
            cands.push((mode, Score::Off, None));
        }
        for score in scores {
            for rule in rules {
                cands.push((mode, score, Some(rule)));
            }
        }
    }
    if let Some(o) = &only {
        cands.retain(|c| format!("{:?}", c).contains(o.as_str()));
    }
    let started = Instant::now();
    let figs = evaluate_candidates(&data, subsets, shots, &model, &shipped, &cands, &cfg);
    for (c, f) in cands.iter().zip(&figs) {
        let name = match c {
            (m, Score::Off, _) => format!("bg {m:?}: argmax only"),
            (m, s, Some(r)) => format!("bg {m:?}; {s:?}; {r:?}"),
            (m, s, None) => format!("bg {m:?}; {s:?}"),
        };
        print_row(&name, f);
    }
    eprintln!("evaluated in {:.1} s", started.elapsed().as_secs_f64());
    fewshot(&data, subsets, shots, &model, &shipped);
    cost(&data, &model, &shipped, &cfg);
}

/// Logits of a 2-class softmax fitted (no held-out split, like `train`'s final head) on
/// `rows` already transformed; `features` then normalises, centres and scales as the head does.
fn head_logits(rows: &[(Vec<f32>, usize)], l2: f32, dims: usize) -> impl Fn(&[f32]) -> Vec<f32> {
    let n = rows.len();
    let features = Features::fit(rows.iter().map(|r| r.0.as_slice()), dims);
    let mut x = Array2::<f32>::zeros((n, dims));
    for (i, (v, _)) in rows.iter().enumerate() {
        x.row_mut(i).assign(&features.apply(v));
    }
    let y: Vec<usize> = rows.iter().map(|r| r.1).collect();
    let k = y.iter().max().unwrap() + 1;
    let f = fit_softmax(x.view(), &y, k, FitParams { l2, max_iters: 300, tolerance: 1e-4 });
    move |v: &[f32]| {
        let z = f.w.dot(&features.apply(v)) + &f.b;
        z.to_vec()
    }
}

/// Few-shot accuracy of classifier variants; each is also scored with the recommended
/// rejection (prototype-vs-background cosine in the background-centred space, threshold 0).
fn fewshot(data: &Data, subsets: usize, shots: usize, model: &ModelInfo, shipped: &Shipped) {
    let dims = model.dims;
    let bgc = |v: &[f32]| to_space(v, Space::BgCentred, shipped, &Features { centre: vec![0.0; dims], scale: 1.0 });
    let bg_std: Vec<f32> = shipped.bg_var.iter().map(|v| v.sqrt()).collect();
    let bgstd = |v: &[f32]| -> Vec<f32> {
        v.iter().zip(&shipped.bg_mean).zip(&bg_std).map(|((x, m), s)| (x - m) / s).collect()
    };
    let test_bgc: Vec<Vec<f32>> = data.test.iter().map(|(v, _)| bgc(v)).collect();
    let eval_bgc: Vec<Vec<f32>> = data.eval.iter().map(|v| bgc(v)).collect();
    let build_bgc: Vec<Vec<f32>> = data.build.iter().map(|v| bgc(v)).collect();
    let names = [
        "head l2=1e-3",
        "head l2=1e-2 (today)",
        "head l2=3e-2",
        "head l2=1e-1",
        "head on bg-centred input, l2=1e-2",
        "head on bg-standardised input (per-dim σ of BUILD), l2=1e-2",
        "head on bg-standardised input, l2=1e-1",
        "head + background class (BUILD subsampled to 20)",
        "prototype cosine, normalised",
        "prototype cosine, bg-centred",
        "prototype cosine, taught-centred (head features)",
        "1-NN cosine, bg-centred",
        "blend: head(1e-2) logits + 5·cos(bg-centred protos)",
        "blend: head(1e-2) logits + 10·cos",
        "blend: head(1e-2) logits + 20·cos",
        "blend: head(1e-2) logits + 50·cos",
    ];
    // per variant, per subset: (top-1, right & kept, lit none)
    let mut res = vec![Vec::new(); names.len()];
    for s in 0..subsets {
        let range = s * shots..(s + 1) * shots;
        let taught: Vec<(Vec<f32>, usize)> =
            data.train.iter().filter(|e| range.contains(&e.2)).map(|e| (e.0.clone(), e.1)).collect();
        let protos = |f: &dyn Fn(&[f32]) -> Vec<f32>| -> [Vec<f32>; 2] {
            [0, 1].map(|k| {
                let mut m = vec![0f32; dims];
                for (v, _) in taught.iter().filter(|e| e.1 == k) {
                    m.iter_mut().zip(f(v)).for_each(|(a, b)| *a += b);
                }
                l2_normalised(&m)
            })
        };
        let ident = |v: &[f32]| v.to_vec();
        let p_norm = protos(&ident);
        let p_bgc = protos(&bgc);
        let tf = Features::fit(taught.iter().map(|r| r.0.as_slice()), dims);
        let taughtc = |v: &[f32]| l2_normalised(tf.apply(v).as_slice().unwrap());
        let p_tc = protos(&taughtc);
        let taught_bgc: Vec<(Vec<f32>, usize)> = taught.iter().map(|(v, k)| (bgc(v), *k)).collect();
        // The rejection: nearest bg-centred prototype vs nearest bg-centred BUILD embedding.
        let known = |x: &[f32]| {
            let p = dot(x, &p_bgc[0]).max(dot(x, &p_bgc[1]));
            let b = build_bgc.iter().map(|e| dot(x, e)).fold(f32::NEG_INFINITY, f32::max);
            p - b >= 0.0
        };
        let test_known: Vec<bool> = test_bgc.iter().map(|x| known(x)).collect();
        let eval_known: Vec<bool> = eval_bgc.iter().map(|x| known(x)).collect();
        let heads: Vec<Box<dyn Fn(&[f32]) -> Vec<f32>>> = vec![
            Box::new(head_logits(&taught, 1e-3, dims)),
            Box::new(head_logits(&taught, 1e-2, dims)),
            Box::new(head_logits(&taught, 3e-2, dims)),
            Box::new(head_logits(&taught, 1e-1, dims)),
        ];
        let h_bgc = head_logits(&taught_bgc, 1e-2, dims);
        let taught_std: Vec<(Vec<f32>, usize)> = taught.iter().map(|(v, k)| (bgstd(v), *k)).collect();
        let h_std = head_logits(&taught_std, 1e-2, dims);
        let h_std1 = head_logits(&taught_std, 1e-1, dims);
        let mut with_bg = taught.clone();
        let step = data.build.len() as f32 / shots as f32;
        for j in 0..shots {
            with_bg.push((data.build[(j as f32 * step) as usize].clone(), BG));
        }
        let h_bg = head_logits(&with_bg, 1e-2, dims);
        let argmax2 = |z: &[f32]| if z[1] > z[0] { 1 } else { 0 };
        let cos2 = |x: &[f32], p: &[Vec<f32>; 2]| vec![dot(x, &p[0]), dot(x, &p[1])];
        let classify = |variant: usize, v: &[f32], xb: &[f32]| -> (usize, bool) {
            // (taught argmax, argmax is background)
            match variant {
                0..=3 => (argmax2(&heads[variant](v)), false),
                4 => (argmax2(&h_bgc(xb)), false),
                5 => (argmax2(&h_std(&bgstd(v))), false),
                6 => (argmax2(&h_std1(&bgstd(v))), false),
                7 => {
                    let z = h_bg(v);
                    (argmax2(&z), z[2] > z[0].max(z[1]))
                }
                8 => (argmax2(&cos2(v, &p_norm)), false),
                9 => (argmax2(&cos2(xb, &p_bgc)), false),
                10 => (argmax2(&cos2(&taughtc(v), &p_tc)), false),
                11 => {
                    let best = taught_bgc.iter().max_by(|a, b| dot(xb, &a.0).total_cmp(&dot(xb, &b.0))).unwrap();
                    (best.1, false)
                }
                _ => {
                    let lambda = [5.0, 10.0, 20.0, 50.0][variant - 12];
                    let z = heads[1](v);
                    let c = cos2(xb, &p_bgc);
                    (argmax2(&[z[0] + lambda * c[0], z[1] + lambda * c[1]]), false)
                }
            }
        };
        for (variant, r) in res.iter_mut().enumerate() {
            let mut f = Figures::default();
            let n = data.test.len() as f64;
            for (((v, k), xb), &kn) in data.test.iter().zip(&test_bgc).zip(&test_known) {
                let (c, is_bg) = classify(variant, v, xb);
                f.top1 += (c == *k) as usize as f64 / n;
                let kept = kn && !is_bg;
                f.rejected += !kept as usize as f64 / n;
                f.right_kept += (kept && c == *k) as usize as f64 / n;
            }
            for ((v, xb), &kn) in data.eval.iter().zip(&eval_bgc).zip(&eval_known) {
                let (_, is_bg) = classify(variant, v, xb);
                f.lit_none += (kn && !is_bg) as usize as f64 / data.eval.len() as f64;
            }
            r.push(f);
        }
    }
    println!("\nFew-shot classifiers, with the rejection ProtoVsBg(BgCentred) >= 0 on:");
    println!(
        "\n| classifier | (a) none-EVAL lit % mean/worst | (b) right & kept % | (c) rejected % | top-1 % | bars |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, r) in names.iter().zip(&res) {
        print_row(name, r);
    }
}

/// Per-frame cost of the recommended score, and of the alternatives.
fn cost(data: &Data, model: &ModelInfo, shipped: &Shipped, cfg: &HeadConfig) {
    let taught: Vec<(&[f32], usize)> = data.train.iter().filter(|e| e.2 < 20).map(|e| (e.0.as_slice(), e.1)).collect();
    let bg: Vec<&[f32]> = data.build.iter().map(Vec::as_slice).collect();
    let m = Model::build(&Set { taught, bg }, BgMode::None, model, cfg, shipped);
    let frames: Vec<Vec<f32>> = data.test.iter().map(|(v, _)| v.clone()).chain(data.eval.iter().cloned()).collect();
    println!("\nPer-frame cost (this machine, 1 thread, includes normalising the raw embedding):");
    for score in
        [Score::Off, Score::ProtoVsBg(Space::BgCentred), Score::NnVsBg(Space::Norm), Score::Proto(Space::BgCentred)]
    {
        let reps = 20;
        let started = Instant::now();
        let mut acc = 0.0f32;
        for _ in 0..reps {
            for f in &frames {
                acc += std::hint::black_box(m.decide(std::hint::black_box(f), score, shipped)).2;
            }
        }
        let us = started.elapsed().as_secs_f64() * 1e6 / (reps * frames.len()) as f64;
        println!("  head logits + {score:?}: {us:.1} µs per frame ({acc:.0})");
    }
    // The recommended score alone, as the daemon would run it: centre + normalise the frame,
    // two prototype dots and 145 background dots, with an 8-lane dot product.
    let dot8 = |a: &[f32], b: &[f32]| -> f32 {
        let mut acc = [0f32; 8];
        for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
            for i in 0..8 {
                acc[i] += x[i] * y[i];
            }
        }
        acc.iter().sum()
    };
    let centred = |v: &[f32]| l2_normalised(&v.iter().zip(&shipped.bg_mean).map(|(x, m)| x - m).collect::<Vec<_>>());
    let bgc: Vec<Vec<f32>> = data.build.iter().map(|v| centred(v)).collect();
    let protos: Vec<Vec<f32>> = (0..2)
        .map(|k| {
            let mut p = vec![0f32; model.dims];
            for e in data.train.iter().filter(|e| e.2 < 20 && e.1 == k) {
                p.iter_mut().zip(centred(&e.0)).for_each(|(a, b)| *a += b);
            }
            l2_normalised(&p)
        })
        .collect();
    let reps = 20;
    let started = Instant::now();
    let mut kept = 0usize;
    for _ in 0..reps {
        for f in &frames {
            let x = centred(std::hint::black_box(f));
            let p = dot8(&x, &protos[0]).max(dot8(&x, &protos[1]));
            let b = bgc.iter().map(|e| dot8(&x, e)).fold(f32::NEG_INFINITY, f32::max);
            kept += (p >= b) as usize;
        }
    }
    let us = started.elapsed().as_secs_f64() * 1e6 / (reps * frames.len()) as f64;
    println!("  recommended score alone (8-lane f32 dot): {us:.1} µs per frame ({kept} kept)");
    // The background set stored as int8 with one f32 scale per vector: quantise and re-measure.
    let q: Vec<Vec<f32>> = data
        .build
        .iter()
        .map(|v| {
            let scale = v.iter().fold(0f32, |a, x| a.max(x.abs())) / 127.0;
            v.iter().map(|x| (x / scale).round().clamp(-127.0, 127.0) * scale).collect()
        })
        .collect();
    let bytes = data.build.len() * (model.dims + 4);
    let worst =
        data.build.iter().zip(&q).map(|(a, b)| dot(&l2_normalised(a), &l2_normalised(b))).fold(1.0f32, f32::min);
    println!(
        "  background file: {} vectors x ({} int8 + 4-byte scale) = {bytes} bytes; worst cosine(original, quantised) {worst:.5}",
        data.build.len(),
        model.dims
    );
}
