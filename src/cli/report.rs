//! Plain-text rendering of metrics and training reports.

use crate::head::TrainReport;
use crate::metrics::Metrics;
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

/// The accuracy line, with the original model's baseline and the improvement when known.
pub fn accuracy_line(accuracy: f32, n: usize, baseline: Option<f32>) -> String {
    match baseline {
        Some(b) => format!(
            "accuracy {} on {n} images; original ImageNet model {} → {:+.1} points",
            pct(accuracy),
            pct(b),
            (accuracy - b) * 100.0
        ),
        None => format!("accuracy {} on {n} images", pct(accuracy)),
    }
}

/// A training report as text.
pub fn train_report(r: &TrainReport) -> String {
    let mut s = String::new();
    let counts: Vec<String> = r.labels.iter().zip(&r.counts).map(|(l, c)| format!("{l} {c}")).collect();
    let _ = writeln!(
        s,
        "trained on {} examples ({}){} in {:.0} ms",
        r.counts.iter().sum::<usize>(),
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
    let held = r.rejected_rate.map_or(String::new(), |x| format!("{} of the held-out examples, ", pct(x)));
    Some(format!(
        "\"nothing known\": rejects {held}lets {} of the background photos through (each checked against the others)",
        pct(bg)
    ))
}
