//! Open-set rejection: is a frame closer to something taught than to everything else?
//!
//! Every embedding is L2-normalised, the mean of the normalised background embeddings is
//! subtracted, and the result normalised again ("background-centred"). Each taught class has a
//! prototype: the normalised mean of its examples' centred directions. A frame's score is
//!
//! ```text
//! score = max over taught classes of cos(frame, prototype) − max over background embeddings of cos(frame, background)
//! ```
//!
//! and the frame is *known* when `score ≥ margin` (0 by default: closer to a taught class than
//! to any background photo). A background embedding that is nearer to a taught example than
//! that example is to its own class is left out: the user taught something like it. The background embeddings are those of the shipped background set
//! (photos of rooms, objects, food, people…; see `models/README.md`), kept in the head as int8.
//! `scripts/openset_study.rs` chose this rule over max-probability, energy, a background class
//! and nearest-example scores (figures in the README); margin 0 needs no calibration.

use crate::embed::l2_normalised;
use ndarray::{Array2, ArrayView1};
use serde::{Deserialize, Serialize};

/// Background embeddings stored as int8 with one scale each (hex in `head.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantisedSet {
    /// Length of each vector.
    pub dims: usize,
    /// Per vector, the factor that turns its int8 values back into floats.
    pub scales: Vec<f32>,
    /// All vectors' int8 values, hex-encoded, vector after vector.
    pub values: String,
}

impl QuantisedSet {
    /// Quantises `vectors` (each `dims` long).
    pub fn new(vectors: &[Vec<f32>], dims: usize) -> Self {
        let mut scales = Vec::with_capacity(vectors.len());
        let mut bytes = Vec::with_capacity(vectors.len() * dims);
        for v in vectors {
            let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
            let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
            scales.push(scale);
            bytes.extend(v.iter().map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8 as u8));
        }
        Self { dims, scales, values: hex::encode(bytes) }
    }

    /// The vectors as floats, or `None` when the sizes or the hex do not add up.
    pub fn decode(&self) -> Option<Vec<Vec<f32>>> {
        let bytes = hex::decode(&self.values).ok()?;
        if self.dims == 0 || bytes.len() != self.dims * self.scales.len() {
            return None;
        }
        let vectors: Vec<Vec<f32>> = bytes
            .chunks(self.dims)
            .zip(&self.scales)
            .map(|(chunk, s)| chunk.iter().map(|&b| b as i8 as f32 * s).collect())
            .collect();
        vectors.iter().flatten().all(|x| x.is_finite()).then_some(vectors)
    }
}

/// The open-set part of a head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenSet {
    /// Mean of the normalised background embeddings.
    pub centre: Vec<f32>,
    /// Per class of the head, its prototype (background-centred, normalised); empty for a
    /// class with no examples.
    pub prototypes: Vec<Vec<f32>>,
    /// The background embeddings, background-centred and normalised.
    pub background: QuantisedSet,
    /// A frame is known when its score is at least this.
    pub margin: f32,
    /// sha256 of the background set file it was made from.
    pub background_sha256: String,
    /// `background` decoded, one row per embedding (filled in by [`OpenSet::prepare`]).
    #[serde(skip)]
    pub cache: Array2<f32>,
}

/// What the open-set score says about one embedding.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Novelty {
    /// Similarity to the nearest taught prototype minus similarity to the nearest background
    /// embedding.
    pub score: f32,
    /// `score ≥ margin`: the frame shows something taught.
    pub known: bool,
}

