//! Rescale fused with the activation: `2^(16-s) (acc + 2^(s-1)) = (q - 128) 2^16 + r0 + 256 r1`,
//! and the output `y` the activation of `q` saturated to 8 bits.
//!
//! Row layout (`R` lanes, each rescaling one neuron; the lanes of a row share the layer's
//! constants):
//!
//! | acc | q | y | r0 | r1 | (× R) || pow = 2^(16-s) | half = 2^(s-1) | tag | bits_lo | bits_hi |
//!
//! Lookups into the shared table, per lane: `(tag, q, y)` (an activation's rows, or the
//! saturation rows for a layer without one: `q` is a quotient in `[-192, 191]`, offset, and
//! `y` its saturated activation), `(bits_lo, r0, 0)` and `(bits_hi, r1, 0)` with
//! `bits_lo = bits_hi = 8`. The remainder is scaled to 16 bits: the right side is an integer
//! far below the field's size, and so is the left side for an integer accumulator, so
//! `r0 + 256 r1 ∈ [0, 2^16)` makes `q - 128` the floor of `(acc + 2^(s-1)) / 2^s`, the rounded
//! quotient, whatever `s ≤ 16` is, and the remainder's limbs read only the table's 8-bit range
//! rows (no row of a narrower range is needed). (A MAC accumulator whose committed bias is not
//! an integer passes when its fraction is a multiple of `2^-(16-s)`; it rounds exactly as the
//! integer bias below it does: `docs/security.md`.) Lookup inputs are plain columns: rows left
//! empty read `(0, 0, 0)`.
//!
//! A wide layer (16-bit values, [`super::rescale_wide`]) takes two rows of its lane per neuron
//! and its own gate.
//!
//! A layer whose neurons drop different numbers of bits (per-channel weight scales) is laid
//! out class by class: the neurons of one shift share rows, so the constants stay per row.
//! A class's last row, when its lanes are not all needed, repeats the class's last neuron in
//! the spare lanes (a valid row whose result nothing reads).

use halo2_proofs::circuit::{Layouter, Value};
use halo2_proofs::pasta::Fp;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector};
use halo2_proofs::poly::Rotation;

use super::table::{TableConfig, CLAMP_TAG};
use super::{copy_to, value, Cell};
use crate::eval::LayerTrace;
use crate::{VALUE_BITS, VALUE_OFFSET};

/// Advice columns of one rescale lane.
#[derive(Clone, Copy, Debug)]
pub struct RescaleLane {
    /// Accumulator (copied from the MAC or pooling chip).
    pub acc: Column<Advice>,
    /// Offset quotient `q + 128`.
    pub q: Column<Advice>,
    /// Offset output: the activation of the saturated quotient.
    pub y: Column<Advice>,
    /// Low remainder limb.
    pub r0: Column<Advice>,
    /// High remainder limb.
    pub r1: Column<Advice>,
}

// The remainder is scaled to `2 * VALUE_BITS` bits: every shift must fit them.
const _: () = assert!(crate::MAX_SHIFT <= 2 * VALUE_BITS);

/// Bits of the scaled remainder (two 8-bit limbs).
pub const REMAINDER_BITS: u32 = 2 * VALUE_BITS;

/// The limbs `(r0, r1)` of the remainder `r ∈ [0, 2^s)` of a division by `2^s`, scaled to
/// [`REMAINDER_BITS`] bits: `r · 2^(16-s) = r0 + 256 r1`.
pub fn remainder_limbs(r: i64, s: u32) -> (i64, i64) {
    let scaled = r << (REMAINDER_BITS - s.min(REMAINDER_BITS));
    (scaled & 255, scaled >> VALUE_BITS)
}

/// Advice columns per rescale lane.
pub const LANE_COLUMNS: usize = 5;

/// Lookup arguments per rescale lane.
pub const LANE_LOOKUPS: usize = 3;

/// Columns and selector of the rescale chip.
#[derive(Clone, Debug)]
pub struct RescaleConfig {
    /// The lanes.
    pub lanes: Vec<RescaleLane>,
    /// `2^(16-s)`, the remainder's scale.
    pub pow: Column<Fixed>,
    /// `2^(s-1)` (0 when `s = 0`).
    pub half: Column<Fixed>,
    /// Table tag for `(q, y)`.
    pub tag: Column<Fixed>,
    /// Bits of `r0`.
    pub bits_lo: Column<Fixed>,
    /// Bits of `r1`.
    pub bits_hi: Column<Fixed>,
    /// Enables the division gate of every lane.
    pub sel: Selector,
    /// Enable the wide division gate of every lane (on the first of its two rows).
    pub wide_sel: super::rescale_wide::WideSelectors,
}

