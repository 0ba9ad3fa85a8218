//! The LeNet-5-shaped reference CNN: lowering (Conv, BatchNorm folding, MaxPool, Flatten, Gemm),
//! quantized accuracy against the float model on real digits, and a real proof verified from
//! the spec (MockProver is slower than proving at this size; the chips' MockProver tests run on
//! a small CNN in zkinfer-core).

mod common;

use common::*;
use zkinfer::core::eval::evaluate;
use zkinfer::core::quant::{dequantize, quantize_input};
use zkinfer::core::spec::LayerKind;

#[test]
fn lenet_quantized_matches_float_and_satisfies_the_circuit() {
    let c = compiled("lenet5");
    let spec = &c.model.spec;
    let kinds: Vec<bool> = spec
        .layers
        .iter()
        .map(|l| matches!(l.kind, LayerKind::Conv2d { .. }))
        .collect();
    assert_eq!(kinds, [true, false, true, false, false, false, false]);

    // Against onnxruntime on the sample input.
    let x = json_input("lenet5", "input.json");
    let q = quantize_input(&spec.input, &x).unwrap();
    let trace = evaluate(spec, &c.model.weights, &q).unwrap();
    let out = dequantize(trace.output(), spec.output.scale);
    let exp = expected("lenet5");
    let tol = tolerance(&exp, spec.output.scale);
    for (a, b) in out.iter().zip(&exp) {
        assert!((a - b).abs() <= tol, "{a} vs {b} (tolerance {tol})");
    }
    assert_eq!(argmax(&out), argmax(&exp));

    // Held-out digits: argmax agrees with the float model.
    let g = graph("lenet5");
    let flat = json_input("lenet5", "test.json");
    let samples: Vec<&[f32]> = flat.chunks(784).collect();
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
        agree * 100 >= samples.len() * 90,
        "{agree}/{} agree",
        samples.len()
    );

    // A real proof verifies from the spec, with the evaluator's outputs.
    let store = zkinfer::ParamsStore::default();
    let prover = zkinfer::Prover::new(c.model.clone(), &store, &zkinfer::Silent).unwrap();
    let (bundle, _) = prover.prove_quantized(&q, &zkinfer::Silent).unwrap();
    let verified = zkinfer::Verifier::new(spec)
        .unwrap()
        .verify(&bundle)
        .unwrap();
    assert_eq!(verified.quantized_outputs, trace.output());
    let mut tampered = bundle.clone();
    tampered.outputs[3] += 1;
    assert!(zkinfer::Verifier::new(spec)
        .unwrap()
        .verify(&tampered)
        .is_err());
}
