//! Loading the reference models in `circuits/`.

#![allow(dead_code)]

use std::path::PathBuf;

pub mod mutation;
pub mod tamper;

use zkinfer::core::eval::evaluate;
use zkinfer::core::ir::Graph;
use zkinfer::core::quant::{dequantize, quantize_input, split_samples};
use zkinfer::{
    compile_batched, join_inputs, onnx, read_input_json, CompiledModel, ParamsStore, Silent,
};

/// Folder of a reference model.
pub fn dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("circuits")
        .join(name)
}

/// Float vectors of an input JSON file in a model folder (the arrays of a model with several
/// inputs joined sample by sample).
pub fn json_input(name: &str, file: &str) -> Vec<f32> {
    let bytes = std::fs::read(dir(name).join(file)).unwrap();
    let arrays = read_input_json(&bytes).unwrap();
    let len = if arrays.len() > 1 {
        graph(name).input_len()
    } else {
        0
    };
    join_inputs(arrays, len).unwrap()
}

/// Expected float outputs (onnxruntime) for `input.json`.
pub fn expected(name: &str) -> Vec<f64> {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir(name).join("expected.json")).unwrap()).unwrap();
    v["output_data"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// The lowered graph of a reference model.
pub fn graph(name: &str) -> Graph {
    onnx::load(dir(name).join("model.onnx")).unwrap()
}

/// A reference model compiled with its calibration data.
pub fn compiled(name: &str) -> CompiledModel {
    compiled_batched(name, 1)
}

/// A reference model compiled for circuits of `batch` inferences side by side.
pub fn compiled_batched(name: &str, batch: usize) -> CompiledModel {
    let g = graph(name);
    let samples = split_samples(&json_input(name, "calibration.json"), g.input_len()).unwrap();
    compile_batched(name, &g, &samples, batch, &ParamsStore::default(), &Silent).unwrap()
}

/// Index of the largest value.
pub fn argmax(v: &[f64]) -> usize {
    v.iter()
        .enumerate()
        .fold(0, |b, (i, x)| if *x > v[b] { i } else { b })
}

/// The MLP tolerance stated in the README: 3% of the largest float output plus one output step.
pub fn tolerance(expected: &[f64], output_scale: u32) -> f64 {
    0.03 * expected.iter().fold(0.0f64, |m, x| m.max(x.abs())) + 1.0 / (1u64 << output_scale) as f64
}

/// The CNN tolerance stated in the README: 10% of the largest float output plus two output
/// steps (8-bit activations lose more through deeper models).
pub fn tolerance_cnn(expected: &[f64], output_scale: u32) -> f64 {
    0.10 * expected.iter().fold(0.0f64, |m, x| m.max(x.abs())) + 2.0 / (1u64 << output_scale) as f64
}

/// Checks the quantized model against onnxruntime on `input.json` and against the float model's
/// argmax on `test.json`; returns the quantized input of `input.json` and the spec's outputs.
pub fn check_accuracy(
    name: &str,
    c: &zkinfer::CompiledModel,
    min_agree_percent: usize,
) -> Vec<i64> {
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

/// Proves on `input` and verifies from the spec (outputs equal to the evaluator's); then the
/// soundness checks on the model: every proof-level tampering and every witness mutation of
/// the model is rejected.
pub fn prove_and_verify(c: &zkinfer::CompiledModel, input: &[i64]) {
    let tampered = prove_verify_and_tamper(c, input);
    let mutated = mutation::check_mutations(c, input);
    println!(
        "{}: {tampered} tampered bundles and {mutated} witness mutations rejected",
        c.model.spec.name
    );
}

/// Proves on `input`, verifies from the spec (outputs equal to the evaluator's) and checks
/// that every proof-level tampering is rejected; returns how many tamperings were tried.
pub fn prove_verify_and_tamper(c: &zkinfer::CompiledModel, input: &[i64]) -> usize {
    let spec = &c.model.spec;
    let store = zkinfer::ParamsStore::default();
    let prover = zkinfer::Prover::new(c.model.clone(), &store, &zkinfer::Silent).unwrap();
    let (bundle, trace) = prover.prove_quantized(input, &zkinfer::Silent).unwrap();
    let verifier = zkinfer::Verifier::new(spec).unwrap();
    let verified = verifier.verify(&bundle).unwrap();
    assert_eq!(verified.quantized_outputs, trace.output());
    tamper::check_tampering(c, &bundle, &verifier)
}
