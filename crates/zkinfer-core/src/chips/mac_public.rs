//! Multiply-accumulate rows with public weights: the weights and biases sit in fixed columns,
//! so the verifying key holds them (a spec in public-weights mode carries them, and the
//! verifier rebuilds the key from it).
//!
//! Row layout (`P` weights, the layout's `mac_width`; `G` input groups, its `mac_groups`):
//!
//! | `x[c]` for c < C | `acc[g]` for g < G || `w[i]` for i < P | bias |
//!
//! - input cells as in [`super::mac`]: group `g` reads weight `i`'s input from
//!   `x[shape.cell(g, i)]`, plain or patch ([`super::mac_shape`]);
//! - first chunk: `acc[g] = bias + Σ_i (x[cell(g, i)] - 128) w_i`; later chunks add to the previous
//!   row's `acc[g]`; every group multiplies the same `P` weights with its own offset inputs,
//!   and every slot without an input copies the cell fixed to 128, as in [`super::mac`];
//! - the weights are the spec's (a slot past the end of a kernel holds 0): nothing in the
//!   witness chooses them, so they need no range check, packing or commitment;
//! - the fixed cells hold them offset to small non-negative numbers (`w_i + 128`, and the bias
//!   plus [`MAX_BIAS`]), so committing the columns (key generation, in every `verify`) costs a
//!   few windows of a multi-scalar multiplication per cell instead of a full one for every
//!   negative value.
//!
//! Degree 3 (selector, input, weight).

use halo2_proofs::circuit::{Layouter, Value};
use halo2_proofs::pasta::Fp;
use halo2_proofs::plonk::{
    Advice, Column, ConstraintSystem, Error, Expression, Fixed, Selector, VirtualCells,
};

use super::mac::{chunk_gates, copy_inputs, dots, row_bias, row_weights, MacRow, MacRowPlan};
use super::mac_shape::MacShape;
use super::{value, Cell};
use crate::field::fe;
use crate::model::{LayerWeights, MAX_BIAS};
use crate::VALUE_OFFSET;

/// Columns and selectors of the public-weights MAC chip.
#[derive(Clone, Debug)]
pub struct PublicMacConfig {
    /// Where each group's inputs sit among `x`.
    pub shape: MacShape,
    /// Offset input cells; group `g` reads weight `i`'s input from `x[shape.cell(g, i)]`.
    pub x: Vec<Column<Advice>>,
    /// Running accumulators, one per group.
    pub acc: Vec<Column<Advice>>,
    /// The row's weights plus 128: one set per group in a tile shape, one shared set
    /// otherwise.
    pub w: Vec<Vec<Column<Fixed>>>,
    /// The filter's bias plus [`MAX_BIAS`], per weight set (first chunks; 0 on later ones,
    /// which no gate reads).
    pub bias: Vec<Column<Fixed>>,
    /// First chunk of a filter.
    pub q_first: Selector,
    /// Later chunk of a filter.
    pub q_next: Selector,
}

/// What one layer's rows read: the public plan, the witness rows (their inputs and
/// accumulators), the weights, and the cells the inputs come from.
#[derive(Clone, Copy, Debug)]
pub struct PublicMacLayer<'a> {
    /// Region name.
    pub name: &'a str,
    /// Row plan.
    pub plan: &'a [MacRowPlan],
    /// Witness rows (only `x` and `acc` are read).
    pub rows: &'a [MacRow],
    /// The layer's public weights.
    pub weights: &'a LayerWeights,
    /// Weights per filter.
    pub kernel_len: usize,
    /// The layer's input cells.
    pub inputs: &'a [Cell],
    /// The cell fixed to the offset zero (128).
    pub zero: &'a Cell,
    /// Output accumulators.
    pub outputs: usize,
}

impl PublicMacConfig {
    /// Allocates the columns of `shape` and creates the gates.
    pub fn configure(meta: &mut ConstraintSystem<Fp>, shape: MacShape) -> Self {
        let x: Vec<_> = (0..shape.cells()).map(|_| meta.advice_column()).collect();
        let acc: Vec<_> = (0..shape.groups).map(|_| meta.advice_column()).collect();
        for c in x.iter().chain(&acc) {
            meta.enable_equality(*c);
        }
        let cfg = PublicMacConfig {
            shape,
            x,
            acc,
            w: (0..shape.weight_sets())
                .map(|_| (0..shape.width).map(|_| meta.fixed_column()).collect())
                .collect(),
            bias: (0..shape.weight_sets())
                .map(|_| meta.fixed_column())
                .collect(),
            q_first: meta.selector(),
            q_next: meta.selector(),
        };
        let (c, d) = (cfg.clone(), cfg.clone());
        chunk_gates(
            meta,
            ["public mac first chunk", "public mac next chunk"],
            (cfg.q_first, cfg.q_next),
            &cfg.acc,
            move |m| {
                let b: Vec<_> = c
                    .bias
                    .iter()
                    .map(|b| m.query_fixed(*b) - Expression::Constant(fe(MAX_BIAS)))
                    .collect();
                (0..c.acc.len()).map(|g| b[g % b.len()].clone()).collect()
            },
            move |m| d.dots(m),
        );
        cfg
    }

