//! Classical models trained on the digits: skl2onnx's random forest (TreeEnsembleClassifier),
//! scaled logistic regression (Scaler, LinearClassifier, Normalizer) and MLP (ArgMax,
//! ArrayFeatureExtractor) in `circuits/skl_*`, and a random forest in the GEMM form hummingbird
//! exports (`circuits/hb_forest`: Greater/Not against the thresholds, MatMul by the batched
//! per-tree path matrices, Equal, ReduceSum, ArgMax and a Gather of the class labels). The
//! label the quantized model computes (output 0) is checked against scikit-learn's prediction
//! on held-out digits; the forests are proved and verified, and tampered proofs are rejected.

mod common;

use common::*;
use zkinfer::core::eval::evaluate;
use zkinfer::core::quant::{dequantize, quantize_input};

#[derive(serde::Deserialize)]
struct Test {
    input_data: Vec<Vec<f32>>,
    predicted: Vec<i64>,
}

/// How many held-out labels the quantized model shares with scikit-learn, of how many.
fn label_agreement(name: &str, c: &zkinfer::CompiledModel) -> (usize, usize) {
    let spec = &c.model.spec;
    let t: Test =
        serde_json::from_slice(&std::fs::read(dir(name).join("test.json")).unwrap()).unwrap();
    let agree = t.input_data[0]
        .chunks(spec.input.len())
        .zip(&t.predicted)
        .filter(|(x, label)| {
            let q = quantize_input(&spec.input, x).unwrap();
            let out = dequantize(
                evaluate(spec, &c.model.weights, &q).unwrap().output(),
                spec.output.scale,
            );
            out[0].round() as i64 == **label
        })
        .count();
    (agree, t.predicted.len())
}

fn check(name: &str, min_percent: usize) -> zkinfer::CompiledModel {
    let c = compiled(name);
    let (agree, total) = label_agreement(name, &c);
    println!(
        "{name}: label agreement with scikit-learn {agree}/{total}, k = {}",
        c.model.spec.circuit.k
    );
    assert!(
        agree * 100 >= total * min_percent,
        "{name}: {agree}/{total}"
    );
    c
}

#[test]
fn random_forest_labels_agree_and_prove() {
    let c = check("skl_forest", 99);
    let q = quantize_input(&c.model.spec.input, &json_input("skl_forest", "input.json")).unwrap();
    let tampered = prove_verify_and_tamper(&c, &q);
    println!("skl_forest: {tampered} tampered bundles rejected");
}

#[test]
fn a_forest_in_gemm_form_labels_agree_and_prove() {
    let c = check("hb_forest", 99);
    let q = quantize_input(&c.model.spec.input, &json_input("hb_forest", "input.json")).unwrap();
    let tampered = prove_verify_and_tamper(&c, &q);
    println!("hb_forest: {tampered} tampered bundles rejected");
}

#[test]
fn logistic_regression_and_mlp_labels_agree() {
    check("skl_logreg", 99);
    // Its logits reach ±30, so 8-bit activations hold them in steps of 1/2: close logits can
    // tie, and the first class wins.
    check("skl_mlp", 97);
}
