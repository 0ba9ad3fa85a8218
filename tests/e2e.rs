//! End to end on the reference models: real proofs verify from the spec alone, and every
//! kind of tampering is rejected.

mod common;

use std::sync::OnceLock;

use common::*;
use zkinfer::core::eval::evaluate;
use zkinfer::core::quant::{dequantize, quantize_input};
use zkinfer::{CompiledModel, ParamsStore, ProofBundle, Prover, Silent, Verifier, VerifyError};

struct Fixture {
    compiled: CompiledModel,
    bundle: ProofBundle,
    verifier: Verifier,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let compiled = compiled("mlp_digits");
        let store = ParamsStore::default();
        let prover = Prover::new(compiled.model.clone(), &store, &Silent).unwrap();
        let (bundle, _) = prover
            .prove(&json_input("mlp_digits", "input.json"), &Silent)
            .unwrap();
        let verifier = Verifier::with_store(&compiled.model.spec, &store, &Silent).unwrap();
        Fixture {
            compiled,
            bundle,
            verifier,
        }
    })
}

#[test]
fn proof_verifies_from_spec_and_matches_evaluator_and_float_model() {
    let f = fixture();
    let spec = &f.compiled.model.spec;
    // The verifier is built from the spec alone (round-tripped through JSON).
    let spec_again = zkinfer::ModelSpec::from_json(spec.to_json().as_bytes()).unwrap();
    let verifier = Verifier::new(&spec_again).unwrap();
    let out = verifier.verify(&f.bundle).unwrap();
    assert_eq!(out.weights_commitment, spec.weights_commitment);
    // Circuit outputs are exactly the evaluator's.
    let q = quantize_input(&spec.input, &json_input("mlp_digits", "input.json")).unwrap();
    let trace = evaluate(spec, &f.compiled.model.weights, &q).unwrap();
    assert_eq!(out.quantized_outputs, trace.output());
    assert_eq!(out.outputs, dequantize(trace.output(), spec.output.scale));
    // And close to the float model (onnxruntime), same argmax.
    let exp = expected("mlp_digits");
    let tol = tolerance(&exp, spec.output.scale);
    for (a, b) in out.outputs.iter().zip(&exp) {
        assert!((a - b).abs() <= tol, "{a} vs {b} (tolerance {tol})");
    }
    assert_eq!(argmax(&out.outputs), argmax(&exp));
}

#[test]
fn quantized_argmax_agrees_on_held_out_digits() {
    let f = fixture();
    let spec = &f.compiled.model.spec;
    let flat = json_input("mlp_digits", "test.json");
    let g = graph("mlp_digits");
    let mut agree = 0;
    let samples: Vec<&[f32]> = flat.chunks(64).collect();
    for s in &samples {
        let q = quantize_input(&spec.input, s).unwrap();
        let trace = evaluate(spec, &f.compiled.model.weights, &q).unwrap();
        let quant = dequantize(trace.output(), spec.output.scale);
        let float: Vec<f64> = g.eval_f32(s).unwrap().iter().map(|v| *v as f64).collect();
        agree += usize::from(argmax(&quant) == argmax(&float));
    }
    assert!(
        agree * 100 >= samples.len() * 98,
        "{agree}/{} agree",
        samples.len()
    );
}

#[test]
fn every_region_flip_public_value_swap_and_witness_mutation_is_rejected() {
    let f = fixture();
    let input = &f.bundle.inputs;
    let tampered = tamper::check_tampering(&f.compiled, &f.bundle, &f.verifier);
    let mutated = mutation::check_mutations(&f.compiled, input);
    assert!(
        tampered >= 30 && mutated >= 10,
        "{tampered} tamperings, {mutated} mutations"
    );
}

fn rejects(bundle: &ProofBundle) -> VerifyError {
    fixture()
        .verifier
        .verify(bundle)
        .expect_err("tampered bundle must be rejected")
}

