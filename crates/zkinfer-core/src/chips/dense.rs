//! Dense rows: `MAC_WIDTH` multiply-accumulates per row, weights as base-4 digits.
//!
//! Row layout (one row per output neuron `j` and input chunk `c`, neuron-major):
//!
//! | x_0 .. x_{P-1} | d_{i,0..3} for i < P | acc | bias | packed |
//!
//! - `x_i` holds the offset input `x + 128` (a copy of the previous layer's output cell or of
//!   the public input);
//! - the weight `w_i = Σ_k 4^k d_{i,k} - 128`, each digit `d ∈ {0,1,2,3}` (degree-4 check),
//!   so every weight lies in `[-128, 127]` without a lookup;
//! - first chunk: `acc = bias + Σ_i (x_i - 128) w_i`; later chunks: `acc = acc_prev + Σ ...`;
//! - `packed = Σ_i (w_i + 128) 256^i`, the row's weights as one field element for the commitment
//!   (injective because every byte is range-checked by its digits).
//!
//! Degrees: MAC 3, digit range 5, packing 2.

use halo2_proofs::circuit::{Layouter, Value};
use halo2_proofs::pasta::Fp;
use halo2_proofs::plonk::{
    Advice, Column, ConstraintSystem, Error, Expression, Instance, Selector,
};
use halo2_proofs::poly::Rotation;

use super::{value, Cell};
use crate::circuit::MAC_WIDTH;
use crate::commit::pack_row;
use crate::field::fe;
use crate::model::LayerWeights;
use crate::VALUE_OFFSET;

/// Base-4 digits per weight.
pub const DIGITS: usize = 4;

/// Columns and selectors of the dense chip.
#[derive(Clone, Debug)]
pub struct DenseConfig {
    /// Offset inputs, one per MAC.
    pub x: Vec<Column<Advice>>,
    /// Weight digits, `DIGITS` per MAC.
    pub digits: Vec<[Column<Advice>; DIGITS]>,
    /// Running accumulator.
    pub acc: Column<Advice>,
    /// Bias (first chunk of a neuron).
    pub bias: Column<Advice>,
    /// Packed weights of the row.
    pub packed: Column<Advice>,
    /// First chunk of a neuron.
    pub q_first: Selector,
    /// Later chunk of a neuron.
    pub q_next: Selector,
    /// Every dense row (digit ranges and packing).
    pub q_row: Selector,
}

/// Where a layer's inputs come from.
#[derive(Clone, Copy, Debug)]
pub enum Inputs<'a> {
    /// Public inputs: instance rows `first..first + n`.
    Instance {
        /// The instance column.
        column: Column<Instance>,
        /// Row of the first input.
        first: usize,
    },
    /// Cells assigned by an earlier chip (offset-encoded).
    Cells(&'a [Cell]),
}

/// Cells a dense layer hands on.
#[derive(Clone, Debug)]
pub struct DenseOutput {
    /// Final accumulator of each neuron.
    pub acc: Vec<Cell>,
    /// Packed weights of every row, in row order.
    pub packed: Vec<Cell>,
    /// Bias of each neuron.
    pub bias: Vec<Cell>,
}

fn offset() -> Expression<Fp> {
    Expression::Constant(Fp::from(VALUE_OFFSET as u64))
}

