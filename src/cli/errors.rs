//! The one-line error message of the binary.
//!
//! Many error types embed their cause in their own message (`cannot read X: {source}`), so a
//! message printed on its own is complete, and also return it as their `source()`. Printing
//! the whole chain would then show that cause twice; here a cause whose text is already part of
//! the line is left out.

/// `e` and its causes on one line, separated by `: `, each cause's text once.
pub fn error_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(text.as_str()) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::error_line;
    use anyhow::Context as _;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read config {path}: {source}")]
    struct Embeds {
        path: &'static str,
        source: std::io::Error,
    }

    fn missing() -> std::io::Error {
        std::io::Error::from_raw_os_error(2)
    }

    #[test]
    fn an_embedded_cause_is_printed_once() {
        let e = anyhow::Error::new(Embeds { path: "x.toml", source: missing() });
        assert_eq!(format!("{e:#}").matches("os error 2").count(), 2, "anyhow alone repeats it");
        let line = error_line(&e);
        assert_eq!(line.matches("os error 2").count(), 1, "{line}");
        assert!(line.starts_with("cannot read config x.toml: "), "{line}");
        // Under a context that does not embed it, still once.
        let e = Err::<(), _>(Embeds { path: "x.toml", source: missing() }).context("loading settings").unwrap_err();
        let line = error_line(&e);
        assert!(line.starts_with("loading settings: cannot read config x.toml: "), "{line}");
        assert_eq!(line.matches("os error 2").count(), 1, "{line}");
    }

    #[test]
    fn a_cause_not_in_the_message_is_kept() {
        let e = Err::<(), _>(missing()).context("cannot read photos/a.jpg").unwrap_err();
        let line = error_line(&e);
        assert!(line.starts_with("cannot read photos/a.jpg: ") && line.contains("os error 2"), "{line}");
        assert_eq!(error_line(&anyhow::anyhow!("two\nlines")), "two lines");
    }
}
