//! Errors of the core crate.

use thiserror::Error;

/// Everything that can go wrong while building, quantizing, evaluating or proving a model.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CoreError {
    /// The model's structure is not one the circuit supports.
    #[error("unsupported model structure: {0}")]
    Unsupported(String),
    /// Two shapes that must agree do not.
    #[error("shape mismatch at {context}: expected {expected}, got {got}")]
    ShapeMismatch {
        /// Where the mismatch was found (layer or node name).
        context: String,
        /// What was expected.
        expected: String,
        /// What was found.
        got: String,
    },
    /// An input vector has the wrong number of values.
    #[error("input has {got} values, the model expects {expected}")]
    InputLength {
        /// Values the model expects.
        expected: usize,
        /// Values given.
        got: usize,
    },
    /// A float value is NaN or infinite.
    #[error("{what} contains a non-finite value at index {index}")]
    NonFinite {
        /// What was being read.
        what: String,
        /// Index of the first bad value.
        index: usize,
    },
    /// A quantized value does not fit the circuit's range.
    #[error("layer {layer} ({name}): {what} value {value} is outside [{min}, {max}]")]
    Overflow {
        /// Index of the layer.
        layer: usize,
        /// Name of the layer.
        name: String,
        /// What overflowed.
        what: &'static str,
        /// The offending value.
        value: i64,
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// The calibration data cannot be used.
    #[error("calibration: {0}")]
    Calibration(String),
    /// A public spec is inconsistent or out of the supported bounds.
    #[error("invalid spec: {0}")]
    InvalidSpec(String),
    /// A halo2 call failed.
    #[error("halo2 {stage}: {source:?}")]
    Halo2 {
        /// What was being done.
        stage: &'static str,
        /// The halo2 error.
        source: halo2_proofs::plonk::Error,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Encoding or decoding an artifact failed.
    #[error("{what}: {detail}")]
    Format {
        /// Which artifact.
        what: &'static str,
        /// What is wrong.
        detail: String,
    },
}

impl CoreError {
    /// Wraps a halo2 error with the stage it came from.
    pub fn halo2(stage: &'static str) -> impl FnOnce(halo2_proofs::plonk::Error) -> Self {
        move |source| CoreError::Halo2 { stage, source }
    }

    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| CoreError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
