//! Per-channel weight scales: every filter of a layer keeps its weights at the scale its own
//! largest weight allows, and its neurons drop that many more bits in the rescale. The rescale
//! lays the neurons of each shift out in their own rows; these tests check that the honest
//! witness passes, that every shift class rejects corrupted cells and copies, and that a
//! neuron cannot be rescaled by another class's shift even with everything after it
//! recomputed.

use halo2_proofs::pasta::Fp;
use halo2_proofs::poly::commitment::Params;

use super::forgery_tests::{assert_rejected_by, failures};
use super::*;
use crate::chips::rescale::RescaleRow;
use crate::ir::{FloatLayer, LayerOp};
use crate::model::QuantModel;
use crate::quant::{calibrate, quantize_input};
use crate::testing::forgery::{forge, forge_accumulator, move_quotient, step_toward_zero};
use crate::testing::{float_cnn, float_mlp, samples};
use crate::VALUE_OFFSET;

/// Divides filter `f`'s weights of layer 0 by `2^(f % 4)`: four weight magnitudes, as a
/// trained layer's channels have.
fn spread_filters(layers: &mut [FloatLayer]) {
    let (weights, filters) = match &mut layers[0].op {
        LayerOp::Dense(d) => (&mut d.weights, d.outputs),
        LayerOp::Conv2d(c) => (&mut c.weights, c.out_channels),
        _ => panic!("layer 0 has no weights"),
    };
    let k = weights.len() / filters;
    for (j, w) in weights.iter_mut().enumerate() {
        *w /= (1 << ((j / k) % 4)) as f32;
    }
}

/// A calibrated model of `layers` (layer 0's filters spread) and its first input.
fn calibrated(mut layers: Vec<FloatLayer>, shape: &[usize], out: usize) -> (QuantModel, Vec<i64>) {
    spread_filters(&mut layers);
    let data = samples(11, 8, shape.iter().product());
    let q = calibrate("channels", &layers, shape, &[1, out], &data).unwrap();
    let m = QuantModel::from_quantized(q).unwrap();
    let input = quantize_input(&m.spec.input, &data[0]).unwrap();
    (m, input)
}

fn mlp() -> (QuantModel, Vec<i64>) {
    calibrated(float_mlp(7, &[40, 16, 10]), &[1, 40], 10)
}

fn cnn() -> (QuantModel, Vec<i64>) {
    calibrated(float_cnn(5), &[1, 2, 8, 8], 3)
}

/// One neuron of each shift class of layer 0, and its shift.
fn one_per_class(m: &QuantModel) -> Vec<(usize, u32)> {
    let shifts = m.spec.neuron_shifts(0);
    let mut seen = std::collections::BTreeMap::new();
    for (j, s) in shifts.iter().enumerate() {
        seen.entry(*s).or_insert(j);
    }
    seen.into_iter().map(|(s, j)| (j, s)).collect()
}

#[test]
fn each_filter_gets_its_own_scale_and_the_circuit_agrees_with_the_evaluator() {
    for (name, (m, input)) in [("mlp", mlp()), ("cnn", cnn())] {
        let l = &m.spec.layers[0];
        let distinct: std::collections::BTreeSet<_> = l.channel_scales.iter().collect();
        assert!(distinct.len() >= 3, "{name}: {:?}", l.channel_scales);
        // Every filter uses the top bit of the 8-bit range, whatever its magnitude.
        let k = l.kernel_len();
        for (f, w) in m.weights.layers[0].weights.chunks(k).enumerate() {
            let top = w.iter().map(|v| v.abs()).max().unwrap();
            assert!(top >= 64, "{name}: filter {f} peaks at {top}");
        }
        for layout in [Layout::new(1, 1), Layout::new(2, 2)] {
            let m = m.clone().in_layout(layout).unwrap();
            let (circuit, public, trace) = ModelCircuit::prove(&m, &input).unwrap();
            assert_eq!(
                failures(&m, circuit, public.clone(), NoEdit),
                Vec::<String>::new()
            );
            let outs = &public[public.len() - trace.output().len()..];
            let expected: Vec<Fp> = trace
                .output()
                .iter()
                .map(|v| crate::field::fe(v + VALUE_OFFSET))
                .collect();
            assert_eq!(outs, &expected[..], "{name} {layout}");
        }
    }
}

/// Corrupts neuron `neuron`'s rescale row of layer 0.
#[derive(Clone, Debug)]
enum ClassEdit {
    /// A remainder bit flipped.
    Remainder { neuron: usize },
    /// The quotient one lower and the remainder `2^s` higher: the gate holds, the range not.
    Lift { neuron: usize },
}

