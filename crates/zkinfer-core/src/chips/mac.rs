//! Multiply-accumulate rows for dense and convolution layers, weights as base-4 digits.
//!
//! Row layout (`P` weights, the layout's `mac_width`; `G` input groups, its `mac_groups`):
//!
//! | `x[c]` for c < C | `d[i][0..4]` for i < P | `acc[g]` for g < G | bias | packed |
//!
//! Group `g` reads weight `i`'s input from cell `x[shape.cell(g, i)]` ([`MacShape`]): `C = G·P`
//! cells of its own per group in a plain shape, or kernel rows' cells shared by neighbouring
//! convolution positions in a patch shape.
//!
//! - weight `w_i = Σ_k 4^k d[i][k] - 128`, each digit in `{0,1,2,3}` (degree-4 check), so
//!   every weight lies in `[-128, 127]` without a lookup;
//! - every group multiplies the same `P` weights with its own `P` offset inputs: a dense row
//!   uses group 0; a convolution row computes `G` output positions of one filter, so each
//!   weight serves `G` products per row; every slot without an input (zero padding, the slots
//!   past the end of a kernel, the groups past the last item) copies one cell fixed to 128, so
//!   it adds nothing whatever its weight;
//! - the slots past the row's weights (past the end of a kernel, or a square patch row's spare
//!   slots) hold the zero weight: a fixed column per slot (`pad[i]`, 1 where slot `i` is past
//!   the row's weights) enforces `pad[i] · (w_i + 128 - 128) = 0`,
//!   so a row's packed element is the one [`pack_row`] computes from the real weights and a
//!   commitment cannot hold anything else;
//! - first chunk: `acc[g] = bias + Σ_i (x[cell(g, i)] - 128) w_i`; later chunks add to the previous
//!   row's `acc[g]`;
//! - `packed = Σ_i (w_i + 128) 256^i` (injective: every byte is range-checked). A filter's
//!   first position block commits its packed weights; later blocks copy that packed cell (and
//!   the bias), which pins their digits to the same weights.
//!
//! - a later chunk has no bias: its bias cell copies the fixed 128 cell (no gate reads it).
//!
//! Degrees: MAC 3, digit range 5, packing 2, padding 2.

use halo2_proofs::circuit::{Layouter, Value};
use halo2_proofs::pasta::Fp;
use halo2_proofs::plonk::{
    Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector, VirtualCells,
};
use halo2_proofs::poly::Rotation;

use super::mac_shape::MacShape;
use super::{copy_to, value, Cell};
use crate::commit::pack_row;
use crate::VALUE_OFFSET;

/// Base-4 digits per weight.
pub const DIGITS: usize = 4;

/// Columns and selectors of the MAC chip.
#[derive(Clone, Debug)]
pub struct MacConfig {
    /// Where each group's inputs sit among `x`.
    pub shape: MacShape,
    /// Offset input cells; group `g` reads weight `i`'s input from `x[shape.cell(g, i)]`.
    pub x: Vec<Column<Advice>>,
    /// Weight digits.
    pub digits: Vec<[Column<Advice>; DIGITS]>,
    /// Running accumulators, one per group.
    pub acc: Vec<Column<Advice>>,
    /// Bias (first chunk of a filter).
    pub bias: Column<Advice>,
    /// Packed weights of the row.
    pub packed: Column<Advice>,
    /// First chunk of a filter.
    pub q_first: Selector,
    /// Later chunk of a filter.
    pub q_next: Selector,
    /// Every MAC row (digit ranges and packing).
    pub q_row: Selector,
    /// `pad[i - 1]` is 1 where weight slot `i` lies past the row's weights (the end of the
    /// kernel, or a square patch row's spare slots; slot 0 never does): that weight must be 0.
    pub pad: Vec<Column<Fixed>>,
}

/// Where an input slot's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XSource {
    /// Input cell `i` of the layer.
    Input(usize),
    /// No input (zero padding, past the end of the kernel, or a group past the last item):
    /// the cell is a copy of the constant `0` (offset `128`).
    Zero,
}

/// The public shape of one MAC row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MacRowPlan {
    /// First chunk of a filter (the accumulator starts from the bias).
    pub first: bool,
    /// Input sources, one per input cell of the row ([`MacShape::cells`]).
    pub x: Vec<XSource>,
    /// Row whose packed weights (and bias, on first chunks) this row reuses.
    pub reuse: Option<usize>,
    /// Output index of each group's accumulator, on the last chunk.
    pub outputs: Vec<Option<usize>>,
    /// Filter index, to read the weights (in a tile row: group 0's filter).
    pub filter: usize,
    /// Filters of a tile row: group `g < span` computes filter `filter + g`, the groups after
    /// them hold zero weights; 1 in other rows, where every group shares `filter`.
    pub span: usize,
    /// Index of the row's first weight within the filter's kernel (its chunk times the weights
    /// per chunk: the width, or a square patch row's whole channels).
    pub offset: usize,
    /// Weight slots holding the kernel's weights (the rest hold the zero weight).
    pub weights: usize,
}