impl DenseConfig {
    /// Allocates columns and creates the gates.
    pub fn configure(meta: &mut ConstraintSystem<Fp>) -> Self {
        let x: Vec<_> = (0..MAC_WIDTH).map(|_| meta.advice_column()).collect();
        let digits: Vec<[Column<Advice>; DIGITS]> = (0..MAC_WIDTH)
            .map(|_| std::array::from_fn(|_| meta.advice_column()))
            .collect();
        let (acc, bias, packed) = (
            meta.advice_column(),
            meta.advice_column(),
            meta.advice_column(),
        );
        for c in x.iter().chain([&acc, &bias, &packed]) {
            meta.enable_equality(*c);
        }
        let (q_first, q_next, q_row) = (meta.selector(), meta.selector(), meta.selector());
        let cfg = DenseConfig {
            x,
            digits,
            acc,
            bias,
            packed,
            q_first,
            q_next,
            q_row,
        };
        // The dot product of a row as an expression, and the packed offset weights.
        let row_exprs = |m: &mut halo2_proofs::plonk::VirtualCells<'_, Fp>, c: &DenseConfig| {
            let mut dot = Expression::Constant(Fp::zero());
            let mut packed = Expression::Constant(Fp::zero());
            let mut digits = Vec::with_capacity(MAC_WIDTH * DIGITS);
            for i in (0..MAC_WIDTH).rev() {
                let mut w_off = Expression::Constant(Fp::zero());
                for k in (0..DIGITS).rev() {
                    let d = m.query_advice(c.digits[i][k], Rotation::cur());
                    digits.push(d.clone());
                    w_off = w_off * Expression::Constant(Fp::from(4)) + d;
                }
                let x = m.query_advice(c.x[i], Rotation::cur());
                dot = dot + (x - offset()) * (w_off.clone() - offset());
                packed = packed * Expression::Constant(Fp::from(256)) + w_off;
            }
            (dot, packed, digits)
        };
        let c = cfg.clone();
        meta.create_gate("dense digits and packing", move |m| {
            let q = m.query_selector(c.q_row);
            let (_, packed, digits) = row_exprs(m, &c);
            let mut constraints: Vec<Expression<Fp>> = digits
                .into_iter()
                .map(|d| {
                    let range = (0..4u64).fold(Expression::Constant(Fp::one()), |p, v| {
                        p * (d.clone() - Expression::Constant(Fp::from(v)))
                    });
                    q.clone() * range
                })
                .collect();
            constraints.push(q * (m.query_advice(c.packed, Rotation::cur()) - packed));
            constraints
        });
        let c = cfg.clone();
        meta.create_gate("dense first chunk", move |m| {
            let q = m.query_selector(c.q_first);
            let (dot, _, _) = row_exprs(m, &c);
            let acc = m.query_advice(c.acc, Rotation::cur());
            let bias = m.query_advice(c.bias, Rotation::cur());
            vec![q * (acc - bias - dot)]
        });
        let c = cfg.clone();
        meta.create_gate("dense next chunk", move |m| {
            let q = m.query_selector(c.q_next);
            let (dot, _, _) = row_exprs(m, &c);
            let acc = m.query_advice(c.acc, Rotation::cur());
            let acc_prev = m.query_advice(c.acc, Rotation::prev());
            vec![q * (acc - acc_prev - dot)]
        });
        cfg
    }

    /// Lays out one dense layer from its witness rows ([`witness_rows`]) and returns its
    /// accumulators, packed weights and biases.
    pub fn assign(
        &self,
        layouter: &mut impl Layouter<Fp>,
        name: &str,
        (n_in, n_out): (usize, usize),
        inputs: Inputs<'_>,
        rows: &[DenseRow],
    ) -> Result<DenseOutput, Error> {
        let chunks = n_in.div_ceil(MAC_WIDTH);
        if rows.len() != n_out * chunks {
            return Err(Error::Synthesis);
        }
        layouter.assign_region(
            || format!("dense {name}"),
            |mut region| {
                let mut out = DenseOutput {
                    acc: Vec::with_capacity(n_out),
                    packed: Vec::with_capacity(rows.len()),
                    bias: Vec::with_capacity(n_out),
                };
                for (r, row) in rows.iter().enumerate() {
                    let c = r % chunks;
                    self.q_row.enable(&mut region, r)?;
                    if c == 0 {
                        self.q_first.enable(&mut region, r)?;
                    } else {
                        self.q_next.enable(&mut region, r)?;
                    }
                    for i in 0..MAC_WIDTH {
                        let n = c * MAC_WIDTH + i;
                        match (inputs, n < n_in) {
                            (Inputs::Instance { column, first }, true) => {
                                region.assign_advice_from_instance(
                                    || "x",
                                    column,
                                    first + n,
                                    self.x[i],
                                    r,
                                )?;
                            }
                            (Inputs::Cells(cells), true) => {
                                cells[n].copy_advice(|| "x", &mut region, self.x[i], r)?;
                            }
                            (_, false) => {
                                region.assign_advice(
                                    || "x pad",
                                    self.x[i],
                                    r,
                                    || Value::known(fe(VALUE_OFFSET)),
                                )?;
                            }
                        }
                        for k in 0..DIGITS {
                            region.assign_advice(
                                || "digit",
                                self.digits[i][k],
                                r,
                                || value(row.digits[i][k]),
                            )?;
                        }
                    }
                    let acc = region.assign_advice(|| "acc", self.acc, r, || value(row.acc))?;
                    let bias_value = if c == 0 {
                        row.bias
                    } else {
                        row.bias.map(|_| 0)
                    };
                    let bias =
                        region.assign_advice(|| "bias", self.bias, r, || value(bias_value))?;
                    let packed =
                        region.assign_advice(|| "packed", self.packed, r, || row.packed)?;
                    if c == 0 {
                        out.bias.push(bias);
                    }
                    if c == chunks - 1 {
                        out.acc.push(acc);
                    }
                    out.packed.push(packed);
                }
                Ok(out)
            },
        )
    }
}

/// Witness values of one dense row (`None`: unknown, for key generation).
#[derive(Clone, Debug)]
pub struct DenseRow {
    /// Base-4 digits of each offset weight.
    pub digits: Vec<[Option<i64>; DIGITS]>,
    /// Accumulator after this row.
    pub acc: Option<i64>,
    /// Bias of the neuron.
    pub bias: Option<i64>,
    /// Packed weights.
    pub packed: Value<Fp>,
}

/// Witness rows of a dense layer from its (offset-free) inputs and weights.
pub fn witness_rows(
    n_in: usize,
    n_out: usize,
    x: Option<&[i64]>,
    w: Option<&LayerWeights>,
) -> Vec<DenseRow> {
    let chunks = n_in.div_ceil(MAC_WIDTH);
    let mut rows = Vec::with_capacity(n_out * chunks);
    for j in 0..n_out {
        let mut acc = w.map(|w| w.bias[j]);
        for c in 0..chunks {
            let lo = c * MAC_WIDTH;
            let hi = (lo + MAC_WIDTH).min(n_in);
            let ws = w.map(|w| &w.weights[j * n_in + lo..j * n_in + hi]);
            if let (Some(a), Some(ws), Some(x)) = (acc.as_mut(), ws, x) {
                *a += ws.iter().zip(&x[lo..hi]).map(|(w, v)| w * v).sum::<i64>();
            }
            let digits = (0..MAC_WIDTH)
                .map(|i| {
                    let w_off = ws.map(|ws| ws.get(i).copied().unwrap_or(0) + VALUE_OFFSET);
                    std::array::from_fn(|k| w_off.map(|w| (w >> (2 * k)) & 3))
                })
                .collect();
            rows.push(DenseRow {
                digits,
                acc: if x.is_some() { acc } else { None },
                bias: w.map(|w| w.bias[j]),
                packed: ws
                    .map(|ws| Value::known(pack_row(ws)))
                    .unwrap_or(Value::unknown()),
            });
        }
    }
    rows
}
