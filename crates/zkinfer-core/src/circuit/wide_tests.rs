//! Wide (16-bit) values: two-row rescales ([`crate::chips::rescale_wide`]) and two-row maxima.
//! The honest witness passes; every cell of a wide rescale is bound; consistent forgeries (a
//! ReLU that lets a negative value through, an identity that clips, a quotient moved with its
//! remainder wrapped, a maximum that is not the largest value, an edited copy of a pooled
//! value) are rejected; an 8-bit sum of wide values (an attention block's LayerNorm centring)
//! passes and binds its operands.

use std::sync::Arc;

use super::forgery_tests::{assert_rejected_by, failures, with_first_input};
use super::*;
use crate::chips::rescale::RescaleRow;
use crate::eval::{evaluate, evaluate_patched};
use crate::model::QuantModel;
use crate::quant::{quantize_input, Width};
use crate::spec::{Activation, LayerKind};
use crate::testing::forgery::{forge, shift_remainder};
use crate::testing::{quantized_attention_width, quantized_cnn_width, quantized_resnet_width};
use crate::{VALUE_MAX, VALUE_OFFSET, WIDE_MIN};

const COPY: &str = "Equality constraint not satisfied";
const LOOKUP: &str = "Lookup";
const GATE: &str = "wide rescale";

/// The random CNN (conv, max pool, conv, average pool, dense) with wide activations, and its
/// first sample.
fn model() -> (QuantModel, Vec<i64>) {
    with_first_input(quantized_cnn_width(5, Width::Wide))
}

/// [`forge`] with layer `layer`'s values before rescaling changed by `change`.
fn forge_at(
    m: &QuantModel,
    input: &[i64],
    layer: usize,
    change: impl Fn(&mut Vec<i64>),
) -> (ModelCircuit, Vec<Fp>) {
    forge(
        m,
        input,
        &|l, acc| {
            if l == layer {
                change(acc);
            }
        },
        &|_| {},
    )
}

#[test]
fn a_wide_cnn_passes_with_values_beyond_8_bits() {
    let (m, input) = model();
    assert!(m.spec.layers.iter().all(|l| l.wide), "every layer is wide");
    let trace = evaluate(&m.spec, &m.weights, &input).unwrap();
    for (i, l) in trace.layers.iter().enumerate() {
        let top = l.out.iter().map(|v| v.abs()).max().unwrap();
        assert!(top > 4 * VALUE_MAX, "layer {i} peaks at {top}");
    }
    let (circuit, public, proved) = ModelCircuit::prove(&m, &input).unwrap();
    assert_eq!(proved, trace);
    assert_eq!(failures(&m, circuit, public, NoEdit), Vec::<String>::new());
}

#[test]
fn a_wide_residual_cnn_passes() {
    let (m, data) = quantized_resnet_width(5, Width::Wide).unwrap();
    assert!(m.spec.layers.iter().all(|l| l.wide));
    for x in data.iter().take(2) {
        let input = quantize_input(&m.spec.input, x).unwrap();
        let (circuit, public, _) = ModelCircuit::prove(&m, &input).unwrap();
        assert_eq!(failures(&m, circuit, public, NoEdit), Vec::<String>::new());
    }
}

/// Adds one to a field of a wide rescale witness.
#[derive(Clone, Copy, Debug)]
enum Field {
    Acc,
    Low,
    High,
    Sign,
    Pad,
    R0,
    R1,
    Out,
}

const FIELDS: [Field; 8] = [
    Field::Acc,
    Field::Low,
    Field::High,
    Field::Sign,
    Field::Pad,
    Field::R0,
    Field::R1,
    Field::Out,
];

#[derive(Clone, Debug)]
struct Bump {
    layer: usize,
    neuron: usize,
    field: Field,
}

impl WitnessEdit for Bump {
    fn rescale(&self, layer: usize, rows: &mut [RescaleRow]) {
        if layer != self.layer {
            return;
        }
        let r = &mut rows[self.neuron];
        let cell = match self.field {
            Field::Acc => &mut r.acc,
            Field::Low => &mut r.q,
            Field::High => &mut r.hi,
            Field::Sign => &mut r.sign,
            Field::Pad => &mut r.pad,
            Field::R0 => &mut r.r0,
            Field::R1 => &mut r.r1,
            Field::Out => &mut r.y,
        };
        *cell = cell.map(|v| v + 1);
    }
}

