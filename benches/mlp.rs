//! Key generation, proving and verification of the reference MLP (`circuits/mlp_digits`).

// criterion_group! expands to an undocumented function.
#![allow(missing_docs)]

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use zkinfer::core::circuit::CircuitPlan;
use zkinfer::core::keys;
use zkinfer::core::quant::split_samples;
use zkinfer::{compile, onnx, read_input_json, ParamsStore, Prover, Silent, Verifier};

fn mlp(c: &mut Criterion) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("circuits/mlp_digits");
    let graph = onnx::load(dir.join("model.onnx")).unwrap();
    let cal = read_input_json(&std::fs::read(dir.join("calibration.json")).unwrap()).unwrap();
    let samples = split_samples(&cal[0], graph.input_len()).unwrap();
    let input = read_input_json(&std::fs::read(dir.join("input.json")).unwrap())
        .unwrap()
        .remove(0);
    let store = ParamsStore::default();
    let compiled = compile("mlp_digits", &graph, &samples, &store, &Silent).unwrap();
    let spec = compiled.model.spec.clone();
    let params = store.load(spec.circuit.k, &Silent).unwrap();
    let plan = CircuitPlan::from_spec(&spec);
    let prover = Prover::new(compiled.model, &store, &Silent).unwrap();
    let (bundle, _) = prover.prove(&input, &Silent).unwrap();
    let verifier = Verifier::with_store(&spec, &store, &Silent).unwrap();

    let mut g = c.benchmark_group("model/mlp_digits");
    g.sample_size(10);
    g.bench_function("keygen_vk", |b| {
        b.iter(|| keys::verifying_key(&params, &plan).unwrap())
    });
    g.bench_function("prove", |b| {
        b.iter(|| prover.prove(&input, &Silent).unwrap())
    });
    g.bench_function("verify", |b| b.iter(|| verifier.verify(&bundle).unwrap()));
    g.finish();
}

criterion_group!(benches, mlp);
criterion_main!(benches);
