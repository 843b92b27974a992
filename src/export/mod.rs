//! Taking away what teachcam learned: the trained model as one ONNX file ([`model`]) and the
//! captured examples as image folders with a manifest ([`dataset`]), which `teachcam import`
//! reads back.

pub mod dataset;
mod graph;
pub mod model;

use std::path::PathBuf;

/// Why an export (or the import of a dataset export) could not be done.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// No usable head: none trained yet, trained for another backbone or preprocessing, damaged.
    #[error(transparent)]
    Head(#[from] crate::head::HeadError),
    /// The backbone could not be loaded.
    #[error(transparent)]
    Embed(#[from] crate::embed::EmbedError),
    /// The data folder could not be read.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The backbone's ONNX file cannot be read or extended.
    #[error("cannot export model {path}: {reason}")]
    Model {
        /// The backbone file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The output file or folder cannot be written.
    #[error("output {path} {reason}")]
    Output {
        /// The output path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A stored example cannot be exported.
    #[error("example {id} ({label}) {reason}")]
    Example {
        /// Its id.
        id: String,
        /// Its label.
        label: String,
        /// What is wrong.
        reason: String,
    },
    /// A dataset export being imported is not valid; nothing was imported.
    #[error("{path} {reason}; nothing was imported")]
    BadExport {
        /// The export, or the file inside it.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A file of a dataset export changed between its check and its import.
    #[error("{0} changed while it was being imported; the files before it were imported, run the import again")]
    Changed(PathBuf),
    /// A file of a dataset export cannot be decoded or embedded.
    #[error("{path} cannot be used: {reason}; the files before it were imported")]
    Unusable {
        /// The file inside the export.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}
