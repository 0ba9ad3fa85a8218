//! Consistent forgeries, as a malicious model owner would build them: one value changed and
//! everything downstream recomputed (accumulators, rescales, later layers, outputs, packing, the
//! commitment and the public values), so that only the constraint under test can catch it.
//! Each test also checks that MockProver's failures are all of the expected kind: a forgery
//! that some other constraint happened to catch would prove nothing about the one under test.
//!
//! Copies are checked at their destination: the chips assign a copy's value from the witness
//! ([`crate::chips::copy_to`]), so editing it here is what a prover who skipped the copy could
//! do, and only the equality constraint rejects it.

use halo2_proofs::pasta::Fp;

use super::*;
use crate::chips::mac::{MacRow, DIGITS};
use crate::chips::rescale::RescaleRow;
use crate::model::QuantModel;
use crate::quant::quantize_input;
use crate::spec::{LayerKind, LayerSpec};
use crate::testing::forgery::{
    forge, forge_accumulator, padding_attack, shift_remainder, step_toward_zero,
};
use crate::testing::{quantized_mlp, quantized_resnet};
use crate::VALUE_OFFSET;

/// Equality-constraint failures.
pub(super) const COPY: &str = "Equality constraint not satisfied";
/// The MAC chip's padding-weight gate.
const PADDING_GATE: &str = "mac weight padding";

/// A 40-16-10 MLP: 40 inputs leave slots past the kernel in every row width (31 and 16).
pub(super) fn mlp() -> (QuantModel, Vec<i64>) {
    with_first_input(quantized_mlp(7, &[40, 16, 10]))
}

/// A test model with its first sample, quantized.
pub(super) fn with_first_input(
    built: Result<(QuantModel, Vec<Vec<f32>>), crate::CoreError>,
) -> (QuantModel, Vec<i64>) {
    let (m, data) = built.unwrap();
    let input = quantize_input(&m.spec.input, &data[0]).unwrap();
    (m, input)
}

/// The index and spec of the model's first layer whose kind `is` accepts.
fn first_layer<'m>(
    m: &'m QuantModel,
    what: &str,
    is: impl Fn(&LayerKind) -> bool,
) -> (usize, &'m LayerSpec) {
    m.spec
        .layers
        .iter()
        .enumerate()
        .find(|(_, l)| is(&l.kind))
        .unwrap_or_else(|| panic!("the model has no {what}"))
}

/// MockProver's failures on the edited circuit (empty: accepted).
pub(super) fn failures<E: WitnessEdit + Clone>(
    m: &QuantModel,
    circuit: ModelCircuit,
    public: Vec<Fp>,
    edit: E,
) -> Vec<String> {
    EditedCircuit { circuit, edit }.failures(m.spec.circuit.k, public)
}

/// Asserts that the forgery is rejected, and only by failures naming one of `expected`.
pub(super) fn assert_rejected_by(what: &str, failures: &[String], expected: &[&str]) {
    assert!(!failures.is_empty(), "{what}: the forgery was accepted");
    for f in failures {
        assert!(
            expected.iter().any(|e| f.contains(e)),
            "{what}: unexpected failure {f}"
        );
    }
}

/// MockProver's failures on the padding attack.
fn attack(m: &QuantModel, input: &[i64], weight: i64, dx: i64) -> Vec<String> {
    let (circuit, public, edit) = padding_attack(m, input, weight, dx);
    failures(m, circuit, public, edit)
}

#[test]
fn padding_weight_backdoor_is_rejected_in_every_layout() {
    let (m, input) = mlp();
    // Committed layouts (one patch layout: `committed_and_distinct`); in a public-weights
    // layout a padding slot's weight is a fixed 0 (`public_tests.rs`).
    for layout in LAYOUTS
        .into_iter()
        .filter(super::tests::committed_and_distinct)
    {
        let m = m.clone().in_layout(layout).unwrap();
        // Moves the first neuron's quotient by one: a different output for the same input.
        let dx = step_toward_zero(&m, &input, 0);
        let f = attack(&m, &input, 1, dx);
        assert_rejected_by(&format!("{layout}: backdoor"), &f, &[PADDING_GATE, COPY]);
        assert!(f.iter().any(|f| f.contains(PADDING_GATE)), "{layout}");
        assert!(f.iter().any(|f| f.contains(COPY)), "{layout}");
        // A commitment with a non-zero padding weight (the input untouched, the outputs
        // honest): only the padding gate stands between it and a second commitment.
        let f = attack(&m, &input, 1, 0);
        assert_rejected_by(&format!("{layout}: padding weight"), &f, &[PADDING_GATE]);
        // A free input in a padding slot (the weight honest, 0): only the copy of the zero
        // cell rejects it.
        let f = attack(&m, &input, 0, dx);
        assert_rejected_by(&format!("{layout}: padding input"), &f, &[COPY]);
    }
}

