//! The background set: embeddings of photos that show none of the user's things (rooms,
//! objects, food, people…), shipped next to the model. Training uses them as an implicit
//! background class, so a head knows what "nothing taught" looks like without a NONE button.
//!
//! File layout (little-endian): magic `TCBGSET1`, `u32` dims, `u32` count, the 32-byte sha256
//! of the backbone that made the vectors, then per vector an `f32` scale and `dims` `i8`
//! values (value = i8 × scale), then a CRC-32 of everything before it. A set made by another
//! backbone is refused, like heads.
//!
//! The vectors also depend on the preprocessing (input size, crop, normalisation): a set made
//! with other preprocessing than the configured one is refused too. Sets made with the default
//! preprocessing ([`default_preprocess_key`], the model's native 224 px) keep the layout above
//! (magic `TCBGSET1`; every existing set was made that way); a set made with any other
//! preprocessing has magic `TCBGSET2` and, right after the sha256, a `u16` length and the
//! preprocessing key ([`crate::embed::Preprocess::key`]) in UTF-8.

use crate::embed::ModelInfo;
use crate::fsutil::write_atomic;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"TCBGSET1";
const MAGIC_V2: &[u8; 8] = b"TCBGSET2";
const HEADER: usize = 8 + 4 + 4 + 32;

/// The preprocessing key of the default `[model]` settings: what a `TCBGSET1` set was made with.
pub fn default_preprocess_key() -> String {
    crate::embed::ModelConfig::default().preprocess().key()
}

/// Why a background set cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BackgroundError {
    /// The file cannot be read or written.
    #[error("background set {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a background set, or is damaged.
    #[error("background set {path} is damaged or not a background set: {reason}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The set was made with another backbone.
    #[error("background set {path} was made with model sha256 {set_sha:.12}…, but the loaded model is {model_sha:.12}…; make one for this model with `teachcam background` or set head.background = \"off\"")]
    WrongModel {
        /// The file.
        path: PathBuf,
        /// Model hash recorded in the set.
        set_sha: String,
        /// Hash of the model loaded now.
        model_sha: String,
    },
    /// The set was made with other preprocessing (input size, crop, normalisation).
    #[error("background set {path} was made with preprocessing \"{set}\", but the configuration uses \"{now}\"; make one with these settings with `teachcam background` or set head.background = \"off\"")]
    WrongPreprocessing {
        /// The file.
        path: PathBuf,
        /// Preprocessing recorded in the set.
        set: String,
        /// Preprocessing configured now.
        now: String,
    },
}

/// Background embeddings of one backbone.
#[derive(Debug, Clone, PartialEq)]
pub struct BackgroundSet {
    /// Hex sha256 of the backbone.
    pub model_sha256: String,
    /// The preprocessing the vectors were made with ([`crate::embed::Preprocess::key`]).
    pub preprocess: String,
    /// The embeddings (dequantised).
    pub vectors: Vec<Vec<f32>>,
}

/// Quantises `v` to i8 with one scale (max |v| / 127).
fn quantise(v: &[f32]) -> (f32, Vec<i8>) {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
    (scale, v.iter().map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8).collect())
}

impl BackgroundSet {
    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let dims = self.vectors.first().map_or(0, Vec::len);
        let v1 = self.preprocess == default_preprocess_key();
        let mut out = Vec::with_capacity(HEADER + 2 + self.preprocess.len() + self.vectors.len() * (4 + dims) + 4);
        out.extend_from_slice(if v1 { MAGIC } else { MAGIC_V2 });
        out.extend_from_slice(&(dims as u32).to_le_bytes());
        out.extend_from_slice(&(self.vectors.len() as u32).to_le_bytes());
        let mut sha = [0u8; 32];
        if let Ok(raw) = hex::decode(&self.model_sha256) {
            let n = raw.len().min(32);
            sha[..n].copy_from_slice(&raw[..n]);
        }
        out.extend_from_slice(&sha);
        if !v1 {
            let key = &self.preprocess.as_bytes()[..self.preprocess.len().min(u16::MAX as usize)];
            out.extend_from_slice(&(key.len() as u16).to_le_bytes());
            out.extend_from_slice(key);
        }
        for v in &self.vectors {
            let (scale, q) = quantise(v);
            out.extend_from_slice(&scale.to_le_bytes());
            out.extend(q.iter().map(|&x| x as u8));
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Hex sha256 of the set's file bytes.
    pub fn sha256(&self) -> String {
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(self.encode()))
    }

