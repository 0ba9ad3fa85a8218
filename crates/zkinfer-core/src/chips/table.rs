//! The fixed lookup table shared by every range check and the ReLU.
//!
//! Rows are triples `(tag, a, b)`:
//! - `tag = t ∈ [0, 8]`: `(t, v, 0)` for `v ∈ [0, 2^t)`: "v has at most t bits";
//! - `tag = 9`: `(9, v, max(v, 128))` for `v ∈ [0, 256)`: ReLU on offset-encoded values;
//! - `tag = 10 + i`: the model's `i`-th table function (see [`TableFunction`]), 256 rows.
//!
//! 767 rows plus 256 per function, so a model without functions fits any `k ≥ 10`. An all-zero input row `(0, 0, 0)` is in the table,
//! so unused rows of a looked-up column need no selector.

use halo2_proofs::circuit::{Layouter, Value};
use halo2_proofs::pasta::Fp;
use halo2_proofs::plonk::{ConstraintSystem, Error, TableColumn};

use crate::spec::Function;
use crate::{VALUE_BITS, VALUE_OFFSET};

/// Tag of the ReLU rows.
pub const RELU_TAG: u64 = VALUE_BITS as u64 + 1;

/// The three table columns.
#[derive(Clone, Copy, Debug)]
pub struct TableConfig {
    /// Tag column.
    pub tag: TableColumn,
    /// Looked-up value.
    pub a: TableColumn,
    /// Function output (0 for range rows).
    pub b: TableColumn,
}

/// A function table: `f` from 8-bit values at `in_scale` to 8-bit values at `out_scale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableFunction {
    /// The function.
    pub function: Function,
    /// Scale exponent of its input.
    pub in_scale: u32,
    /// Scale exponent of its output.
    pub out_scale: u32,
}

/// Tag of the `i`-th function table.
pub fn function_tag(i: usize) -> u64 {
    RELU_TAG + 1 + i as u64
}

/// All `(tag, a, b)` rows of the table.
pub fn rows(functions: &[TableFunction]) -> Vec<(u64, u64, u64)> {
    let mut rows = Vec::with_capacity(768 + 256 * functions.len());
    for bits in 0..=VALUE_BITS as u64 {
        rows.extend((0..1u64 << bits).map(|v| (bits, v, 0)));
    }
    let off = VALUE_OFFSET as u64;
    rows.extend((0..2 * off).map(|v| (RELU_TAG, v, v.max(off))));
    for (i, f) in functions.iter().enumerate() {
        rows.extend((0..2 * off).map(|v| {
            let y = crate::quant::activation::apply(
                f.function,
                v as i64 - VALUE_OFFSET,
                f.in_scale,
                f.out_scale,
            );
            (function_tag(i), v, (y + VALUE_OFFSET) as u64)
        }));
    }
    rows
}

impl TableConfig {
    /// Allocates the table columns.
    pub fn configure(meta: &mut ConstraintSystem<Fp>) -> Self {
        TableConfig {
            tag: meta.lookup_table_column(),
            a: meta.lookup_table_column(),
            b: meta.lookup_table_column(),
        }
    }

    /// Fills the table.
    pub fn load(
        &self,
        layouter: &mut impl Layouter<Fp>,
        functions: &[TableFunction],
    ) -> Result<(), Error> {
        let rows = rows(functions);
        layouter.assign_table(
            || "range and activation table",
            |mut t| {
                for (i, (tag, a, b)) in rows.iter().copied().enumerate() {
                    t.assign_cell(|| "tag", self.tag, i, || Value::known(Fp::from(tag)))?;
                    t.assign_cell(|| "a", self.a, i, || Value::known(Fp::from(a)))?;
                    t.assign_cell(|| "b", self.b, i, || Value::known(Fp::from(b)))?;
                }
                Ok(())
            },
        )
    }
}
