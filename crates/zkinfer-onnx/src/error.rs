//! Errors of the ONNX frontend.

use thiserror::Error;

/// Why an ONNX file could not be turned into a model.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OnnxError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bytes are not an ONNX model.
    #[error("not a valid ONNX model: {0}")]
    Parse(String),
    /// An operator the frontend does not support.
    #[error("unsupported ONNX op {op_type} (node {node})")]
    UnsupportedOp {
        /// ONNX op type.
        op_type: String,
        /// Node name.
        node: String,
    },
    /// A supported op used in a way the frontend does not support.
    #[error("{op_type} (node {node}): {detail}")]
    Unsupported {
        /// ONNX op type.
        op_type: String,
        /// Node name.
        node: String,
        /// What is not supported.
        detail: String,
    },
    /// A graph-level property the frontend does not support.
    #[error("unsupported model: {0}")]
    Model(String),
    /// A tensor referenced by a node is missing or malformed.
    #[error("node {node}: tensor {tensor}: {detail}")]
    Tensor {
        /// Node name.
        node: String,
        /// Tensor name.
        tensor: String,
        /// What is wrong.
        detail: String,
    },
    /// The lowered model is inconsistent.
    #[error(transparent)]
    Core(#[from] zkinfer_core::CoreError),
}