    /// Parses a file's bytes; `path` names it in errors.
    pub fn decode(bytes: &[u8], path: &Path) -> Result<Self, BackgroundError> {
        let damaged = |reason: String| BackgroundError::Damaged { path: path.into(), reason };
        if bytes.len() < HEADER + 4 || (&bytes[..8] != MAGIC && &bytes[..8] != MAGIC_V2) {
            return Err(damaged("bad magic or too short".into()));
        }
        let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes")) as usize;
        let (dims, count) = (u32_at(8), u32_at(12));
        if dims == 0 || dims > 1 << 16 || count > 1 << 20 {
            return Err(damaged(format!("implausible header (dims {dims}, count {count})")));
        }
        let (preprocess, start) = if &bytes[..8] == MAGIC {
            (default_preprocess_key(), HEADER)
        } else {
            let len = u16::from_le_bytes([bytes[HEADER], bytes[HEADER + 1]]) as usize;
            let key =
                bytes.get(HEADER + 2..HEADER + 2 + len).ok_or_else(|| damaged("truncated preprocessing key".into()))?;
            let key = std::str::from_utf8(key).map_err(|_| damaged("preprocessing key is not UTF-8".into()))?;
            (key.to_string(), HEADER + 2 + len)
        };
        let expected = start + count * (4 + dims) + 4;
        if bytes.len() != expected {
            return Err(damaged(format!("{} bytes, expected {expected}", bytes.len())));
        }
        if crc32fast::hash(&bytes[..expected - 4]) != u32_at(expected - 4) as u32 {
            return Err(damaged("checksum mismatch".into()));
        }
        let vectors = (0..count)
            .map(|i| {
                let at = start + i * (4 + dims);
                let scale = f32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
                bytes[at + 4..at + 4 + dims].iter().map(|&b| b as i8 as f32 * scale).collect()
            })
            .collect::<Vec<Vec<f32>>>();
        if vectors.iter().flatten().any(|x| !x.is_finite()) {
            return Err(damaged("a value is not finite".into()));
        }
        Ok(Self { model_sha256: hex::encode(&bytes[16..48]), preprocess, vectors })
    }

    /// Loads a set and checks it belongs to the backbone `model` and its preprocessing (when
    /// `model.preprocess` is known).
    pub fn load(path: &Path, model: &ModelInfo) -> Result<Self, BackgroundError> {
        let bytes = std::fs::read(path).map_err(|source| BackgroundError::Io { path: path.into(), source })?;
        let set = Self::decode(&bytes, path)?;
        if set.model_sha256 != model.sha256 {
            return Err(BackgroundError::WrongModel {
                path: path.into(),
                set_sha: set.model_sha256,
                model_sha: model.sha256.clone(),
            });
        }
        if !model.preprocess.is_empty() && set.preprocess != model.preprocess {
            return Err(BackgroundError::WrongPreprocessing {
                path: path.into(),
                set: set.preprocess,
                now: model.preprocess.clone(),
            });
        }
        if set.vectors.first().is_some_and(|v| v.len() != model.dims) {
            return Err(BackgroundError::Damaged {
                path: path.into(),
                reason: format!("its vectors are not {}-dimensional", model.dims),
            });
        }
        Ok(set)
    }

    /// The set `config` names (`head.background`) for the backbone `model`: `None` when it is
    /// off, or when the built-in set is not there or was made with other preprocessing (e.g.
    /// another `model.input_size`; logged). A set that cannot be read, or belongs to another
    /// backbone, is an error, as is a set named by file that was made with other preprocessing.
    pub fn for_config(config: &crate::config::Config, model: &ModelInfo) -> Result<Option<Self>, BackgroundError> {
        let Some(path) = config.background_path() else { return Ok(None) };
        if config.head.background == crate::head::BackgroundSource::Builtin && !path.is_file() {
            log::warn!(
                "no built-in background set at {} for this model: \"nothing known\" is off (make one with `teachcam background`)",
                path.display()
            );
            return Ok(None);
        }
        match Self::load(&path, model) {
            Err(e @ BackgroundError::WrongPreprocessing { .. })
                if config.head.background == crate::head::BackgroundSource::Builtin =>
            {
                log::warn!("{e}: \"nothing known\" is off");
                Ok(None)
            }
            r => r.map(Some),
        }
    }

