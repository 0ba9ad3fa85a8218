//! Window maxima and sums over activation cells.
//!
//! Row layout: | out | a[0..4] || fmax | fwide | fhi | mult[0..4] |
//!
//! - max rows (`fmax = 1`): `Π_i (out - a_i) = 0` (degree 5) and four lookups
//!   `(8·(fmax + fhi), fmax·(out - a_i) - 256·fwide·a_i[next] + fhi·a_i, 0)`: on an 8-bit max
//!   row `out - a_i ∈ [0, 256)`, so `out` is the largest `a_i`. A window of more than four
//!   values chains rows, `a_0` of a later row copying the previous `out`; spare slots repeat a
//!   window value.
//! - wide max rows (`fmax = fwide = 1`) are followed by a high-limb row (`fhi = 1`) whose `a_i`
//!   hold the high bytes `h_i` of the differences: its lookups read `h_i ∈ [0, 256)`, the max
//!   row's `out - a_i - 256 h_i ∈ [0, 256)`, so `out - a_i ∈ [0, 2^16)`.
//! - sum rows (`q_sum`): `out = Σ_i m_i (a_i - 128)` with fixed multipliers `m_i` (1 for
//!   average pools, powers of two aligning the scales of an addition, 0 for spare slots); a
//!   row that continues a longer sum (`q_sum_next`) adds the previous row's `out`, read
//!   through a rotation, so a running sum needs no copy (and `out` no carry column beside it).
//! - product rows (`q_dot`, continued: `q_dot_next`): `out = m_0 (a_0 - 128)(a_1 - 128) + m_2
//!   (a_2 - 128)(a_3 - 128)` (degree 4), plus the previous row's `out` on a continued row:
//!   elementwise products and dot products of two activations, two products per row.
//! - constant rows: cells of every column holding public constants (`constrain_constant`).
//! - cells no constraint reads (spare slots with multiplier 0, the result of high-limb rows)
//!   copy the fixed 128 cell, so no advice cell of the chip is free.
//!
//! Inputs and max outputs are offset-encoded; sums are plain signed integers for the rescale.

use halo2_proofs::circuit::{Layouter, Region, Value};
use halo2_proofs::pasta::Fp;
use halo2_proofs::plonk::{
    Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector, VirtualCells,
};
use halo2_proofs::poly::Rotation;

use super::table::TableConfig;
use super::{copy_to, value, Cell};
use crate::field::fe;
use crate::{VALUE_BITS, VALUE_OFFSET};

/// Window values per row.
pub const POOL_WIDTH: usize = 4;

/// Columns of the pooling chip.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// Result of the row.
    pub out: Column<Advice>,
    /// Window values.
    pub a: [Column<Advice>; POOL_WIDTH],
    /// 1 on max rows.
    pub fmax: Column<Fixed>,
    /// 1 on wide max rows (their differences' high bytes are on the next row).
    pub fwide: Column<Fixed>,
    /// 1 on the high-limb rows of wide max rows.
    pub fhi: Column<Fixed>,
    /// Multipliers of sum rows (0 for spare slots).
    pub mult: [Column<Fixed>; POOL_WIDTH],
    /// Sum rows starting a sum.
    pub q_sum: Selector,
    /// Sum rows adding to the previous row's `out`.
    pub q_sum_next: Selector,
    /// Product rows starting a sum of products.
    pub q_dot: Selector,
    /// Product rows adding to the previous row's `out`.
    pub q_dot_next: Selector,
}

/// Products per row.
pub const DOT_WIDTH: usize = POOL_WIDTH / 2;

/// Rows for the dot products of `outputs` pairs of `len`-vectors.
pub fn dot_rows(outputs: usize, len: usize) -> usize {
    outputs * len.div_ceil(DOT_WIDTH).max(1)
}

/// Rows holding `n` constants.
pub fn constant_rows(n: usize) -> usize {
    n.div_ceil(POOL_WIDTH + 1)
}

/// Rows to reduce a window of `n` values (a maximum of wide values takes two rows per step).
pub fn rows_for(n: usize, max: bool, wide: bool) -> usize {
    if max {
        let steps = 1 + n.saturating_sub(POOL_WIDTH).div_ceil(POOL_WIDTH - 1);
        if wide {
            2 * steps
        } else {
            steps
        }
    } else {
        n.div_ceil(POOL_WIDTH).max(1)
    }
}

