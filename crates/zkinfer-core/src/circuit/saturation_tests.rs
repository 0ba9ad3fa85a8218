//! Saturating rescales: a quotient in `[-192, 191]` outside the 8-bit range is proved, and
//! the layer's output is its activation of the quotient clamped to `[-128, 127]`; a quotient
//! beyond is refused by the evaluator and by the lookup. These tests check the honest
//! witness, corrupted outputs of saturated neurons, a consistent forgery that claims a
//! saturation that did not happen, and a quotient moved out of the table's range.

use halo2_proofs::pasta::Fp;

use super::forgery_tests::{assert_rejected_by, failures};
use super::*;
use crate::chips::rescale::RescaleRow;
use crate::eval::evaluate;
use crate::model::QuantModel;
use crate::quant::quantize_input;
use crate::testing::forgery::{forge_accumulator, move_quotient};
use crate::testing::quantized_mlp;
use crate::{CoreError, VALUE_OFFSET};

/// Quotient targets: layer 0 (ReLU) neurons 0 and 1, then layer 1 (no activation) neurons 0
/// and 1, all beyond the 8-bit range.
const TARGETS: [(usize, usize, i64); 4] = [(0, 0, 150), (0, 1, -150), (1, 0, 170), (1, 1, -190)];

/// A 40-16-10 MLP whose biases put four neurons' quotients beyond 8 bits on its first input
/// (everything else as calibrated), and that input.
fn saturating() -> (QuantModel, Vec<i64>) {
    let (mut m, data) = quantized_mlp(7, &[40, 16, 10]).unwrap();
    let input = quantize_input(&m.spec.input, &data[0]).unwrap();
    for (layer, neuron, target) in TARGETS {
        let q = evaluate(&m.spec, &m.weights, &input).unwrap().layers[layer].q[neuron];
        let shift = m.spec.neuron_shifts(layer)[neuron];
        m.weights.layers[layer].bias[neuron] += (target - q) << shift;
    }
    let layout = CircuitPlan::from_spec(&m.spec).layout;
    (m.in_layout(layout).unwrap(), input)
}

#[test]
fn saturated_quotients_are_proved_clamped() {
    let (m, input) = saturating();
    let trace = evaluate(&m.spec, &m.weights, &input).unwrap();
    let expected = [(0, 0, 127), (0, 1, 0), (1, 0, 127), (1, 1, -128)];
    for ((layer, neuron, target), (_, _, out)) in TARGETS.iter().zip(expected) {
        assert_eq!(trace.layers[*layer].q[*neuron], *target);
        assert_eq!(trace.layers[*layer].out[*neuron], out);
    }
    let (circuit, public, proved) = ModelCircuit::prove(&m, &input).unwrap();
    assert_eq!(proved, trace);
    assert_eq!(
        failures(&m, circuit, public.clone(), NoEdit),
        Vec::<String>::new()
    );
    // The public outputs are the clamped values.
    let outputs = &public[public.len() - 10..];
    assert_eq!(outputs[0], Fp::from((127 + VALUE_OFFSET) as u64));
    assert_eq!(outputs[1], Fp::zero());
}

/// Changes the output cell `y` of a neuron's rescale row.
#[derive(Clone, Debug)]
struct Output {
    layer: usize,
    neuron: usize,
    y: i64,
}

impl WitnessEdit for Output {
    fn rescale(&self, layer: usize, rows: &mut [RescaleRow]) {
        if layer == self.layer {
            rows[self.neuron].y = Some(self.y + VALUE_OFFSET);
        }
    }
}

#[test]
fn a_saturated_output_cannot_be_changed() {
    let (m, input) = saturating();
    let (circuit, public, _) = ModelCircuit::prove(&m, &input).unwrap();
    // The unclamped quotient, one step below the clamp, and the other end of the range.
    for (layer, neuron, target) in TARGETS {
        for y in [target, target.signum() * 126, -target.signum() * 127] {
            let edit = Output { layer, neuron, y };
            let f = failures(&m, circuit.clone(), public.clone(), edit);
            assert!(
                !f.is_empty(),
                "layer {layer} neuron {neuron} y {y}: accepted"
            );
        }
    }
}

/// The honest accumulator and quotient of a neuron restored in its rescale row, the output
/// left as the forged trace has it (and as every later layer reads it).
#[derive(Clone, Debug)]
struct Restore {
    neuron: usize,
    row: RescaleRow,
}

impl WitnessEdit for Restore {
    fn rescale(&self, layer: usize, rows: &mut [RescaleRow]) {
        if layer == 1 {
            let y = rows[self.neuron].y;
            rows[self.neuron] = RescaleRow { y, ..self.row };
        }
    }
}

#[test]
fn a_saturation_that_did_not_happen_is_rejected() {
    let (m, input) = saturating();
    let honest = evaluate(&m.spec, &m.weights, &input).unwrap();
    // Neuron 2 of the last layer has an ordinary quotient; the forgery claims it saturated
    // (output 127), with the outputs and public values recomputed from that claim.
    let neuron = 2;
    let q = honest.layers[1].q[neuron];
    assert!(q.abs() < 100, "quotient {q}");
    let shift = m.spec.neuron_shifts(1)[neuron];
    let (circuit, public) = forge_accumulator(&m, &input, 1, neuron, (160 - q) << shift);
    assert_eq!(
        circuit.witness.as_ref().unwrap().traces[0].output()[neuron],
        127
    );
    let trace = Some(&honest.layers[1]);
    let layer = crate::chips::rescale::RescaleLayer {
        name: "fc1",
        shifts: &m.spec.neuron_shifts(1),
        activation_tag: None,
        wide: false,
    };
    let row = crate::chips::rescale::witness_rows(layer, trace, 10)[neuron];
    let f = failures(&m, circuit, public, Restore { neuron, row });
    assert_rejected_by("claimed saturation", &f, &["Lookup"]);
}

/// Moves a neuron's quotient by `dq`, the remainder by `-dq · 2^s` (the gate still holds).
#[derive(Clone, Debug)]
struct MoveQuotient {
    neuron: usize,
    dq: i64,
}

impl WitnessEdit for MoveQuotient {
    fn rescale(&self, layer: usize, rows: &mut [RescaleRow]) {
        if layer != 1 {
            return;
        }
        move_quotient(&mut rows[self.neuron], self.dq);
    }
}

#[test]
fn a_quotient_beyond_the_table_is_rejected() {
    let (m, input) = saturating();
    let (circuit, public, _) = ModelCircuit::prove(&m, &input).unwrap();
    // 170 → 426 (beyond the table), and 170 → -86 (whose clamp is not the output 127) with a
    // remainder 2^(s+8) larger.
    for dq in [256, -256] {
        let edit = MoveQuotient { neuron: 0, dq };
        let f = failures(&m, circuit.clone(), public.clone(), edit);
        assert_rejected_by(&format!("dq {dq}"), &f, &["Lookup"]);
    }
}

#[test]
fn a_quotient_beyond_the_accepted_range_is_an_overflow_error() {
    let (mut m, input) = saturating();
    let q = evaluate(&m.spec, &m.weights, &input).unwrap().layers[1].q[3];
    m.weights.layers[1].bias[3] += (192 - q) << m.spec.neuron_shifts(1)[3];
    match evaluate(&m.spec, &m.weights, &input) {
        Err(CoreError::Overflow {
            layer, value, max, ..
        }) => assert_eq!((layer, value, max), (1, 192, 191)),
        other => panic!("expected an overflow, got {other:?}"),
    }
}
