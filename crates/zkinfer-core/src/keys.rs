//! Key generation, the verifying-key fingerprint and the expected proof length.

use std::sync::Arc;

use halo2_proofs::dev::CircuitCost;
use halo2_proofs::pasta::{Eq, EqAffine};
use halo2_proofs::plonk::{keygen_pk, keygen_vk, ProvingKey, VerifyingKey};
use halo2_proofs::poly::commitment::Params;

use crate::circuit::{CircuitPlan, ModelCircuit};
use crate::digest::blake2b256;
use crate::CoreError;

fn keygen_circuit(plan: &CircuitPlan) -> ModelCircuit {
    ModelCircuit {
        plan: Arc::new(plan.clone()),
        witness: None,
    }
}

/// Builds the verifying key of a plan (deterministic: no witness, no weights).
pub fn verifying_key(
    params: &Params<EqAffine>,
    plan: &CircuitPlan,
) -> Result<VerifyingKey<EqAffine>, CoreError> {
    keygen_vk(params, &keygen_circuit(plan)).map_err(CoreError::halo2("keygen_vk"))
}

/// Builds the proving key of a plan.
pub fn proving_key(
    params: &Params<EqAffine>,
    vk: VerifyingKey<EqAffine>,
    plan: &CircuitPlan,
) -> Result<ProvingKey<EqAffine>, CoreError> {
    keygen_pk(params, vk, &keygen_circuit(plan)).map_err(CoreError::halo2("keygen_pk"))
}

/// BLAKE2b-256 of the verifying key's pinned description (constraint system, fixed and
/// permutation commitments), the same text halo2 hashes into every transcript.
pub fn fingerprint(vk: &VerifyingKey<EqAffine>) -> [u8; 32] {
    blake2b256(b"zkinfer-vk", format!("{:?}", vk.pinned()).as_bytes())
}

/// Largest number of circuits in one proof, and of inferences in one circuit.
pub const MAX_BATCH: usize = 64;

/// Exact proof lengths of a plan: one inference, and what each further inference of a batch
/// adds (its advice, lookup and permutation commitments and evaluations).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProofLength {
    /// Bytes of a proof of one inference.
    pub single: usize,
    /// Bytes each further inference adds.
    pub per_extra: usize,
}

impl ProofLength {
    /// Bytes of a proof of `batch` inferences (`batch >= 1`).
    pub fn of_batch(&self, batch: usize) -> usize {
        self.single + self.per_extra * batch.saturating_sub(1)
    }
}

/// Exact proof lengths of this plan.
pub fn proof_len(plan: &CircuitPlan) -> ProofLength {
    let cost = CircuitCost::<Eq, ModelCircuit>::measure(plan.k, &keygen_circuit(plan));
    ProofLength {
        single: cost.proof_size(1).into(),
        per_extra: cost.marginal_proof_size().into(),
    }
}