#[test]
fn every_cell_of_a_wide_rescale_is_bound() {
    let (m, input) = model();
    let trace = evaluate(&m.spec, &m.weights, &input).unwrap();
    let (circuit, public, _) = ModelCircuit::prove(&m, &input).unwrap();
    // A ReLU layer's negative and positive quotients, and the last (identity) layer.
    let q0 = &trace.layers[0].q;
    let neg = q0.iter().position(|q| *q < 0).unwrap();
    let pos = q0.iter().position(|q| *q > 0).unwrap();
    let last = m.spec.layers.len() - 1;
    for (layer, neuron) in [(0, neg), (0, pos), (last, 1)] {
        for field in FIELDS {
            let edit = Bump {
                layer,
                neuron,
                field,
            };
            let f = failures(&m, circuit.clone(), public.clone(), edit.clone());
            assert_rejected_by(&format!("{edit:?}"), &f, &[GATE, LOOKUP, COPY]);
            if let Field::Acc = field {
                // The copy's destination: its equality constraint rejects it too.
                assert!(f.iter().any(|f| f.contains(COPY)), "{edit:?}: {f:?}");
            }
        }
    }
}

/// The circuit of `m` proving a trace of `forged` (another activation somewhere), with the
/// public values that trace gives: what a prover who skipped an activation would present.
fn with_activation(m: &QuantModel, input: &[i64], layer: usize, act: Activation) -> Vec<String> {
    let mut forged = m.clone();
    forged.spec.layers[layer].activation = act;
    let (mut circuit, public) = forge(&forged, input, &|_, _| {}, &|_| {});
    circuit.plan = Arc::new(CircuitPlan::from_spec(&m.spec));
    failures(m, circuit, public, NoEdit)
}

#[test]
fn a_wide_relu_cannot_pass_a_negative_value_nor_an_identity_clip_one() {
    let (m, input) = model();
    assert_eq!(m.spec.layers[0].activation, Activation::Relu);
    let f = with_activation(&m, &input, 0, Activation::None);
    assert_rejected_by("ReLU skipped", &f, &[GATE]);
    let last = m.spec.layers.len() - 1;
    assert_eq!(m.spec.layers[last].activation, Activation::None);
    let f = with_activation(&m, &input, last, Activation::Relu);
    assert_rejected_by("ReLU added", &f, &[GATE]);
}

/// One neuron of layer 0 (ReLU, negative quotient) output unclipped, and the max pool's copy
/// of it following (its window's maximum, a non-negative neighbour, does not change); with
/// `sign`, the sign bit is claimed 1 and the limbs spell the negative quotient.
#[derive(Clone, Debug)]
struct SkipRelu {
    neuron: usize,
    q: i64,
    pool: usize,
    sign: bool,
}

impl WitnessEdit for SkipRelu {
    fn rescale(&self, layer: usize, rows: &mut [RescaleRow]) {
        if layer != 0 {
            return;
        }
        let r = &mut rows[self.neuron];
        r.y = Some(self.q + VALUE_OFFSET);
        if self.sign {
            r.sign = Some(1);
            r.q = Some(self.q.rem_euclid(256));
            r.hi = Some(self.q.div_euclid(256));
        }
    }

    fn pool_inputs(&self, layer: usize, values: &mut [i64]) {
        if layer == self.pool {
            values[self.neuron] = self.q;
        }
    }
}

#[test]
fn a_negative_wide_quotient_cannot_pass_relu() {
    let (m, input) = model();
    let honest = evaluate(&m.spec, &m.weights, &input).unwrap();
    let neuron = honest.layers[0].q.iter().position(|q| *q < 0).unwrap();
    let q = honest.layers[0].q[neuron];
    assert_eq!(m.spec.layers[1].sources, vec![1]);
    let (circuit, public, _) = ModelCircuit::prove(&m, &input).unwrap();
    for sign in [false, true] {
        let edit = SkipRelu {
            neuron,
            q,
            pool: 1,
            sign,
        };
        let f = failures(&m, circuit.clone(), public.clone(), edit);
        let expected: &[&str] = if sign { &[GATE, LOOKUP] } else { &[GATE] };
        assert_rejected_by(&format!("sign claimed {sign}"), &f, expected);
    }
}

/// An honest accumulator rescaled to a quotient `step` quotients off, the difference hidden
/// in a wrapped remainder.
#[derive(Clone, Debug)]
struct Wrapped {
    neuron: usize,
    delta: i64,
    shift: u32,
}

impl WitnessEdit for Wrapped {
    fn rescale(&self, layer: usize, rows: &mut [RescaleRow]) {
        if layer != 0 {
            return;
        }
        let r = &mut rows[self.neuron];
        r.acc = r.acc.map(|a| a - self.delta);
        // The remainder is scaled by 2^(16 - s) in the gate.
        let dr = self.delta << (crate::chips::rescale::REMAINDER_BITS - self.shift);
        shift_remainder(r, -dr);
    }
}

