//! Key generation, proving and verification of one compiled model, as criterion benchmarks.

use criterion::Criterion;
use zkinfer::core::circuit::CircuitPlan;
use zkinfer::core::keys;
use zkinfer::core::model::QuantModel;
use zkinfer::{ParamsStore, Prover, Silent, Verifier};

/// Benchmarks `keygen_vk`, `prove` (one inference, quantized input) and `verify` (with a
/// cached verifying key) of `model` in the group `group`.
pub fn bench_model(c: &mut Criterion, group: &str, model: QuantModel, input: &[i64]) {
    let store = ParamsStore::default();
    let spec = model.spec.clone();
    let params = store.load(spec.circuit.k, &Silent).unwrap();
    let plan = CircuitPlan::from_spec(&spec);
    let prover = Prover::new(model, &store, &Silent).unwrap();
    let (bundle, _) = prover.prove_quantized(input, &Silent).unwrap();
    let verifier = Verifier::with_store(&spec, &store, &Silent).unwrap();
    let mut g = c.benchmark_group(group);
    g.sample_size(10);
    g.bench_function("keygen_vk", |b| {
        b.iter(|| keys::verifying_key(&params, &plan).unwrap())
    });
    g.bench_function("prove", |b| {
        b.iter(|| prover.prove_quantized(input, &Silent).unwrap())
    });
    g.bench_function("verify", |b| b.iter(|| verifier.verify(&bundle).unwrap()));
    g.finish();
}

#[allow(dead_code)] // used by the layer benches only
/// Sets the spec's verifying-key fingerprint (what `compile` does after quantizing).
pub fn with_fingerprint(model: QuantModel) -> QuantModel {
    zkinfer::prover::with_fingerprint(model, &ParamsStore::default(), &Silent).unwrap()
}
