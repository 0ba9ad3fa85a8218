//! Compile, prove and verify the reference MLP, printing outputs and timings.
//!
//! `cargo run --release --example quickstart [-- path/to/model_dir]`
//! (a folder holding model.onnx, calibration.json and input.json; default circuits/mlp_digits).

use std::path::PathBuf;
use std::time::Instant;

use zkinfer::core::quant::split_samples;
use zkinfer::{compile, join_inputs, onnx, read_input_json, ParamsStore, Prover, Silent, Verifier};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("circuits/mlp_digits"));
    let store = ParamsStore::default();
    println!("parameters cached in {}", store.dir().display());

    // Model owner: load the ONNX model and compile it with calibration data.
    let t = Instant::now();
    let graph = onnx::load(dir.join("model.onnx"))?;
    // One array per model input (EZKL's format), joined sample by sample.
    let calibration = read_input_json(&std::fs::read(dir.join("calibration.json"))?)?;
    let calibration = join_inputs(calibration, graph.input_len())?;
    let samples = split_samples(&calibration, graph.input_len())?;
    let compiled = compile("quickstart", &graph, &samples, &store, &Silent)?;
    let spec = compiled.model.spec.clone();
    println!(
        "compiled in {:.2} s: k = {}, {} layers",
        t.elapsed().as_secs_f64(),
        spec.circuit.k,
        spec.layers.len(),
    );
    // The quantized model against the float one on the calibration samples, output by output.
    let accuracy = zkinfer::prover::accuracy::measure(&graph, &compiled.model, &samples, None)?;
    for (i, o) in accuracy.outputs.iter().enumerate() {
        println!(
            "output {i}: prediction agreement {:.0}%, max |err| {:.3} (max |float| {:.2})",
            100.0 * o.agreement,
            o.max_abs_error,
            o.max_abs_float
        );
    }
    println!("weights commitment {}", spec.weights_commitment);

    // Node: prove one inference.
    let t = Instant::now();
    let prover = Prover::new(compiled.model, &store, &Silent)?;
    println!("proving key ready in {:.2} s", t.elapsed().as_secs_f64());
    let input = read_input_json(&std::fs::read(dir.join("input.json"))?)?;
    let input = join_inputs(input, graph.input_len())?;
    let t = Instant::now();
    let (bundle, _) = prover.prove(&input, &Silent)?;
    println!(
        "proved in {:.2} s ({} proof bytes)",
        t.elapsed().as_secs_f64(),
        bundle.proof.len()
    );

    // Anyone with the public spec: verify.
    let t = Instant::now();
    let verifier = Verifier::with_store(&spec, &store, &Silent)?;
    let setup = t.elapsed();
    let t = Instant::now();
    let verified = verifier.verify(&bundle)?;
    println!(
        "verified in {:.3} s (verifier setup {:.2} s)",
        t.elapsed().as_secs_f64(),
        setup.as_secs_f64()
    );
    println!("outputs {:?}", verified.outputs);
    println!("bound to weights {}", verified.weights_commitment);
    Ok(())
}
