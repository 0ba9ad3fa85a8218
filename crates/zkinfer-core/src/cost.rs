//! Cost model and batch planner: predicted proving time, key-generation time, peak memory and
//! proof size of a compiled model, and the circuit batch that proves `n` inferences fastest.
//!
//! With the circuit's column layout fixed, halo2's proving cost is linear in the rows of the
//! domain and in the number of circuits in the proof: every circuit commits, transforms and
//! opens its own advice, lookup and permutation polynomials over all `2^k` rows, whether or
//! not they are used. So
//!
//! ```text
//! create_proof ≈ t0 + 2^k · circuits · row_cost
//! key generation ≈ k0 + 2^k · key_row_cost
//! peak RSS ≈ 2^k · (shared_row_bytes + circuits · circuit_row_bytes)
//! ```
//!
//! The coefficients of [`CostModel::default`] were fitted on the 2-core reference machine
//! (`docs/benchmarks.md` gives the points and the error; `scripts/cost_model_check.py`
//! measures it again). The proof size is exact (halo2's own count). Inferences side by side in one circuit share its rows, so batching is free
//! until the rows no longer fit the same `k`: the planner weighs that against more circuits.

use crate::circuit::{CircuitPlan, ColumnCounts};
use crate::keys::{self, MAX_BATCH};
use crate::spec::ModelSpec;
use crate::CoreError;

/// Coefficients of the cost model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostModel {
    /// Seconds of `create_proof` per proof, independent of size.
    pub proof_base_s: f64,
    /// Seconds of `create_proof` per row of the domain per circuit.
    pub row_s: f64,
    /// Seconds of key generation (and parameter loading) per proving process.
    pub keygen_base_s: f64,
    /// Seconds of key generation per row of the domain.
    pub keygen_row_s: f64,
    /// Peak resident bytes per row of the domain (keys, tables, shared polynomials).
    pub shared_row_bytes: f64,
    /// Peak resident bytes per row of the domain per circuit (its witness polynomials).
    pub circuit_row_bytes: f64,
}

impl Default for CostModel {
    /// Fitted on 2 cores (wall time, `asm` field arithmetic) over k = 10 to 14 and 1 to 8
    /// circuits per proof.
    fn default() -> Self {
        CostModel {
            proof_base_s: 0.25,
            row_s: 1.2e-3,
            keygen_base_s: 0.2,
            keygen_row_s: 0.56e-3,
            shared_row_bytes: 44e3,
            circuit_row_bytes: 120e3,
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
    /// Predicted `create_proof` seconds for `circuits` circuits of `2^k` rows.
    pub fn create_proof_s(&self, k: u32, circuits: usize) -> f64 {
        self.proof_base_s + (1u64 << k) as f64 * circuits as f64 * self.row_s
    }

    /// Predicted peak resident bytes of proving `circuits` circuits of `2^k` rows.
    pub fn peak_rss_bytes(&self, k: u32, circuits: usize) -> f64 {
        (1u64 << k) as f64 * (self.shared_row_bytes + circuits as f64 * self.circuit_row_bytes)
    }

    /// Prediction for a proof of `circuits` circuits of this spec (its `circuit.batch` and
    /// `circuit.k` as compiled).
    pub fn predict(&self, spec: &ModelSpec, circuits: usize) -> Prediction {
        let plan = CircuitPlan::from_spec(spec);
        let k = spec.circuit.k;
        let n = (1u64 << k) as f64;
        let mut columns = crate::circuit::column_counts();
        columns.rows = plan.rows(spec).max();
        Prediction {
            k,
            rows_used: columns.rows,
            copies: plan.copies,
            circuits,
            columns,
            create_proof_s: self.create_proof_s(k, circuits),
            keygen_s: self.keygen_base_s + n * self.keygen_row_s,
            peak_rss_bytes: self.peak_rss_bytes(k, circuits),
        }
    }

    /// Exact bytes of a proof of `circuits` circuits of this spec (halo2's count; lays the
    /// circuit out once).
    pub fn proof_bytes(&self, spec: &ModelSpec, circuits: usize) -> usize {
        keys::proof_len(&CircuitPlan::from_spec(spec)).of_batch(circuits)
    }

    /// The circuit batch (inferences per circuit, a divisor of `inferences`) whose proof of
    /// `inferences` inferences is predicted fastest; ties go to the smaller peak memory.
    /// Returns the spec recompiled for that batch (`circuit.batch`, `k`) and the prediction.
    pub fn plan_batch(
        &self,
        spec: &ModelSpec,
        inferences: usize,
    ) -> Result<(usize, Prediction), CoreError> {
        if inferences == 0 || inferences > MAX_BATCH * MAX_BATCH {
            return Err(CoreError::Unsupported(format!(
                "planning for {inferences} inferences (1 to {} allowed)",
                MAX_BATCH * MAX_BATCH
            )));
        }
        let mut best: Option<(f64, f64, usize, u32)> = None;
        for copies in (1..=inferences.min(MAX_BATCH)).filter(|c| inferences.is_multiple_of(*c)) {
            let circuits = inferences / copies;
            if circuits > MAX_BATCH {
                continue;
            }
            let mut s = spec.clone();
            s.circuit.batch = copies;
            let Ok(k) = CircuitPlan::from_spec(&s).rows(&s).k() else {
                continue;
            };
            let t = self.create_proof_s(k, circuits);
            let rss = self.peak_rss_bytes(k, circuits);
            let better = match best {
                None => true,
                Some((bt, brss, _, _)) => t < bt * 0.999 || (t <= bt * 1.001 && rss < brss),
            };
            if better {
                best = Some((t, rss, copies, k));
            }
        }
        let (_, _, copies, k) = best.ok_or_else(|| {
            CoreError::Unsupported(format!(
                "no circuit batch of {inferences} inferences fits 2^{}",
                crate::spec::MAX_K
            ))
        })?;
        let mut s = spec.clone();
        s.circuit.batch = copies;
        s.circuit.k = k;
        Ok((copies, self.predict(&s, inferences / copies)))
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
        assert!(m.create_proof_s(11, 1) > m.create_proof_s(10, 1));
        assert!(m.create_proof_s(10, 2) > m.create_proof_s(10, 1));
        let (q, _) = quantized_mlp(7, &[40, 16, 10]).unwrap();
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
        let (copies, p) = m.plan_batch(&q.spec, free).unwrap();
        assert_eq!((copies, p.circuits, p.k), (free, 1, q.spec.circuit.k));
        // The plan is never predicted slower than one inference per circuit.
        for n in [2, 6, 12, 64] {
            let (_, p) = m.plan_batch(&q.spec, n).unwrap();
            assert_eq!(p.inferences(), n);
            let naive = m.create_proof_s(q.spec.circuit.k, n);
            assert!(p.create_proof_s <= naive + 1e-9, "{n}: {p:?}");
        }
        assert!(m.plan_batch(&q.spec, 0).is_err());
    }
}