/// Rows of a layer whose neurons drop `shifts` bits, over `lanes` lanes (two per neuron row
/// if `wide`).
pub fn rows(shifts: &[u32], lanes: usize, wide: bool) -> usize {
    let per = if wide { 2 } else { 1 };
    classes(shifts)
        .iter()
        .map(|(_, n)| per * n.len().div_ceil(lanes.max(1)))
        .sum::<usize>()
}

/// The neurons of each shift, by increasing shift (one class for a uniform layer).
fn classes(shifts: &[u32]) -> Vec<(u32, Vec<usize>)> {
    let mut by_shift = std::collections::BTreeMap::<u32, Vec<usize>>::new();
    for (j, s) in shifts.iter().enumerate() {
        by_shift.entry(*s).or_default().push(j);
    }
    by_shift.into_iter().collect()
}

/// What a layer's rescale needs to know.
#[derive(Clone, Copy, Debug)]
pub struct RescaleLayer<'a> {
    /// Name for the region.
    pub name: &'a str,
    /// Bits dropped, per neuron.
    pub shifts: &'a [u32],
    /// Table tag of the activation (ReLU or a function), if any; saturation otherwise (a wide
    /// layer reads only whether it is ReLU's).
    pub activation_tag: Option<u64>,
    /// Whether the layer's values are wide.
    pub wide: bool,
}

/// Witness values of one neuron's rescale (offset-encoded `q` and `y`).
#[derive(Clone, Copy, Debug, Default)]
pub struct RescaleRow {
    /// The accumulator (a copy of the MAC or pooling chip's cell).
    pub acc: Option<i64>,
    /// `q + 128`; for a wide layer, bits 0..8 of `q + 2^15`.
    pub q: Option<i64>,
    /// `act(sat(q)) + 128`; for a wide layer, `act(q) + 128`.
    pub y: Option<i64>,
    /// Low remainder limb.
    pub r0: Option<i64>,
    /// High remainder limb.
    pub r1: Option<i64>,
    /// Wide layers: bits 8..15 of `q + 2^15`.
    pub hi: Option<i64>,
    /// Wide layers: bit 15 of `q + 2^15`, 1 when `q ≥ 0`.
    pub sign: Option<i64>,
    /// Wide layers: the cells of the output column, 0.
    pub pad: Option<i64>,
}

/// Witness rows of a layer's rescale from the evaluator trace (`None`: `n` unknown rows).
pub fn witness_rows(
    layer: RescaleLayer<'_>,
    trace: Option<&LayerTrace>,
    n: usize,
) -> Vec<RescaleRow> {
    match trace {
        None => vec![RescaleRow::default(); n],
        Some(t) => (0..n)
            .map(|j| {
                let s = layer.shifts.get(j).copied().unwrap_or(0);
                let half = if s == 0 { 0 } else { 1i64 << (s - 1) };
                let (r0, r1) = remainder_limbs(t.acc[j] + half - (t.q[j] << s), s);
                let row = RescaleRow {
                    acc: Some(t.acc[j]),
                    q: Some(t.q[j] + VALUE_OFFSET),
                    y: Some(t.out[j] + VALUE_OFFSET),
                    r0: Some(r0),
                    r1: Some(r1),
                    ..RescaleRow::default()
                };
                if layer.wide {
                    super::rescale_wide::limbs(row, t.q[j])
                } else {
                    row
                }
            })
            .collect(),
    }
}

impl RescaleConfig {
    /// Allocates `lanes` lanes, the shared constants, each lane's division gate and its three
    /// lookups.
    pub fn configure(meta: &mut ConstraintSystem<Fp>, table: TableConfig, lanes: usize) -> Self {
        let lanes: Vec<RescaleLane> = (0..lanes.max(1))
            .map(|_| {
                let [acc, q, y, r0, r1] = [(); LANE_COLUMNS].map(|_| meta.advice_column());
                for c in [acc, y] {
                    meta.enable_equality(c);
                }
                RescaleLane { acc, q, y, r0, r1 }
            })
            .collect();
        let [pow, half, tag, bits_lo, bits_hi] = [(); 5].map(|_| meta.fixed_column());
        let sel = meta.selector();
        let wide_sel = super::rescale_wide::WideSelectors {
            id: meta.selector(),
            relu: meta.selector(),
        };
        super::rescale_wide::configure(meta, &lanes, pow, half, wide_sel);
        for l in &lanes {
            let l = *l;
            meta.create_gate("rescale", |m| {
                let s = m.query_selector(sel);
                let mut cur = |c| m.query_advice(c, Rotation::cur());
                let (acc, q, r0, r1) = (cur(l.acc), cur(l.q), cur(l.r0), cur(l.r1));
                let pow = m.query_fixed(pow);
                let half = m.query_fixed(half);
                let off = Expression::Constant(Fp::from(VALUE_OFFSET as u64));
                let base = Expression::Constant(Fp::from(256));
                let top = Expression::Constant(Fp::from(1u64 << REMAINDER_BITS));
                vec![s * ((acc + half) * pow - (q - off) * top - r0 - r1 * base)]
            });
            let zero = || Expression::Constant(Fp::zero());
            meta.lookup(|m| {
                vec![
                    (m.query_fixed(tag), table.tag),
                    (m.query_advice(l.q, Rotation::cur()), table.a),
                    (m.query_advice(l.y, Rotation::cur()), table.b),
                ]
            });
            for (bits, limb) in [(bits_lo, l.r0), (bits_hi, l.r1)] {
                meta.lookup(|m| {
                    vec![
                        (m.query_fixed(bits), table.tag),
                        (m.query_advice(limb, Rotation::cur()), table.a),
                        (zero(), table.b),
                    ]
                });
            }
        }
        RescaleConfig {
            lanes,
            pow,
            half,
            tag,
            bits_lo,
            bits_hi,
            sel,
            wide_sel,
        }
    }