/// Normalises, subtracts `centre`, normalises again.
fn centred(embedding: &[f32], centre: &[f32]) -> Vec<f32> {
    let n = l2_normalised(embedding);
    l2_normalised(&n.iter().zip(centre).map(|(x, c)| x - c).collect::<Vec<_>>())
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The largest cosine of `x` with any of `set` (−1 when `set` is empty).
fn nearest(x: &[f32], set: &[Vec<f32>]) -> f32 {
    set.iter().filter(|v| !v.is_empty()).map(|v| dot(x, v)).fold(-1.0, f32::max)
}

impl OpenSet {
    /// Fits prototypes for `n_classes` classes on `rows` (raw embeddings and class indices)
    /// against the `background` embeddings (raw), with the given `margin`.
    pub fn fit(
        rows: &[(&[f32], usize)],
        n_classes: usize,
        background: &[Vec<f32>],
        background_sha256: &str,
        margin: f32,
    ) -> Self {
        let dims = rows.first().map_or(0, |r| r.0.len());
        let mut centre = vec![0f32; dims];
        for v in background {
            centre.iter_mut().zip(l2_normalised(v)).for_each(|(c, x)| *c += x / background.len() as f32);
        }
        let taught: Vec<(Vec<f32>, usize)> = rows.iter().map(|(v, k)| (centred(v, &centre), *k)).collect();
        let mut sums = vec![vec![0f32; dims]; n_classes];
        let mut counts = vec![0usize; n_classes];
        for (x, k) in &taught {
            sums[*k].iter_mut().zip(x).for_each(|(s, x)| *s += x);
            counts[*k] += 1;
        }
        let prototypes: Vec<Vec<f32>> =
            sums.iter().zip(&counts).map(|(s, &n)| if n > 0 { l2_normalised(s) } else { Vec::new() }).collect();
        // Each taught example's similarity to what it was taught as (its class without itself,
        // or another class if nearer). A background embedding nearer to a taught example than
        // that is something the user has taught (a mug in the background set, a mug taught as a
        // label): it is dropped, so it cannot reject what it resembles.
        let own: Vec<(&Vec<f32>, f32)> = taught
            .iter()
            .map(|(x, k)| {
                let rest: Vec<f32> = sums[*k].iter().zip(x).map(|(s, v)| s - v).collect();
                let others = prototypes.iter().enumerate().filter(|(c, _)| c != k).map(|(_, p)| p.clone());
                (x, nearest(x, &std::iter::once(l2_normalised(&rest)).chain(others).collect::<Vec<_>>()))
            })
            .collect();
        let kept: Vec<Vec<f32>> = background
            .iter()
            .map(|v| centred(v, &centre))
            .filter(|b| own.iter().all(|(x, s)| dot(x, b) < *s))
            .collect();
        let mut set = Self {
            background: QuantisedSet::new(&kept, dims),
            centre,
            prototypes,
            margin,
            background_sha256: background_sha256.to_string(),
            cache: Array2::zeros((0, dims)),
        };
        set.prepare();
        set
    }

    /// Decodes the stored background (after loading); false when it is damaged.
    pub fn prepare(&mut self) -> bool {
        let Some(vectors) = self.background.decode() else { return false };
        let flat: Vec<f32> = vectors.into_iter().flatten().collect();
        match Array2::from_shape_vec((flat.len() / self.background.dims.max(1), self.background.dims), flat) {
            Ok(a) => {
                self.cache = a;
                true
            }
            Err(_) => false,
        }
    }

    /// Scores one raw embedding.
    pub fn assess(&self, embedding: &[f32]) -> Novelty {
        let x = centred(embedding, &self.centre);
        let near_bg = self.cache.dot(&ArrayView1::from(&x)).iter().copied().fold(-1.0, f32::max);
        let score = nearest(&x, &self.prototypes) - near_bg;
        Novelty { score, known: score >= self.margin }
    }

    /// The share of the background embeddings that would count as known, each scored against
    /// the others (leave one out): an estimate of how often unseen "nothing" frames light an LED.
    pub fn background_known_rate(&self) -> f32 {
        let n = self.cache.nrows();
        if n < 2 {
            return 0.0;
        }
        let known = (0..n)
            .filter(|&i| {
                let x = self.cache.row(i);
                let others = self
                    .cache
                    .dot(&x)
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, s)| *s)
                    .fold(-1.0, f32::max);
                nearest(x.as_slice().expect("rows are contiguous"), &self.prototypes) - others >= self.margin
            })
            .count();
        known as f32 / n as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A point near `axis` in 8 dimensions, pushed by `jitter` along another axis.
    fn near(axis: usize, jitter: f32, other: usize) -> Vec<f32> {
        let mut v = vec![0.05; 8];
        v[axis] = 1.0;
        v[other] += jitter;
        v
    }

    #[test]
    fn a_far_point_is_rejected_and_a_near_one_is_not() {
        // Two taught clusters on axes 0 and 1; the background spreads over axes 3..8.
        let taught: Vec<(Vec<f32>, usize)> =
            (0..5).flat_map(|i| [(near(0, 0.1 * i as f32, 2), 0), (near(1, 0.1 * i as f32, 2), 1)]).collect();
        let rows: Vec<(&[f32], usize)> = taught.iter().map(|(v, k)| (v.as_slice(), *k)).collect();
        let background: Vec<Vec<f32>> = (3..8).flat_map(|a| [near(a, 0.2, 2), near(a, 0.3, 0)]).collect();
        let set = OpenSet::fit(&rows, 2, &background, "sha", 0.0);
        let cat_like = set.assess(&near(0, 0.25, 2));
        assert!(cat_like.known && cat_like.score > 0.0, "{cat_like:?}");
        let far = set.assess(&near(5, 0.1, 2));
        assert!(!far.known && far.score < 0.0, "{far:?}");
        // Rejection does not care about the length of the raw embedding.
        assert!(set.assess(&near(0, 0.25, 2).iter().map(|x| x * 7.0).collect::<Vec<_>>()).known);
        // A larger margin rejects more.
        let strict = OpenSet { margin: cat_like.score + 0.01, ..set.clone() };
        assert!(!strict.assess(&near(0, 0.25, 2)).known);
        assert_eq!(set.background_known_rate(), 0.0, "no background point is closer to a taught class");
    }

    #[test]
    fn a_background_photo_like_a_taught_label_is_dropped_and_rejects_nothing_taught() {
        let taught: Vec<(Vec<f32>, usize)> =
            (0..5).flat_map(|i| [(near(0, 0.1 * i as f32, 2), 0), (near(1, 0.1 * i as f32, 2), 1)]).collect();
        let rows: Vec<(&[f32], usize)> = taught.iter().map(|(v, k)| (v.as_slice(), *k)).collect();
        // The background holds a photo of "class 0" itself, plus unrelated ones.
        let mut background: Vec<Vec<f32>> = (3..8).map(|a| near(a, 0.2, 2)).collect();
        background.push(near(0, 0.2, 2));
        let set = OpenSet::fit(&rows, 2, &background, "sha", 0.0);
        assert_eq!(set.cache.nrows(), 5, "the class-0 look-alike is dropped");
        assert!(taught.iter().all(|(v, _)| set.assess(v).known), "nothing taught is rejected");
        assert!(!set.assess(&near(6, 0.2, 0)).known, "the unrelated background still rejects");
    }

    #[test]
    fn stored_background_round_trips_and_damage_is_noticed() {
        let v = vec![vec![0.5, -0.25, 0.0], vec![1.0, 0.1, -1.0]];
        let q = QuantisedSet::new(&v, 3);
        let back = q.decode().unwrap();
        for (a, b) in v.iter().flatten().zip(back.iter().flatten()) {
            assert!((a - b).abs() < 0.005, "{a} {b}");
        }
        let json = serde_json::to_string(&q).unwrap();
        assert_eq!(serde_json::from_str::<QuantisedSet>(&json).unwrap(), q);
        assert!(QuantisedSet { values: "zz".into(), ..q.clone() }.decode().is_none());
        assert!(QuantisedSet { dims: 4, ..q }.decode().is_none());
    }

    #[test]
    fn an_untaught_class_has_no_prototype_and_never_matches() {
        let a = near(0, 0.0, 2);
        let rows = [(a.as_slice(), 0)];
        let set = OpenSet::fit(&rows, 3, &[near(5, 0.0, 2), near(6, 0.0, 2)], "sha", 0.0);
        assert!(set.prototypes[1].is_empty() && set.prototypes[2].is_empty());
        assert!(set.assess(&a).known);
    }
}