#[test]
fn padding_weight_backdoor_is_rejected_on_a_cnn() {
    // The first convolution's kernel (2 × 3 × 3 = 18) leaves slots past its end in every width;
    // its filter's later position blocks reuse the forged weights.
    let (m, input) = with_first_input(crate::testing::quantized_cnn(5));
    for layout in [
        Layout::new(4, 3),
        Layout::new(2, 1),
        Layout::new(1, 1).with_width(16),
        Layout::new(4, 1).with_patch(3),
        Layout::new(16, 1).with_patch(3).with_lines(4),
    ] {
        let m = m.clone().in_layout(layout).unwrap();
        let dx = step_toward_zero(&m, &input, 0);
        let f = attack(&m, &input, 1, dx);
        assert_rejected_by(&format!("{layout}: backdoor"), &f, &[PADDING_GATE, COPY]);
        let f = attack(&m, &input, -3, 0);
        assert_rejected_by(&format!("{layout}: padding weight"), &f, &[PADDING_GATE]);
        let f = attack(&m, &input, 0, dx);
        assert_rejected_by(&format!("{layout}: padding input"), &f, &[COPY]);
    }
}

/// Adds `dx` to input slot `slot` of group `group` in layer `layer`'s row `row`, and moves that
/// group's accumulators from that row to the filter's last chunk by `dx · w`.
#[derive(Clone, Debug)]
struct InputSlot {
    layer: usize,
    row: usize,
    group: usize,
    slot: usize,
    dx: i64,
    chunks: usize,
}

impl WitnessEdit for InputSlot {
    fn mac(&self, layer: usize, rows: &mut [MacRow]) {
        if layer != self.layer {
            return;
        }
        let width = rows[self.row].digits.len();
        let d = rows[self.row].digits[self.slot];
        let w = (0..DIGITS).rev().fold(0, |a, k| a * 4 + d[k].unwrap()) - VALUE_OFFSET;
        let s = self.group * width + self.slot;
        rows[self.row].x[s] = rows[self.row].x[s].map(|x| x + self.dx);
        let last = self.row - self.row % self.chunks + self.chunks;
        for r in &mut rows[self.row..last] {
            r.acc[self.group] = r.acc[self.group].map(|a| a + self.dx * w);
        }
    }
}

#[test]
fn copied_mac_inputs_are_bound_at_their_destination() {
    let (m, input) = mlp();
    let m = m.in_layout(Layout::new(2, 1)).unwrap();
    let width = m.spec.circuit.mac_width;
    let chunks = m.spec.layers[0].kernel_len().div_ceil(width);
    let w = m.weights.layers[0].weights[0];
    assert_ne!(w, 0, "the first weight must count");
    // An input copy of group 0: the accumulator and everything after it follow.
    let edit = InputSlot {
        layer: 0,
        row: 0,
        group: 0,
        slot: 0,
        dx: 1,
        chunks,
    };
    let (circuit, public) = forge(
        &m,
        &input,
        &|l, acc| {
            if l == 0 {
                acc[0] += w;
            }
        },
        &|_| {},
    );
    let spare = InputSlot {
        group: 1,
        dx: 5,
        ..edit.clone()
    };
    assert_rejected_by("input copy", &failures(&m, circuit, public, edit), &[COPY]);
    // The spare second group (batch 1) copies the zero cell: its accumulator is read by
    // nothing, but the cell is still bound.
    let (circuit, public) = forge(&m, &input, &|_, _| {}, &|_| {});
    assert_rejected_by(
        "spare group",
        &failures(&m, circuit, public, spare),
        &[COPY],
    );
}

/// Changes the bias cell of layer 0's second row (a later chunk: no gate reads it).
#[derive(Clone, Debug)]
struct LaterBias;

