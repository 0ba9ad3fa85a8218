//! Several inferences in one proof, as several circuits in one proof and as several inferences
//! side by side in one circuit: every output is the evaluator's, the proof has the predicted
//! length, and reordering, dropping or changing an inference is rejected.

mod common;

use common::*;
use zkinfer::core::eval::evaluate;
use zkinfer::core::quant::quantize_input;
use zkinfer::{CompiledModel, ParamsStore, ProofBundle, Prover, Silent, Verifier, VerifyError};

/// A prover and a verifier of a compiled model, and `count` inputs from its test data.
fn setup(compiled: &CompiledModel, count: usize) -> (Prover, Verifier, Vec<Vec<f32>>) {
    let store = ParamsStore::default();
    let prover = Prover::new(compiled.model.clone(), &store, &Silent).unwrap();
    let verifier = Verifier::with_store(&compiled.model.spec, &store, &Silent).unwrap();
    let n = compiled.model.spec.input.len();
    let data = json_input("mlp_digits", "test.json");
    let xs = data.chunks(n).take(count).map(<[f32]>::to_vec).collect();
    (prover, verifier, xs)
}

#[test]
fn a_batch_of_inferences_is_one_proof() {
    let compiled = compiled("mlp_digits");
    let spec = &compiled.model.spec;
    let (prover, verifier, xs) = setup(&compiled, 3);
    let (n, m) = (spec.input.len(), spec.output.len());

    let (bundle, traces) = prover.prove_batch(&xs, &Silent).unwrap();
    assert_eq!(traces.len(), 3);
    assert_eq!(bundle.proof.len(), verifier.batch_proof_len(3));
    assert!(verifier.batch_proof_len(3) > verifier.proof_len());
    let out = verifier.verify(&bundle).unwrap();
    assert_eq!(out.batch, 3);
    for (i, x) in xs.iter().enumerate() {
        let q = quantize_input(&spec.input, x).unwrap();
        let trace = evaluate(spec, &compiled.model.weights, &q).unwrap();
        assert_eq!(&out.quantized_outputs[i * m..(i + 1) * m], trace.output());
        assert_eq!(&out.quantized_inputs[i * n..(i + 1) * n], &q[..]);
    }
    // The batch verifier accepts it beside a single-inference bundle.
    let single = prover.prove(&xs[0], &Silent).unwrap().0;
    let verdicts = verifier.verify_many(&[bundle.clone(), single]);
    assert!(verdicts.iter().all(Result::is_ok));

    let rejected = |b: &ProofBundle| verifier.verify(b).expect_err("must be rejected");
    // Two inferences' outputs swapped.
    let mut b = bundle.clone();
    let (first, rest) = b.outputs.split_at_mut(m);
    first.swap_with_slice(&mut rest[..m]);
    assert_ne!(b.outputs, bundle.outputs);
    assert!(matches!(rejected(&b), VerifyError::InvalidProof(_)));
    // Two inferences' inputs swapped.
    let mut b = bundle.clone();
    let (first, rest) = b.inputs.split_at_mut(n);
    first.swap_with_slice(&mut rest[..n]);
    assert!(matches!(rejected(&b), VerifyError::InvalidProof(_)));
    // The last inference dropped from the public values.
    let mut b = bundle.clone();
    b.inputs.truncate(2 * n);
    b.outputs.truncate(2 * m);
    assert!(matches!(rejected(&b), VerifyError::Length { .. }));
    // Outputs of two inferences claimed for three inputs.
    let mut b = bundle.clone();
    b.outputs.truncate(2 * m);
    assert!(matches!(rejected(&b), VerifyError::Length { .. }));
    // Part of an inference's input.
    let mut b = bundle.clone();
    b.inputs.pop();
    assert!(matches!(rejected(&b), VerifyError::Length { .. }));
    // One output of the middle inference changed.
    let mut b = bundle.clone();
    b.outputs[m + 2] += 1;
    assert!(matches!(rejected(&b), VerifyError::InvalidProof(_)));
    // A proof byte flipped beyond the length of a one-inference proof.
    let mut b = bundle.clone();
    let at = verifier.proof_len() + 40;
    b.proof[at] ^= 1;
    assert!(matches!(rejected(&b), VerifyError::InvalidProof(_)));
    // The single-inference proof does not stand for the batch.
    let mut b = bundle.clone();
    b.proof = prover.prove(&xs[0], &Silent).unwrap().0.proof;
    assert!(matches!(rejected(&b), VerifyError::Length { .. }));
}

#[test]
fn empty_and_oversized_batches_are_errors() {
    let compiled = compiled("mlp_digits");
    let store = ParamsStore::default();
    let prover = Prover::new(compiled.model.clone(), &store, &Silent).unwrap();
    assert!(prover.prove_batch(&[], &Silent).is_err());
    let x = vec![0.0f32; compiled.model.spec.input.len()];
    let too_many = vec![x; zkinfer::core::keys::MAX_BATCH + 1];
    assert!(prover.prove_batch(&too_many, &Silent).is_err());
}

#[test]
fn inferences_side_by_side_in_one_circuit() {
    let batched = compiled_batched("mlp_digits", 2);
    let spec = &batched.model.spec;
    assert_eq!(spec.circuit.batch, 2);
    let (prover, verifier, xs) = setup(&batched, 4);
    let (n, m) = (spec.input.len(), spec.output.len());
    // An odd number of inputs does not fill whole circuits.
    assert!(prover.prove_batch(&xs[..3], &Silent).is_err());
    // Four inputs: two circuits of two inferences in one proof.
    let (bundle, _) = prover.prove_batch(&xs, &Silent).unwrap();
    assert_eq!(bundle.proof.len(), verifier.batch_proof_len(2));
    let out = verifier.verify(&bundle).unwrap();
    assert_eq!(out.batch, 4);
    for (i, x) in xs.iter().enumerate() {
        let q = quantize_input(&spec.input, x).unwrap();
        let trace = evaluate(spec, &batched.model.weights, &q).unwrap();
        assert_eq!(&out.quantized_outputs[i * m..(i + 1) * m], trace.output());
    }
    // The same weights commitment as the one-inference compilation with the same salt (and
    // a different one with its own fresh salt).
    let single = compiled("mlp_digits");
    assert_ne!(
        spec.weights_commitment,
        single.model.spec.weights_commitment
    );
    let resalted = single.model.clone().with_salt(batched.model.weights.salt);
    assert_eq!(spec.weights_commitment, resalted.spec.weights_commitment);
    // The second inference's output changed, or three inferences' values only: rejected.
    let mut b = bundle.clone();
    b.outputs[m] += 1;
    assert!(matches!(
        verifier.verify(&b),
        Err(VerifyError::InvalidProof(_))
    ));
    let mut b = bundle.clone();
    b.inputs.truncate(3 * n);
    b.outputs.truncate(3 * m);
    assert!(matches!(
        verifier.verify(&b),
        Err(VerifyError::Length { .. })
    ));
    // A verifier of the one-inference spec rejects it.
    let other = Verifier::with_store(&single.model.spec, &ParamsStore::default(), &Silent).unwrap();
    assert!(matches!(
        other.verify(&bundle),
        Err(VerifyError::SpecDigest { .. })
    ));
}
