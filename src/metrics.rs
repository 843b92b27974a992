//! Classification metrics as Rekognition Custom Labels reports them: accuracy, per-label
//! precision / recall / F1, confusion matrix, and the best-F1 ("assumed") threshold per label.

use serde::{Deserialize, Serialize};

/// Precision, recall and F1 of one label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelMetrics {
    /// The label.
    pub label: String,
    /// Of the items predicted as this label, the fraction that are (0 when never predicted).
    pub precision: f32,
    /// Of the items of this label, the fraction predicted as it (0 when there are none).
    pub recall: f32,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: f32,
    /// Number of items of this label.
    pub support: usize,
    /// Number of items predicted as this label.
    pub predicted: usize,
}

/// Metrics of a set of predictions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Number of items.
    pub n: usize,
    /// Fraction predicted correctly.
    pub accuracy: f32,
    /// Per label, in label order.
    pub per_label: Vec<LabelMetrics>,
    /// `confusion[truth][predicted]` counts, in label order.
    pub confusion: Vec<Vec<usize>>,
}

/// Computes metrics from true and predicted label indices (both `< labels.len()`).
pub fn evaluate(labels: &[String], truth: &[usize], predicted: &[usize]) -> Metrics {
    assert_eq!(truth.len(), predicted.len(), "one prediction per item");
    let k = labels.len();
    let mut confusion = vec![vec![0usize; k]; k];
    for (&t, &p) in truth.iter().zip(predicted) {
        confusion[t][p] += 1;
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f32 / b as f32 };
    let per_label = (0..k)
        .map(|c| {
            let tp = confusion[c][c];
            let support: usize = confusion[c].iter().sum();
            let predicted: usize = confusion.iter().map(|row| row[c]).sum();
            let (precision, recall) = (ratio(tp, predicted), ratio(tp, support));
            let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
            LabelMetrics { label: labels[c].clone(), precision, recall, f1, support, predicted }
        })
        .collect();
    let correct: usize = (0..k).map(|c| confusion[c][c]).sum();
    Metrics { n: truth.len(), accuracy: ratio(correct, truth.len()), per_label, confusion }
}