#[test]
fn a_wide_quotient_cannot_move() {
    let (m, input) = model();
    let honest = evaluate(&m.spec, &m.weights, &input).unwrap();
    let neuron = honest.layers[0].q.iter().position(|q| *q > 0).unwrap();
    let shift = m.spec.neuron_shifts(0)[neuron];
    let delta = 1i64 << shift;
    for d in [delta, -delta] {
        let (circuit, public) = forge_at(&m, &input, 0, |acc| acc[neuron] += d);
        let edit = Wrapped {
            neuron,
            delta: d,
            shift,
        };
        let f = failures(&m, circuit, public, edit);
        assert_rejected_by(&format!("quotient moved by {d}"), &f, &[LOOKUP]);
    }
}

/// The max pool layer of the model and, for its first window whose two largest values differ
/// by more than 255 (so the high limb matters), the window, its largest and second value.
fn wide_window(m: &QuantModel, input: &[i64]) -> (usize, usize, usize, i64) {
    let trace = evaluate(&m.spec, &m.weights, input).unwrap();
    let (i, l) = m
        .spec
        .layers
        .iter()
        .enumerate()
        .find(|(_, l)| matches!(l.kind, LayerKind::MaxPool { .. }))
        .unwrap();
    let LayerKind::MaxPool { window } = &l.kind else {
        unreachable!()
    };
    let x = trace.value(l.sources[0]);
    window
        .windows()
        .iter()
        .enumerate()
        .find_map(|(w, ix)| {
            let mut v: Vec<(i64, usize)> = ix.iter().map(|j| (x[*j], *j)).collect();
            v.sort();
            let (top, second) = (v[v.len() - 1], v[v.len() - 2]);
            (top.0 - second.0 > 255).then_some((i, w, top.1, second.0))
        })
        .expect("a window whose two largest values differ by more than 255")
}

#[test]
fn a_wide_maximum_must_be_the_largest_value() {
    let (m, input) = model();
    let (layer, w, _, second) = wide_window(&m, &input);
    // The second-largest value claimed as the maximum, every later layer following it.
    let (circuit, public) = forge_at(&m, &input, layer, |acc| acc[w] = second);
    let f = failures(&m, circuit, public, NoEdit);
    assert_rejected_by("a smaller maximum", &f, &[LOOKUP]);
    // A value above every window value is not one of them.
    let (circuit, public) = forge_at(&m, &input, layer, |acc| acc[w] += 300);
    let f = failures(&m, circuit, public, NoEdit);
    assert!(f.iter().any(|f| f.contains("pool max")), "{f:?}");
}

/// Raises one input value of a layer's copies.
#[derive(Clone, Debug)]
struct PoolValue {
    layer: usize,
    index: usize,
    by: i64,
}

impl WitnessEdit for PoolValue {
    fn pool_inputs(&self, layer: usize, values: &mut [i64]) {
        if layer == self.layer {
            values[self.index] += self.by;
        }
    }
}

#[test]
fn wide_pooled_values_are_bound_at_their_destination() {
    let (m, input) = model();
    let (layer, w, top, _) = wide_window(&m, &input);
    // The largest value raised by 300 in the pool's copy: a new maximum every later layer
    // follows (the windows do not overlap), consistent but for the copy.
    let (circuit, public) = forge_at(&m, &input, layer, |acc| acc[w] += 300);
    let edit = PoolValue {
        layer,
        index: top,
        by: 300,
    };
    let f = failures(&m, circuit, public, edit);
    assert_rejected_by("pooled value", &f, &[COPY]);
}

#[test]
fn a_wide_quotient_beyond_16_bits_is_refused() {
    let (m, input) = model();
    let shift = m.spec.neuron_shifts(0)[0];
    let patch = |l: usize, acc: &mut Vec<i64>| {
        if l == 0 {
            acc[0] = (WIDE_MIN - 1) << shift;
        }
    };
    match evaluate_patched(&m.spec, &m.weights, &input, &patch) {
        Err(crate::CoreError::Overflow { layer: 0, min, .. }) => assert_eq!(min, WIDE_MIN),
        other => panic!("expected an overflow of layer 0, got {other:?}"),
    }
}

