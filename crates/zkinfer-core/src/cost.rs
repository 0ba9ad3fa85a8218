//! Cost model and planner: predicted proving time, key-generation time, peak memory and
//! proof size of a compiled model; the column layout and the circuit batch that prove fastest.
//!
//! halo2's proving cost is paid per column over all `2^k` rows of the domain, used or not:
//! every advice column is committed and transformed to the extended domain, every column in
//! the permutation argument adds a full-width commitment to the keys (its `σ` polynomial) and
//! a share of a product column to the proof, and full-width values (the Poseidon states) cost
//! about ten times a small value to commit. Each lookup argument adds three committed columns
//! (two permuted, one product) to every proof, and each fixed column is transformed to the
//! extended domain in the proving key and evaluated in the constraints. So, with `n = 2^k`,
//! `c` circuits per proof, `A` advice, `E` permutation and `X` fixed columns, `L` lookup
//! arguments and `F` full-width cells per circuit:
//!
//! ```text
//! create_proof ≈ t0 + c · (n · (r + a·A + e·E + l·L + x·X) + f·F)
//! key generation ≈ k0 + n · (kr + ke·E + kx·X)
//! peak RSS ≈ n · (m0 + mx·X + me·E + c · ma·A)
//! ```
//!
//! The coefficients of [`CostModel::default`] were fitted on the 2-core reference machine
//! (`docs/benchmarks.md` gives the points and the error; `scripts/cost_model_check.py`
//! measures it again). The proof size is exact (halo2's own count). Inferences side by side in
//! one circuit share its rows, so batching is free until the rows no longer fit the same `k`:
//! the planner weighs that against more circuits.

use crate::chips::sponge::LANE_COLUMNS;
use crate::circuit::{column_counts, CircuitPlan, ColumnCounts, Layout, LAYOUTS};
use crate::keys::{self, MAX_BATCH};
use crate::spec::ModelSpec;
use crate::CoreError;

/// Coefficients of the cost model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostModel {
    /// Seconds of `create_proof` per proof, independent of size.
    pub proof_base_s: f64,
    /// Seconds of `create_proof` per row of the domain per circuit (opening, vanishing).
    pub row_s: f64,
    /// Seconds of `create_proof` per row per circuit per advice column.
    pub advice_row_s: f64,
    /// Seconds of `create_proof` per row per circuit per permutation column.
    pub equality_row_s: f64,
    /// Seconds of `create_proof` per row per circuit per lookup argument.
    pub lookup_row_s: f64,
    /// Seconds of `create_proof` per row per circuit per fixed column (its share of the
    /// constraint evaluation).
    pub fixed_row_s: f64,
    /// Seconds of `create_proof` per full-width committed cell (Poseidon states).
    pub full_cell_s: f64,
    /// Seconds of key generation (and parameter loading) per proving process.
    pub keygen_base_s: f64,
    /// Seconds of key generation per row of the domain.
    pub keygen_row_s: f64,
    /// Seconds of key generation per row per permutation column.
    pub keygen_equality_row_s: f64,
    /// Seconds of key generation per row per fixed column (its commitment and
    /// extended-domain copy).
    pub keygen_fixed_row_s: f64,
    /// Peak resident bytes per row of the domain (tables, shared polynomials).
    pub shared_row_bytes: f64,
    /// Peak resident bytes per row per fixed column (its values, coefficients and
    /// extended-domain copy in the proving key).
    pub fixed_row_bytes: f64,
    /// Peak resident bytes per row per permutation column (keys).
    pub equality_row_bytes: f64,
    /// Peak resident bytes per row per circuit per advice column (witness polynomials).
    pub advice_row_bytes: f64,
}

/// What a proof's cost depends on: the domain, the columns and the full-width cells.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostInputs {
    /// log2 of the domain.
    pub k: u32,
    /// Circuits in the proof.
    pub circuits: usize,
    /// Columns of one circuit.
    pub columns: ColumnCounts,
    /// Full-width cells of one circuit (the commitment region's lanes).
    pub full_cells: usize,
}

