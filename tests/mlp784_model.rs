//! The 784-128-10 reference MLP (the MNIST-sized MLP of the benchmarks): quantized accuracy
//! against the float model on the 28x28 digits, a real proof verified from the spec, and the
//! proof-level tampering checks. Its layer kinds are those of `mlp_digits`, whose circuit gets
//! the witness mutations (MockProver spends about 50 s per run here, in the per-region checks
//! of its 3,500-row commitment region).

mod common;

use common::*;

#[test]
fn mlp784_matches_float_and_proves() {
    let c = compiled("mlp784");
    let shapes: Vec<(usize, usize)> = c
        .model
        .spec
        .layers
        .iter()
        .map(|l| (l.inputs, l.outputs))
        .collect();
    assert_eq!(shapes, [(784, 128), (128, 10)]);
    let q = check_accuracy("mlp784", &c, 99);
    let tampered = prove_verify_and_tamper(&c, &q);
    println!("mlp784: {tampered} tampered bundles rejected");
}