/// The terms a sum or product row adds up, read from its cells.
type Terms<'a> = &'a dyn Fn(&mut VirtualCells<'_, Fp>) -> Expression<Fp>;

fn constant(v: u64) -> Expression<Fp> {
    Expression::Constant(Fp::from(v))
}

impl PoolConfig {
    /// Allocates columns, gates and lookups.
    pub fn configure(meta: &mut ConstraintSystem<Fp>, table: TableConfig) -> Self {
        let out = meta.advice_column();
        let a = [(); POOL_WIDTH].map(|_| meta.advice_column());
        for c in a.iter().chain([&out]) {
            meta.enable_equality(*c);
        }
        let [fmax, fwide, fhi] = [(); 3].map(|_| meta.fixed_column());
        let mult = [(); POOL_WIDTH].map(|_| meta.fixed_column());
        let [q_sum, q_sum_next, q_dot, q_dot_next] = [(); 4].map(|_| meta.selector());
        meta.create_gate("pool max", |m| {
            let f = m.query_fixed(fmax);
            let o = m.query_advice(out, Rotation::cur());
            let prod = a.iter().fold(constant(1), |p, c| {
                p * (o.clone() - m.query_advice(*c, Rotation::cur()))
            });
            vec![f * prod]
        });
        let sum = move |m: &mut VirtualCells<'_, Fp>| {
            a.iter().zip(&mult).fold(constant(0), |s, (col, mc)| {
                s + m.query_fixed(*mc)
                    * (m.query_advice(*col, Rotation::cur()) - constant(VALUE_OFFSET as u64))
            })
        };
        let prods = move |m: &mut VirtualCells<'_, Fp>| {
            let v: Vec<Expression<Fp>> = a
                .iter()
                .map(|c| m.query_advice(*c, Rotation::cur()) - constant(VALUE_OFFSET as u64))
                .collect();
            (0..DOT_WIDTH).fold(constant(0), |s, p| {
                s + m.query_fixed(mult[2 * p]) * v[2 * p].clone() * v[2 * p + 1].clone()
            })
        };
        // A first row's result is its own terms; a continued row adds the previous row's.
        let gates: [(&str, Selector, bool, Terms<'_>); 4] = [
            ("pool sum", q_sum, false, &sum),
            ("pool sum continued", q_sum_next, true, &sum),
            ("pool dot", q_dot, false, &prods),
            ("pool dot continued", q_dot_next, true, &prods),
        ];
        for (name, sel, next, terms) in gates {
            meta.create_gate(name, |m| {
                let q = m.query_selector(sel);
                let o = m.query_advice(out, Rotation::cur());
                let prev = match next {
                    true => m.query_advice(out, Rotation::prev()),
                    false => constant(0),
                };
                vec![q * (o - prev - terms(m))]
            });
        }
        for col in a {
            meta.lookup(|m| {
                let f = m.query_fixed(fmax);
                let (w, h) = (m.query_fixed(fwide), m.query_fixed(fhi));
                let o = m.query_advice(out, Rotation::cur());
                let v = m.query_advice(col, Rotation::cur());
                let high = m.query_advice(col, Rotation::next());
                let diff = f.clone() * (o - v.clone()) - w * high * constant(256) + h.clone() * v;
                vec![
                    ((f + h) * constant(VALUE_BITS as u64), table.tag),
                    (diff, table.a),
                    (constant(0), table.b),
                ]
            });
        }
        PoolConfig {
            out,
            a,
            fmax,
            fwide,
            fhi,
            mult,
            q_sum,
            q_sum_next,
            q_dot,
            q_dot_next,
        }
    }

    /// Assigns public constants (offset-encoded) into cells bound to them; `values` are the
    /// witness values (equal to `constants` unless a test corrupts them).
    pub fn constants(
        &self,
        layouter: &mut impl Layouter<Fp>,
        name: &str,
        constants: &[i64],
        values: &[i64],
    ) -> Result<Vec<Cell>, Error> {
        let cols: Vec<Column<Advice>> = [self.out].into_iter().chain(self.a).collect();
        layouter.assign_region(
            || format!("constants {name}"),
            |mut region| {
                constants
                    .iter()
                    .zip(values)
                    .enumerate()
                    .map(|(i, (c, v))| {
                        let cell = region.assign_advice(
                            || "constant",
                            cols[i % cols.len()],
                            i / cols.len(),
                            || Value::known(fe(v + VALUE_OFFSET)),
                        )?;
                        region.constrain_constant(cell.cell(), fe(c + VALUE_OFFSET))?;
                        Ok(cell)
                    })
                    .collect()
            },
        )
    }

    /// Each output is the sum of products of its pairs of (offset-encoded) cells; outputs are
    /// plain cells for the rescale. Output `o`'s cell holds `claimed[o]` where given (as in
    /// [`PoolConfig::assign`]).
    pub fn dot(
        &self,
        layouter: &mut impl Layouter<Fp>,
        name: &str,
        outputs: &[Vec<(Slot<'_>, Slot<'_>)>],
        claimed: Option<&[i64]>,
        zero: &Cell,
    ) -> Result<Vec<Cell>, Error> {
        layouter.assign_region(
            || format!("products {name}"),
            |mut region| {
                let mut row = 0;
                outputs
                    .iter()
                    .enumerate()
                    .map(|(o, pairs)| {
                        let claim = claimed.and_then(|c| c.get(o).copied());
                        self.dot_output(&mut region, &mut row, pairs, claim, zero)
                    })
                    .collect()
            },
        )
    }

    fn dot_output(
        &self,
        region: &mut Region<'_, Fp>,
        row: &mut usize,
        pairs: &[(Slot<'_>, Slot<'_>)],
        claim: Option<i64>,
        zero: &Cell,
    ) -> Result<Cell, Error> {
        let mut carry: Option<(Cell, Option<i64>)> = None;
        let chunks: Vec<&[(Slot<'_>, Slot<'_>)]> = if pairs.is_empty() {
            vec![&[]]
        } else {
            pairs.chunks(DOT_WIDTH).collect()
        };
        let last = chunks.len() - 1;
        for (c, chunk) in chunks.into_iter().enumerate() {
            let (first, next) = (self.q_dot, self.q_dot_next);
            let mut sum = self.carry_in(region, *row, carry.as_ref(), Some(0), [first, next])?;
            for p in 0..DOT_WIDTH {
                let (ca, cb) = (self.a[2 * p], self.a[2 * p + 1]);
                let m = match chunk.get(p) {
                    Some((x, y)) => {
                        copy_to(region, x.cell, ca, *row, x.offset_value())?;
                        copy_to(region, y.cell, cb, *row, y.offset_value())?;
                        sum = sum.and_then(|s| x.value.zip(y.value).map(|(u, v)| s + u * v));
                        1
                    }
                    None => {
                        for col in [ca, cb] {
                            zero.copy_advice(|| "spare", region, col, *row)?;
                        }
                        0
                    }
                };
                region.assign_fixed(
                    || "product multiplier",
                    self.mult[2 * p],
                    *row,
                    || Value::known(Fp::from(m)),
                )?;
                region.assign_fixed(
                    || "unused multiplier",
                    self.mult[2 * p + 1],
                    *row,
                    || Value::known(Fp::zero()),
                )?;
            }
            let sum = if c == last { claim.or(sum) } else { sum };
            let out = region.assign_advice(|| "products", self.out, *row, || value(sum))?;
            *row += 1;
            carry = Some((out, sum));
        }
        carry.map(|(c, _)| c).ok_or(Error::Synthesis)
    }

    /// Reduces each window to its maximum (offset-encoded cell; `wide` for 16-bit values) or
    /// its weighted sum (plain cell). A window's result cell (a sum's last row) holds
    /// `claimed[w]` where given (the trace's value: a forged trace's claim reaches the
    /// constraints as it is).
    pub fn assign(
        &self,
        layouter: &mut impl Layouter<Fp>,
        name: &str,
        (max, wide): (bool, bool),
        windows: &[Vec<Slot<'_>>],
        claimed: Option<&[i64]>,
        zero: &Cell,
    ) -> Result<Vec<Cell>, Error> {
        layouter.assign_region(
            || format!("pool {name}"),
            |mut region| {
                let mut row = 0;
                let mut outs = Vec::with_capacity(windows.len());
                for (k, w) in windows.iter().enumerate() {
                    let claim = claimed.and_then(|c| c.get(k).copied());
                    let cell = if max {
                        self.max_window(&mut region, &mut row, w, (wide, claim), zero)?
                    } else {
                        self.sum_window(&mut region, &mut row, w, claim, zero)?
                    };
                    outs.push(cell);
                }
                Ok(outs)
            },
        )
    }

    /// Enables a sum or product row: `first` on a chain's first row, `next` on a row that
    /// adds the previous row's result (`carry`, the previous row's `out`); returns the value
    /// carried in (`start` on a first row).
    fn carry_in(
        &self,
        region: &mut Region<'_, Fp>,
        row: usize,
        carry: Option<&(Cell, Option<i64>)>,
        start: Option<i64>,
        [first, next]: [Selector; 2],
    ) -> Result<Option<i64>, Error> {
        match carry {
            Some((_, v)) => {
                next.enable(region, row)?;
                Ok(*v)
            }
            None => {
                first.enable(region, row)?;
                Ok(start)
            }
        }
    }

    fn max_window(
        &self,
        region: &mut Region<'_, Fp>,
        row: &mut usize,
        w: &[Slot<'_>],
        (wide, claim): (bool, Option<i64>),
        zero: &Cell,
    ) -> Result<Cell, Error> {
        let first = w.first().ok_or(Error::Synthesis)?;
        let val = |s: &Slot<'_>| s.value.map(|v| v + VALUE_OFFSET);
        // Row 0 takes four values; later rows take the running max and three more.
        let mut running: Option<(Cell, Option<i64>)> = None;
        let mut rest = w;
        loop {
            let take = if running.is_none() {
                POOL_WIDTH
            } else {
                POOL_WIDTH - 1
            };
            let (now, later) = rest.split_at(take.min(rest.len()));
            region.assign_fixed(|| "fmax", self.fmax, *row, || Value::known(Fp::one()))?;
            let mut current: Vec<Option<i64>> = Vec::with_capacity(POOL_WIDTH);
            let mut slot = 0;
            if let Some((cell, v)) = &running {
                copy_to(region, cell, self.a[0], *row, value(*v))?;
                current.push(*v);
                slot = 1;
            }
            for k in slot..POOL_WIDTH {
                let s = now.get(k - slot).unwrap_or(first);
                copy_to(region, s.cell, self.a[k], *row, s.offset_value())?;
                current.push(val(s));
            }
            let m = match claim {
                Some(c) if later.is_empty() => Some(c + VALUE_OFFSET),
                _ => current
                    .iter()
                    .copied()
                    .try_fold(i64::MIN, |m, v| v.map(|v| m.max(v))),
            };
            let out = region.assign_advice(|| "max", self.out, *row, || value(m))?;
            *row += 1;
            if wide {
                self.high_limbs(region, row, m, &current, zero)?;
            }
            running = Some((out, m));
            if later.is_empty() {
                break;
            }
            rest = later;
        }
        running.map(|(c, _)| c).ok_or(Error::Synthesis)
    }

    /// The high-limb row after a wide max row (at `*row - 1`) whose result is `m` over the
    /// values `current`.
    fn high_limbs(
        &self,
        region: &mut Region<'_, Fp>,
        row: &mut usize,
        m: Option<i64>,
        current: &[Option<i64>],
        zero: &Cell,
    ) -> Result<(), Error> {
        let one = || Value::known(Fp::one());
        region.assign_fixed(|| "fwide", self.fwide, *row - 1, one)?;
        region.assign_fixed(|| "fhi", self.fhi, *row, one)?;
        for (col, v) in self.a.iter().zip(current) {
            let high = m.zip(*v).map(|(m, v)| (m - v) >> VALUE_BITS);
            region.assign_advice(|| "high limb", *col, *row, || value(high))?;
        }
        zero.copy_advice(|| "no result", region, self.out, *row)?;
        *row += 1;
        Ok(())
    }

    fn sum_window(
        &self,
        region: &mut Region<'_, Fp>,
        row: &mut usize,
        w: &[Slot<'_>],
        claim: Option<i64>,
        zero: &Cell,
    ) -> Result<Cell, Error> {
        let mut carry: Option<(Cell, Option<i64>)> = None;
        let chunks: Vec<&[Slot<'_>]> = if w.is_empty() {
            vec![&[]]
        } else {
            w.chunks(POOL_WIDTH).collect()
        };
        let last = chunks.len() - 1;
        let known = w.iter().all(|s| s.value.is_some());
        for (c, chunk) in chunks.into_iter().enumerate() {
            let (first, next) = (self.q_sum, self.q_sum_next);
            let start = known.then_some(0);
            let mut sum = self.carry_in(region, *row, carry.as_ref(), start, [first, next])?;
            for k in 0..POOL_WIDTH {
                match chunk.get(k) {
                    Some(s) => {
                        copy_to(region, s.cell, self.a[k], *row, s.offset_value())?;
                        region.assign_fixed(
                            || "multiplier",
                            self.mult[k],
                            *row,
                            || Value::known(fe(s.weight)),
                        )?;
                        sum = sum.and_then(|acc| s.value.map(|v| acc + v * s.weight));
                    }
                    None => {
                        // Multiplier 0: the slot does not count.
                        region.assign_fixed(
                            || "multiplier",
                            self.mult[k],
                            *row,
                            || Value::known(Fp::zero()),
                        )?;
                        zero.copy_advice(|| "spare", region, self.a[k], *row)?;
                    }
                }
            }
            let sum = if c == last { claim.or(sum) } else { sum };
            let out = region.assign_advice(|| "sum", self.out, *row, || value(sum))?;
            *row += 1;
            carry = Some((out, sum));
        }
        carry.map(|(c, _)| c).ok_or(Error::Synthesis)
    }
}

/// One value entering a window: its cell, its offset-free value when proving, and its
/// multiplier in a sum.
#[derive(Clone, Copy, Debug)]
pub struct Slot<'a> {
    /// The (offset-encoded) cell.
    pub cell: &'a Cell,
    /// Its offset-free value.
    pub value: Option<i64>,
    /// Multiplier in a sum (ignored by max).
    pub weight: i64,
}

impl Slot<'_> {
    /// The offset-encoded value its copy holds (unknown for key generation).
    fn offset_value(&self) -> Value<Fp> {
        value(self.value.map(|v| v + VALUE_OFFSET))
    }
}