impl CostInputs {
    /// The inputs of a proof of `circuits` circuits of this spec, as compiled.
    pub fn of(spec: &ModelSpec, circuits: usize) -> Self {
        let plan = CircuitPlan::from_spec(spec);
        let rows = plan.rows(spec);
        let mut columns = column_counts(plan.layout);
        columns.rows = rows.max();
        CostInputs {
            k: spec.circuit.k,
            circuits,
            columns,
            full_cells: rows.commitment * plan.layout.hash_lanes * LANE_COLUMNS,
        }
    }
}

impl Default for CostModel {
    /// Fitted on 2 cores (wall time, `asm` field arithmetic) on five reference models in each
    /// of the 22 layouts, k = 11 to 16 (`scripts/fit_cost_model.py`: non-negative least
    /// squares on relative errors; `docs/benchmarks.md` gives the points and the errors).
    fn default() -> Self {
        CostModel {
            proof_base_s: 0.264,
            row_s: 3.89e-6,
            advice_row_s: 2.14e-6,
            equality_row_s: 2.05e-6,
            lookup_row_s: 17.3e-6,
            fixed_row_s: 0.262e-6,
            full_cell_s: 3.61e-6,
            keygen_base_s: 0.149,
            keygen_row_s: 0.0,
            keygen_equality_row_s: 5.50e-6,
            keygen_fixed_row_s: 1.18e-6,
            shared_row_bytes: 5.61e3,
            fixed_row_bytes: 377.0,
            equality_row_bytes: 434.0,
            advice_row_bytes: 332.0,
        }
    }
}

/// What the model predicts for one proof.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// log2 of the domain.
    pub k: u32,
    /// Rows the largest column group uses.
    pub rows_used: usize,
    /// Inferences side by side in one circuit.
    pub copies: usize,
    /// Circuits in the proof.
    pub circuits: usize,
    /// Column and lookup counts of one circuit.
    pub columns: ColumnCounts,
    /// Seconds of `create_proof`.
    pub create_proof_s: f64,
    /// Seconds of key generation in a proving process.
    pub keygen_s: f64,
    /// Peak resident bytes of the proving process.
    pub peak_rss_bytes: f64,
}

impl Prediction {
    /// Inferences the proof covers.
    pub fn inferences(&self) -> usize {
        self.copies * self.circuits
    }

    /// Seconds of a `prove` command: key generation plus `create_proof`.
    pub fn prove_s(&self) -> f64 {
        self.keygen_s + self.create_proof_s
    }
}

impl CostModel {
    /// Predicted `create_proof` seconds.
    pub fn create_proof_s(&self, x: &CostInputs) -> f64 {
        let n = (1u64 << x.k) as f64;
        let c = &x.columns;
        let per_row = self.row_s
            + self.advice_row_s * c.advice as f64
            + self.equality_row_s * c.equality as f64
            + self.lookup_row_s * c.lookups as f64
            + self.fixed_row_s * c.fixed as f64;
        self.proof_base_s
            + x.circuits as f64 * (n * per_row + self.full_cell_s * x.full_cells as f64)
    }

    /// Predicted seconds of key generation (verifying and proving key).
    pub fn keygen_s(&self, x: &CostInputs) -> f64 {
        let n = (1u64 << x.k) as f64;
        let c = &x.columns;
        self.keygen_base_s
            + n * (self.keygen_row_s
                + self.keygen_equality_row_s * c.equality as f64
                + self.keygen_fixed_row_s * c.fixed as f64)
    }

    /// Predicted peak resident bytes of proving.
    pub fn peak_rss_bytes(&self, x: &CostInputs) -> f64 {
        let n = (1u64 << x.k) as f64;
        let c = &x.columns;
        n * (self.shared_row_bytes
            + self.fixed_row_bytes * c.fixed as f64
            + self.equality_row_bytes * c.equality as f64
            + x.circuits as f64 * self.advice_row_bytes * c.advice as f64)
    }

