//! Wide rescales: rounded division by `2^s` to a 16-bit quotient, over two rows of a rescale
//! lane (the lane's columns and lookups, [`super::rescale`], and a gate of its own).
//!
//! | row | acc | q | y | r0 | r1 || tag |
//! |---|---|---|---|---|---|---|
//! | first | accumulator | `lo` | 0 | `r0` | `r1` || 8 (range) |
//! | second | output `Y` | `hi` | `f` | 0 | 0 || high-limb tag |
//!
//! With `q = lo + 256 hi - 2^15` the gate (on the first row) asks
//! `acc + 2^(s-1) = q 2^s + r0 + 256 r1` and `Y = f q + 128`. The lane's lookups check
//! `lo ∈ [0, 256)` (tag 8, and the first row's `y` is 0), the remainder limbs as for an 8-bit
//! rescale, `(tag, hi, f)` in the high-limb rows (`f = 1`, or for ReLU `f = [hi ≥ 128]`, that is
//! `[q ≥ 0]`) and the second row's remainder cells 0 (bits 0). So `q ∈ [-2^15, 2^15)` is the
//! rounded quotient, and `Y - 128` its activation, unsaturated. The gate's degree is 3.

use halo2_proofs::circuit::{Layouter, Value};
use halo2_proofs::pasta::Fp;
use halo2_proofs::plonk::{Column, ConstraintSystem, Error, Expression, Fixed, Selector};
use halo2_proofs::poly::Rotation;

use super::rescale::{RescaleConfig, RescaleLane, RescaleLayer, RescaleRow};
use super::table::WIDE_ID_TAG;
use super::{copy_to, value, Cell};
use crate::{VALUE_BITS, VALUE_OFFSET, WIDE_MIN};

/// The wide witness of a neuron from its 8-bit-style row, its quotient `q` and output `out`.
pub fn limbs(row: RescaleRow, q: i64, out: i64) -> RescaleRow {
    let offset = q - WIDE_MIN;
    RescaleRow {
        q: Some(offset & 255),
        hi: Some(offset >> VALUE_BITS),
        factor: Some(i64::from(q == 0 || out == q)),
        y: Some(out + VALUE_OFFSET),
        pad: Some(0),
        ..row
    }
}

/// Adds each lane's wide gate, enabled by `sel`.
pub fn configure(
    meta: &mut ConstraintSystem<Fp>,
    lanes: &[RescaleLane],
    pow: Column<Fixed>,
    half: Column<Fixed>,
    sel: Selector,
) {
    let c = |v: i64| Expression::Constant(crate::field::fe(v));
    for l in lanes {
        meta.create_gate("wide rescale", |m| {
            let s = m.query_selector(sel);
            let acc = m.query_advice(l.acc, Rotation::cur());
            let lo = m.query_advice(l.q, Rotation::cur());
            let r0 = m.query_advice(l.r0, Rotation::cur());
            let r1 = m.query_advice(l.r1, Rotation::cur());
            let out = m.query_advice(l.acc, Rotation::next());
            let hi = m.query_advice(l.q, Rotation::next());
            let factor = m.query_advice(l.y, Rotation::next());
            let q = lo + hi * c(256) + c(WIDE_MIN);
            let division =
                acc + m.query_fixed(half) - q.clone() * m.query_fixed(pow) - r0 - r1 * c(256);
            let activation = out - factor * q - c(VALUE_OFFSET);
            vec![s.clone() * division, s * activation]
        });
    }
}

impl RescaleConfig {
    /// Lays out the wide neurons of one shift in one region (neuron `j` of the class in lane
    /// `j % R` of rows `2 (j / R)` and `2 (j / R) + 1`); returns their output cells.
    pub(super) fn assign_wide_class(
        &self,
        layouter: &mut impl Layouter<Fp>,
        layer: RescaleLayer<'_>,
        s: u32,
        neurons: &[usize],
        acc: &[Cell],
        rows: &[RescaleRow],
    ) -> Result<Vec<Cell>, Error> {
        let bits_lo = s.min(VALUE_BITS);
        let first = [
            (self.pow, 1u64 << s),
            (self.half, if s == 0 { 0 } else { 1u64 << (s - 1) }),
            (self.tag, u64::from(VALUE_BITS)),
            (self.bits_lo, u64::from(bits_lo)),
            (self.bits_hi, u64::from(s - bits_lo)),
        ];
        let second = [
            (self.pow, 0),
            (self.half, 0),
            (self.tag, layer.activation_tag.unwrap_or(WIDE_ID_TAG)),
            (self.bits_lo, 0),
            (self.bits_hi, 0),
        ];
        let lanes = self.lanes.len();
        layouter.assign_region(
            || format!("wide rescale {} shift {s}", layer.name),
            |mut region| {
                let mut out = Vec::with_capacity(neurons.len());
                for j in 0..neurons.len().div_ceil(lanes) {
                    let top = 2 * j;
                    self.wide_sel.enable(&mut region, top)?;
                    for (row, constants) in [(top, first), (top + 1, second)] {
                        for (col, v) in constants {
                            let v = Value::known(Fp::from(v));
                            region.assign_fixed(|| "wide constant", col, row, || v)?;
                        }
                    }
                    for (t, lane) in self.lanes.iter().enumerate() {
                        // Spare lanes of the last row pair repeat the class's last neuron.
                        let n = neurons[(j * lanes + t).min(neurons.len() - 1)];
                        let w = &rows[n];
                        copy_to(&mut region, &acc[n], lane.acc, top, value(w.acc))?;
                        let first = [
                            (lane.q, w.q),
                            (lane.y, w.pad),
                            (lane.r0, w.r0),
                            (lane.r1, w.r1),
                        ];
                        for (col, v) in first {
                            region.assign_advice(|| "wide", col, top, || value(v))?;
                        }
                        let y = region.assign_advice(|| "y", lane.acc, top + 1, || value(w.y))?;
                        let zero = Some(0);
                        let second = [
                            (lane.q, w.hi),
                            (lane.y, w.factor),
                            (lane.r0, zero),
                            (lane.r1, zero),
                        ];
                        for (col, v) in second {
                            region.assign_advice(|| "wide", col, top + 1, || value(v))?;
                        }
                        if j * lanes + t < neurons.len() {
                            out.push(y);
                        }
                    }
                }
                Ok(out)
            },
        )
    }
}
