//! Warnings about what was taught, shown by `import`, `status` and `train`: labels with very
//! different numbers of examples, and labels that differ from the configuration's.

/// Largest-to-smallest ratio of examples per label above which the labels count as imbalanced.
pub const IMBALANCE_RATIO: f64 = 2.0;

/// "1 example", "2 examples".
pub fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// A warning when the taught labels' example counts differ by more than [`IMBALANCE_RATIO`]
/// (labels with no examples are not counted): which labels need how many more examples to
/// match the largest.
pub fn imbalance<'a>(counts: impl IntoIterator<Item = (&'a str, usize)>) -> Option<String> {
    let taught: Vec<(&str, usize)> = counts.into_iter().filter(|(_, n)| *n > 0).collect();
    let (largest, max) = taught.iter().copied().max_by_key(|(_, n)| *n)?;
    let min = taught.iter().map(|(_, n)| *n).min()?;
    if taught.len() < 2 || (max as f64) <= IMBALANCE_RATIO * min as f64 {
        return None;
    }
    let short: Vec<String> = taught
        .iter()
        .filter(|(_, n)| (max as f64) > IMBALANCE_RATIO * *n as f64)
        .map(|(l, n)| format!("{l} needs {} more", max - n))
        .collect();
    Some(format!(
        "labels are imbalanced ({largest} has {}, {:.1}× the smallest): {} to match {largest}; training weights every label equally, but a label with few examples is learnt from less",
        plural(max, "example"),
        max as f64 / min as f64,
        short.join(", ")
    ))
}

/// A warning when the labels taught are not the configuration's `labels` (its buttons and
/// LEDs): which taught labels it does not list, and which of its labels have no examples.
pub fn label_mismatch(config_labels: &[String], taught: &[&str]) -> Option<String> {
    let unlisted: Vec<&str> = taught.iter().copied().filter(|l| !config_labels.iter().any(|c| c == l)).collect();
    if unlisted.is_empty() {
        return None;
    }
    let untaught: Vec<&str> = config_labels.iter().map(String::as_str).filter(|c| !taught.contains(c)).collect();
    let mut s = format!(
        "the data's labels differ from the config's ({}): {} {} no button or LED",
        config_labels.join(", "),
        unlisted.join(", "),
        if unlisted.len() == 1 { "has" } else { "have" }
    );
    if !untaught.is_empty() {
        s.push_str(&format!(
            ", and {} {} no examples",
            untaught.join(", "),
            if untaught.len() == 1 { "has" } else { "have" }
        ));
    }
    s.push_str("; set `labels` in the config (or use --config) to match, or check --data");
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imbalance_names_the_short_labels_and_how_many_more() {
        let w = imbalance([("cat", 300), ("dog", 111)]).unwrap();
        assert!(w.contains("cat has 300 examples, 2.7× the smallest") && w.contains("dog needs 189 more"), "{w}");
        let w = imbalance([("cat", 300), ("dog", 10), ("fox", 200), ("none", 0)]).unwrap();
        assert!(w.contains("dog needs 290 more") && !w.contains("fox") && !w.contains("none"), "{w}");
        assert_eq!(imbalance([("cat", 20), ("dog", 10)]), None, "2× is still balanced enough");
        assert_eq!(imbalance([("cat", 300), ("dog", 0)]), None, "one taught label: nothing to compare");
        assert_eq!(imbalance([]), None);
    }

    #[test]
    fn mismatch_names_unlisted_and_untaught_labels() {
        let config = vec!["cat".to_string(), "dog".to_string()];
        let w = label_mismatch(&config, &["mug", "none", "pen"]).unwrap();
        assert!(w.contains("mug, none, pen have no button") && w.contains("cat, dog have no examples"), "{w}");
        let w = label_mismatch(&config, &["cat", "dog", "fox"]).unwrap();
        assert!(w.contains("fox has no button") && !w.contains("no examples"), "{w}");
        assert_eq!(label_mismatch(&config, &["cat"]), None, "a subset of the config's labels is fine");
    }

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "example"), "1 example");
        assert_eq!(plural(0, "label"), "0 labels");
    }
}