#[test]
fn flipped_truncated_or_extended_proofs_are_rejected() {
    let f = fixture();
    let len = f.bundle.proof.len();
    for pos in [0, 1, 100, len / 3, len / 2, len - 33, len - 1] {
        let mut b = f.bundle.clone();
        b.proof[pos] ^= 0x01;
        assert!(
            matches!(rejects(&b), VerifyError::InvalidProof(_)),
            "flip at {pos}"
        );
    }
    let mut b = f.bundle.clone();
    b.proof.extend_from_slice(&[0u8; 64]);
    assert!(matches!(rejects(&b), VerifyError::Length { .. }));
    let mut b = f.bundle.clone();
    b.proof.truncate(len - 32);
    assert!(matches!(rejects(&b), VerifyError::Length { .. }));
}

#[test]
fn changed_outputs_or_inputs_are_rejected() {
    let f = fixture();
    let mut b = f.bundle.clone();
    b.outputs[0] += 1;
    assert!(matches!(rejects(&b), VerifyError::InvalidProof(_)));
    let mut b = f.bundle.clone();
    b.outputs.swap(0, 1);
    assert!(matches!(rejects(&b), VerifyError::InvalidProof(_)));
    let mut b = f.bundle.clone();
    b.inputs[10] = if b.inputs[10] > 0 {
        b.inputs[10] - 1
    } else {
        1
    };
    assert!(matches!(rejects(&b), VerifyError::InvalidProof(_)));
    // Outputs beyond the spec's range (16-bit for a wide last layer), inputs beyond 8 bits.
    let top = *f.compiled.model.spec.output_range().end();
    let mut b = f.bundle.clone();
    b.outputs[0] = top + 1;
    assert!(matches!(rejects(&b), VerifyError::Range { .. }));
    let mut b = f.bundle.clone();
    b.inputs[0] = 1000;
    assert!(matches!(rejects(&b), VerifyError::Range { .. }));
    let mut b = f.bundle.clone();
    b.inputs.pop();
    assert!(matches!(rejects(&b), VerifyError::Length { .. }));
}

#[test]
fn spec_with_another_weight_commitment_rejects_the_proof() {
    let f = fixture();
    // The same architecture with one weight changed.
    let mut other = f.compiled.model.clone();
    other.weights.layers[0].weights[5] += if other.weights.layers[0].weights[5] < 100 {
        1
    } else {
        -1
    };
    let commitment = zkinfer::core::commit::commitment(&other.spec, &other.weights);
    let mut spec = f.compiled.model.spec.clone();
    spec.weights_commitment =
        zkinfer::core::digest::hex(&zkinfer::core::field::to_bytes(&commitment));
    assert_ne!(
        spec.weights_commitment,
        f.compiled.model.spec.weights_commitment
    );
    let verifier = Verifier::new(&spec).unwrap();
    // Rejected by the spec digest...
    assert!(matches!(
        verifier.verify(&f.bundle),
        Err(VerifyError::SpecDigest { .. })
    ));
    // ...and by the proof itself when the digest is made to match.
    let mut b = f.bundle.clone();
    b.spec_digest = spec.digest();
    assert!(matches!(
        verifier.verify(&b),
        Err(VerifyError::InvalidProof(_))
    ));
}

#[test]
fn malformed_bundle_bytes_are_errors() {
    let f = fixture();
    let bytes = f.bundle.to_bytes();
    assert!(f.verifier.verify_bytes(&bytes).is_ok());
    for cut in [0, 4, 8, 20, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            f.verifier.verify_bytes(&bytes[..cut]).is_err(),
            "cut at {cut}"
        );
    }
    let mut junk = bytes.clone();
    junk.push(0);
    assert!(f.verifier.verify_bytes(&junk).is_err());
    let mut huge_len = bytes.clone();
    // Corrupt the length prefix of the inputs vector.
    huge_len[8 + 4 + 32..8 + 4 + 32 + 8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(f.verifier.verify_bytes(&huge_len).is_err());
}

