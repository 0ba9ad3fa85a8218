//! The one-head attention reference block: lowering (MatMul of two activations, Transpose,
//! Div by a constant, Softmax, LayerNormalization, Gelu, ReduceMean), quantized accuracy
//! against the float model on real digits, and a real proof verified from the spec.

mod common;

use common::*;
use zkinfer::core::spec::LayerKind;

#[test]
fn attention_block_matches_float_and_proves() {
    let c = compiled("attention");
    let kinds: Vec<&str> = c.model.spec.layers.iter().map(|l| l.kind.name()).collect();
    for kind in [
        "matmul", "gather", "mul", "sumpool", "maxpool", "avgpool", "dense",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    assert!(c
        .model
        .spec
        .layers
        .iter()
        .any(|l| matches!(l.kind, LayerKind::MatMul { .. }) && l.sources.iter().all(|s| *s > 0)));
    // 8-bit activations through two layer norms and a softmax: argmax agreement with the
    // float block is lower than for the CNNs (measured 31/32 on test.json).
    let q = check_accuracy("attention", &c, 99);
    prove_and_verify(&c, &q);
}
