//! The error message of the binary: one line, except that a cause spanning lines (a TOML error
//! with its excerpt of the file) keeps them, indented under the first.
//!
//! Many error types embed their cause in their own message (`cannot read X: {source}`), so a
//! message printed on its own is complete, and also return it as their `source()`. Printing
//! the whole chain (as anyhow's `{:#}` does) would then show that cause twice
//! (`…: No such file or directory (os error 2): No such file or directory (os error 2)`); here a
//! cause whose text is already part of the line is left out, however deep in the chain.

/// `e` and its causes, separated by `: `, each cause's text once; lines after the first are
/// indented by four spaces.
pub fn error_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        let text = text.trim();
        if text.is_empty() || line.contains(text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(text);
    }
    indent_continuations(&line)
}

/// `text` with every line after the first indented by four spaces (lines already indented that
/// far are left alone); blank lines are dropped.
pub fn indent_continuations(text: &str) -> String {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let mut out = lines.next().unwrap_or_default().to_string();
    for l in lines {
        out.push('\n');
        if !l.starts_with("    ") {
            out.push_str("    ");
        }
        out.push_str(l);
    }
    out
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

    /// Wraps an error, embedding its text, as `Embeds` does, one level up.
    #[derive(Debug, thiserror::Error)]
    #[error("loading {1}: {0}")]
    struct Outer(#[source] Embeds, &'static str);

    fn missing() -> std::io::Error {
        std::io::Error::from_raw_os_error(2)
    }

    #[test]
    fn an_embedded_cause_is_printed_once() {
        let e = anyhow::Error::new(Embeds { path: "x.toml", source: missing() });
        assert_eq!(format!("{e:#}").matches("os error 2").count(), 2, "anyhow alone repeats it");
        let line = error_line(&e);
        assert_eq!(line, "cannot read config x.toml: No such file or directory (os error 2)");
        // Under a context that does not embed it, still once.
        let e = Err::<(), _>(Embeds { path: "x.toml", source: missing() }).context("loading settings").unwrap_err();
        let line = error_line(&e);
        assert_eq!(line, "loading settings: cannot read config x.toml: No such file or directory (os error 2)");
        // Deeper: a cause two levels down embedded by the middle one.
        let e = anyhow::Error::new(Outer(Embeds { path: "y.toml", source: missing() }, "settings"));
        assert_eq!(
            error_line(&e),
            "loading settings: cannot read config y.toml: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn a_cause_not_in_the_message_is_kept() {
        let e = Err::<(), _>(missing()).context("cannot read photos/a.jpg").unwrap_err();
        let line = error_line(&e);
        assert_eq!(line, "cannot read photos/a.jpg: No such file or directory (os error 2)");
    }

    #[test]
    fn a_multi_line_message_stays_readable() {
        let e =
            anyhow::anyhow!("config a.toml: TOML parse error at line 2\n  |\n2 | x = 1\n\n  |     ^\nunknown field");
        assert_eq!(
            error_line(&e),
            "config a.toml: TOML parse error at line 2\n      |\n    2 | x = 1\n      |     ^\n    unknown field"
        );
    }
}