impl WitnessEdit for LaterBias {
    fn mac(&self, layer: usize, rows: &mut [MacRow]) {
        if layer == 0 {
            rows[1].bias = rows[1].bias.map(|b| b + 1);
        }
    }
}

#[test]
fn a_later_chunks_bias_cell_is_pinned() {
    let (m, input) = mlp();
    let m = m.in_layout(Layout::new(1, 1)).unwrap();
    assert!(m.spec.layers[0].kernel_len() > m.spec.circuit.mac_width);
    let (circuit, public) = forge(&m, &input, &|_, _| {}, &|_| {});
    assert_rejected_by(
        "later bias",
        &failures(&m, circuit, public, LaterBias),
        &[COPY],
    );
}

#[test]
fn rescaled_accumulators_are_bound_at_their_destination() {
    let (m, input) = mlp();
    let step = step_toward_zero(&m, &input, 1);
    // The rescale reads an accumulator one quotient step higher; its quotient, remainder,
    // activation and every later layer follow, the MAC chip's accumulator stays honest.
    let (circuit, public) = forge_accumulator(&m, &input, 0, 1, step);
    assert_rejected_by(
        "rescale acc",
        &failures(&m, circuit, public, NoEdit),
        &[COPY],
    );
}

/// Forges accumulator 0 of the first layer `is` accepts one higher (everything downstream
/// follows): the result cell of a sum that spans several rows holds it, so only the gate
/// adding the previous row's result can reject it.
fn forge_continued_sum(m: &QuantModel, input: &[i64], what: &str, is: impl Fn(&LayerKind) -> bool) {
    let (i, _) = first_layer(m, what, is);
    let (circuit, public) = forge(
        m,
        input,
        &|layer, acc| {
            if layer == i {
                acc[0] += 1;
            }
        },
        &|_| {},
    );
    let gate = format!("{what} continued");
    assert_rejected_by(what, &failures(m, circuit, public, NoEdit), &[&gate]);
}

#[test]
fn a_continued_sum_adds_the_previous_rows_result() {
    // 3x3 average windows: three rows per sum.
    let (m, input) = with_first_input(quantized_resnet(3));
    forge_continued_sum(
        &m,
        &input,
        "pool sum",
        |k| matches!(k, LayerKind::AvgPool { window, .. } if window.kernel[0] * window.kernel[1] > 4),
    );
    // Attention scores: dot products of length 8, four rows each.
    let (m, input) = with_first_input(crate::testing::quantized_attention(3));
    forge_continued_sum(
        &m,
        &input,
        "pool dot",
        |k| matches!(k, LayerKind::MatMul { k, .. } if *k > 2),
    );
}

#[test]
fn model_inputs_are_bound_to_the_instance() {
    let (m, input) = mlp();
    // The circuit computes on another input; the public values claim the honest one.
    let mut other = input.clone();
    other[0] = if other[0] > 0 {
        other[0] - 1
    } else {
        other[0] + 1
    };
    let (circuit, mut public) = forge(&m, &other, &|_, _| {}, &|_| {});
    let honest = instances(public[0], &input, &[]);
    public[1..=input.len()].copy_from_slice(&honest[1..=input.len()]);
    assert_rejected_by("input", &failures(&m, circuit, public, NoEdit), &[COPY]);
}

/// Raises one input value of a pooling, addition or product layer's copies by one.
#[derive(Clone, Debug)]
struct PoolValue {
    layer: usize,
    index: usize,
}

impl WitnessEdit for PoolValue {
    fn pool_inputs(&self, layer: usize, values: &mut [i64]) {
        if layer == self.layer {
            values[self.index] += 1;
        }
    }
}

#[test]
fn pooled_values_are_bound_at_their_destination() {
    let (m, input) = with_first_input(quantized_resnet(3));
    let (i, l) = first_layer(&m, "residual addition", |k| {
        matches!(k, LayerKind::Add { subtract: false })
    });
    let multiplier = 1i64 << (m.spec.layer_acc_scale(i) - m.spec.value_scale(l.sources[0]));
    // The addition reads its first operand one step higher; the sum and everything after it
    // follow.
    let (circuit, public) = forge(
        &m,
        &input,
        &|layer, acc| {
            if layer == i {
                acc[0] += multiplier;
            }
        },
        &|_| {},
    );
    assert_rejected_by(
        "add operand",
        &failures(&m, circuit, public, PoolValue { layer: i, index: 0 }),
        &[COPY],
    );
}

