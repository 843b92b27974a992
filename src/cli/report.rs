//! Plain-text rendering of metrics and training reports.

use crate::head::TrainReport;
use crate::metrics::Metrics;
use crate::train::advice::plural;
use std::fmt::Write;

/// Percentage with one decimal.
pub fn pct(x: f32) -> String {
    format!("{:.1}%", x * 100.0)
}

/// The per-label table and the confusion matrix, with optional thresholds.
pub fn metrics_table(m: &Metrics, thresholds: Option<&[f32]>) -> String {
    let mut s = String::new();
    let w = m.per_label.iter().map(|l| l.label.len()).max().unwrap_or(5).max(5);
    let _ = write!(s, "  {:w$}  precision  recall  F1     support", "label");
    if thresholds.is_some() {
        s.push_str("  threshold");
    }
    s.push('\n');
    for (i, l) in m.per_label.iter().enumerate() {
        let _ = write!(s, "  {:w$}  {:<9.3}  {:<6.3}  {:<5.3}  {:<7}", l.label, l.precision, l.recall, l.f1, l.support);
        if let Some(t) = thresholds {
            let _ = write!(s, "  {:.3}", t[i]);
        }
        s.push('\n');
    }
    s.push_str("  support: how many of the images checked truly show the label\n");
    if thresholds.is_some() {
        s.push_str("  threshold: the confidence a label needs to light its LED (chosen in training for the best F1); below it, \"unsure\"\n");
    }
    for w in unrecognised(m).into_iter().chain(uneven(m)) {
        let _ = writeln!(s, "  warning: {w}");
    }
    s.push_str("  confusion (rows: true label, columns: predicted)\n");
    let _ = write!(s, "  {:w$}", "");
    for l in &m.per_label {
        let _ = write!(s, "  {:>w$}", l.label);
    }
    s.push('\n');
    for (i, row) in m.confusion.iter().enumerate() {
        let _ = write!(s, "  {:w$}", m.per_label[i].label);
        for c in row {
            let _ = write!(s, "  {c:>w$}");
        }
        s.push('\n');
    }
    s
}

/// Labels with images among those checked of which none was recognised (recall 0): the
/// overall accuracy hides them, so they get a warning each.
pub fn unrecognised(m: &Metrics) -> Vec<String> {
    m.per_label
        .iter()
        .filter(|l| l.support > 0 && l.recall == 0.0)
        .map(|l| {
            format!(
                "{} was never recognised: none of its {} was predicted as {}; the accuracy above hides this (add examples of {})",
                l.label,
                plural(l.support, "image"),
                l.label,
                l.label
            )
        })
        .collect()
}

/// Fewer images of a label than this among those checked make its row say little.
const THIN: usize = 5;

/// Warnings when the images checked are uneven: labels with very few of them, and, when one
/// label has over twice the images of another, the mean of the labels' recalls (what the
/// accuracy would be with as many images of each).
pub fn uneven(m: &Metrics) -> Vec<String> {
    let present: Vec<_> = m.per_label.iter().filter(|l| l.support > 0).collect();
    let mut out: Vec<String> = present
        .iter()
        .filter(|l| l.support < THIN)
        .map(|l| format!("{} has only {} here: its row says little", l.label, plural(l.support, "image")))
        .collect();
    let (min, max) = present.iter().fold((usize::MAX, 0), |(lo, hi), l| (lo.min(l.support), hi.max(l.support)));
    if present.len() >= 2 && max > 2 * min {
        let mean = present.iter().map(|l| l.recall).sum::<f32>() / present.len() as f32;
        out.push(format!(
            "the images are uneven ({}), so the accuracy mostly reflects the largest label; mean recall per label {}",
            present.iter().map(|l| format!("{} {}", l.label, l.support)).collect::<Vec<_>>().join(", "),
            pct(mean)
        ));
    }
    out
}

/// z for a two-sided 95 % interval.
const Z95: f64 = 1.959_964;