/// Witness values of one MAC row (`None`: unknown, for key generation).
#[derive(Clone, Debug)]
pub struct MacRow {
    /// Base-4 digits of each offset weight.
    pub digits: Vec<[Option<i64>; DIGITS]>,
    /// Offset input values, one per input cell.
    pub x: Vec<Option<i64>>,
    /// Accumulators after this row.
    pub acc: Vec<Option<i64>>,
    /// The bias cell: the filter's bias on a first chunk, the offset zero (128) on later ones.
    pub bias: Option<i64>,
    /// Packed weights.
    pub packed: Value<Fp>,
}

/// Cells a MAC layer hands on.
#[derive(Clone, Debug)]
pub struct MacOutput {
    /// Output accumulators, by output index.
    pub acc: Vec<Cell>,
    /// Packed weights committed by this layer, in message order.
    pub packed: Vec<Cell>,
    /// Biases committed by this layer, one per filter.
    pub bias: Vec<Cell>,
}

fn constant(v: u64) -> Expression<Fp> {
    Expression::Constant(Fp::from(v))
}

impl MacConfig {
    /// Allocates the columns of `shape` and creates the gates. A tile shape has no committed
    /// form (its groups would need a digit set each): the layout menu holds it only with public
    /// weights.
    pub fn configure(meta: &mut ConstraintSystem<Fp>, shape: MacShape) -> Self {
        assert!(!shape.tile, "tile rows hold public weights only");
        let (groups, width) = (shape.groups, shape.width);
        let x: Vec<_> = (0..shape.cells()).map(|_| meta.advice_column()).collect();
        let digits: Vec<[Column<Advice>; DIGITS]> = (0..width)
            .map(|_| std::array::from_fn(|_| meta.advice_column()))
            .collect();
        let acc: Vec<_> = (0..groups).map(|_| meta.advice_column()).collect();
        let (bias, packed) = (meta.advice_column(), meta.advice_column());
        for c in x.iter().chain(&acc).chain([&bias, &packed]) {
            meta.enable_equality(*c);
        }
        let cfg = MacConfig {
            shape,
            x,
            digits,
            acc,
            bias,
            packed,
            q_first: meta.selector(),
            q_next: meta.selector(),
            q_row: meta.selector(),
            pad: (1..width).map(|_| meta.fixed_column()).collect(),
        };
        let c = cfg.clone();
        meta.create_gate("mac digits and packing", move |m| {
            let q = m.query_selector(c.q_row);
            let w_off = c.weights(m);
            let mut out = Vec::with_capacity(c.width() * DIGITS + 1);
            for d in c.digits.iter().flatten() {
                let d = m.query_advice(*d, Rotation::cur());
                let range = (0..4u64).fold(constant(1), |p, v| p * (d.clone() - constant(v)));
                out.push(q.clone() * range);
            }
            let packed = w_off
                .iter()
                .rev()
                .fold(constant(0), |acc, w| acc * constant(256) + w.clone());
            out.push(q * (m.query_advice(c.packed, Rotation::cur()) - packed));
            out
        });
        let c = cfg.clone();
        meta.create_gate("mac weight padding", move |m| {
            let w_off = c.weights(m);
            c.pad
                .iter()
                .zip(&w_off[1..])
                .map(|(pad, w)| m.query_fixed(*pad) * (w.clone() - constant(VALUE_OFFSET as u64)))
                .collect::<Vec<_>>()
        });
        let (c, d) = (cfg.clone(), cfg.clone());
        chunk_gates(
            meta,
            ["mac first chunk", "mac next chunk"],
            (cfg.q_first, cfg.q_next),
            &cfg.acc,
            move |m| vec![m.query_advice(c.bias, Rotation::cur()); c.acc.len()],
            move |m| d.dots(m),
        );
        cfg
    }

    /// Weights per row.
    pub fn width(&self) -> usize {
        self.digits.len()
    }

    /// Offset weights `w_i + 128` of the current row as expressions of the digits.
    fn weights(&self, m: &mut VirtualCells<'_, Fp>) -> Vec<Expression<Fp>> {
        self.digits
            .iter()
            .map(|ds| {
                ds.iter().rev().fold(constant(0), |acc, d| {
                    acc * constant(4) + m.query_advice(*d, Rotation::cur())
                })
            })
            .collect()
    }