#[test]
fn spec_holds_no_weights() {
    let f = fixture();
    let json: serde_json::Value = serde_json::from_str(&f.compiled.model.spec.to_json()).unwrap();
    fn longest_array(v: &serde_json::Value) -> usize {
        match v {
            serde_json::Value::Array(a) => {
                a.iter().map(longest_array).max().unwrap_or(0).max(a.len())
            }
            serde_json::Value::Object(o) => o
                .iter()
                .filter(|(k, _)| *k != "channel_scales")
                .map(|(_, v)| longest_array(v))
                .max()
                .unwrap_or(0),
            _ => 0,
        }
    }
    // Only shapes, the layer list and the per-filter scale exponents are arrays; the model
    // has 2,410 weights.
    assert!(longest_array(&json) <= 8);
    for l in &f.compiled.model.spec.layers {
        assert!(l.channel_scales.is_empty() || l.channel_scales.len() == l.filters());
        assert!(l
            .channel_scales
            .iter()
            .all(|e| *e <= zkinfer::core::MAX_SHIFT));
    }
    let text = f.compiled.model.spec.to_json();
    assert!(!text.contains("\"weights\"") && !text.contains("\"bias\""));
    assert!(text.len() < 4096);
}

#[test]
fn hostile_specs_are_errors_not_panics() {
    let f = fixture();
    let base = f.compiled.model.spec.clone();
    type Edit = Box<dyn Fn(&mut zkinfer::ModelSpec)>;
    let cases: Vec<(&str, Edit)> = vec![
        ("version", Box::new(|s| s.format_version = 99)),
        ("k too large", Box::new(|s| s.circuit.k = 40)),
        (
            "k too small for the model",
            Box::new(|s| {
                s.layers[0].outputs = 4000;
                s.layers[1].inputs = 4000;
            }),
        ),
        (
            "huge shape",
            Box::new(|s| s.input.shape = vec![1 << 20, 1 << 20, 1 << 20]),
        ),
        ("zero dim", Box::new(|s| s.input.shape = vec![0, 64])),
        (
            "shift out of range",
            Box::new(|s| s.layers[0].output_scale = 24),
        ),
        (
            "bad commitment hex",
            Box::new(|s| s.weights_commitment = "zz".into()),
        ),
        (
            "non-canonical commitment",
            Box::new(|s| s.weights_commitment = "ff".repeat(32)),
        ),
        (
            "bad fingerprint",
            Box::new(|s| s.vk_fingerprint = "00".repeat(31)),
        ),
        (
            "other fingerprint",
            Box::new(|s| s.vk_fingerprint = "00".repeat(32)),
        ),
        ("no layers", Box::new(|s| s.layers.clear())),
    ];
    for (what, mutate) in cases {
        let mut s = base.clone();
        mutate(&mut s);
        assert!(Verifier::new(&s).is_err(), "{what}");
    }
    for bytes in [
        &b""[..],
        b"{}",
        b"[1,2,3]",
        b"{\"format_version\": 1}",
        &[0xffu8; 64][..],
    ] {
        assert!(zkinfer::ModelSpec::from_json(bytes).is_err());
    }
}

#[test]
fn batch_verification_gives_one_verdict_per_bundle() {
    let f = fixture();
    let store = ParamsStore::default();
    let prover = Prover::new(f.compiled.model.clone(), &store, &Silent).unwrap();
    let data = json_input("mlp_digits", "test.json");
    let len = f.compiled.model.spec.input.len();
    let mut bundles = vec![f.bundle.clone()];
    for x in data.chunks(len).take(2) {
        bundles.push(prover.prove(x, &Silent).unwrap().0);
    }
    // All valid: one batch check.
    let verdicts = f.verifier.verify_many(&bundles);
    assert!(verdicts.iter().all(Result::is_ok));
    for (v, b) in verdicts.iter().zip(&bundles) {
        assert_eq!(v.as_ref().unwrap().quantized_outputs, b.outputs);
    }
    // One changed output, one truncated proof: exactly those two are rejected.
    bundles[1].outputs[0] += 1;
    bundles[2].proof.pop();
    let verdicts = f.verifier.verify_many(&bundles);
    assert!(verdicts[0].is_ok());
    assert!(matches!(verdicts[1], Err(VerifyError::InvalidProof(_))));
    assert!(matches!(verdicts[2], Err(VerifyError::Length { .. })));
}
