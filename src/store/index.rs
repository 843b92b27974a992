//! `index.json` of the file layout used before the SQLite store (version 1): read only to
//! migrate such a data folder, and to show it without writing when it cannot be migrated.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where an example came from (`source` in `index.json`, `origin` in the database).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Origin {
    /// Captured from the camera with a button (`"camera"` in `index.json`).
    Camera,
    /// Imported from this file (its path in `index.json`).
    File(PathBuf),
    /// Found in the example folders but not in the index, and re-added (`"recovered"`).
    #[default]
    Recovered,
}

impl From<String> for Origin {
    fn from(s: String) -> Self {
        match s.as_str() {
            "camera" => Origin::Camera,
            "recovered" | "" => Origin::Recovered,
            _ => Origin::File(PathBuf::from(s)),
        }
    }
}

impl From<Origin> for String {
    fn from(o: Origin) -> Self {
        match o {
            Origin::Camera => "camera".into(),
            Origin::Recovered => "recovered".into(),
            Origin::File(p) => p.display().to_string(),
        }
    }
}

/// One stored example as recorded in the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// Unique id; also the file stem of the example's files. Ids sort in capture order.
    pub id: String,
    /// The label it is an example of.
    pub label: String,
    /// Image file name inside `examples/<label>/`.
    pub image: String,
    /// Hex sha256 of the image bytes (to skip duplicates on import).
    pub sha256: String,
    /// Where it came from (`source` in the file: the imported file's path, `camera` or
    /// `recovered`).
    #[serde(default, rename = "source")]
    pub origin: Origin,
    /// Seconds since the Unix epoch when it was added.
    #[serde(default)]
    pub added: u64,
}

/// The whole index file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Index {
    /// Format version.
    pub version: u32,
    /// All examples, in id order.
    pub examples: Vec<IndexEntry>,
}
