//! The LeNet-5-shaped reference CNN: lowering (Conv, BatchNorm folding, MaxPool, Flatten, Gemm),
//! quantized accuracy against the float model on real digits, and a real proof verified from
//! the spec (MockProver is slower than proving at this size; the chips' MockProver tests run on
//! a small CNN in zkinfer-core).

mod common;

use common::*;
use zkinfer::core::eval::evaluate;
use zkinfer::core::quant::{dequantize, quantize_input};
use zkinfer::core::spec::LayerKind;

/// Checks the quantized model against onnxruntime on `input.json` and against the float model's
/// argmax on `test.json`; returns the quantized input of `input.json` and the spec's outputs.
fn check_accuracy(name: &str, c: &zkinfer::CompiledModel, min_agree_percent: usize) -> Vec<i64> {
    let spec = &c.model.spec;
    let x = json_input(name, "input.json");
    let q = quantize_input(&spec.input, &x).unwrap();
    let trace = evaluate(spec, &c.model.weights, &q).unwrap();
    let out = dequantize(trace.output(), spec.output.scale);
    let exp = expected(name);
    let tol = tolerance_cnn(&exp, spec.output.scale);
    for (a, b) in out.iter().zip(&exp) {
        assert!((a - b).abs() <= tol, "{name}: {a} vs {b} (tolerance {tol})");
    }
    assert_eq!(argmax(&out), argmax(&exp));
    let g = graph(name);
    let flat = json_input(name, "test.json");
    let samples: Vec<&[f32]> = flat.chunks(spec.input.len()).collect();
    let agree = samples
        .iter()
        .filter(|s| {
            let q = quantize_input(&spec.input, s).unwrap();
            let t = evaluate(spec, &c.model.weights, &q).unwrap();
            let float: Vec<f64> = g.eval_f32(s).unwrap().iter().map(|v| *v as f64).collect();
            argmax(&dequantize(t.output(), spec.output.scale)) == argmax(&float)
        })
        .count();
    assert!(
        agree * 100 >= samples.len() * min_agree_percent,
        "{name}: {agree}/{} agree",
        samples.len()
    );
    q
}

/// Proves on `input`, verifies from the spec, and checks that a changed output is rejected.
fn prove_and_verify(c: &zkinfer::CompiledModel, input: &[i64]) {
    let spec = &c.model.spec;
    let store = zkinfer::ParamsStore::default();
    let prover = zkinfer::Prover::new(c.model.clone(), &store, &zkinfer::Silent).unwrap();
    let (bundle, trace) = prover.prove_quantized(input, &zkinfer::Silent).unwrap();
    let verifier = zkinfer::Verifier::new(spec).unwrap();
    let verified = verifier.verify(&bundle).unwrap();
    assert_eq!(verified.quantized_outputs, trace.output());
    let mut tampered = bundle.clone();
    tampered.outputs[0] += 1;
    assert!(verifier.verify(&tampered).is_err());
}

#[test]
fn cifar_resnet_with_residual_add_matches_float_and_proves() {
    let c = compiled("cifar_resnet");
    assert!(c
        .model
        .spec
        .layers
        .iter()
        .any(|l| l.kind == (LayerKind::Add { subtract: false }) && l.sources.len() == 2));
    let q = check_accuracy("cifar_resnet", &c, 90);
    prove_and_verify(&c, &q);
}

#[test]
fn lenet_quantized_matches_float_and_proves() {
    let c = compiled("lenet5");
    let kinds: Vec<bool> = c
        .model
        .spec
        .layers
        .iter()
        .map(|l| matches!(l.kind, LayerKind::Conv2d { .. }))
        .collect();
    assert_eq!(kinds, [true, false, true, false, false, false, false]);
    let q = check_accuracy("lenet5", &c, 90);
    prove_and_verify(&c, &q);
}
