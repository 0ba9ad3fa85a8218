//! halo2 chips: each owns its columns, gates and lookups (`configure`) and its assignment code.
//!
//! - [`mac`]: wide multiply-accumulate rows (dense and convolution) with base-4 weight digits
//!   and in-row packing; [`mac_shape`] says where a row's input cells sit (plain, or shared
//!   by neighbouring convolution positions), [`mac_plan`] which input feeds which cell
//!   ([`mac_patch`] for the patch rows of convolutions);
//!   [`mac_public`]: the same rows with public weights in fixed columns.
//! - [`pool`]: window maxima and sums.
//! - [`rescale`]: rounded division by `2^s` with a range-checked remainder, fused with ReLU;
//!   [`rescale_wide`]: the same for 16-bit values, over two rows.
//! - [`table`]: the one fixed lookup table (small ranges and ReLU).
//! - [`sponge`]: Poseidon sponges in parallel lanes, degree ≤ 5.

pub mod mac;
pub mod mac_patch;
pub mod mac_plan;
pub mod mac_public;
pub mod mac_shape;
pub mod pool;
pub mod rescale;
pub mod rescale_wide;
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

/// Copies `src` into `(column, row)` of `region`: assigns the witness value `v` there and
/// constrains the two cells equal. In an honest witness `v` is the source's value; keeping the
/// destination's value in the witness (instead of `copy_advice`'s source value) lets soundness
/// tests edit a copy's destination and see the equality constraint reject it.
pub fn copy_to(
    region: &mut halo2_proofs::circuit::Region<'_, Fp>,
    src: &Cell,
    column: halo2_proofs::plonk::Column<halo2_proofs::plonk::Advice>,
    row: usize,
    v: Value<Fp>,
) -> Result<Cell, halo2_proofs::plonk::Error> {
    let dst = region.assign_advice(|| "copy", column, row, || v)?;
    region.constrain_equal(src.cell(), dst.cell())?;
    Ok(dst)
}