    /// Saves the set atomically.
    pub fn save(&self, path: &Path) -> Result<(), BackgroundError> {
        write_atomic(path, &self.encode()).map_err(|source| BackgroundError::Io { path: path.into(), source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(sha: &str, dims: usize) -> ModelInfo {
        ModelInfo { path: "m.onnx".into(), sha256: sha.into(), dims, classes: None, preprocess: String::new() }
    }

    #[test]
    fn round_trip_is_close_and_a_mismatched_backbone_is_refused() {
        let sha = "ab".repeat(32);
        let set = BackgroundSet {
            model_sha256: sha.clone(),
            preprocess: default_preprocess_key(),
            vectors: vec![vec![0.5, -1.0, 0.25, 0.0], vec![3.0, 2.0, -1.5, 0.1]],
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bg.bin");
        set.save(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, HEADER + 2 * (4 + 4) + 4);
        let back = BackgroundSet::load(&path, &model(&sha, 4)).unwrap();
        for (a, b) in set.vectors.iter().flatten().zip(back.vectors.iter().flatten()) {
            assert!((a - b).abs() <= 3.0 / 127.0 / 2.0 + 1e-6, "{a} vs {b}");
        }
        let e = BackgroundSet::load(&path, &model(&"cd".repeat(32), 4)).unwrap_err();
        assert!(matches!(e, BackgroundError::WrongModel { .. }), "{e}");
        assert!(e.to_string().contains("bg.bin"), "{e}");
        let e = BackgroundSet::load(&path, &model(&sha, 5)).unwrap_err();
        assert!(matches!(e, BackgroundError::Damaged { .. }), "{e}");
    }

    #[test]
    fn damage_is_detected() {
        let set = BackgroundSet {
            model_sha256: "ab".repeat(32),
            preprocess: default_preprocess_key(),
            vectors: vec![vec![1.0, 2.0]],
        };
        let mut bytes = set.encode();
        let p = Path::new("bg.bin");
        assert!(BackgroundSet::decode(&bytes, p).is_ok());
        bytes[HEADER + 5] ^= 1;
        assert!(BackgroundSet::decode(&bytes, p).unwrap_err().to_string().contains("checksum"));
        assert!(BackgroundSet::decode(&bytes[..10], p).is_err());
        assert!(BackgroundSet::decode(b"", p).is_err());
    }

    /// The preprocessing key of the default settings at another input size.
    fn key_at(size: u32) -> String {
        crate::embed::ModelConfig { input_size: size, ..Default::default() }.preprocess().key()
    }

    #[test]
    fn a_set_made_with_other_preprocessing_is_refused_and_default_sets_keep_the_v1_layout() {
        let sha = "ab".repeat(32);
        let vectors = vec![vec![0.5, -1.0, 0.25]];
        let at = |preprocess: String| BackgroundSet { model_sha256: sha.clone(), preprocess, vectors: vectors.clone() };
        let with_key = |preprocess: String| ModelInfo { preprocess, ..model(&sha, 3) };
        let p = Path::new("bg.bin");

        // The default preprocessing: the v1 layout, byte for byte as before the key existed.
        let v1 = at(default_preprocess_key()).encode();
        assert_eq!(&v1[..8], MAGIC);
        assert_eq!(v1.len(), HEADER + 4 + 3 + 4);
        assert_eq!(BackgroundSet::decode(&v1, p).unwrap().preprocess, default_preprocess_key());

        // 192 px: the key is recorded and read back.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bg192.bin");
        at(key_at(192)).save(&path).unwrap();
        assert_eq!(&std::fs::read(&path).unwrap()[..8], MAGIC_V2);
        let back = BackgroundSet::load(&path, &with_key(key_at(192))).unwrap();
        assert_eq!(back.preprocess, key_at(192));
        assert_eq!(back.vectors.len(), 1);

        // Loaded for 224 px it is refused, naming the file and both settings.
        let e = BackgroundSet::load(&path, &with_key(key_at(224))).unwrap_err();
        assert!(matches!(e, BackgroundError::WrongPreprocessing { .. }), "{e}");
        let msg = e.to_string();
        assert!(msg.contains("bg192.bin") && msg.contains("192px") && msg.contains("224px"), "{msg}");

        // And a v1 (224 px) set is refused for 192 px.
        let path1 = dir.path().join("bg224.bin");
        at(default_preprocess_key()).save(&path1).unwrap();
        let e = BackgroundSet::load(&path1, &with_key(key_at(192))).unwrap_err();
        assert!(matches!(e, BackgroundError::WrongPreprocessing { .. }), "{e}");

        // A truncated key is damage, not a panic.
        let bytes = at(key_at(192)).encode();
        assert!(BackgroundSet::decode(&bytes[..HEADER + 4], p).is_err());
    }
}
