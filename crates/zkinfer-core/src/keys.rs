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

/// Exact length in bytes of a proof of one circuit of this plan.
pub fn proof_len(plan: &CircuitPlan) -> usize {
    CircuitCost::<Eq, ModelCircuit>::measure(plan.k, &keygen_circuit(plan))
        .proof_size(1)
        .into()
}
