//! Key generation, proving and verification of each reference model in `circuits/`
//! (`cargo bench --bench models -- model/lenet5` for one).

// criterion_group! expands to an undocumented function.
#![allow(missing_docs)]

mod support;

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use zkinfer::core::quant::{quantize_input, split_samples};
use zkinfer::{onnx, read_input_json, ParamsStore, Silent};

const MODELS: [&str; 5] = [
    "mlp_digits",
    "mlp784",
    "attention",
    "lenet5",
    "cifar_resnet",
];

fn models(c: &mut Criterion) {
    for name in MODELS {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("circuits")
            .join(name);
        let graph = onnx::load(dir.join("model.onnx")).unwrap();
        let read = |f: &str| read_input_json(&std::fs::read(dir.join(f)).unwrap()).unwrap();
        let samples = split_samples(&read("calibration.json")[0], graph.input_len()).unwrap();
        let compiled =
            zkinfer::compile(name, &graph, &samples, &ParamsStore::default(), &Silent).unwrap();
        let input = quantize_input(&compiled.model.spec.input, &read("input.json")[0]).unwrap();
        support::bench_model(c, &format!("model/{name}"), compiled.model, &input);
    }
}

criterion_group!(benches, models);
criterion_main!(benches);
