//! MockProver tests of a circuit proving two inferences side by side: the honest witness
//! passes with every inference's outputs public; a corrupted cell of the second inference,
//! its weights changed, or its public values swapped with the first's are rejected.

use halo2_proofs::pasta::Fp;

use super::*;
use crate::chips::mac::MacRow;
use crate::model::QuantModel;
use crate::quant::quantize_input;
use crate::testing::{quantized_cnn, quantized_mlp};

/// The model with `circuit.batch = 2` (and the `k` that needs), and two quantized inputs.
fn batched(mut m: QuantModel, data: &[Vec<f32>]) -> (QuantModel, Vec<Vec<i64>>) {
    m.spec.circuit.batch = 2;
    m.spec.circuit.k = CircuitPlan::from_spec(&m.spec).rows(&m.spec).k().unwrap();
    let inputs = data[..2]
        .iter()
        .map(|x| quantize_input(&m.spec.input, x).unwrap())
        .collect();
    (m, inputs)
}

fn cnn() -> (QuantModel, Vec<Vec<i64>>) {
    let (m, data) = quantized_cnn(3).unwrap();
    batched(m, &data)
}

fn mlp() -> (QuantModel, Vec<Vec<i64>>) {
    let (m, data) = quantized_mlp(7, &[40, 16, 10]).unwrap();
    batched(m, &data)
}

/// Corruptions of the last MAC row of a layer (it computes the second inference's last
/// outputs).
#[derive(Clone, Debug, Default)]
enum LastRow {
    #[default]
    None,
    /// An accumulator off by one.
    Accumulator,
    /// One weight digit changed (the row reuses the first inference's packed weights).
    Weight,
}

impl WitnessEdit for LastRow {
    fn mac(&self, layer: usize, rows: &mut [MacRow]) {
        let Some(row) = rows.last_mut().filter(|_| layer == 0) else {
            return;
        };
        match self {
            LastRow::None => {}
            LastRow::Accumulator => {
                if let Some(Some(a)) = row.acc.iter_mut().rev().find(|a| a.is_some()) {
                    *a += 1;
                }
            }
            LastRow::Weight => {
                let d = &mut row.digits[0][0];
                *d = d.map(|v| (v + 1) % 4);
            }
        }
    }
}

fn check<E: WitnessEdit + Clone + Default>(
    m: &QuantModel,
    inputs: &[Vec<i64>],
    edit: E,
    change_public: impl Fn(&mut Vec<Fp>),
) -> bool {
    let (circuit, mut public, _) = ModelCircuit::prove_batch(m, inputs).unwrap().pop().unwrap();
    change_public(&mut public);
    EditedCircuit { circuit, edit }.mock_passes(m.spec.circuit.k, public)
}

#[test]
fn two_inferences_in_one_circuit_pass_and_match_the_evaluator() {
    for (m, inputs) in [cnn(), mlp()] {
        let parts = ModelCircuit::prove_batch(&m, &inputs).unwrap();
        assert_eq!(parts.len(), 1);
        let (_, public, traces) = &parts[0];
        let (n, o) = (m.spec.input.len(), m.spec.output.len());
        let layout = InstanceLayout::new(2 * n, 2 * o);
        assert_eq!(public.len(), layout.len());
        for (c, x) in inputs.iter().enumerate() {
            let t = crate::eval::evaluate(&m.spec, &m.weights, x).unwrap();
            assert_eq!(traces[c].output(), t.output());
            let outs: Vec<i64> = public[layout.first_output() + c * o..][..o]
                .iter()
                .map(|f| decode_offset(f).unwrap())
                .collect();
            assert_eq!(outs, t.output());
        }
        assert!(check(&m, &inputs, LastRow::None, |_| {}));
    }
}

#[test]
fn corrupted_cells_of_the_second_inference_are_rejected() {
    for (m, inputs) in [cnn(), mlp()] {
        assert!(!check(&m, &inputs, LastRow::Accumulator, |_| {}));
        assert!(!check(&m, &inputs, LastRow::Weight, |_| {}));
    }
}

#[test]
fn swapped_or_changed_public_values_are_rejected() {
    let (m, inputs) = cnn();
    let (n, o) = (m.spec.input.len(), m.spec.output.len());
    assert_ne!(inputs[0], inputs[1]);
    // The two inferences' inputs swapped.
    assert!(!check(&m, &inputs, LastRow::None, |p| {
        let (a, b) = p[1..1 + 2 * n].split_at_mut(n);
        a.swap_with_slice(b);
    }));
    // The second inference's last output changed.
    assert!(!check(&m, &inputs, LastRow::None, |p| {
        *p.last_mut().unwrap() += Fp::one();
    }));
    // The second inference's first output set to the first inference's.
    let first_out = 1 + 2 * n;
    assert!(!check(&m, &inputs, LastRow::None, |p| {
        if p[first_out] != p[first_out + o] {
            p[first_out + o] = p[first_out];
        } else {
            p[first_out + o] += Fp::one();
        }
    }));
}

#[test]
fn inputs_must_fill_whole_circuits() {
    let (m, inputs) = mlp();
    assert!(ModelCircuit::prove_batch(&m, &inputs[..1]).is_err());
    assert!(ModelCircuit::prove_batch(&m, &[]).is_err());
}