    /// `Σ_i (x[cell(g, i)] - 128) w_i` for every group `g`.
    fn dots(&self, m: &mut VirtualCells<'_, Fp>) -> Vec<Expression<Fp>> {
        let w = self.weights(m);
        let off = constant(VALUE_OFFSET as u64);
        let w: Vec<_> = w.into_iter().map(|w| w - off.clone()).collect();
        dots(self.shape, &self.x, &[w], m)
    }

    /// Lays out one layer's MAC rows; `outputs` is the number of output accumulators and
    /// `zero` a cell fixed to the offset zero (128) that padding slots copy.
    #[allow(clippy::too_many_arguments)]
    pub fn assign(
        &self,
        layouter: &mut impl Layouter<Fp>,
        name: &str,
        plan: &[MacRowPlan],
        rows: &[MacRow],
        inputs: &[Cell],
        zero: &Cell,
        outputs: usize,
    ) -> Result<MacOutput, Error> {
        if plan.len() != rows.len() {
            return Err(Error::Synthesis);
        }
        let mut out_acc: Vec<Option<Cell>> = vec![None; outputs];
        let mut packed_cells: Vec<Cell> = Vec::with_capacity(plan.len());
        let mut bias_cells: Vec<Cell> = Vec::with_capacity(plan.len());
        let mut committed_packed = Vec::new();
        let mut committed_bias = Vec::new();
        // One region per run of chunks that starts at a first chunk: gates reach back only
        // within a run, and small regions keep MockProver's per-region checks fast.
        let mut start = 0;
        while start < plan.len() {
            let end = (start + 1..plan.len())
                .find(|&r| plan[r].first)
                .unwrap_or(plan.len());
            let run = self.assign_run(
                layouter,
                name,
                start,
                &plan[start..end],
                &rows[start..end],
                inputs,
                zero,
                (&packed_cells, &bias_cells),
            )?;
            for (r, (p, (packed, bias, accs))) in plan[start..end].iter().zip(run).enumerate() {
                for (g, cell) in accs.into_iter().enumerate() {
                    if let Some(o) = p.outputs.get(g).copied().flatten() {
                        // Each output once: a second would leave the first unbound.
                        let slot = out_acc.get_mut(o).ok_or(Error::Synthesis)?;
                        if slot.replace(cell).is_some() {
                            return Err(Error::Synthesis);
                        }
                    }
                }
                if p.reuse.is_none() {
                    committed_packed.push(packed.clone());
                    if p.first {
                        committed_bias.push(bias.clone());
                    }
                }
                debug_assert_eq!(packed_cells.len(), start + r);
                packed_cells.push(packed);
                bias_cells.push(bias);
            }
            start = end;
        }
        Ok(MacOutput {
            acc: out_acc
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .ok_or(Error::Synthesis)?,
            packed: committed_packed,
            bias: committed_bias,
        })
    }