impl WitnessEdit for ClassEdit {
    fn rescale(&self, layer: usize, rows: &mut [RescaleRow]) {
        if layer != 0 {
            return;
        }
        match *self {
            ClassEdit::Remainder { neuron } => rows[neuron].r0 = rows[neuron].r0.map(|r| r ^ 1),
            ClassEdit::Lift { neuron } => move_quotient(&mut rows[neuron], -1),
        }
    }
}

#[test]
fn every_shift_class_rejects_corrupted_cells() {
    for (name, (m, input)) in [("mlp", mlp()), ("cnn", cnn())] {
        let (circuit, public, _) = ModelCircuit::prove(&m, &input).unwrap();
        for (neuron, _) in one_per_class(&m) {
            for edit in [ClassEdit::Remainder { neuron }, ClassEdit::Lift { neuron }] {
                let f = failures(&m, circuit.clone(), public.clone(), edit.clone());
                assert!(!f.is_empty(), "{name}: {edit:?} accepted");
            }
        }
    }
}

#[test]
fn every_shift_class_binds_its_accumulators_at_their_destination() {
    let (m, input) = mlp();
    for (neuron, _) in one_per_class(&m) {
        let step = step_toward_zero(&m, &input, neuron);
        // The rescale reads an accumulator one quotient step off; everything after it follows.
        let (circuit, public) = forge_accumulator(&m, &input, 0, neuron, step);
        let f = failures(&m, circuit, public, NoEdit);
        assert_rejected_by(&format!("neuron {neuron}"), &f, &["Equality constraint"]);
    }
}

/// Rescales neuron `neuron` of layer 0 by `shift - 1` bits instead of `shift`: its honest
/// accumulator, the quotient of the smaller shift (everything after it recomputed from that
/// quotient) and the remainder the gate then forces.
#[derive(Clone, Debug)]
struct OtherShift {
    neuron: usize,
    acc: i64,
    shift: u32,
}

impl WitnessEdit for OtherShift {
    fn rescale(&self, layer: usize, rows: &mut [RescaleRow]) {
        if layer != 0 {
            return;
        }
        let row = &mut rows[self.neuron];
        let q = row.q.unwrap() - VALUE_OFFSET;
        let r = self.acc + (1 << (self.shift - 1)) - (q << self.shift);
        row.acc = Some(self.acc);
        let (r0, r1) = crate::chips::rescale::remainder_limbs(r, self.shift);
        (row.r0, row.r1) = (Some(r0), Some(r1));
    }
}

#[test]
fn a_neuron_cannot_be_rescaled_by_another_shift() {
    for (name, (m, input)) in [("mlp", mlp()), ("cnn", cnn())] {
        let honest = crate::eval::evaluate(&m.spec, &m.weights, &input).unwrap();
        let shifts = m.spec.neuron_shifts(0);
        let neuron = (0..shifts.len())
            .find(|j| shifts[*j] >= 1 && (1..=60).contains(&honest.layers[0].q[*j].abs()))
            .expect("a neuron with a small non-zero quotient");
        let (acc, shift) = (honest.layers[0].acc[neuron], shifts[neuron]);
        // Doubling the accumulator is the same as dropping one bit fewer.
        let (circuit, public) = forge(
            &m,
            &input,
            &|l, a| {
                if l == 0 {
                    a[neuron] *= 2;
                }
            },
            &|_| {},
        );
        let forged = circuit.witness.as_ref().unwrap().traces[0].layers[0].q[neuron];
        assert_ne!(forged, honest.layers[0].q[neuron], "{name}");
        let f = failures(&m, circuit, public, OtherShift { neuron, acc, shift });
        assert_rejected_by(name, &f, &["Lookup"]);
    }
}

#[test]
fn the_verifying_key_binds_the_channel_scales() {
    let (m, _) = mlp();
    let params = Params::new(m.spec.circuit.k);
    let fingerprint = |spec: &crate::spec::ModelSpec| {
        let vk = crate::keys::verifying_key(&params, &CircuitPlan::from_spec(spec)).unwrap();
        crate::keys::fingerprint(&vk)
    };
    let mut other = m.spec.clone();
    let scales = &mut other.layers[0].channel_scales;
    let f = scales.iter().position(|s| *s > 0).unwrap();
    scales[f] -= 1;
    assert_ne!(fingerprint(&m.spec), fingerprint(&other));
}

#[test]
fn channel_scales_out_of_bounds_are_invalid_specs() {
    let (m, _) = mlp();
    let mut short = m.spec.clone();
    short.layers[0].channel_scales.pop();
    let mut high = m.spec.clone();
    high.layers[0].channel_scales[0] = crate::MAX_SHIFT + 1;
    for (what, spec) in [("short", short), ("high", high)] {
        let err = spec.validate().unwrap_err().to_string();
        assert!(err.contains("layer 0 (fc0)"), "{what}: {err}");
        assert!(err.contains("channel scale"), "{what}: {err}");
    }
}
