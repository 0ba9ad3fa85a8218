//! Public-weights mode end to end: the spec carries the weights and the circuit holds them in
//! fixed columns. Real proofs verify from the spec alone; tampered proofs, changed public
//! values and a spec with one weight changed are rejected.

mod common;

use common::*;
use zkinfer::core::circuit::Layout;
use zkinfer::core::quant::{quantize_input, split_samples};
use zkinfer::core::spec::Visibility;
use zkinfer::prover::CompileOptions;
use zkinfer::{compile_with, CompiledModel, ModelSpec, ParamsStore, Silent, Verifier, VerifyError};

/// A reference model compiled with public weights.
fn public(name: &str) -> CompiledModel {
    let g = graph(name);
    let samples = split_samples(&json_input(name, "calibration.json"), g.input_len()).unwrap();
    let options = CompileOptions {
        visibility: Visibility::Public,
        ..CompileOptions::default()
    };
    compile_with(
        name,
        &g,
        &samples,
        options,
        &ParamsStore::default(),
        &Silent,
    )
    .unwrap()
}

#[test]
fn public_weights_prove_verify_and_reject_tampering() {
    let c = public("mlp_digits");
    let spec = &c.model.spec;
    assert!(Layout::of(&spec.circuit).is_public());
    assert_eq!(spec.public_weights, c.model.weights.layers);
    assert_eq!(spec.weights_commitment, "00".repeat(32));
    // The spec alone (through JSON) rebuilds the verifying key.
    let again = ModelSpec::from_json(spec.to_json().as_bytes()).unwrap();
    assert_eq!(&again, spec);
    let input = quantize_input(&spec.input, &json_input("mlp_digits", "input.json")).unwrap();
    prove_and_verify(&c, &input);
    // Same quantization as the private model: the same outputs.
    let private = compiled("mlp_digits");
    let q = |m: &CompiledModel| {
        zkinfer::core::eval::evaluate(&m.model.spec, &m.model.weights, &input)
            .unwrap()
            .output()
            .to_vec()
    };
    assert_eq!(q(&c), q(&private));
}

#[test]
fn a_spec_with_one_weight_changed_rejects() {
    let c = public("mlp_digits");
    let store = ParamsStore::default();
    let mut weight = c.model.spec.clone();
    weight.public_weights[0].weights[7] += 1;
    let mut bias = c.model.spec.clone();
    bias.public_weights[1].bias[0] -= 1;
    for (what, spec) in [("weight", weight), ("bias", bias)] {
        let err = Verifier::with_store(&spec, &store, &Silent).unwrap_err();
        assert!(
            matches!(err, VerifyError::Fingerprint { .. }),
            "{what}: {err}"
        );
    }
    let mut none = c.model.spec.clone();
    none.public_weights.clear();
    let err = Verifier::with_store(&none, &store, &Silent).unwrap_err();
    assert!(matches!(err, VerifyError::Spec(_)), "{err}");
}

#[test]
fn a_public_cnn_proves_and_verifies() {
    let c = public("lenet5");
    let input = quantize_input(&c.model.spec.input, &json_input("lenet5", "input.json")).unwrap();
    let tried = prove_verify_and_tamper(&c, &input);
    assert!(tried > 10);
}