/// Wilson score 95 % interval of a proportion `k / n` (`n > 0`).
pub fn wilson(k: f64, n: f64) -> (f64, f64) {
    let p = k / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Half-width of the 95 % interval that counts as telling something (±5 points).
const MEANINGFUL: f64 = 0.05;

/// The interval after an accuracy, and when it is wide, about how many images at the same
/// accuracy would narrow it to ±5 points.
pub fn interval(accuracy: f32, n: usize) -> String {
    if n == 0 {
        return String::new();
    }
    let k = (accuracy as f64 * n as f64).round();
    let (lo, hi) = wilson(k, n as f64);
    let ci = if n < 100 {
        format!("95 % CI {:.0}–{:.0} %", lo * 100.0, hi * 100.0)
    } else {
        format!("95 % CI {:.1}–{:.1} %", lo * 100.0, hi * 100.0)
    };
    if (hi - lo) / 2.0 <= MEANINGFUL {
        return format!(" ({ci})");
    }
    let p = k / n as f64;
    let needed = (n..=1_000_000).find(|&m| {
        let (lo, hi) = wilson(p * m as f64, m as f64);
        (hi - lo) / 2.0 <= MEANINGFUL
    });
    match needed {
        Some(m) => format!(" ({ci}: too few images to tell much; about {m} would narrow it to ±5 points)"),
        None => format!(" ({ci})"),
    }
}

/// The accuracy line with its 95 % interval, with the original model's baseline and the
/// improvement when known.
pub fn accuracy_line(accuracy: f32, n: usize, baseline: Option<f32>) -> String {
    let ci = interval(accuracy, n);
    match baseline {
        Some(b) => format!(
            "accuracy {} on {}{ci}; original ImageNet model {} → {:+.1} points",
            pct(accuracy),
            plural(n, "image"),
            pct(b),
            (accuracy - b) * 100.0
        ),
        None => format!("accuracy {} on {}{ci}", pct(accuracy), plural(n, "image")),
    }
}

/// A training report as text, after `warnings` (one line each).
pub fn train_report(r: &TrainReport, warnings: &[String]) -> String {
    let mut s = String::new();
    for w in warnings {
        let _ = writeln!(s, "warning: {w}");
    }
    let counts: Vec<String> = r.labels.iter().zip(&r.counts).map(|(l, c)| format!("{l} {c}")).collect();
    let _ = writeln!(
        s,
        "trained on {} ({}){} in {:.0} ms",
        plural(r.counts.iter().sum::<usize>(), "example"),
        counts.join(", "),
        if r.mirrored { " with mirrored views" } else { "" },
        r.train_ms
    );
    match &r.holdout {
        Some(m) => {
            let _ = writeln!(
                s,
                "held-out check ({} examples held out, head fitted on the other {}):",
                r.n_holdout, r.n_train
            );
            let _ = writeln!(s, "  {}", accuracy_line(m.accuracy, m.n, r.baseline.as_ref().map(|b| b.accuracy)));
            s.push_str(&metrics_table(m, Some(&r.thresholds)));
        }
        None => {
            let _ = writeln!(s, "{}", r.note.as_deref().unwrap_or("no held-out metrics"));
        }
    }
    if let Some(line) = open_set_line(r) {
        let _ = writeln!(s, "{line}");
    }
    s
}

/// The open-set figures of a report in one line, if it has any.
pub fn open_set_line(r: &TrainReport) -> Option<String> {
    let bg = r.background_lit_rate?;
    let held = r.rejected_rate.map_or(String::new(), |x| format!("rejects {} of the held-out examples, ", pct(x)));
    Some(format!(
        "\"nothing known\": {held}lets {} of the background photos through (each checked against the others)",
        pct(bg)
    ))
}

/// What to warn about before a training report: labels that differ from the config's, and
/// imbalanced labels.
pub fn train_warnings(r: &TrainReport, config_labels: &[String]) -> Vec<String> {
    let taught: Vec<&str> = r.labels.iter().zip(&r.counts).filter(|(_, n)| **n > 0).map(|(l, _)| l.as_str()).collect();
    let mismatch = crate::train::advice::label_mismatch(config_labels, &taught);
    let imbalance = crate::train::advice::imbalance(r.labels.iter().map(String::as_str).zip(r.counts.iter().copied()));
    mismatch.into_iter().chain(imbalance).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_interval_of_small_and_large_samples() {
        let (lo, hi) = wilson(8.0, 8.0);
        assert_eq!(((lo * 100.0).round(), hi), (68.0, 1.0));
        let (lo, hi) = wilson(961.0, 1000.0);
        assert!((lo - 0.9471).abs() < 1e-3 && (hi - 0.9713).abs() < 1e-3, "{lo} {hi}");
        assert!(wilson(0.0, 5.0).0 < 1e-12);
    }

    #[test]
    fn accuracy_line_shows_the_interval_and_what_would_make_it_meaningful() {
        let line = accuracy_line(1.0, 8, Some(1.0));
        assert!(line.starts_with("accuracy 100.0% on 8 images (95 % CI 68–100 %: too few images"), "{line}");
        assert!(line.contains("about 35 would narrow it to ±5 points"), "{line}");
        let line = accuracy_line(0.961, 1000, None);
        assert_eq!(line, "accuracy 96.1% on 1000 images (95 % CI 94.7–97.1 %)");
        assert!(accuracy_line(1.0, 1, None).contains("on 1 image ("));
    }

    #[test]
    fn a_label_never_recognised_is_warned_about() {
        let labels = ["cat".to_string(), "dog".to_string()];
        let m = crate::metrics::evaluate(&labels, &[0, 0, 0, 1, 1], &[0, 0, 0, 0, 0]);
        let table = metrics_table(&m, Some(&[0.5, 0.5]));
        assert!(table.contains("warning: dog was never recognised: none of its 2 images"), "{table}");
        assert!(table.contains("support: ") && table.contains("threshold: "), "{table}");
        assert!(table.contains("dog has only 2 images here"), "{table}");
        assert!(!table.contains("the images are uneven (cat 3, dog 2)"), "1.5× is even enough: {table}");
        let m = crate::metrics::evaluate(&labels, &[0, 0, 0, 0, 0, 1, 1], &[0, 0, 0, 0, 0, 1, 0]);
        let table = metrics_table(&m, None);
        assert!(table.contains("uneven (cat 5, dog 2)") && table.contains("mean recall per label 75.0%"), "{table}");
        let truth: Vec<usize> = (0..10).map(|i| i % 2).collect();
        assert!(!metrics_table(&crate::metrics::evaluate(&labels, &truth, &truth), None).contains("warning"));
    }
}
