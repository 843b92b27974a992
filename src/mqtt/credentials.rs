//! The broker's user name and password, from `mqtt.credentials_file`.

use std::path::{Path, PathBuf};

/// Why the credentials file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// The file could not be read.
    #[error("mqtt.credentials_file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file does not hold a user name on line 1 and a password on line 2.
    #[error("mqtt.credentials_file {path}: {what}; it must hold the user name on line 1 and the password on line 2")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: &'static str,
    },
}

/// A user name and password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub user: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("user", &self.user).field("password", &"***").finish()
    }
}

impl Credentials {
    /// Reads `path`: the user name on line 1, the password on line 2 (line ends, including
    /// `\r\n`, are not part of them; further lines are ignored).
    pub fn read(path: &Path) -> Result<Self, CredentialsError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| CredentialsError::Read { path: path.into(), source })?;
        Self::parse(&text).map_err(|what| CredentialsError::Format { path: path.into(), what })
    }

    fn parse(text: &str) -> Result<Self, &'static str> {
        let mut lines = text.lines();
        let user = lines.next().unwrap_or("");
        if user.trim().is_empty() {
            return Err("the user name (line 1) is empty");
        }
        let Some(password) = lines.next() else { return Err("there is no password line") };
        Ok(Self { user: user.trim().to_string(), password: password.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_on_line_one_password_on_line_two() {
        let c = Credentials::parse("cam\r\ns3cret pass\n").unwrap();
        assert_eq!((c.user.as_str(), c.password.as_str()), ("cam", "s3cret pass"));
        assert!(!format!("{c:?}").contains("s3cret"), "the password is not logged");
        assert!(Credentials::parse("cam\n").is_err());
        assert!(Credentials::parse("\npw\n").is_err());
        assert!(Credentials::parse("").is_err());
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.txt");
        let e = Credentials::read(&missing).unwrap_err().to_string();
        assert!(e.contains("mqtt.credentials_file") && e.contains("nope.txt"), "{e}");
        let one_line = dir.path().join("one.txt");
        std::fs::write(&one_line, "user\n").unwrap();
        let e = Credentials::read(&one_line).unwrap_err().to_string();
        assert!(e.contains("one.txt") && e.contains("line 2"), "{e}");
    }
}
