//! MockProver tests of the attention-block layers (gathers with constants, products of two
//! activations, reductions, the reciprocal table): the honest witness passes, the quantized
//! block tracks the float one, and corrupted cells are rejected.

use super::*;
use crate::chips::rescale::RescaleRow;
use crate::model::QuantModel;
use crate::quant::{dequantize, quantize_input};
use crate::testing::{float_attention, quantized_attention};

fn model() -> (QuantModel, Vec<Vec<f32>>) {
    quantized_attention(5).unwrap()
}

fn layer(m: &QuantModel, name: &str) -> usize {
    m.spec
        .layers
        .iter()
        .position(|l| l.name == name)
        .unwrap_or_else(|| panic!("no layer {name}"))
}

/// Corruptions of attention layers, by layer index.
#[derive(Clone, Debug, Default)]
enum Edit {
    #[default]
    None,
    /// The operand values a product or pooling layer computes from are raised (wrong products,
    /// dot products, sums or maxima; the copied operand cells keep their values).
    Operand(usize),
    /// A looked-up activation output of a layer off by one.
    TableOutput(usize),
    /// A public constant cell of a gather holds another value.
    Constant(usize),
}

impl WitnessEdit for Edit {
    fn pool_inputs(&self, layer: usize, values: &mut [i64]) {
        if matches!(self, Edit::Operand(l) if *l == layer) {
            values.iter_mut().for_each(|v| *v += 37);
        }
    }
    fn rescale(&self, layer: usize, rows: &mut [RescaleRow]) {
        if matches!(self, Edit::TableOutput(l) if *l == layer) {
            rows[0].y = rows[0].y.map(|y| y + 1);
        }
    }
    fn constants(&self, layer: usize, values: &mut [i64]) {
        if matches!(self, Edit::Constant(l) if *l == layer) {
            values[2] += 1;
        }
    }
}

fn passes(m: &QuantModel, input: &[i64], edit: Edit) -> bool {
    let (circuit, public, _) = ModelCircuit::prove(m, input).unwrap();
    EditedCircuit { circuit, edit }.mock_passes(m.spec.circuit.k, public)
}

#[test]
fn attention_block_is_proved_and_tracks_the_float_block() {
    let (m, data) = model();
    let kinds: Vec<&str> = m.spec.layers.iter().map(|l| l.kind.name()).collect();
    for kind in ["gather", "matmul", "mul", "sumpool", "maxpool", "sub"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let graph = float_attention(5);
    for x in &data {
        let input = quantize_input(&m.spec.input, x).unwrap();
        let trace = crate::eval::evaluate(&m.spec, &m.weights, &input).unwrap();
        let got = dequantize(trace.output(), m.spec.output.scale);
        let want = graph.eval_f32(x).unwrap();
        let max = want.iter().fold(0.0f32, |a, v| a.max(v.abs())) as f64;
        for (g, w) in got.iter().zip(&want) {
            assert!((g - *w as f64).abs() <= 0.1 * max + 0.1, "{g} vs {w}");
        }
    }
    let input = quantize_input(&m.spec.input, &data[0]).unwrap();
    assert!(passes(&m, &input, Edit::None));
}

#[test]
fn corrupted_attention_cells_are_rejected() {
    let (m, data) = model();
    let input = quantize_input(&m.spec.input, &data[0]).unwrap();
    let cases = [
        ("wrong dot product", Edit::Operand(layer(&m, "scores"))),
        (
            "wrong elementwise product",
            Edit::Operand(layer(&m, "attention")),
        ),
        ("wrong maximum", Edit::Operand(layer(&m, "scores/max"))),
        ("wrong sum", Edit::Operand(layer(&m, "scores/sum"))),
        (
            "wrong reciprocal",
            Edit::TableOutput(layer(&m, "scores/sum")),
        ),
        ("wrong constant", Edit::Constant(layer(&m, "offset"))),
    ];
    for (what, edit) in cases {
        assert!(!passes(&m, &input, edit), "{what} accepted");
    }
}
