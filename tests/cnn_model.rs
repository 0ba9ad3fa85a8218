//! The LeNet-5-shaped reference CNN: lowering (Conv, BatchNorm folding, MaxPool, Flatten, Gemm),
//! quantized accuracy against the float model on real digits, and a real proof verified from
//! the spec (MockProver is slower than proving at this size; the chips' MockProver tests run on
//! a small CNN in zkinfer-core).

mod common;

use common::*;
use zkinfer::core::spec::LayerKind;

#[test]
fn cifar_resnet_with_residual_add_matches_float_and_proves() {
    let c = compiled("cifar_resnet");
    assert!(c
        .model
        .spec
        .layers
        .iter()
        .any(|l| l.kind == (LayerKind::Add { subtract: false }) && l.sources.len() == 2));
    // The default width picks 16-bit values here: every held-out sample agrees.
    assert!(c.model.spec.has_wide());
    let q = check_accuracy("cifar_resnet", &c, 99);
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
    let q = check_accuracy("lenet5", &c, 99);
    // The witness mutations run on cifar_resnet above and, in LeNet-5's layout, on the small
    // models of zkinfer-core's circuit tests: on LeNet-5's 3,566 commitment rows MockProver
    // spends minutes on them (its region-cell check is quadratic in a region's size).
    prove_verify_and_tamper(&c, &q);
}

/// The 16-group layouts (the planner's choice for the 2 M-MAC CIFAR CNN of the scale benchmark
/// with 8-bit activations: square patch rows with committed weights, tile rows with public
/// ones; and flat patch rows) on a small CNN: real proofs verify from the spec and every
/// proof-level tampering is rejected.
#[test]
fn sixteen_group_layouts_prove_verify_and_reject_tampering() {
    use zkinfer::core::circuit::Layout;
    use zkinfer::core::quant::{quantize_input, CalibrationReport};
    use zkinfer::core::testing::quantized_cnn;
    let store = zkinfer::ParamsStore::default();
    for layout in [
        Layout::new(16, 1).with_patch(3),
        Layout::new(16, 1).with_patch(3).with_lines(4),
        Layout::new(16, 0).with_tile(),
    ] {
        let (m, data) = quantized_cnn(3).unwrap();
        let laid_out = m.in_layout(layout).unwrap();
        let model = zkinfer::prover::with_fingerprint(laid_out, &store, &zkinfer::Silent).unwrap();
        let input = quantize_input(&model.spec.input, &data[0]).unwrap();
        let calibration = CalibrationReport {
            samples: 0,
            max_abs_error: 0.0,
            mean_abs_error: 0.0,
            max_abs_output: 0.0,
            argmax_agreement: 1.0,
            layer_max_abs_error: Vec::new(),
        };
        let c = zkinfer::CompiledModel { model, calibration };
        assert!(prove_verify_and_tamper(&c, &input) > 0, "{layout}");
    }
}
