//! Wide rescales: rounded division by `2^s` to a 16-bit quotient, over two rows of a rescale
//! lane (the lane's columns and lookups, [`super::rescale`], and a gate of its own).
//!
//! | row | acc | q | y | r0 | r1 || pow | half | tag | bits_lo | bits_hi |
//! |---|---|---|---|---|---|---|---|---|---|---|
//! | first | accumulator | `lo` | 0 | `r0` | `r1` || `2^(16-s)` | `2^(s-1)` | 8 | 8 | 8 |
//! | second | output `Y` | `hi` | 0 | `b` | 0 || 0 | 0 | 7 | 1 | 0 |
//!
//! With `q = lo + 256 hi + 2^15 b - 2^15`, the gate (on the first row, one of two selectors)
//! asks `2^(16-s) (acc + 2^(s-1)) = q 2^16 + r0 + 256 r1` (the remainder scaled to 16 bits, as
//! in [`super::rescale`]) and `Y = q + 128` (selector `id`: no activation)
//! or `Y = b q + 128` (selector `relu`). The lane's lookups check
//! `lo ∈ [0, 256)`, `hi ∈ [0, 128)`, `b ∈ {0, 1}`, both rows' `y` cells 0 and the remainder
//! limbs as for an 8-bit rescale. So `q ∈ [-2^15, 2^15)` is the rounded quotient, `b` is 1
//! exactly when `q ≥ 0`, and `Y - 128` is `q` or its ReLU, unsaturated. No table rows are
//! added; the gate's degree is 3.

use halo2_proofs::circuit::{Layouter, Value};
use halo2_proofs::pasta::Fp;
use halo2_proofs::plonk::{Column, ConstraintSystem, Error, Expression, Fixed, Selector};
use halo2_proofs::poly::Rotation;

use super::rescale::{RescaleConfig, RescaleLane, RescaleLayer, RescaleRow};
use super::table::RELU_TAG;
use super::{copy_to, value, Cell};
use crate::{VALUE_BITS, VALUE_OFFSET, WIDE_MIN};

/// Bits of the second row's high limb (the sign bit is apart).
const HIGH_BITS: u32 = super::table::WIDE_HIGH_BITS as u32;

/// The wide witness of a neuron from its 8-bit-style row and its quotient `q`.
pub fn limbs(row: RescaleRow, q: i64) -> RescaleRow {
    let offset = q - WIDE_MIN;
    RescaleRow {
        q: Some(offset & 255),
        hi: Some((offset >> VALUE_BITS) & ((1 << HIGH_BITS) - 1)),
        sign: Some(offset >> (2 * VALUE_BITS - 1)),
        pad: Some(0),
        ..row
    }
}

/// The selectors of the wide gate: no activation, ReLU.
#[derive(Clone, Copy, Debug)]
pub struct WideSelectors {
    /// Wide rescales without an activation.
    pub id: Selector,
    /// Wide rescales with ReLU.
    pub relu: Selector,
}

/// Adds each lane's wide gate, enabled by `sel`.
pub fn configure(
    meta: &mut ConstraintSystem<Fp>,
    lanes: &[RescaleLane],
    pow: Column<Fixed>,
    half: Column<Fixed>,
    sel: WideSelectors,
) {
    let c = |v: i64| Expression::Constant(crate::field::fe(v));
    for l in lanes {
        meta.create_gate("wide rescale", |m| {
            let id = m.query_selector(sel.id);
            let relu = m.query_selector(sel.relu);
            let acc = m.query_advice(l.acc, Rotation::cur());
            let lo = m.query_advice(l.q, Rotation::cur());
            let r0 = m.query_advice(l.r0, Rotation::cur());
            let r1 = m.query_advice(l.r1, Rotation::cur());
            let out = m.query_advice(l.acc, Rotation::next());
            let hi = m.query_advice(l.q, Rotation::next());
            let b = m.query_advice(l.r0, Rotation::next());
            let q = lo + hi * c(256) + b.clone() * c(1 << 15) + c(WIDE_MIN);
            let top = c(1 << super::rescale::REMAINDER_BITS);
            let division = (acc + m.query_fixed(half)) * m.query_fixed(pow)
                - q.clone() * top
                - r0
                - r1 * c(256);
            vec![
                id.clone() * division.clone(),
                relu.clone() * division,
                id * (out.clone() - q.clone() - c(VALUE_OFFSET)),
                relu * (out - b * q - c(VALUE_OFFSET)),
            ]
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
        let sel = if layer.activation_tag == Some(RELU_TAG) {
            self.wide_sel.relu
        } else {
            self.wide_sel.id
        };
        let first = self.division_constants(s, u64::from(VALUE_BITS));
        let second = [
            (self.pow, 0),
            (self.half, 0),
            (self.tag, u64::from(HIGH_BITS)),
            (self.bits_lo, 1),
            (self.bits_hi, 0),
        ];
        let lanes = self.lanes.len();
        layouter.assign_region(
            || format!("wide rescale {} shift {s}", layer.name),
            |mut region| {
                let mut out = Vec::with_capacity(neurons.len());
                for j in 0..neurons.len().div_ceil(lanes) {
                    let top = 2 * j;
                    sel.enable(&mut region, top)?;
                    for (row, constants) in [(top, first), (top + 1, second)] {
                        for (col, v) in constants {
                            let v = Value::known(Fp::from(v));
                            region.assign_fixed(|| "wide constant", col, row, || v)?;
                        }
                    }
                    for (t, lane) in self.lanes.iter().enumerate() {
                        // Spare lanes of the last row pair repeat the class's last neuron.
                        let n = neurons[(j * lanes + t).min(neurons.len() - 1)];
                        let y =
                            self.assign_wide_neuron(&mut region, lane, top, &acc[n], &rows[n])?;
                        if j * lanes + t < neurons.len() {
                            out.push(y);
                        }
                    }
                }
                Ok(out)
            },
        )
    }

    /// One neuron's two rows in `lane` from row `top`; returns its output cell.
    fn assign_wide_neuron(
        &self,
        region: &mut halo2_proofs::circuit::Region<'_, Fp>,
        lane: &RescaleLane,
        top: usize,
        acc: &Cell,
        w: &RescaleRow,
    ) -> Result<Cell, Error> {
        copy_to(region, acc, lane.acc, top, value(w.acc))?;
        let first = [
            (lane.q, w.q),
            (lane.y, w.pad),
            (lane.r0, w.r0),
            (lane.r1, w.r1),
        ];
        let second = [
            (lane.q, w.hi),
            (lane.y, w.pad),
            (lane.r0, w.sign),
            (lane.r1, Some(0)),
        ];
        for (row, cells) in [(top, first), (top + 1, second)] {
            for (col, v) in cells {
                region.assign_advice(|| "wide", col, row, || value(v))?;
            }
        }
        region.assign_advice(|| "y", lane.acc, top + 1, || value(w.y))
    }
}
