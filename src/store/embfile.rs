//! The `.emb` file: one example's cached embedding(s), tied to the model that made them.
//!
//! Little-endian layout: magic `TCEMB1\0\0`, `u32` dims, `u32` vector count (1, or 2 with the
//! mirrored view), `u32` flags (bit 0: zero-shot scores present), 32-byte model sha256,
//! `f32` zero-shot dog and cat, the vectors as `f32`, then a CRC-32 of everything before it.

use crate::embed::{Embedding, ZeroShot};

const MAGIC: &[u8; 8] = b"TCEMB1\0\0";
const HEADER: usize = 8 + 4 + 4 + 4 + 32 + 8;

/// Why an embedding file cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EmbFileError {
    /// The file does not start like an embedding file or is shorter than its header.
    #[error("not a teachcam embedding file (bad magic or too short)")]
    NotEmbedding,
    /// The header's sizes make no sense.
    #[error("implausible header (dims {dims}, count {count})")]
    BadHeader {
        /// Embedding length found.
        dims: usize,
        /// Vector count found.
        count: usize,
    },
    /// The file is shorter or longer than its header says.
    #[error("truncated or padded: {len} bytes, expected {expected}")]
    Length {
        /// Bytes found.
        len: usize,
        /// Bytes the header implies.
        expected: usize,
    },
    /// The checksum does not match the content.
    #[error("checksum mismatch (file damaged)")]
    Checksum,
}

/// An embedding file's content.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbFile {
    /// Hex sha256 of the model that computed the embedding.
    pub model_sha256: String,
    /// The embedding(s).
    pub embedding: Embedding,
}

/// Serialises an embedding file.
pub fn encode(model_sha256: &str, e: &Embedding) -> Vec<u8> {
    let dims = e.vector.len();
    let count = 1 + e.mirrored.is_some() as usize;
    let mut out = Vec::with_capacity(HEADER + 4 * dims * count + 4);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(dims as u32).to_le_bytes());
    out.extend_from_slice(&(count as u32).to_le_bytes());
    out.extend_from_slice(&(e.zero_shot.is_some() as u32).to_le_bytes());
    let mut sha = [0u8; 32];
    if let Ok(raw) = hex::decode(model_sha256) {
        let n = raw.len().min(32);
        sha[..n].copy_from_slice(&raw[..n]);
    }
    out.extend_from_slice(&sha);
    let zs = e.zero_shot.unwrap_or(ZeroShot { dog: 0.0, cat: 0.0 });
    out.extend_from_slice(&zs.dog.to_le_bytes());
    out.extend_from_slice(&zs.cat.to_le_bytes());
    for v in std::iter::once(&e.vector).chain(e.mirrored.as_ref()) {
        assert_eq!(v.len(), dims, "mirrored embedding has the same length");
        v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Parses an embedding file, checking its length and checksum.
pub fn decode(bytes: &[u8]) -> Result<EmbFile, EmbFileError> {
    if bytes.len() < HEADER + 4 || &bytes[..8] != MAGIC {
        return Err(EmbFileError::NotEmbedding);
    }
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
    let f32_at = |i: usize| f32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
    let (dims, count, flags) = (u32_at(8) as usize, u32_at(12) as usize, u32_at(16));
    if !(1..=2).contains(&count) || dims == 0 || dims > 1 << 20 {
        return Err(EmbFileError::BadHeader { dims, count });
    }
    let expected = HEADER + 4 * dims * count + 4;
    if bytes.len() != expected {
        return Err(EmbFileError::Length { len: bytes.len(), expected });
    }
    let body = &bytes[..expected - 4];
    if crc32fast::hash(body) != u32_at(expected - 4) {
        return Err(EmbFileError::Checksum);
    }
    let model_sha256 = hex::encode(&bytes[20..52]);
    let zero_shot = (flags & 1 == 1).then(|| ZeroShot { dog: f32_at(52), cat: f32_at(56) });
    let vec_at = |k: usize| (0..dims).map(|i| f32_at(HEADER + 4 * (k * dims + i))).collect::<Vec<f32>>();
    let embedding = Embedding { vector: vec_at(0), mirrored: (count == 2).then(|| vec_at(1)), zero_shot };
    Ok(EmbFile { model_sha256, embedding })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Embedding {
        Embedding {
            vector: vec![0.5, -1.25, 3.0],
            mirrored: Some(vec![0.25, 1.0, -2.0]),
            zero_shot: Some(ZeroShot { dog: 0.75, cat: 0.125 }),
        }
    }

    #[test]
    fn round_trip_keeps_everything() {
        let sha = "ab".repeat(32);
        let f = decode(&encode(&sha, &sample())).unwrap();
        assert_eq!(f.model_sha256, sha);
        assert_eq!(f.embedding, sample());
        let single = Embedding { mirrored: None, zero_shot: None, ..sample() };
        assert_eq!(decode(&encode(&sha, &single)).unwrap().embedding, single);
    }

    #[test]
    fn damage_is_detected() {
        let good = encode(&"cd".repeat(32), &sample());
        let mut flipped = good.clone();
        flipped[HEADER + 2] ^= 0x10;
        assert_eq!(decode(&flipped).unwrap_err(), EmbFileError::Checksum);
        assert!(matches!(decode(&good[..good.len() - 5]).unwrap_err(), EmbFileError::Length { .. }));
        assert_eq!(decode(b"").unwrap_err(), EmbFileError::NotEmbedding);
        assert_eq!(decode(&[0u8; 200]).unwrap_err(), EmbFileError::NotEmbedding);
    }
}
