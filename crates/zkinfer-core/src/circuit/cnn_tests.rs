//! MockProver tests of convolution and pooling layers: honest witness passes; corrupted conv
//! rows and pool outputs are rejected.

use halo2_proofs::pasta::Fp;

use super::*;
use crate::chips::mac::MacRow;
use crate::chips::rescale::RescaleRow;
use crate::model::QuantModel;
use crate::quant::quantize_input;
use crate::testing::quantized_cnn;

/// The test CNN with two MAC input groups (two conv output positions per row), whatever
/// layout the planner prefers for it.
fn model() -> (QuantModel, Vec<i64>) {
    let (m, data) = quantized_cnn(3).unwrap();
    let m = m.in_layout(Layout::new(2, 1)).unwrap();
    let input = quantize_input(&m.spec.input, &data[0]).unwrap();
    (m, input)
}

fn passes<E: WitnessEdit + Clone + Default>(edit: E) -> bool {
    let (m, input) = model();
    passes_with(&m, &input, edit)
}

fn passes_with<E: WitnessEdit + Clone + Default>(m: &QuantModel, input: &[i64], edit: E) -> bool {
    let (circuit, public, _) = ModelCircuit::prove(m, input).unwrap();
    EditedCircuit { circuit, edit }.mock_passes(m.spec.circuit.k, public)
}

#[test]
fn cnn_honest_witness_passes_and_matches_float_model() {
    let (m, input) = model();
    assert!(passes(CnnEdit::None));
    let (_, _, trace) = ModelCircuit::prove(&m, &input).unwrap();
    assert_eq!(trace.output().len(), 3);
    // Every window op is present.
    let kinds: Vec<&str> = m.spec.layers.iter().map(|l| l.kind.name()).collect();
    assert_eq!(kinds, ["conv", "maxpool", "conv", "avgpool", "dense"]);
}

/// Corruptions of CNN layers.
#[derive(Clone, Debug, Default)]
enum CnnEdit {
    #[default]
    None,
    /// A later position block of conv1 uses a different weight (its digits change).
    ReusedWeightChanged,
    /// A conv accumulator of a second group is off by one.
    ConvProduct,
    /// The average-pool rescale gets a wrong remainder.
    AvgRemainder,
    /// A max-pool output computed from a raised input value (a wrong max).
    WrongMax,
    /// An average-pool sum computed from a changed input value (a wrong sum).
    WrongSum,
}

impl WitnessEdit for CnnEdit {
    fn mac(&self, layer: usize, rows: &mut [MacRow]) {
        match (self, layer) {
            (CnnEdit::ReusedWeightChanged, 0) => {
                let d = &mut rows[3].digits[0];
                d[0] = d[0].map(|v| (v + 1) % 4);
            }
            (CnnEdit::ConvProduct, 2) => rows[1].acc[1] = rows[1].acc[1].map(|a| a + 1),
            _ => {}
        }
    }

    fn pool_inputs(&self, layer: usize, values: &mut [i64]) {
        match (self, layer) {
            (CnnEdit::WrongMax, 1) => values[0] = crate::VALUE_MAX + 1,
            (CnnEdit::WrongSum, 3) => values[1] -= 1,
            _ => {}
        }
    }

    fn rescale(&self, layer: usize, rows: &mut [RescaleRow]) {
        if let (CnnEdit::AvgRemainder, 3) = (self, layer) {
            rows[0].r0 = rows[0].r0.map(|r| r ^ 1);
        }
    }
}

#[test]
fn cnn_corruptions_are_rejected() {
    assert!(!passes(CnnEdit::ReusedWeightChanged));
    assert!(!passes(CnnEdit::ConvProduct));
    assert!(!passes(CnnEdit::AvgRemainder));
    assert!(!passes(CnnEdit::WrongMax));
    assert!(!passes(CnnEdit::WrongSum));
}

#[test]
fn wrong_pool_output_is_rejected() {
    // Claim a different model output: the max-pool and everything after must follow.
    let (m, input) = model();
    let (circuit, mut public, _) = ModelCircuit::prove(&m, &input).unwrap();
    let last = public.len() - 1;
    public[last] += Fp::one();
    let prover = circuit
        .mock_prover(std::sync::Arc::new(NoEdit), m.spec.circuit.k, public)
        .unwrap();
    assert!(prover.verify().is_err());
}

mod residual {
    use super::*;
    use crate::testing::quantized_resnet;

    fn passes<E: WitnessEdit + Clone + Default>(edit: E) -> bool {
        let (m, data) = quantized_resnet(5).unwrap();
        let input = quantize_input(&m.spec.input, &data[0]).unwrap();
        passes_with(&m, &input, edit)
    }

    #[derive(Clone, Debug, Default)]
    enum AddEdit {
        #[default]
        None,
        WrongSum,
        WrongRemainder,
        /// An accumulator of the depthwise dilated convolution off by one.
        DepthwiseProduct,
        /// A later position block of the depthwise convolution uses another weight.
        DepthwiseReusedWeight,
    }

    impl WitnessEdit for AddEdit {
        fn mac(&self, layer: usize, rows: &mut [MacRow]) {
            match (self, layer) {
                (AddEdit::DepthwiseProduct, 1) => rows[2].acc[0] = rows[2].acc[0].map(|a| a + 1),
                (AddEdit::DepthwiseReusedWeight, 1) => {
                    let d = &mut rows[3].digits[0];
                    d[0] = d[0].map(|v| (v + 1) % 4);
                }
                _ => {}
            }
        }