    /// Lays out rows `first_row..` of a layer (one filter's chunks) in one region; returns each
    /// row's packed-weights, bias and accumulator cells. `earlier` holds the packed-weights and
    /// bias cells of the rows before, which reusing rows are bound to.
    #[allow(clippy::too_many_arguments)] // one run of the layer's row plan
    #[allow(clippy::type_complexity)] // (packed, bias, accumulators) per row
    fn assign_run(
        &self,
        layouter: &mut impl Layouter<Fp>,
        name: &str,
        first_row: usize,
        plan: &[MacRowPlan],
        rows: &[MacRow],
        inputs: &[Cell],
        zero: &Cell,
        earlier: (&[Cell], &[Cell]),
    ) -> Result<Vec<(Cell, Cell, Vec<Cell>)>, Error> {
        layouter.assign_region(
            || format!("mac {name} row {first_row}"),
            |mut region| {
                let mut out = Vec::with_capacity(plan.len());
                for (r, (p, row)) in plan.iter().zip(rows).enumerate() {
                    self.q_row.enable(&mut region, r)?;
                    let sel = if p.first { self.q_first } else { self.q_next };
                    sel.enable(&mut region, r)?;
                    if p.weights == 0 || p.weights > self.width() {
                        return Err(Error::Synthesis);
                    }
                    for pad in self.pad.iter().skip(p.weights - 1) {
                        region.assign_fixed(
                            || "weight padding",
                            *pad,
                            r,
                            || Value::known(Fp::one()),
                        )?;
                    }
                    copy_inputs(&mut region, &self.x, r, (p, row), inputs, zero)?;
                    for (i, ds) in row.digits.iter().enumerate() {
                        for (k, d) in ds.iter().enumerate() {
                            region.assign_advice(|| "digit", self.digits[i][k], r, || value(*d))?;
                        }
                    }
                    let accs = row
                        .acc
                        .iter()
                        .enumerate()
                        .map(|(g, a)| region.assign_advice(|| "acc", self.acc[g], r, || value(*a)))
                        .collect::<Result<Vec<_>, _>>()?;
                    let bias = if p.first {
                        region.assign_advice(|| "bias", self.bias, r, || value(row.bias))?
                    } else {
                        copy_to(&mut region, zero, self.bias, r, value(row.bias))?
                    };
                    let packed =
                        region.assign_advice(|| "packed", self.packed, r, || row.packed)?;
                    if let Some(master) = p.reuse {
                        // The master row is an earlier run's or this run's.
                        let (m_packed, m_bias) = match master.checked_sub(first_row) {
                            Some(local) => {
                                let (mp, mb, _) = out.get(local).ok_or(Error::Synthesis)?;
                                (mp, mb)
                            }
                            None => (
                                earlier.0.get(master).ok_or(Error::Synthesis)?,
                                earlier.1.get(master).ok_or(Error::Synthesis)?,
                            ),
                        };
                        region.constrain_equal(m_packed.cell(), packed.cell())?;
                        if p.first {
                            region.constrain_equal(m_bias.cell(), bias.cell())?;
                        }
                    }
                    out.push((packed, bias, accs));
                }
                Ok(out)
            },
        )
    }
}

