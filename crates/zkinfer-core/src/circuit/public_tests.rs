//! Public-weights layouts: the weights are fixed columns of the public-weights MAC chip, so
//! the verifying key holds them. A prover who computes with other weights, moves an
//! accumulator, or skips an input copy is rejected; a spec's public weights are checked like
//! a compiled model's.

use halo2_proofs::pasta::Fp;

use super::forgery_tests::{assert_rejected_by, failures};
use super::*;
use crate::chips::mac::MacRow;
use crate::field::fe;
use crate::model::QuantModel;
use crate::quant::quantize_input;
use crate::testing::forgery::{
    forge, forge_accumulator, forge_weight, padding_attack, step_toward_zero,
};
use crate::testing::{quantized_cnn, quantized_mlp};
use crate::VALUE_OFFSET;
use halo2_proofs::poly::commitment::Params;

/// Equality-constraint failures.
const COPY: &str = "Equality constraint not satisfied";
/// The public-weights MAC chip's gates.
const GATE: &str = "public mac";

/// The layouts that hold public weights.
fn public_layouts() -> Vec<Layout> {
    LAYOUTS.into_iter().filter(Layout::is_public).collect()
}

/// A 40-16-10 MLP and a small CNN, each with its first sample quantized.
fn models() -> Vec<(QuantModel, Vec<i64>)> {
    [quantized_mlp(7, &[40, 16, 10]), quantized_cnn(3)]
        .into_iter()
        .map(|built| {
            let (m, data) = built.unwrap();
            let input = quantize_input(&m.spec.input, &data[0]).unwrap();
            (m, input)
        })
        .collect()
}

#[test]
fn honest_witnesses_pass_in_every_public_layout() {
    assert_eq!(public_layouts().len(), 10);
    for (m, input) in models() {
        for layout in public_layouts() {
            let m = m.clone().in_layout(layout).unwrap();
            assert!(m.spec.circuit.public_weights());
            assert_eq!(m.spec.public_weights, m.weights.layers);
            let (circuit, public, trace) = ModelCircuit::prove(&m, &input).unwrap();
            assert_eq!(public[0], Fp::zero(), "no commitment");
            let outputs: Vec<Fp> = trace
                .output()
                .iter()
                .map(|y| fe(y + VALUE_OFFSET))
                .collect();
            assert_eq!(public[1 + input.len()..], outputs[..]);
            let found = failures(&m, circuit, public, NoEdit);
            assert!(found.is_empty(), "{layout}: {found:?}");
        }
    }
}

/// Adds `dx` to one cell of layer `layer`'s MAC row `row`: input cell `slot`, or the group-0
/// accumulator.
#[derive(Clone, Debug)]
struct Corrupt {
    layer: usize,
    row: usize,
    slot: Option<usize>,
    dx: i64,
}

impl WitnessEdit for Corrupt {
    fn mac(&self, layer: usize, rows: &mut [MacRow]) {
        if layer != self.layer {
            return;
        }
        let row = &mut rows[self.row];
        let cell = match self.slot {
            Some(s) => &mut row.x[s],
            None => &mut row.acc[0],
        };
        *cell = cell.map(|v| v + self.dx);
    }
}

#[test]
fn single_corrupted_cells_are_rejected() {
    for (m, input) in models() {
        for layout in public_layouts() {
            let m = m.clone().in_layout(layout).unwrap();
            let (circuit, public, _) = ModelCircuit::prove(&m, &input).unwrap();
            for (row, slot) in [(0, Some(0)), (0, None), (1, Some(3)), (1, None)] {
                let edit = Corrupt {
                    layer: 0,
                    row,
                    slot,
                    dx: 1,
                };
                let found = failures(&m, circuit.clone(), public.clone(), edit);
                assert!(!found.is_empty(), "{layout}: row {row} {slot:?} accepted");
            }
        }
    }
}

#[test]
fn computing_with_other_weights_is_rejected_by_the_mac_gate() {
    for (m, input) in models() {
        for layout in public_layouts() {
            let m = m.clone().in_layout(layout).unwrap();
            // A first-layer weight whose input is not zero, so the forged accumulator moves.
            let kernel = m.spec.layers[0].kernel_len();
            let j = (0..kernel)
                .find(|j| m.weights.layers[0].weights[*j] < 127 && input[*j] != 0)
                .expect("a weight with a live input");
            // The spec (and so the fixed columns) keep the published weights; the witness,
            // the outputs and the public values follow the forged ones.
            let (circuit, public) = forge_weight(&m, &input, j);
            let found = failures(&m, circuit, public, NoEdit);
            assert_rejected_by(&format!("{layout}: other weights"), &found, &[GATE]);
        }
    }
}

