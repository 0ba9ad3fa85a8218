//! MockProver tests of table activations: the honest witness passes, a wrong looked-up output
//! is rejected, and the quantized functions track the float ones.

use super::*;
use crate::chips::rescale::RescaleRow;
use crate::function::to_param;
use crate::quant::{dequantize, quantize_input};
use crate::spec::{Activation, Function};
use crate::testing::{float_mlp, quantized_mlp_with};

#[derive(Clone, Debug, Default)]
struct WrongOutput(bool);

impl WitnessEdit for WrongOutput {
    fn rescale(&self, layer: usize, rows: &mut [RescaleRow]) {
        if self.0 && layer == 1 {
            rows[2].y = rows[2].y.map(|y| y + 1);
        }
    }
}

fn check(f1: Function, f2: Function) {
    let (m, data) = quantized_mlp_with(21, [24, 12, 8, 3], f1, f2).unwrap();
    assert!(
        matches!(m.spec.layers[0].activation, Activation::Table { function, .. } if function == f1)
    );
    let plan = CircuitPlan::from_spec(&m.spec);
    assert_eq!(plan.table.functions.len(), 2);
    let input = quantize_input(&m.spec.input, &data[0]).unwrap();
    let (circuit, public, trace) = ModelCircuit::prove(&m, &input).unwrap();
    let k = m.spec.circuit.k;
    let run = |edit: WrongOutput| {
        let c = EditedCircuit {
            circuit: circuit.clone(),
            edit,
        };
        c.mock_passes(k, public.clone())
    };
    assert!(run(WrongOutput(false)), "{f1:?}/{f2:?} honest");
    assert!(!run(WrongOutput(true)), "{f1:?}/{f2:?} wrong output");
    // Quantized vs float, layer 1 output.
    let mut layers = float_mlp(21, &[24, 12, 8, 3]);
    for (l, f) in layers.iter_mut().zip([f1, f2]) {
        l.relu = false;
        l.function = Some(f);
    }
    let float = crate::ir::float_trace(&layers, &data[0]);
    let q1 = dequantize(&trace.layers[1].out, m.spec.layers[1].result_scale());
    for (a, b) in q1.iter().zip(&float[1].1) {
        assert!((a - *b as f64).abs() < 0.1, "{f2:?}: {a} vs {b}");
    }
}

#[test]
fn sigmoid_and_tanh() {
    check(Function::Sigmoid, Function::Tanh);
}

#[test]
fn gelu_and_leaky_relu() {
    check(
        Function::Gelu,
        Function::LeakyRelu {
            alpha: to_param(0.1),
        },
    );
}

#[test]
fn erf_and_clip() {
    check(
        Function::Erf,
        Function::Clip {
            min: 0,
            max: to_param(0.5),
        },
    );
}