/// The lowest confidence threshold for `label` with the best F1, where an item counts as
/// predicted `label` when it is the top label with `confidence >= threshold`.
///
/// Lowering the threshold from above admits the predictions one confidence at a time; the
/// result sits just above the highest-confidence prediction the best F1 leaves out, or at
/// `floor` (the lowest possible top confidence, `1/labels`) when it leaves out none, so no
/// prediction is called unsure without evidence from the held-out part. `None` when `label`
/// is never the top label. A NaN confidence passes no threshold: such an item counts as a
/// positive never recalled, and the search ends on any input.
pub fn best_f1_threshold(label: usize, truth: &[usize], top: &[usize], confidence: &[f32], floor: f32) -> Option<f32> {
    let positives = truth.iter().filter(|&&t| t == label).count();
    let mut candidates: Vec<(f32, bool)> = top
        .iter()
        .zip(confidence)
        .zip(truth)
        .filter(|((&p, &c), _)| p == label && !c.is_nan())
        .map(|((_, &c), &t)| (c, t == label))
        .collect();
    // Highest confidence first: lowering the threshold past each candidate adds it.
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut best: Option<(f32, f32, f32)> = None; // (f1, lowest confidence admitted, next lower one)
    let mut i = 0;
    while i < candidates.len() {
        let c = candidates[i].0;
        // `total_cmp` equality holds for candidates[i] itself, so every pass moves on.
        while i < candidates.len() && candidates[i].0.total_cmp(&c).is_eq() {
            if candidates[i].1 {
                tp += 1
            } else {
                fp += 1
            }
            i += 1;
        }
        let f1 = 2.0 * tp as f32 / (2 * tp + fp + (positives - tp)) as f32;
        let below = candidates.get(i).map_or(floor, |n| n.0);
        if best.is_none_or(|(b, _, _)| f1 >= b) {
            best = Some((f1, c, below));
        }
    }
    // Just above the excluded prediction: the smallest f32 step that still excludes it.
    best.map(|(_, _, below)| if below <= floor { floor } else { f32::from_bits(below.to_bits() + 1) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize) -> Vec<String> {
        ["cat", "dog", "none"][..n].iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn hand_computed_two_labels() {
        // truth:   c c c c d d d d d d
        // predict: c c c d d d d d c c
        let t = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
        let p = [0, 0, 0, 1, 1, 1, 1, 1, 0, 0];
        let m = evaluate(&labels(2), &t, &p);
        assert_eq!(m.n, 10);
        assert!((m.accuracy - 0.7).abs() < 1e-6);
        assert_eq!(m.confusion, vec![vec![3, 1], vec![2, 4]]);
        let cat = &m.per_label[0];
        assert!((cat.precision - 0.6).abs() < 1e-6); // 3 of 5 predicted cats
        assert!((cat.recall - 0.75).abs() < 1e-6); // 3 of 4 cats
        assert!((cat.f1 - 2.0 * 0.6 * 0.75 / 1.35).abs() < 1e-6);
        let dog = &m.per_label[1];
        assert!((dog.precision - 0.8).abs() < 1e-6);
        assert!((dog.recall - 4.0 / 6.0).abs() < 1e-6);
        assert_eq!((dog.support, dog.predicted), (6, 5));
    }

    #[test]
    fn label_never_predicted_has_zero_precision_not_nan() {
        let t = [0, 1, 2, 2];
        let p = [0, 1, 0, 1];
        let m = evaluate(&labels(3), &t, &p);
        let none = &m.per_label[2];
        assert_eq!((none.precision, none.recall, none.f1), (0.0, 0.0, 0.0));
        assert_eq!((none.support, none.predicted), (2, 0));
        assert!((m.per_label[0].precision - 0.5).abs() < 1e-6);
        assert!((m.accuracy - 0.5).abs() < 1e-6);
    }

    #[test]
    fn best_threshold_excludes_confident_mistakes_below_it() {
        // Items predicted "cat" with confidences; the wrong ones have low confidence.
        let truth = [0, 0, 0, 1, 1, 1];
        let top = [0, 0, 0, 0, 0, 1];
        let conf = [0.99, 0.95, 0.9, 0.7, 0.6, 0.8];
        // Any threshold in (0.7, 0.9] keeps the three true cats and drops both dogs (F1 = 1):
        // the lowest is just above 0.7.
        let t = best_f1_threshold(0, &truth, &top, &conf, 0.5).unwrap();
        assert!(t > 0.7 && t < 0.7 + 1e-6, "{t}");
        // The one dog prediction is right: nothing needs rejecting, the floor is kept.
        assert_eq!(best_f1_threshold(1, &truth, &top, &conf, 0.5), Some(0.5));
        assert_eq!(best_f1_threshold(2, &truth, &top, &conf, 0.5), None);
    }

    #[test]
    fn best_threshold_search_ends_on_nan_and_infinite_confidences() {
        // A NaN confidence once made this search loop for ever (`NaN == NaN` is false).
        let truth = [0, 0, 1, 0, 1];
        let top = [0, 0, 0, 0, 0];
        let conf = [f32::NAN, 0.9, 0.8, f32::INFINITY, f32::NEG_INFINITY];
        let t = best_f1_threshold(0, &truth, &top, &conf, 0.5).expect("cat is predicted");
        assert!(!t.is_nan(), "{t}");
        // The NaN cat is never admitted; the dog at 0.8 is excluded by the best F1.
        assert!(t > 0.8 && t <= 0.9, "{t}");
        // Only NaN confidences: no evidence, the caller keeps its default.
        assert_eq!(best_f1_threshold(0, &[0, 0], &[0, 0], &[f32::NAN, f32::NAN], 0.5), None);
    }

    #[test]
    fn best_threshold_ties_take_the_lowest() {
        let truth = [0, 0];
        let top = [0, 0];
        let conf = [0.9, 0.7];
        // Both cats are recalled from 0.7 down: the floor.
        assert_eq!(best_f1_threshold(0, &truth, &top, &conf, 0.5), Some(0.5));
    }

    #[test]
    fn a_confident_mistake_only_moves_the_threshold_when_it_pays() {
        // cat predictions: right at 0.95, 0.9, 0.6, 0.55; a dog wrongly called cat at 0.8.
        let truth = [0, 0, 0, 0, 1];
        let top = [0, 0, 0, 0, 0];
        let conf = [0.95, 0.9, 0.6, 0.55, 0.8];
        // Excluding the dog at 0.8 would lose two cats (F1 0.67 vs 0.89): keep the floor.
        assert_eq!(best_f1_threshold(0, &truth, &top, &conf, 0.5), Some(0.5));
        // With only the two confident cats, excluding the 0.8 dog pays off.
        let t = best_f1_threshold(
            0,
            &truth[..2].iter().chain(&[1]).copied().collect::<Vec<_>>(),
            &[0, 0, 0],
            &[0.95, 0.9, 0.8],
            0.5,
        );
        assert!(t.unwrap() > 0.8 && t.unwrap() < 0.9);
    }
}