    /// Weights per row (per group).
    pub fn width(&self) -> usize {
        self.shape.width
    }

    /// `Σ_i (x[cell(g, i)] - 128) w_i` for every group `g`.
    fn dots(&self, m: &mut VirtualCells<'_, Fp>) -> Vec<Expression<Fp>> {
        let off = Expression::Constant(fe(VALUE_OFFSET));
        let w: Vec<Vec<_>> = self
            .w
            .iter()
            .map(|set| {
                set.iter()
                    .map(|c| m.query_fixed(*c) - off.clone())
                    .collect()
            })
            .collect();
        dots(self.shape, &self.x, &w, m)
    }

    /// Lays out one layer's rows; returns the output accumulators, by output index.
    pub fn assign(
        &self,
        layouter: &mut impl Layouter<Fp>,
        layer: PublicMacLayer<'_>,
    ) -> Result<Vec<Cell>, Error> {
        if layer.plan.len() != layer.rows.len() {
            return Err(Error::Synthesis);
        }
        let mut out: Vec<Option<Cell>> = vec![None; layer.outputs];
        // One region per run of chunks that starts at a first chunk (gates reach back only
        // within a run).
        let mut start = 0;
        while start < layer.plan.len() {
            let end = (start + 1..layer.plan.len())
                .find(|&r| layer.plan[r].first)
                .unwrap_or(layer.plan.len());
            let accs = self.assign_run(layouter, &layer, start, end)?;
            for (p, row_accs) in layer.plan[start..end].iter().zip(accs) {
                for (g, cell) in row_accs.into_iter().enumerate() {
                    if let Some(o) = p.outputs.get(g).copied().flatten() {
                        // Each output once: a second would leave the first unbound.
                        let slot = out.get_mut(o).ok_or(Error::Synthesis)?;
                        if slot.replace(cell).is_some() {
                            return Err(Error::Synthesis);
                        }
                    }
                }
            }
            start = end;
        }
        out.into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or(Error::Synthesis)
    }

    /// Assigns row `r`'s fixed weights and biases (offset), one set per group of a tile row.
    fn assign_weights(
        &self,
        region: &mut halo2_proofs::circuit::Region<'_, Fp>,
        r: usize,
        p: &MacRowPlan,
        layer: &PublicMacLayer<'_>,
    ) -> Result<(), Error> {
        for (g, (cols, bias_col)) in self.w.iter().zip(&self.bias).enumerate() {
            let filter = p.group_filter(self.shape, g);
            let ws = row_weights(p, filter, self.width(), layer.kernel_len, layer.weights)
                .ok_or(Error::Synthesis)?;
            for (col, w) in cols.iter().zip(&ws) {
                let w_off = fe(w + VALUE_OFFSET);
                region.assign_fixed(|| "weight", *col, r, || Value::known(w_off))?;
            }
            // On a first chunk the offset bias; later chunks leave the cell 0 (no gate reads it).
            if p.first {
                let b = row_bias(p, self.shape, g, layer.weights).ok_or(Error::Synthesis)?;
                let b_off = fe(b + MAX_BIAS);
                region.assign_fixed(|| "bias", *bias_col, r, || Value::known(b_off))?;
            }
        }
        Ok(())
    }

    /// Lays out rows `start..end` (one filter's chunks) in one region; returns each row's
    /// accumulator cells.
    fn assign_run(
        &self,
        layouter: &mut impl Layouter<Fp>,
        layer: &PublicMacLayer<'_>,
        start: usize,
        end: usize,
    ) -> Result<Vec<Vec<Cell>>, Error> {
        let width = self.width();
        layouter.assign_region(
            || format!("public mac {} row {start}", layer.name),
            |mut region| {
                let mut out = Vec::with_capacity(end - start);
                for (r, (p, row)) in layer.plan[start..end]
                    .iter()
                    .zip(&layer.rows[start..end])
                    .enumerate()
                {
                    if p.weights == 0 || p.weights > width {
                        return Err(Error::Synthesis);
                    }
                    let sel = if p.first { self.q_first } else { self.q_next };
                    sel.enable(&mut region, r)?;
                    self.assign_weights(&mut region, r, p, layer)?;
                    copy_inputs(&mut region, &self.x, r, (p, row), layer.inputs, layer.zero)?;
                    let accs = row
                        .acc
                        .iter()
                        .enumerate()
                        .map(|(g, a)| region.assign_advice(|| "acc", self.acc[g], r, || value(*a)))
                        .collect::<Result<Vec<_>, _>>()?;
                    out.push(accs);
                }
                Ok(out)
            },
        )
    }
}