/// A change a forger makes to the weights it computes with.
type ModelChange<'a> = dyn Fn(&mut QuantModel) + 'a;

/// The layouts with tile rows.
fn tile_layouts() -> Vec<Layout> {
    LAYOUTS.into_iter().filter(|l| l.mac_tile).collect()
}

#[test]
fn a_tile_row_binds_every_groups_filter() {
    for layout in tile_layouts() {
        tile_row_binds_every_groups_filter(layout);
    }
}

fn tile_row_binds_every_groups_filter(layout: Layout) {
    let (m, input) = models().remove(0);
    let m = m.in_layout(layout).unwrap();
    let kernel = m.spec.layers[0].kernel_len();
    let forgeries: [(&str, &ModelChange<'_>); 4] = [
        ("a weight of filter 1", &|f| {
            f.weights.layers[0].weights[kernel + 2] += 1
        }),
        ("the bias of filter 3", &|f| {
            f.weights.layers[0].bias[3] += 1
        }),
        ("a weight of filter 5", &|f| {
            f.weights.layers[0].weights[5 * kernel] += 1
        }),
        ("filters 0 and 1 swapped", &|f| {
            let w = &mut f.weights.layers[0];
            let (a, b) = w.weights.split_at_mut(kernel);
            a.swap_with_slice(&mut b[..kernel]);
            w.bias.swap(0, 1);
        }),
    ];
    for (what, change) in forgeries {
        let mut forged = m.clone();
        change(&mut forged);
        let (circuit, public) = forge(&forged, &input, &|_, _| {}, &|_| {});
        let found = failures(&m, circuit, public, NoEdit);
        assert_rejected_by(&format!("{layout}: {what}"), &found, &[GATE]);
    }
}

#[test]
fn a_tile_rows_spare_accumulator_is_pinned_by_the_gate() {
    use super::patch_tests::{spare_group, SpareAccumulator};
    // The last layer's 10 neurons leave spare groups in the last tile row of each layout.
    let (m, input) = models().remove(0);
    for layout in tile_layouts() {
        let m = m.clone().in_layout(layout).unwrap();
        let last = m.spec.layers.len() - 1;
        assert_eq!(m.spec.layers[last].outputs, 10);
        let plan = crate::chips::mac_plan::dense(layout.shape(), 16, 10, 1);
        let (row, group) = spare_group(&plan);
        let (circuit, public, _) = ModelCircuit::prove(&m, &input).unwrap();
        let edit = SpareAccumulator {
            layer: last,
            row,
            group,
        };
        let found = failures(&m, circuit, public, edit);
        assert_rejected_by(&format!("{layout}: spare accumulator"), &found, &[GATE]);
    }
}

#[test]
fn tile_rows_prove_a_grouped_convolution() {
    // The residual CNN's second convolution is depthwise: its tile rows hold one filter each.
    let (m, data) = crate::testing::quantized_resnet(6).unwrap();
    let m = m.in_layout(Layout::new(4, 0).with_tile()).unwrap();
    let input = quantize_input(&m.spec.input, &data[0]).unwrap();
    let (circuit, public, _) = ModelCircuit::prove(&m, &input).unwrap();
    let found = failures(&m, circuit.clone(), public.clone(), NoEdit);
    assert!(found.is_empty(), "{found:?}");
    let edit = Corrupt {
        layer: 1,
        row: 0,
        slot: Some(0),
        dx: 1,
    };
    assert!(!failures(&m, circuit, public, edit).is_empty());
}

#[test]
fn a_moved_accumulator_is_rejected_by_the_mac_gate() {
    let (m, input) = models().remove(0);
    for layout in public_layouts() {
        let m = m.clone().in_layout(layout).unwrap();
        // Neuron 0's accumulator, on its filter's last chunk (group 0 of a dense layer), and
        // everything after it recomputed.
        let chunks = m.spec.layers[0].kernel_len().div_ceil(layout.mac_width);
        let (circuit, public) = forge_accumulator(&m, &input, 0, 0, 1);
        let edit = Corrupt {
            layer: 0,
            row: chunks - 1,
            slot: None,
            dx: 1,
        };
        let found = failures(&m, circuit, public, edit);
        assert_rejected_by(&format!("{layout}: moved accumulator"), &found, &[GATE]);
    }
}

#[test]
fn padding_slots_hold_the_zero_weight_and_input() {
    let (m, input) = models().remove(0);
    for layout in public_layouts() {
        let m = m.clone().in_layout(layout).unwrap();
        // A weight in the first slot past the kernel (the witness's; the key holds 0) and an
        // input there, moving the first neuron's quotient: the gate and the copy reject it.
        let dx = step_toward_zero(&m, &input, 0);
        let (circuit, public, edit) = padding_attack(&m, &input, 1, dx);
        let found = failures(&m, circuit, public, edit);
        assert_rejected_by(&format!("{layout}: backdoor"), &found, &[GATE, COPY]);
        assert!(found.iter().any(|f| f.contains(GATE)), "{layout}");
        // An input in a padding slot with the honest weight 0: only the copy rejects it.
        let (circuit, public, edit) = padding_attack(&m, &input, 0, dx);
        let found = failures(&m, circuit, public, edit);
        assert_rejected_by(&format!("{layout}: padding input"), &found, &[COPY]);
    }
}

/// Adds `dx` to input slot 0 of layer 0's first row and moves the accumulators of that
/// filter's chunks by `dx · w`, so the MAC gates hold: only the copy can reject it.
#[derive(Clone, Debug)]
struct InputCopy {
    dx: i64,
    w: i64,
    chunks: usize,
}

impl WitnessEdit for InputCopy {
    fn mac(&self, layer: usize, rows: &mut [MacRow]) {
        if layer != 0 {
            return;
        }
        rows[0].x[0] = rows[0].x[0].map(|x| x + self.dx);
        for r in &mut rows[..self.chunks] {
            r.acc[0] = r.acc[0].map(|a| a + self.dx * self.w);
        }
    }
}

/// Adds `dx` to input cell 0 of layer 0's first row and moves every group's accumulators
/// (each group a neuron of a tile row, with its own weight `w[g]` there) so the MAC gates hold.
#[derive(Clone, Debug)]
struct TileInput {
    shape: crate::chips::mac_shape::MacShape,
    dx: i64,
    weights: Vec<Vec<i64>>,
    chunks: usize,
}

impl WitnessEdit for TileInput {
    fn mac(&self, layer: usize, rows: &mut [MacRow]) {
        if layer == 0 {
            let end = (self.chunks, &self.weights[..]);
            crate::testing::forgery::shift_input(rows, self.shape, (0, 0), self.dx, end);
        }
    }
}

#[test]
fn a_tile_rows_shared_input_is_bound_at_its_destination() {
    assert_eq!(tile_layouts().len(), 3);
    for layout in tile_layouts() {
        tile_rows_shared_input_is_bound(layout);
    }
}

fn tile_rows_shared_input_is_bound(layout: Layout) {
    let (m, input) = models().remove(0);
    let m = m.in_layout(layout).unwrap();
    let kernel = m.spec.layers[0].kernel_len();
    let chunks = kernel.div_ceil(layout.mac_width);
    // The first row computes the first G neurons' first chunk; cell 0 holds input 0 for all.
    let weights: Vec<Vec<i64>> = (0..layout.mac_groups)
        .map(|g| {
            let w = &m.spec.public_weights[0].weights[g * kernel..];
            w[..layout.mac_width].to_vec()
        })
        .collect();
    assert!(
        weights.iter().all(|w| w[0] != 0),
        "every neuron's first weight counts"
    );
    let (circuit, public) = forge(
        &m,
        &input,
        &|l, acc| {
            if l == 0 {
                for (g, w) in weights.iter().enumerate() {
                    acc[g] += w[0];
                }
            }
        },
        &|_| {},
    );
    let shape = layout.shape();
    let all = TileInput {
        shape,
        dx: 1,
        weights: weights.clone(),
        chunks,
    };
    let found = failures(&m, circuit.clone(), public.clone(), all);
    assert_rejected_by(&format!("{layout}: tile input"), &found, &[COPY]);
    // Recomputing neuron 0 alone leaves the other neurons' gates reading the edited cell.
    let one = TileInput {
        shape: crate::chips::mac_shape::MacShape { groups: 1, ..shape },
        dx: 1,
        weights,
        chunks,
    };
    let found = failures(&m, circuit, public, one);
    assert!(found.iter().any(|f| f.contains(GATE)), "{found:?}");
}

#[test]
fn copied_inputs_are_bound_at_their_destination() {
    let (m, input) = models().remove(0);
    for layout in [
        Layout::new(1, 0),
        Layout::new(1, 0).with_width(HALF_MAC_WIDTH),
    ] {
        let m = m.clone().in_layout(layout).unwrap();
        let w = m.spec.public_weights[0].weights[0];
        assert_ne!(w, 0, "the first weight must count");
        let chunks = m.spec.layers[0].kernel_len().div_ceil(layout.mac_width);
        let edit = InputCopy { dx: 1, w, chunks };
        // The first neuron's accumulator and everything after it follow the edit.
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
        let found = failures(&m, circuit, public, edit);
        assert_rejected_by(&format!("{layout}: input copy"), &found, &[COPY]);
    }
}

#[test]
fn the_verifying_key_holds_the_public_weights() {
    let (m, _) = models().remove(0);
    let m = m.in_layout(Layout::new(1, 0)).unwrap();
    let params = Params::new(m.spec.circuit.k);
    let fingerprint = |spec: &crate::spec::ModelSpec| {
        let vk = crate::keys::verifying_key(&params, &CircuitPlan::from_spec(spec)).unwrap();
        crate::keys::fingerprint(&vk)
    };
    let mut weight = m.spec.clone();
    weight.public_weights[1].weights[5] += 1;
    let mut bias = m.spec.clone();
    bias.public_weights[0].bias[2] += 1;
    let honest = fingerprint(&m.spec);
    assert_ne!(honest, fingerprint(&weight));
    assert_ne!(honest, fingerprint(&bias));
}

/// A change to a spec.
type SpecEdit = Box<dyn Fn(&mut crate::spec::ModelSpec)>;

#[test]
fn malformed_public_weights_are_invalid_specs() {
    let (m, _) = models().remove(0);
    let mut private = m.clone();
    private.spec.vk_fingerprint = "00".repeat(32);
    private.spec.validate().unwrap();
    let mut public = m.in_layout(Layout::new(1, 0)).unwrap();
    public.spec.vk_fingerprint = "00".repeat(32);
    public.spec.validate().unwrap();
    let edits: Vec<(&str, SpecEdit)> = vec![
        ("missing", Box::new(|s| s.public_weights.clear())),
        (
            "one short",
            Box::new(|s| s.public_weights[0].weights.pop().map(drop).unwrap_or(())),
        ),
        (
            "out of range",
            Box::new(|s| s.public_weights[1].weights[0] = 128),
        ),
        (
            "a commitment",
            Box::new(|s| s.weights_commitment = format!("01{}", "00".repeat(31))),
        ),
    ];
    for (what, edit) in &edits {
        let mut s = public.spec.clone();
        edit(&mut s);
        let err = s.validate().unwrap_err().to_string();
        assert!(err.contains("invalid spec"), "{what}: {err}");
    }
    // An entry with a field the circuit does not read (a weights array shown to a reader
    // but not used) does not parse.
    let json = public.spec.to_json();
    let extra = json.replacen("\"bias\"", "\"display\": [1],\n      \"bias\"", 1);
    assert!(json.find("\"public_weights\"") < json.find("\"bias\""));
    assert_ne!(extra, json);
    assert!(crate::spec::ModelSpec::from_json(json.as_bytes()).is_ok());
    assert!(crate::spec::ModelSpec::from_json(extra.as_bytes()).is_err());
    let mut both = private.spec.clone();
    both.public_weights = public.spec.public_weights.clone();
    assert!(
        both.validate().is_err(),
        "public weights in a committed spec"
    );
}

#[test]
fn two_inferences_side_by_side_share_the_public_weights() {
    let models = [quantized_mlp(7, &[40, 16, 10]), quantized_cnn(3)].map(Result::unwrap);
    let tile = Layout::new(4, 0).with_tile();
    for ((m, data), layout) in models
        .iter()
        .flat_map(|m| [(m, Layout::new(2, 0)), (m, tile)])
        .map(|((m, d), l)| ((m.clone(), d.clone()), l))
    {
        let mut m = m.in_layout(layout).unwrap();
        m.spec.circuit.batch = 2;
        m.spec.circuit.k = CircuitPlan::from_spec(&m.spec).rows(&m.spec).k().unwrap();
        let inputs: Vec<Vec<i64>> = data[..2]
            .iter()
            .map(|x| quantize_input(&m.spec.input, x).unwrap())
            .collect();
        let (circuit, public, traces) = ModelCircuit::prove_batch(&m, &inputs).unwrap().remove(0);
        for (t, x) in traces.iter().zip(&inputs) {
            let honest = crate::eval::evaluate(&m.spec, &m.weights, x).unwrap();
            assert_eq!(t.output(), honest.output());
        }
        let found = failures(&m, circuit.clone(), public.clone(), NoEdit);
        assert!(found.is_empty(), "{found:?}");
        // The second inference's outputs in the first's place: rejected.
        let (o, n) = (m.spec.output.len(), 2 * m.spec.input.len());
        let mut swapped = public.clone();
        let first = 1 + n;
        for j in 0..o {
            swapped.swap(first + j, first + o + j);
        }
        assert_ne!(swapped, public, "the two inferences' outputs differ");
        assert!(!failures(&m, circuit, swapped, NoEdit).is_empty());
    }
}
