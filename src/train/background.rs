//! The background set: embeddings of photos that show none of the user's things (rooms,
//! objects, food, people…), shipped next to the model. Training uses them as an implicit
//! background class, so a head knows what "nothing taught" looks like without a NONE button.
//!
//! File layout (little-endian): magic `TCBGSET1`, `u32` dims, `u32` count, the 32-byte sha256
//! of the backbone that made the vectors, then per vector an `f32` scale and `dims` `i8`
//! values (value = i8 × scale), then a CRC-32 of everything before it. A set made by another
//! backbone is refused, like heads.

use crate::embed::ModelInfo;
use crate::fsutil::write_atomic;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"TCBGSET1";
const HEADER: usize = 8 + 4 + 4 + 32;

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
}

/// Background embeddings of one backbone.
#[derive(Debug, Clone, PartialEq)]
pub struct BackgroundSet {
    /// Hex sha256 of the backbone.
    pub model_sha256: String,
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
        let mut out = Vec::with_capacity(HEADER + self.vectors.len() * (4 + dims) + 4);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(dims as u32).to_le_bytes());
        out.extend_from_slice(&(self.vectors.len() as u32).to_le_bytes());
        let mut sha = [0u8; 32];
        if let Ok(raw) = hex::decode(&self.model_sha256) {
            let n = raw.len().min(32);
            sha[..n].copy_from_slice(&raw[..n]);
        }
        out.extend_from_slice(&sha);
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
        if bytes.len() < HEADER + 4 || &bytes[..8] != MAGIC {
            return Err(damaged("bad magic or too short".into()));
        }
        let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes")) as usize;
        let (dims, count) = (u32_at(8), u32_at(12));
        if dims == 0 || dims > 1 << 16 || count > 1 << 20 {
            return Err(damaged(format!("implausible header (dims {dims}, count {count})")));
        }
        let expected = HEADER + count * (4 + dims) + 4;
        if bytes.len() != expected {
            return Err(damaged(format!("{} bytes, expected {expected}", bytes.len())));
        }
        if crc32fast::hash(&bytes[..expected - 4]) != u32_at(expected - 4) as u32 {
            return Err(damaged("checksum mismatch".into()));
        }
        let vectors = (0..count)
            .map(|i| {
                let at = HEADER + i * (4 + dims);
                let scale = f32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
                bytes[at + 4..at + 4 + dims].iter().map(|&b| b as i8 as f32 * scale).collect()
            })
            .collect::<Vec<Vec<f32>>>();
        if vectors.iter().flatten().any(|x| !x.is_finite()) {
            return Err(damaged("a value is not finite".into()));
        }
        Ok(Self { model_sha256: hex::encode(&bytes[16..48]), vectors })
    }

    /// Loads a set and checks it belongs to the backbone `model`.
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
        if set.vectors.first().is_some_and(|v| v.len() != model.dims) {
            return Err(BackgroundError::Damaged {
                path: path.into(),
                reason: format!("its vectors are not {}-dimensional", model.dims),
            });
        }
        Ok(set)
    }

    /// The set `config` names (`head.background`) for the backbone `model`: `None` when it is
    /// off, or when the built-in set is not there (a model without one; logged). A set that
    /// cannot be read, or belongs to another backbone, is an error.
    pub fn for_config(config: &crate::config::Config, model: &ModelInfo) -> Result<Option<Self>, BackgroundError> {
        let Some(path) = config.background_path() else { return Ok(None) };
        if config.head.background == crate::head::BackgroundSource::Builtin && !path.is_file() {
            log::warn!(
                "no built-in background set at {} for this model: \"nothing known\" is off (make one with `teachcam background`)",
                path.display()
            );
            return Ok(None);
        }
        Self::load(&path, model).map(Some)
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
        let set = BackgroundSet { model_sha256: "ab".repeat(32), vectors: vec![vec![1.0, 2.0]] };
        let mut bytes = set.encode();
        let p = Path::new("bg.bin");
        assert!(BackgroundSet::decode(&bytes, p).is_ok());
        bytes[HEADER + 5] ^= 1;
        assert!(BackgroundSet::decode(&bytes, p).unwrap_err().to_string().contains("checksum"));
        assert!(BackgroundSet::decode(&bytes[..10], p).is_err());
        assert!(BackgroundSet::decode(b"", p).is_err());
    }
}
