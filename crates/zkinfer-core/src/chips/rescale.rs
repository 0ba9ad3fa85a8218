//! Rescale fused with the activation: `acc + 2^(s-1) = (q - 128) 2^s + r0 + 256 r1`.
//!
//! Row layout (one row per neuron):
//!
//! | acc | q | y | r0 | r1 || pow = 2^s | half = 2^(s-1) | tag | bits_lo | bits_hi |
//!
//! Lookups into the shared table: `(tag, q, y)` (an activation's rows, or an 8-bit range check
//! of `q` with `y = 0`), `(bits_lo, r0, 0)` and `(bits_hi, r1, 0)` with `bits_lo = min(s, 8)`,
//! `bits_hi = s - bits_lo`, so the remainder `r0 + 256 r1` lies in `[0, 2^s)` exactly and `q`
//! is the rounded quotient. Lookup inputs are plain columns: rows left empty read `(0, 0, 0)`.

use halo2_proofs::circuit::{Layouter, Value};
use halo2_proofs::pasta::Fp;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector};
use halo2_proofs::poly::Rotation;

use super::table::TableConfig;
use super::{value, Cell};
use crate::eval::LayerTrace;
use crate::{VALUE_BITS, VALUE_OFFSET};

/// Columns and selector of the rescale chip.
#[derive(Clone, Debug)]
pub struct RescaleConfig {
    /// Accumulator (copied from the dense chip).
    pub acc: Column<Advice>,
    /// Offset quotient `q + 128`.
    pub q: Column<Advice>,
    /// Offset ReLU output (ReLU layers) or 0.
    pub y: Column<Advice>,
    /// Low remainder limb.
    pub r0: Column<Advice>,
    /// High remainder limb.
    pub r1: Column<Advice>,
    /// `2^s`.
    pub pow: Column<Fixed>,
    /// `2^(s-1)` (0 when `s = 0`).
    pub half: Column<Fixed>,
    /// Table tag for `(q, y)`.
    pub tag: Column<Fixed>,
    /// Bits of `r0`.
    pub bits_lo: Column<Fixed>,
    /// Bits of `r1`.
    pub bits_hi: Column<Fixed>,
    /// Enables the division gate.
    pub sel: Selector,
}

/// What a layer's rescale needs to know.
#[derive(Clone, Copy, Debug)]
pub struct RescaleLayer<'a> {
    /// Name for the region.
    pub name: &'a str,
    /// Bits dropped.
    pub shift: u32,
    /// Table tag of the activation (ReLU or a function), if any.
    pub activation_tag: Option<u64>,
}

/// Witness values of one rescale row (offset-encoded `q` and `y`).
#[derive(Clone, Copy, Debug, Default)]
pub struct RescaleRow {
    /// `q + 128`.
    pub q: Option<i64>,
    /// `act(q) + 128` for layers with an activation, else 0.
    pub y: Option<i64>,
    /// Low remainder limb.
    pub r0: Option<i64>,
    /// High remainder limb.
    pub r1: Option<i64>,
}

/// Witness rows of a layer's rescale from the evaluator trace (`None`: `n` unknown rows).
pub fn witness_rows(
    layer: RescaleLayer<'_>,
    trace: Option<&LayerTrace>,
    n: usize,
) -> Vec<RescaleRow> {
    let s = layer.shift;
    let half = if s == 0 { 0 } else { 1i64 << (s - 1) };
    match trace {
        None => vec![RescaleRow::default(); n],
        Some(t) => (0..n)
            .map(|j| {
                let r = t.acc[j] + half - (t.q[j] << s);
                RescaleRow {
                    q: Some(t.q[j] + VALUE_OFFSET),
                    y: Some(if layer.activation_tag.is_some() {
                        t.out[j] + VALUE_OFFSET
                    } else {
                        0
                    }),
                    r0: Some(r & 255),
                    r1: Some(r >> 8),
                }
            })
            .collect(),
    }
}

impl RescaleConfig {
    /// Allocates columns, the division gate and the three lookups.
    pub fn configure(meta: &mut ConstraintSystem<Fp>, table: TableConfig) -> Self {
        let advice = [(); 5].map(|_| meta.advice_column());
        let fixed = [(); 5].map(|_| meta.fixed_column());
        let [acc, q, y, r0, r1] = advice;
        let [pow, half, tag, bits_lo, bits_hi] = fixed;
        for c in [acc, q, y] {
            meta.enable_equality(c);
        }
        let sel = meta.selector();
        meta.create_gate("rescale", |m| {
            let s = m.query_selector(sel);
            let mut cur = |c| m.query_advice(c, Rotation::cur());
            let (acc, q, r0, r1) = (cur(acc), cur(q), cur(r0), cur(r1));
            let pow = m.query_fixed(pow);
            let half = m.query_fixed(half);
            let off = Expression::Constant(Fp::from(VALUE_OFFSET as u64));
            vec![s * (acc + half - (q - off) * pow - r0 - r1 * Expression::Constant(Fp::from(256)))]
        });
        let zero = || Expression::Constant(Fp::zero());
        meta.lookup(|m| {
            vec![
                (m.query_fixed(tag), table.tag),
                (m.query_advice(q, Rotation::cur()), table.a),
                (m.query_advice(y, Rotation::cur()), table.b),
            ]
        });
        for (bits, limb) in [(bits_lo, r0), (bits_hi, r1)] {
            meta.lookup(|m| {
                vec![
                    (m.query_fixed(bits), table.tag),
                    (m.query_advice(limb, Rotation::cur()), table.a),
                    (zero(), table.b),
                ]
            });
        }
        RescaleConfig {
            acc,
            q,
            y,
            r0,
            r1,
            pow,
            half,
            tag,
            bits_lo,
            bits_hi,
            sel,
        }
    }

    /// Rescales the accumulators of one layer; returns the offset output cells.
    pub fn assign(
        &self,
        layouter: &mut impl Layouter<Fp>,
        layer: RescaleLayer<'_>,
        acc: &[Cell],
        rows: &[RescaleRow],
    ) -> Result<Vec<Cell>, Error> {
        if rows.len() != acc.len() {
            return Err(Error::Synthesis);
        }
        let s = layer.shift;
        let bits_lo = s.min(VALUE_BITS);
        let fixed = [
            (self.pow, 1u64 << s),
            (self.half, if s == 0 { 0 } else { 1u64 << (s - 1) }),
            (self.tag, layer.activation_tag.unwrap_or(VALUE_BITS as u64)),
            (self.bits_lo, bits_lo as u64),
            (self.bits_hi, (s - bits_lo) as u64),
        ];
        layouter.assign_region(
            || format!("rescale {}", layer.name),
            |mut region| {
                let mut out = Vec::with_capacity(acc.len());
                for (j, (a, row)) in acc.iter().zip(rows).enumerate() {
                    self.sel.enable(&mut region, j)?;
                    for (col, v) in fixed {
                        region.assign_fixed(
                            || "rescale constant",
                            col,
                            j,
                            || Value::known(Fp::from(v)),
                        )?;
                    }
                    a.copy_advice(|| "acc", &mut region, self.acc, j)?;
                    let q_cell = region.assign_advice(|| "q", self.q, j, || value(row.q))?;
                    let y_cell = region.assign_advice(|| "y", self.y, j, || value(row.y))?;
                    region.assign_advice(|| "r0", self.r0, j, || value(row.r0))?;
                    region.assign_advice(|| "r1", self.r1, j, || value(row.r1))?;
                    out.push(if layer.activation_tag.is_some() {
                        y_cell
                    } else {
                        q_cell
                    });
                }
                Ok(out)
            },
        )
    }
}