    /// Prediction for a proof of `circuits` circuits of this spec (its layout,
    /// `circuit.batch` and `circuit.k` as compiled).
    pub fn predict(&self, spec: &ModelSpec, circuits: usize) -> Prediction {
        let x = CostInputs::of(spec, circuits);
        Prediction {
            k: x.k,
            rows_used: x.columns.rows,
            copies: spec.circuit.batch.max(1),
            circuits,
            columns: x.columns,
            create_proof_s: self.create_proof_s(&x),
            keygen_s: self.keygen_s(&x),
            peak_rss_bytes: self.peak_rss_bytes(&x),
        }
    }

    /// Exact bytes of a proof of `circuits` circuits of this spec (halo2's count; lays the
    /// circuit out once).
    pub fn proof_bytes(&self, spec: &ModelSpec, circuits: usize) -> usize {
        keys::proof_len(&CircuitPlan::from_spec(spec)).of_batch(circuits)
    }

    /// The spec in `layout` with `copies` inferences per circuit and the smallest `k` that
    /// holds them, or `None` if no `k` does.
    /// The layouts of [`LAYOUTS`] that hold weights as `spec` does (committed, or public in
    /// fixed columns).
    fn layouts_for(spec: &ModelSpec) -> impl Iterator<Item = &'static Layout> {
        let public = spec.circuit.public_weights();
        LAYOUTS.iter().filter(move |l| l.is_public() == public)
    }

    fn shaped(spec: &ModelSpec, layout: Layout, copies: usize) -> Option<ModelSpec> {
        let mut s = spec.clone();
        s.circuit.batch = copies;
        layout.apply(&mut s).ok()?;
        Some(s)
    }

    /// The fastest of `candidates` (predicted `prove` time: keys plus `create_proof`); ties
    /// go to the smaller peak memory.
    fn fastest(
        &self,
        candidates: impl Iterator<Item = (ModelSpec, usize)>,
    ) -> Option<(ModelSpec, Prediction)> {
        let mut best: Option<(ModelSpec, Prediction)> = None;
        for (s, circuits) in candidates {
            let p = self.predict(&s, circuits);
            let better = match &best {
                None => true,
                Some((_, b)) => {
                    p.prove_s() < b.prove_s() * 0.999
                        || (p.prove_s() <= b.prove_s() * 1.001
                            && p.peak_rss_bytes < b.peak_rss_bytes)
                }
            };
            if better {
                best = Some((s, p));
            }
        }
        best
    }

    /// The layout of [`LAYOUTS`] (of the spec's weight visibility) that proves one circuit of this spec (its `circuit.batch`)
    /// fastest, with the spec set to it and its smallest `k`.
    pub fn plan_layout(&self, spec: &ModelSpec) -> Result<(ModelSpec, Prediction), CoreError> {
        let copies = spec.circuit.batch.max(1);
        self.fastest(
            Self::layouts_for(spec).filter_map(|l| Some((Self::shaped(spec, *l, copies)?, 1))),
        )
        .ok_or_else(|| {
            let (group, rows) = Self::fewest_rows(spec, copies);
            CoreError::Unsupported(format!(
                "a circuit of {copies} inference(s) of this model: no layout fits 2^{} rows; the fewest any layout needs is {rows} ({group} rows)",
                crate::spec::MAX_K
            ))
        })
    }

    /// The fewest rows any layout needs for `copies` inferences of `spec`, with the group
    /// that needs them.
    fn fewest_rows(spec: &ModelSpec, copies: usize) -> (&'static str, usize) {
        Self::layouts_for(spec)
            .map(|l| {
                let mut s = spec.clone();
                s.circuit.batch = copies;
                l.set(&mut s.circuit);
                CircuitPlan::from_spec(&s).rows(&s).largest()
            })
            .min_by_key(|(_, rows)| *rows)
            .unwrap_or(("mac", 0))
    }

    /// The layout and circuit batch (inferences per circuit, a divisor of `inferences`) whose
    /// proof of `inferences` inferences is predicted fastest. Returns the spec set to them
    /// (`circuit.batch`, layout, `k`) and the prediction.
    pub fn plan_batch(
        &self,
        spec: &ModelSpec,
        inferences: usize,
    ) -> Result<(ModelSpec, Prediction), CoreError> {
        if inferences == 0 || inferences > MAX_BATCH * MAX_BATCH {
            return Err(CoreError::Unsupported(format!(
                "planning for {inferences} inferences (1 to {} allowed)",
                MAX_BATCH * MAX_BATCH
            )));
        }
        let candidates = (1..=inferences.min(MAX_BATCH))
            .filter(|c| inferences.is_multiple_of(*c) && inferences / c <= MAX_BATCH)
            .flat_map(|copies| {
                Self::layouts_for(spec).filter_map(move |l| {
                    Some((Self::shaped(spec, *l, copies)?, inferences / copies))
                })
            });
        self.fastest(candidates).ok_or_else(|| {
            CoreError::Unsupported(format!(
                "no circuit batch of {inferences} inferences fits 2^{}",
                crate::spec::MAX_K
            ))
        })
    }

    /// The largest number of inferences one circuit of this spec can hold without a larger
    /// `k` (batching up to it costs no proving time).
    pub fn free_batch(&self, spec: &ModelSpec) -> usize {
        let mut s = spec.clone();
        (1..=MAX_BATCH)
            .take_while(|c| {
                s.circuit.batch = *c;
                CircuitPlan::from_spec(&s).rows(&s).k().ok() == Some(spec.circuit.k)
            })
            .last()
            .unwrap_or(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::quantized_mlp;

    #[test]
    fn time_and_memory_grow_with_rows_and_circuits() {
        let m = CostModel::default();
        let (q, _) = quantized_mlp(7, &[40, 16, 10]).unwrap();
        let x = CostInputs::of(&q.spec, 1);
        let bigger = CostInputs { k: x.k + 1, ..x };
        let two = CostInputs { circuits: 2, ..x };
        assert!(m.create_proof_s(&bigger) > m.create_proof_s(&x));
        assert!(m.create_proof_s(&two) > m.create_proof_s(&x));
        let mut wider = x;
        wider.columns.equality += 10;
        assert!(m.keygen_s(&wider) > m.keygen_s(&x));
        let one = m.predict(&q.spec, 1);
        let two = m.predict(&q.spec, 2);
        assert!(two.peak_rss_bytes > one.peak_rss_bytes);
        assert!(m.proof_bytes(&q.spec, 2) > m.proof_bytes(&q.spec, 1));
        let exact = keys::proof_len(&CircuitPlan::from_spec(&q.spec)).single;
        assert_eq!(m.proof_bytes(&q.spec, 1), exact);
    }

    #[test]
    fn planner_fills_free_rows_before_adding_circuits() {
        let m = CostModel::default();
        let (q, _) = quantized_mlp(7, &[40, 16, 10]).unwrap();
        let free = m.free_batch(&q.spec);
        assert!(free > 1, "a small MLP leaves room for more inferences");
        // Planning for exactly that many: one circuit at the same k.
        let (s, p) = m.plan_batch(&q.spec, free).unwrap();
        assert_eq!(
            (s.circuit.batch, p.circuits, p.k),
            (free, 1, q.spec.circuit.k)
        );
        // The plan is never predicted slower than one inference per circuit.
        for n in [2, 6, 12, 64] {
            let (s, p) = m.plan_batch(&q.spec, n).unwrap();
            assert_eq!(p.inferences(), n);
            assert_eq!(s.circuit.batch * p.circuits, n);
            let naive = m.predict(&q.spec, n);
            assert!(p.prove_s() <= naive.prove_s() + 1e-9, "{n}: {p:?}");
        }
        assert!(m.plan_batch(&q.spec, 0).is_err());
    }
}
