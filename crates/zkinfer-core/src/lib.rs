//! Core of zkinfer: the model IR, fixed-point quantization, the integer reference evaluator,
//! the weight commitment, and the halo2 circuit that proves one inference.
//!
//! Vocabulary:
//! - **IR** ([`ir`]): a float model as the ONNX frontend hands it over (dense layers, ReLU, shapes).
//! - **Quantized model** ([`model::QuantModel`]): the public [`spec::ModelSpec`] plus the private
//!   [`model::ModelWeights`].
//! - **Evaluator** ([`eval`]): integer semantics of the quantized model; it computes exactly what
//!   the circuit proves and is both the witness generator and the test oracle.
//! - **Chips** ([`chips`]): halo2 configs and assignment code, one per gate family.
//! - **Circuit** ([`circuit`]): the model circuit, its plan (rows, `k`) and public-input layout.
//! - **Artifacts** ([`artifacts`]): the private `.zkm` model file and the proof bundle.

pub mod artifacts;
pub mod chips;
pub mod circuit;
pub mod commit;
pub mod compile;
pub mod cost;
pub mod digest;
pub mod error;
pub mod eval;
pub mod field;
pub mod function;
pub mod geometry;
pub mod ir;
pub mod keys;
pub mod model;
pub mod params;
pub mod poseidon;
pub mod progress;
pub mod quant;
pub mod salt;
pub mod spec;
pub mod testing;

pub use error::CoreError;
pub use halo2_proofs::pasta::{EqAffine, Fp};

/// Bits of every committed activation and weight.
pub const VALUE_BITS: u32 = 8;
/// Offset added to signed 8-bit values so that committed cells hold small non-negative integers.
pub const VALUE_OFFSET: i64 = 1 << (VALUE_BITS - 1);
/// Smallest representable quantized value.
pub const VALUE_MIN: i64 = -VALUE_OFFSET;
/// Largest representable quantized value.
pub const VALUE_MAX: i64 = VALUE_OFFSET - 1;
/// Smallest quotient a rescale accepts (one and a half times the 8-bit range, so that the
/// table's 384 rows per tag let a model with six functions fit `k = 12`): quotients below
/// [`VALUE_MIN`] saturate to it.
pub const QUOTIENT_MIN: i64 = 3 * VALUE_MIN / 2;
/// Largest quotient a rescale accepts: quotients above [`VALUE_MAX`] saturate to it.
pub const QUOTIENT_MAX: i64 = -QUOTIENT_MIN - 1;
/// Largest rescale shift (bits dropped by one rounded division) the circuit supports.
pub const MAX_SHIFT: u32 = 16;
/// Bits of a wide activation (a layer whose spec sets `wide`): two 8-bit limbs.
pub const WIDE_BITS: u32 = 2 * VALUE_BITS;
/// Smallest wide value (wide values do not saturate: a quotient beyond is refused).
pub const WIDE_MIN: i64 = -(1 << (WIDE_BITS - 1));
/// Largest wide value.
pub const WIDE_MAX: i64 = -WIDE_MIN - 1;