        fn pool_inputs(&self, layer: usize, values: &mut [i64]) {
            if let (AddEdit::WrongSum, 2) = (self, layer) {
                values[4] += 1;
            }
        }

        fn rescale(&self, layer: usize, rows: &mut [RescaleRow]) {
            if let (AddEdit::WrongRemainder, 2) = (self, layer) {
                rows[4].r0 = rows[4].r0.map(|r| r ^ 1);
            }
        }
    }

    #[test]
    fn residual_add_passes_and_rejects_corruptions() {
        let (m, data) = quantized_resnet(5).unwrap();
        assert_eq!(m.spec.layers[2].sources, vec![2, 1]);
        assert!(matches!(
            m.spec.layers[1].kind,
            crate::spec::LayerKind::Conv2d { groups: 3, window, .. } if window.dilation == [2, 2]
        ));
        assert!(m.spec.layer_shift(2) >= 0);
        // The quantized model tracks the float one.
        let layers = crate::testing::float_resnet(5);
        let float = crate::ir::float_trace(&layers, &data[0]);
        let q = quantize_input(&m.spec.input, &data[0]).unwrap();
        let t = crate::eval::evaluate(&m.spec, &m.weights, &q).unwrap();
        let deq = crate::quant::dequantize(t.output(), m.spec.output.scale);
        let f = &float.last().unwrap().1;
        let max = f.iter().fold(0.0f64, |a, v| a.max(v.abs() as f64));
        for (a, b) in deq.iter().zip(f) {
            assert!((a - *b as f64).abs() <= 0.05 * max + 0.1, "{a} vs {b}");
        }
        assert!(passes(AddEdit::None));
        assert!(!passes(AddEdit::WrongSum));
        assert!(!passes(AddEdit::WrongRemainder));
        assert!(!passes(AddEdit::DepthwiseProduct));
        assert!(!passes(AddEdit::DepthwiseReusedWeight));
    }

    #[test]
    fn residual_sub_passes_and_rejects_a_wrong_difference() {
        let (m, data) = crate::testing::quantized_resnet_with(5, true).unwrap();
        assert_eq!(
            m.spec.layers[2].kind,
            crate::spec::LayerKind::Add { subtract: true }
        );
        let input = quantize_input(&m.spec.input, &data[0]).unwrap();
        let t = crate::eval::evaluate(&m.spec, &m.weights, &input).unwrap();
        // The accumulator is the scaled difference of the two operands.
        let (a, b) = (&t.layers[1].out, &t.layers[0].out);
        let sh = CircuitPlan::from_spec(&m.spec).layers[2].add_shifts.clone();
        assert_eq!(t.layers[2].acc[7], (a[7] << sh[0]) - (b[7] << sh[1]));
        assert!(passes_with(&m, &input, AddEdit::None));
        assert!(!passes_with(&m, &input, AddEdit::WrongSum));
    }
}

/// Four MAC input groups and two rescale lanes per row.
mod four_groups {
    use super::*;

    fn model() -> (QuantModel, Vec<i64>) {
        let (m, data) = quantized_cnn(3).unwrap();
        let m = m.in_layout(Layout::new(4, 1)).unwrap();
        let input = quantize_input(&m.spec.input, &data[0]).unwrap();
        (m, input)
    }

    #[derive(Clone, Debug, Default)]
    enum Edit {
        #[default]
        None,
        /// The fourth group's accumulator of a conv1 row off by one.
        FourthGroupProduct,
        /// A wrong remainder in the second lane of a conv1 rescale row.
        SecondLaneRemainder,
        /// A wrong quotient (and a remainder to match it) in the first lane of the second row.
        FirstLaneQuotient,
        /// The dense layer's last output, alone in its row, changed.
        LastOutput,
    }

    impl WitnessEdit for Edit {
        fn mac(&self, layer: usize, rows: &mut [MacRow]) {
            if let (Edit::FourthGroupProduct, 0) = (self, layer) {
                rows[1].acc[3] = rows[1].acc[3].map(|a| a + 1);
            }
        }

        fn rescale(&self, layer: usize, rows: &mut [RescaleRow]) {
            match (self, layer) {
                (Edit::SecondLaneRemainder, 0) => rows[1].r0 = rows[1].r0.map(|r| r ^ 1),
                (Edit::FirstLaneQuotient, 0) => {
                    rows[2].q = rows[2].q.map(|q| q + 1);
                    rows[2].y = rows[2].y.map(|y| y + 1);
                }
                (Edit::LastOutput, 4) => {
                    let last = rows.last_mut().unwrap();
                    last.q = last.q.map(|q| q + 1);
                }
                _ => {}
            }
        }
    }

    #[test]
    fn four_group_layout_passes_and_rejects_corrupted_cells() {
        let (m, input) = model();
        let layout = CircuitPlan::from_spec(&m.spec).layout;
        assert_eq!((layout.mac_groups, layout.rescale_lanes()), (4, 2));
        // The dense layer's odd output count leaves a spare lane in its last row.
        assert_eq!(m.spec.layers[4].outputs % 2, 1);
        assert!(passes_with(&m, &input, Edit::None));
        for edit in [
            Edit::FourthGroupProduct,
            Edit::SecondLaneRemainder,
            Edit::FirstLaneQuotient,
            Edit::LastOutput,
        ] {
            assert!(!passes_with(&m, &input, edit.clone()), "{edit:?}");
        }
    }
}
