//! The fixed lookup table shared by every range check and the ReLU.
//!
//! Rows are triples `(tag, a, b)`:
//! - `tag = t ∈ {0, 1, 7, 8}`: `(t, v, 0)` for `v ∈ [0, 2^t)`: "v has at most t bits" (the
//!   8-bit range for remainder limbs and maxima, 0 for unused rows; the 7- and 1-bit ranges
//!   for the high limb and sign of wide rescales);
//! - `tag = 9`: `(9, q + 128, max(sat(q), 0) + 128)`: ReLU;
//! - `tag = 10`: `(10, q + 128, sat(q) + 128)`: saturation (layers without an activation);
//! - `tag = 11 + i`: `(11 + i, q + 128, f(sat(q)) + 128)`, the model's `i`-th table function
//!   (see [`TableFunction`]);
//!
//! where `q` ranges over the quotients a rescale accepts, `[-192, 191]` (384 rows per tag), and
//! `sat(q)` clamps it to the 8-bit range `[-128, 127]`. Every table holds the 257 rows of
//! tags 0 and 8; the 130 of tags 1 and 7 only when a wide rescale reads them, the ReLU and
//! saturation rows only when an 8-bit rescale does (a model whose rescales are all 16-bit has
//! 387 rows and fits `k = 9`), and 384 rows per function. An all-zero input row `(0, 0, 0)` is
//! in the table, so unused rows of a looked-up column need no selector.

use halo2_proofs::circuit::{Layouter, Value};
use halo2_proofs::pasta::Fp;
use halo2_proofs::plonk::{ConstraintSystem, Error, TableColumn};

use crate::field::fe;
use crate::spec::Function;
use crate::{QUOTIENT_MAX, QUOTIENT_MIN, VALUE_BITS, VALUE_MAX, VALUE_MIN, VALUE_OFFSET};

/// Bits of a wide rescale's high limb (its range tag; the sign bit is apart).
pub const WIDE_HIGH_BITS: u64 = VALUE_BITS as u64 - 1;

/// Tag of the ReLU rows.
pub const RELU_TAG: u64 = VALUE_BITS as u64 + 1;
/// Tag of the saturation rows (rescales without an activation).
pub const CLAMP_TAG: u64 = RELU_TAG + 1;

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
    CLAMP_TAG + 1 + i as u64
}

/// What a circuit's table holds beyond the 8-bit range rows. Leaving out rows no lookup reads
/// only narrows what the lookups accept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableContents {
    /// The 7- and 1-bit range rows: a wide rescale reads them.
    pub wide: bool,
    /// ReLU rows: an 8-bit rescale applies ReLU.
    pub relu: bool,
    /// Saturation rows: an 8-bit rescale has no activation.
    pub clamp: bool,
    /// The function tables, by index (tag [`function_tag`]).
    pub functions: Vec<TableFunction>,
}

/// `(tag, q + 128, g(sat(q)) + 128)` for every quotient `q` a rescale accepts.
fn quotient_rows(tag: u64, g: impl Fn(i64) -> i64) -> impl Iterator<Item = (u64, i64, i64)> {
    (QUOTIENT_MIN..=QUOTIENT_MAX).map(move |q| {
        let y = g(q.clamp(VALUE_MIN, VALUE_MAX));
        (tag, q + VALUE_OFFSET, y + VALUE_OFFSET)
    })
}

/// All `(tag, a, b)` rows of the table (`a` is negative for quotients below `-128`).
pub fn rows(contents: &TableContents) -> Vec<(u64, i64, i64)> {
    let per_tag = (QUOTIENT_MAX - QUOTIENT_MIN + 1) as usize;
    let mut rows = Vec::with_capacity(387 + per_tag * (2 + contents.functions.len()));
    let ranges: &[u64] = match contents.wide {
        true => &[0, 1, WIDE_HIGH_BITS, VALUE_BITS as u64],
        false => &[0, VALUE_BITS as u64],
    };
    for &bits in ranges {
        rows.extend((0..1i64 << bits).map(|v| (bits, v, 0)));
    }
    if contents.relu {
        rows.extend(quotient_rows(RELU_TAG, |q| q.max(0)));
    }
    if contents.clamp {
        rows.extend(quotient_rows(CLAMP_TAG, |q| q));
    }
    for (i, f) in contents.functions.iter().enumerate() {
        let apply = |q| crate::function::apply(f.function, q, f.in_scale, f.out_scale);
        rows.extend(quotient_rows(function_tag(i), apply));
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
        contents: &TableContents,
    ) -> Result<(), Error> {
        let rows = rows(contents);
        layouter.assign_table(
            || "range and activation table",
            |mut t| {
                for (i, (tag, a, b)) in rows.iter().copied().enumerate() {
                    t.assign_cell(|| "tag", self.tag, i, || Value::known(Fp::from(tag)))?;
                    t.assign_cell(|| "a", self.a, i, || Value::known(fe(a)))?;
                    t.assign_cell(|| "b", self.b, i, || Value::known(fe(b)))?;
                }
                Ok(())
            },
        )
    }
}