#[test]
fn a_spec_whose_widths_do_not_chain_is_refused() {
    let (m, _) = model();
    let mut spec = m.spec.clone();
    spec.vk_fingerprint = "00".repeat(32);
    assert!(spec.validate().is_ok());
    // A max pool of wide values that claims 8-bit ones.
    let pool = spec
        .layers
        .iter()
        .position(|l| matches!(l.kind, LayerKind::MaxPool { .. }))
        .unwrap();
    let mut bad = spec.clone();
    bad.layers[pool].wide = false;
    assert!(matches!(
        bad.validate(),
        Err(crate::CoreError::InvalidSpec(_))
    ));
    // A wide layer with a table function.
    let mut bad = spec.clone();
    bad.layers[0].activation = Activation::Table {
        function: crate::spec::Function::Sigmoid,
        scale: 7,
    };
    assert!(matches!(
        bad.validate(),
        Err(crate::CoreError::InvalidSpec(_))
    ));
}

/// Raises the copies of a layer's operands (the values its sums compute from).
#[derive(Clone, Debug)]
struct Operands {
    layer: usize,
}

impl WitnessEdit for Operands {
    fn pool_inputs(&self, layer: usize, values: &mut [i64]) {
        if layer == self.layer {
            values.iter_mut().for_each(|v| *v += 300);
        }
    }
}

#[test]
fn an_8_bit_sum_of_wide_values_passes_and_binds_its_operands() {
    let (m, data) = quantized_attention_width(5, Width::Wide).unwrap();
    let input = quantize_input(&m.spec.input, &data[0]).unwrap();
    // An 8-bit addition or subtraction reading a wide value.
    let (i, _) = m
        .spec
        .layers
        .iter()
        .enumerate()
        .find(|(_, l)| {
            !l.wide
                && matches!(l.kind, LayerKind::Add { .. })
                && l.sources.iter().any(|s| m.spec.value_wide(*s))
        })
        .expect("an 8-bit sum of wide values");
    assert!(m.spec.has_wide());
    let (circuit, public, _) = ModelCircuit::prove(&m, &input).unwrap();
    let honest = failures(&m, circuit.clone(), public.clone(), NoEdit);
    assert_eq!(honest, Vec::<String>::new());
    let f = failures(&m, circuit, public, Operands { layer: i });
    assert!(f.iter().any(|f| f.contains(COPY)), "{f:?}");
}

#[test]
fn the_table_holds_relu_and_saturation_rows_only_for_8_bit_rescales() {
    // The 0- and 8-bit ranges, and the 1- and 7-bit ones of wide rescales.
    let (wide, _) = model();
    let plan = CircuitPlan::from_spec(&wide.spec);
    assert!(
        plan.table.wide && !plan.table.relu && !plan.table.clamp,
        "{:?}",
        plan.table
    );
    assert_eq!(
        crate::chips::table::rows(&plan.table).len(),
        1 + 256 + 2 + 128
    );
    let (narrow, _) = with_first_input(quantized_cnn_width(5, Width::Narrow));
    let plan = CircuitPlan::from_spec(&narrow.spec);
    assert!(
        !plan.table.wide && plan.table.relu && plan.table.clamp,
        "{:?}",
        plan.table
    );
    assert_eq!(
        crate::chips::table::rows(&plan.table).len(),
        1 + 256 + 2 * 384
    );
}

#[test]
fn a_table_with_only_relu_or_only_saturation_rows_proves_and_binds_its_rescales() {
    // Layer 0 has ReLU, layer 1 none: making one of them wide leaves the other's tag alone.
    for (wide, narrow, relu) in [(1, 0, true), (0, 1, false)] {
        let (mut m, input) = with_first_input(crate::testing::quantized_mlp(3, &[40, 16, 10]));
        m.spec.layers[wide].wide = true;
        let mut checked = m.spec.clone();
        checked.vk_fingerprint = "00".repeat(32);
        checked.validate().unwrap();
        let plan = CircuitPlan::from_spec(&m.spec);
        assert_eq!((plan.table.relu, plan.table.clamp), (relu, !relu));
        let table_rows = crate::chips::table::rows(&plan.table).len();
        assert_eq!(table_rows, 387 + 384, "range rows and one quotient tag");
        let (circuit, public, _) = ModelCircuit::prove(&m, &input).unwrap();
        let honest = failures(&m, circuit.clone(), public.clone(), NoEdit);
        assert_eq!(honest, Vec::<String>::new(), "wide layer {wide}");
        let edit = Bump {
            layer: narrow,
            neuron: 0,
            field: Field::Out,
        };
        let forged = failures(&m, circuit, public, edit);
        assert!(
            forged.iter().any(|f| f.contains(LOOKUP)),
            "layer {narrow}'s changed output is not caught by its lookup: {forged:?}"
        );
    }
}
