//! Key generation, the verifying-key fingerprint and the expected proof length.

use std::sync::Arc;

use halo2_proofs::dev::CircuitCost;
use halo2_proofs::pasta::{Eq, EqAffine, Fp};
use halo2_proofs::plonk::{create_proof, keygen_pk, keygen_vk, ProvingKey, VerifyingKey};
use halo2_proofs::poly::commitment::Params;
use halo2_proofs::transcript::{Blake2bWrite, Challenge255};
use rand::rngs::SysRng;
use rand_core::UnwrapErr;

use crate::circuit::{CircuitPlan, ModelCircuit, NoEdit, WitnessEdit};
use crate::digest::blake2b256;
pub use crate::spec::MAX_BATCH;
use crate::CoreError;

fn keygen_circuit(plan: &CircuitPlan) -> ModelCircuit {
    ModelCircuit {
        plan: Arc::new(plan.clone()),
        witness: None,
    }
}

fn unsupported(plan: &CircuitPlan) -> CoreError {
    CoreError::InvalidSpec(format!(
        "circuit layout {:?} is not supported by this build",
        plan.layout
    ))
}

/// Builds the verifying key of a plan (deterministic: no witness, no weights).
pub fn verifying_key(
    params: &Params<EqAffine>,
    plan: &CircuitPlan,
) -> Result<VerifyingKey<EqAffine>, CoreError> {
    crate::with_shape!(plan.layout, S => {
        keygen_vk(params, &S::new(keygen_circuit(plan))).map_err(CoreError::halo2("keygen_vk"))
    }, Err(unsupported(plan)))
}

/// Builds the proving key of a plan.
pub fn proving_key(
    params: &Params<EqAffine>,
    vk: VerifyingKey<EqAffine>,
    plan: &CircuitPlan,
) -> Result<ProvingKey<EqAffine>, CoreError> {
    crate::with_shape!(plan.layout, S => {
        keygen_pk(params, vk, &S::new(keygen_circuit(plan))).map_err(CoreError::halo2("keygen_pk"))
    }, Err(unsupported(plan)))
}

/// Proves `circuits` (all of `plan`'s layout) with their instance columns `publics` in one
/// halo2 proof (Blake2b transcript, blinding from the operating system's generator); returns
/// the proof bytes.
pub fn prove(
    params: &Params<EqAffine>,
    pk: &ProvingKey<EqAffine>,
    plan: &CircuitPlan,
    circuits: &[ModelCircuit],
    publics: &[Vec<Fp>],
) -> Result<Vec<u8>, CoreError> {
    prove_edited(params, pk, plan, circuits, Arc::new(NoEdit), publics)
}

/// [`prove`] with `edit` applied to every circuit's witness: what a malicious prover can
/// submit (halo2's `create_proof` does not check the constraints). Soundness tests check that
/// the verifier rejects such proofs. Not generic, so that halo2's prover is compiled once, in
/// this crate, for every layout.
pub fn prove_edited(
    params: &Params<EqAffine>,
    pk: &ProvingKey<EqAffine>,
    plan: &CircuitPlan,
    circuits: &[ModelCircuit],
    edit: Arc<dyn WitnessEdit>,
    publics: &[Vec<Fp>],
) -> Result<Vec<u8>, CoreError> {
    let rng = UnwrapErr(SysRng);
    if circuits.iter().any(|c| c.plan.layout != plan.layout) || circuits.len() != publics.len() {
        return Err(CoreError::Unsupported(
            "circuits of different layouts, or without their public values, in one proof".into(),
        ));
    }
    let instances: Vec<[&[Fp]; 1]> = publics.iter().map(|p| [&p[..]]).collect();
    let instances: Vec<&[&[Fp]]> = instances.iter().map(|i| &i[..]).collect();
    let mut transcript = Blake2bWrite::<_, EqAffine, Challenge255<EqAffine>>::init(vec![]);
    crate::with_shape!(plan.layout, S => {
        let shaped: Vec<S> = circuits
            .iter()
            .map(|c| S { circuit: c.clone(), edit: edit.clone() })
            .collect();
        create_proof(params, pk, &shaped, &instances, rng, &mut transcript)
            .map_err(CoreError::halo2("create_proof"))
    }, Err(unsupported(plan)))?;
    Ok(transcript.finalize())
}

/// halo2's `CircuitCost` of a plan's circuit at its `k`, in its `Debug` form (column, query
/// and lookup counts; its fields are private).
pub fn cost_description(plan: &CircuitPlan) -> String {
    crate::with_shape!(plan.layout, S => {
        format!("{:?}", CircuitCost::<Eq, S>::measure(plan.k, &S::new(keygen_circuit(plan))))
    }, String::new())
}

/// One count of a [`cost_description`] (`field: value`), or `None` if it has no such field.
pub fn cost_count(description: &str, field: &str) -> Option<usize> {
    let key = format!(" {field}: ");
    let at = description.find(&key)? + key.len();
    description[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// BLAKE2b-256 of the verifying key's pinned description (constraint system, fixed and
/// permutation commitments), the same text halo2 hashes into every transcript.
pub fn fingerprint(vk: &VerifyingKey<EqAffine>) -> [u8; 32] {
    blake2b256(b"zkinfer-vk", format!("{:?}", vk.pinned()).as_bytes())
}

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

/// Exact proof lengths of this plan (zero for a layout this build does not have).
pub fn proof_len(plan: &CircuitPlan) -> ProofLength {
    crate::with_shape!(plan.layout, S => {
        let cost = CircuitCost::<Eq, S>::measure(plan.k, &S::new(keygen_circuit(plan)));
        ProofLength {
            single: cost.proof_size(1).into(),
            per_extra: cost.marginal_proof_size().into(),
        }
    }, ProofLength { single: 0, per_extra: 0 })
}
