//! A malicious model owner's padding-slot backdoor as a real proof: the owner commits a non-zero
//! weight in a slot past the end of a kernel and feeds that slot's input cell whatever moves the
//! output where it wants. halo2's `create_proof` does not check constraints, so the proof is
//! made; the verifier must reject it.

use std::sync::Arc;

use zkinfer::core::circuit::{CircuitPlan, Layout, WitnessEdit};
use zkinfer::core::digest::hex;
use zkinfer::core::field::to_bytes;
use zkinfer::core::keys;
use zkinfer::core::quant::quantize_input;
use zkinfer::core::spec::FORMAT_VERSION;
use zkinfer::core::testing::forgery::padding_attack;
use zkinfer::core::testing::quantized_mlp;
use zkinfer::{ParamsStore, ProofBundle, Prover, Silent, Verifier};

#[test]
fn a_padding_slot_backdoor_proof_is_rejected() {
    // 40 inputs in 31-weight rows: the second row of every first-layer filter has 22 slots
    // past the kernel.
    let (m, data) = quantized_mlp(7, &[40, 16, 10]).unwrap();
    let mut m = m.in_layout(Layout::new(1, 1)).unwrap();
    let input = quantize_input(&m.spec.input, &data[0]).unwrap();
    let store = ParamsStore::default();
    let plan = CircuitPlan::from_spec(&m.spec);
    let params = store.load(plan.k, &Silent).unwrap();
    let vk = keys::verifying_key(&params, &plan).unwrap();
    m.spec.vk_fingerprint = hex(&keys::fingerprint(&vk));

    // The honest proof verifies.
    let prover = Prover::new(m.clone(), &store, &Silent).unwrap();
    let (honest, _) = prover.prove(&data[0], &Silent).unwrap();
    let verifier = Verifier::new(&m.spec).unwrap();
    verifier.verify(&honest).unwrap();

    // The backdoored commitment: padding weight +1, its input whatever sets the first
    // neuron's quotient to 60 (from wherever the honest input puts it).
    let q0 = zkinfer::core::eval::evaluate(&m.spec, &m.weights, &input)
        .unwrap()
        .layers[0]
        .q[0];
    let target = if q0 == 60 { 90 } else { 60 };
    let dx = (target - q0) << m.spec.neuron_shifts(0)[0];
    let (circuit, public, edit) = padding_attack(&m, &input, 1, dx);
    let forged = circuit.witness.as_ref().unwrap().traces[0].clone();
    assert_ne!(
        forged.output(),
        &honest.outputs[..],
        "the forgery changes the outputs"
    );
    let mut spec = m.spec.clone();
    spec.weights_commitment = hex(&to_bytes(&public[0]));
    let pk = keys::proving_key(&params, vk, &plan).unwrap();
    let edit: Arc<dyn WitnessEdit> = Arc::new(edit);
    let proof = keys::prove_edited(&params, &pk, &plan, &[circuit], edit, &[public]).unwrap();
    let bundle = ProofBundle {
        format_version: FORMAT_VERSION,
        spec_digest: spec.digest(),
        inputs: forged.input.clone(),
        outputs: forged.output().to_vec(),
        proof,
    };
    // The verifier of the backdoored spec (whose commitment the owner published) rejects it.
    let verdict = Verifier::new(&spec).unwrap().verify(&bundle);
    assert!(
        verdict.is_err(),
        "a backdoored proof was accepted: {verdict:?}"
    );
}
