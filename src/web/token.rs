//! The token that enables the page's controls: read once at start from `[web] token_file`,
//! compared in constant time with what a request presents as `Authorization: Bearer <token>`.

use super::WebError;
use sha2::{Digest, Sha256};
use std::path::Path;
use subtle::ConstantTimeEq;

/// Largest token file read, bytes.
const MAX_TOKEN_FILE: u64 = 4096;

/// The configured token, kept as its SHA-256 so that comparing takes the same time whatever
/// the length or content of a guess.
pub struct Token([u8; 32]);

impl Token {
    /// Reads the token from `path`: its content without surrounding whitespace, not empty.
    pub fn load(path: &Path) -> Result<Self, WebError> {
        let unreadable = |reason: String| WebError::TokenUnreadable { path: path.to_path_buf(), reason };
        let meta = std::fs::metadata(path).map_err(|e| unreadable(e.to_string()))?;
        if !meta.is_file() {
            return Err(unreadable("not a regular file".into()));
        }
        if meta.len() > MAX_TOKEN_FILE {
            return Err(unreadable(format!("larger than {MAX_TOKEN_FILE} bytes; a token is one line")));
        }
        let text = std::fs::read_to_string(path).map_err(|e| unreadable(e.to_string()))?;
        let token = text.trim();
        if token.is_empty() {
            return Err(WebError::TokenEmpty { path: path.to_path_buf() });
        }
        Ok(Self::new(token))
    }

    /// A token from its text.
    pub fn new(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    /// True when `authorization` (an `Authorization` header value) is `Bearer <this token>`.
    pub fn accepts(&self, authorization: Option<&str>) -> bool {
        let Some(value) = authorization else { return false };
        let Some((scheme, presented)) = value.trim().split_once(' ') else { return false };
        if !scheme.eq_ignore_ascii_case("bearer") {
            return false;
        }
        let presented: [u8; 32] = Sha256::digest(presented.trim().as_bytes()).into();
        self.0.ct_eq(&presented).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_bearer_token_is_accepted() {
        let t = Token::new("s3cret");
        assert!(t.accepts(Some("Bearer s3cret")));
        assert!(t.accepts(Some("bearer  s3cret ")));
        for wrong in
            [None, Some(""), Some("s3cret"), Some("Basic s3cret"), Some("Bearer s3cre"), Some("Bearer s3crett")]
        {
            assert!(!t.accepts(wrong), "{wrong:?}");
        }
    }

    #[test]
    fn an_empty_or_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        std::fs::write(&empty, " \n").unwrap();
        let e = Token::load(&empty).err().unwrap().to_string();
        assert!(e.contains(&empty.display().to_string()) && e.contains("empty"), "{e}");
        let missing = dir.path().join("missing");
        let e = Token::load(&missing).err().unwrap().to_string();
        assert!(e.contains(&missing.display().to_string()), "{e}");
        std::fs::write(&empty, "tok\n").unwrap();
        assert!(Token::load(&empty).unwrap().accepts(Some("Bearer tok")));
    }
}