/// Rescales an honest accumulator to a quotient one step off, the difference hidden in a
/// wrapped (negative) remainder: all in `r0`, or split with a negative `r1`.
#[derive(Clone, Debug)]
struct WrappedRemainder {
    neuron: usize,
    step: i64,
    shift: u32,
    split: bool,
}

impl WitnessEdit for WrappedRemainder {
    fn rescale(&self, layer: usize, rows: &mut [RescaleRow]) {
        if layer != 0 {
            return;
        }
        let row = &mut rows[self.neuron];
        row.acc = row.acc.map(|a| a - self.step);
        // The remainder is scaled by 2^(16 - s) in the gate.
        let dr = self.step << (crate::chips::rescale::REMAINDER_BITS - self.shift);
        shift_remainder(row, -dr);
        if !self.split {
            (row.r0, row.r1) = (row.r0.zip(row.r1).map(|(a, b)| a + 256 * b), Some(0));
        }
    }
}

#[test]
fn a_rescale_cannot_wrap_its_remainder() {
    let (m, input) = mlp();
    for layout in [Layout::new(1, 1), Layout::new(4, 1)] {
        let m = m.clone().in_layout(layout).unwrap();
        for neuron in [0, 3] {
            let step = step_toward_zero(&m, &input, neuron);
            // The quotient (and everything after it) moves; the accumulator stays honest.
            let (circuit, public) = forge_accumulator(&m, &input, 0, neuron, step);
            for split in [false, true] {
                let edit = WrappedRemainder {
                    neuron,
                    step,
                    shift: m.spec.neuron_shifts(0)[neuron],
                    split,
                };
                let f = failures(&m, circuit.clone(), public.clone(), edit);
                assert_rejected_by(&format!("{layout} {neuron} {split}"), &f, &["Lookup"]);
            }
        }
    }
}

#[test]
fn max_pool_values_are_bound_at_their_destination() {
    let (m, input) = with_first_input(crate::testing::quantized_cnn(5));
    let trace = crate::eval::evaluate(&m.spec, &m.weights, &input).unwrap();
    let (i, l) = first_layer(&m, "max pool", |k| matches!(k, LayerKind::MaxPool { .. }));
    let LayerKind::MaxPool { window } = &l.kind else {
        unreachable!()
    };
    // A window whose maximum can grow: its largest value, raised by one in the pool's copy,
    // makes a new maximum that every later layer follows (the windows do not overlap).
    let x = trace.value(l.sources[0]);
    let (w, index) = window
        .windows()
        .iter()
        .enumerate()
        .find_map(|(w, ix)| {
            let top = *ix.iter().max_by_key(|j| x[**j])?;
            (x[top] < crate::VALUE_MAX).then_some((w, top))
        })
        .expect("a window below the largest value");
    let (circuit, public) = forge(
        &m,
        &input,
        &|layer, acc| {
            if layer == i {
                acc[w] += 1;
            }
        },
        &|_| {},
    );
    let f = failures(&m, circuit, public, PoolValue { layer: i, index });
    assert_rejected_by("max pool value", &f, &[COPY]);
}

#[test]
fn product_operands_are_bound_at_their_destination() {
    // A product of two activations (attention scores): the first operand's first value one
    // step higher in every product row that copies it, each output it feeds recomputed.
    let (m, input) = with_first_input(crate::testing::quantized_attention(3));
    let trace = crate::eval::evaluate(&m.spec, &m.weights, &input).unwrap();
    let (i, l) = first_layer(&m, "product of activations", |k| {
        matches!(k, LayerKind::MatMul { .. })
    });
    let LayerKind::MatMul { n, .. } = l.kind else {
        unreachable!()
    };
    let b = trace.value(l.sources[1]).to_vec();
    // a[0] is row 0, column 0 of the first matrix: it feeds outputs (0, c) by b[0][c].
    let (circuit, public) = forge(
        &m,
        &input,
        &|layer, acc| {
            if layer == i {
                for c in 0..n {
                    acc[c] += b[c];
                }
            }
        },
        &|_| {},
    );
    let f = failures(&m, circuit, public, PoolValue { layer: i, index: 0 });
    assert_rejected_by("product operand", &f, &[COPY]);
}