    /// Rescales the accumulators of one layer, class by class of equal shift (neuron `j` of a
    /// class in lane `j % R` of the class's row `j / R`); returns the offset output cells by
    /// neuron.
    pub fn assign(
        &self,
        layouter: &mut impl Layouter<Fp>,
        layer: RescaleLayer<'_>,
        acc: &[Cell],
        rows: &[RescaleRow],
    ) -> Result<Vec<Cell>, Error> {
        if rows.len() != acc.len() || layer.shifts.len() != acc.len() {
            return Err(Error::Synthesis);
        }
        let mut out: Vec<Option<Cell>> = vec![None; acc.len()];
        for (shift, neurons) in classes(layer.shifts) {
            let cells = if layer.wide {
                self.assign_wide_class(layouter, layer, shift, &neurons, acc, rows)?
            } else {
                self.assign_class(layouter, layer, shift, &neurons, acc, rows)?
            };
            for (j, cell) in neurons.into_iter().zip(cells) {
                out[j] = Some(cell);
            }
        }
        out.into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or(Error::Synthesis)
    }

    /// The fixed cells of a division row dropping `s` bits, its first lookup reading `tag`:
    /// `2^(16-s)`, `2^(s-1)`, the tag and the remainder limbs' bits (8 each).
    pub(super) fn division_constants(&self, s: u32, tag: u64) -> [(Column<Fixed>, u64); 5] {
        let bits = u64::from(VALUE_BITS);
        [
            (self.pow, 1u64 << (REMAINDER_BITS - s.min(REMAINDER_BITS))),
            (self.half, if s == 0 { 0 } else { 1u64 << (s - 1) }),
            (self.tag, tag),
            (self.bits_lo, bits),
            (self.bits_hi, bits),
        ]
    }

    /// Lays out the neurons of one shift in one region; returns their output cells.
    fn assign_class(
        &self,
        layouter: &mut impl Layouter<Fp>,
        layer: RescaleLayer<'_>,
        s: u32,
        neurons: &[usize],
        acc: &[Cell],
        rows: &[RescaleRow],
    ) -> Result<Vec<Cell>, Error> {
        let fixed = self.division_constants(s, layer.activation_tag.unwrap_or(CLAMP_TAG));
        let lanes = self.lanes.len();
        layouter.assign_region(
            || format!("rescale {} shift {s}", layer.name),
            |mut region| {
                let mut out = Vec::with_capacity(neurons.len());
                for j in 0..neurons.len().div_ceil(lanes) {
                    self.sel.enable(&mut region, j)?;
                    for (col, v) in fixed {
                        region.assign_fixed(
                            || "rescale constant",
                            col,
                            j,
                            || Value::known(Fp::from(v)),
                        )?;
                    }
                    for (t, lane) in self.lanes.iter().enumerate() {
                        // Spare lanes of the last row repeat the class's last neuron.
                        let n = neurons[(j * lanes + t).min(neurons.len() - 1)];
                        let row = &rows[n];
                        copy_to(&mut region, &acc[n], lane.acc, j, value(row.acc))?;
                        region.assign_advice(|| "q", lane.q, j, || value(row.q))?;
                        let y_cell = region.assign_advice(|| "y", lane.y, j, || value(row.y))?;
                        region.assign_advice(|| "r0", lane.r0, j, || value(row.r0))?;
                        region.assign_advice(|| "r1", lane.r1, j, || value(row.r1))?;
                        if j * lanes + t < neurons.len() {
                            out.push(y_cell);
                        }
                    }
                }
                Ok(out)
            },
        )
    }
}
