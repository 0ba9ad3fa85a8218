//! halo2 chips: each owns its columns, gates and lookups (`configure`) and its assignment code.
//!
//! - [`mac`]: wide multiply-accumulate rows (dense and convolution) with base-4 weight digits
//!   and in-row packing; [`mac_plan`] says which input feeds which slot.
//! - [`pool`]: window maxima and sums.
//! - [`rescale`]: rounded division by `2^s` with a range-checked remainder, fused with ReLU.
//! - [`table`]: the one fixed lookup table (small ranges and ReLU).
//! - [`sponge`]: Poseidon sponges in parallel lanes, degree ≤ 5.

pub mod mac;
pub mod mac_plan;
pub mod pool;
pub mod rescale;
pub mod sponge;
pub mod table;

use halo2_proofs::circuit::{AssignedCell, Value};
use halo2_proofs::pasta::Fp;

/// An assigned advice cell over `Fp`.
pub type Cell = AssignedCell<Fp, Fp>;

/// A known integer as a field value, or unknown (key generation).
pub fn value(v: Option<i64>) -> Value<Fp> {
    match v {
        Some(v) => Value::known(crate::field::fe(v)),
        None => Value::unknown(),
    }
}