/// The chunk gates of both MAC chips, named `names` (first, next): per group `g`,
/// `acc = bias[g] + dot` on a first chunk and `acc = acc[prev] + dot` on a later one.
pub(super) fn chunk_gates(
    meta: &mut ConstraintSystem<Fp>,
    names: [&'static str; 2],
    (q_first, q_next): (Selector, Selector),
    acc: &[Column<Advice>],
    bias: impl Fn(&mut VirtualCells<'_, Fp>) -> Vec<Expression<Fp>> + 'static,
    dots: impl Fn(&mut VirtualCells<'_, Fp>) -> Vec<Expression<Fp>> + Clone + 'static,
) {
    let (acc_first, dots_first) = (acc.to_vec(), dots.clone());
    meta.create_gate(names[0], move |m| {
        let q = m.query_selector(q_first);
        let bias = bias(m);
        let dots = dots_first(m);
        acc_first
            .iter()
            .zip(dots)
            .zip(bias)
            .map(|((a, dot), bias)| {
                let acc = m.query_advice(*a, Rotation::cur());
                q.clone() * (acc - bias - dot)
            })
            .collect::<Vec<_>>()
    });
    let acc = acc.to_vec();
    meta.create_gate(names[1], move |m| {
        let q = m.query_selector(q_next);
        let dots = dots(m);
        acc.iter()
            .zip(dots)
            .map(|(a, dot)| {
                let now = m.query_advice(*a, Rotation::cur());
                let prev = m.query_advice(*a, Rotation::prev());
                q.clone() * (now - prev - dot)
            })
            .collect::<Vec<_>>()
    });
}

/// `Σ_i (x[cell(g, i)] - 128) · w[g][i]` for every group `g` of `shape`, with `w` the row's
/// weight sets as expressions: one per group, or one that every group shares (both MAC
/// chips).
pub(super) fn dots(
    shape: MacShape,
    x: &[Column<Advice>],
    w: &[Vec<Expression<Fp>>],
    m: &mut VirtualCells<'_, Fp>,
) -> Vec<Expression<Fp>> {
    let off = constant(VALUE_OFFSET as u64);
    let cells: Vec<_> = x
        .iter()
        .map(|c| m.query_advice(*c, Rotation::cur()) - off.clone())
        .collect();
    (0..shape.groups)
        .map(|g| {
            let w = &w[g % w.len()];
            w.iter().enumerate().fold(constant(0), |acc, (i, w)| {
                acc + cells[shape.cell(g, i)].clone() * w.clone()
            })
        })
        .collect()
}

/// Copies row `r`'s input cells (plan `p`, witness `row`) into the columns `x`: each from its
/// source, the layer's input `i` or the offset zero (both MAC chips).
pub(super) fn copy_inputs(
    region: &mut halo2_proofs::circuit::Region<'_, Fp>,
    x: &[Column<Advice>],
    r: usize,
    (p, row): (&MacRowPlan, &MacRow),
    inputs: &[Cell],
    zero: &Cell,
) -> Result<(), Error> {
    if p.x.len() != x.len() || row.x.len() != x.len() {
        return Err(Error::Synthesis);
    }
    for ((src, v), col) in p.x.iter().zip(&row.x).zip(x) {
        let source = match src {
            XSource::Input(i) => inputs.get(*i).ok_or(Error::Synthesis)?,
            XSource::Zero => zero,
        };
        copy_to(region, source, *col, r, value(*v))?;
    }
    Ok(())
}

impl MacRowPlan {
    /// The filter group `g` computes: the row's in a plain or patch shape, `filter + g` (up
    /// to the row's span) in a tile shape, `None` for a tile row's spare groups.
    pub fn group_filter(&self, shape: MacShape, g: usize) -> Option<usize> {
        match shape.tile {
            true => (g < self.span).then_some(self.filter + g),
            false => Some(self.filter),
        }
    }
}

/// The `width` weights of row `p` for filter `filter` (`None`: a tile row's spare group, all
/// zero): the filter's chunk from the row's offset, 0 in the slots past the row's weights
/// (`None` when `w` is shorter than the plan needs).
pub fn row_weights(
    p: &MacRowPlan,
    filter: Option<usize>,
    width: usize,
    kernel_len: usize,
    w: &crate::model::LayerWeights,
) -> Option<Vec<i64>> {
    let lo = p.offset;
    (0..width)
        .map(|i| match filter {
            Some(f) if i < p.weights && lo + i < kernel_len => {
                w.weights.get(f * kernel_len + lo + i).copied()
            }
            _ => Some(0),
        })
        .collect()
}

/// The bias cell of group `g` of row `p`: its filter's bias on a first chunk, 0 on a later one
/// and for a tile row's spare group (`None` when `w` is shorter than the plan needs).
pub fn row_bias(
    p: &MacRowPlan,
    shape: MacShape,
    g: usize,
    w: &crate::model::LayerWeights,
) -> Option<i64> {
    match (p.first, p.group_filter(shape, g)) {
        (true, Some(f)) => w.bias.get(f).copied(),
        _ => Some(0),
    }
}

/// Witness rows from the plan (rows of `shape`), the layer's offset-free inputs and its
/// weights.
pub fn witness_rows(
    plan: &[MacRowPlan],
    shape: MacShape,
    kernel_len: usize,
    x: Option<&[i64]>,
    weights: Option<&crate::model::LayerWeights>,
) -> Vec<MacRow> {
    let (groups, width) = (shape.groups, shape.width);
    let mut prev_acc: Vec<Option<i64>> = vec![None; groups];
    plan.iter()
        .map(|p| {
            // One weight set per group in a tile shape; the digits hold group 0's.
            let sets: Vec<Option<Vec<i64>>> = (0..shape.weight_sets())
                .map(|g| {
                    let f = p.group_filter(shape, g);
                    weights.and_then(|w| row_weights(p, f, width, kernel_len, w))
                })
                .collect();
            let ws = sets[0].clone();
            let bias = weights.and_then(|w| w.bias.get(p.filter).copied());
            let bias_cell = if p.first {
                bias
            } else {
                weights.map(|_| VALUE_OFFSET)
            };
            let xv: Vec<Option<i64>> =
                p.x.iter()
                    .map(|s| match s {
                        XSource::Input(i) => x.map(|x| x[*i] + VALUE_OFFSET),
                        XSource::Zero => x.map(|_| VALUE_OFFSET),
                    })
                    .collect();
            let acc: Vec<Option<i64>> = (0..groups)
                .map(|g| {
                    let start = match p.first {
                        true => weights.and_then(|w| row_bias(p, shape, g, w)),
                        false => prev_acc[g],
                    };
                    let (start, ws) = (start?, sets[g % sets.len()].as_ref()?);
                    let dot: i64 = (0..width)
                        .map(|i| Some((xv.get(shape.cell(g, i)).copied()?? - VALUE_OFFSET) * ws[i]))
                        .sum::<Option<i64>>()?;
                    Some(start + dot)
                })
                .collect();
            prev_acc.clone_from(&acc);
            MacRow {
                digits: (0..width)
                    .map(|i| {
                        let w_off = ws.as_ref().map(|ws| ws[i] + VALUE_OFFSET);
                        std::array::from_fn(|k| w_off.map(|w| (w >> (2 * k)) & 3))
                    })
                    .collect(),
                x: xv,
                acc,
                bias: bias_cell,
                packed: ws
                    .map(|ws| Value::known(pack_row(&ws, width)))
                    .unwrap_or(Value::unknown()),
            }
        })
        .collect()
}
