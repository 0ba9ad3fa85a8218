//! Consistent forgeries, as a malicious model owner would build them: a witness with one value
//! changed and everything downstream recomputed (accumulators, rescales, later layers, outputs,
//! packing, the commitment and the public values). Soundness tests check that the constraints
//! reject them, under MockProver and as real proofs.

use std::sync::Arc;

use halo2_proofs::pasta::Fp;

use crate::chips::mac::{MacRow, DIGITS};
use crate::chips::mac_plan;
use crate::chips::mac_shape::MacShape;
use crate::chips::rescale::RescaleRow;
use crate::circuit::{instances, CircuitPlan, CircuitWitness, ModelCircuit, WitnessEdit};
use crate::commit::{commit_message, pack_row};
use crate::eval::evaluate_patched;
use crate::model::QuantModel;
use crate::poseidon::PoseidonConstants;
use crate::spec::LayerKind;
use crate::VALUE_OFFSET;

/// A forged witness: traces of `input` with `patch` applied to layer values, the committed
/// message changed by `message`, and the public values recomputed from both.
pub fn forge(
    m: &QuantModel,
    input: &[i64],
    patch: &dyn Fn(usize, &mut Vec<i64>),
    message: &dyn Fn(&mut Vec<Fp>),
) -> (ModelCircuit, Vec<Fp>) {
    let trace = evaluate_patched(&m.spec, &m.weights, input, patch).unwrap();
    // Public weights are not hashed: no message, a zero commitment.
    let (msg, commitment) = match m.spec.circuit.public_weights() {
        true => (Vec::new(), Fp::zero()),
        false => {
            let mut msg = crate::commit::message(&m.spec, &m.weights);
            message(&mut msg);
            let lanes = m.spec.circuit.hash_lanes;
            let c = commit_message(&PoseidonConstants::default(), &msg, lanes, &m.weights.salt);
            (msg, c)
        }
    };
    let public = instances(commitment, &trace.input, trace.output());
    let circuit = ModelCircuit {
        plan: Arc::new(CircuitPlan::from_spec(&m.spec)),
        witness: Some(Arc::new(CircuitWitness {
            traces: vec![trace],
            weights: Arc::new(m.weights.clone()),
            message: Arc::new(msg),
        })),
    };
    (circuit, public)
}

/// A witness computed with weight `j` of layer 0 one higher (everything downstream follows),
/// with the published weights' commitment in the instance: what a prover who swaps in other
/// weights after publishing would present. Public weights are not in the witness's hands: the
/// fixed columns keep the spec's.
pub fn forge_weight(m: &QuantModel, input: &[i64], j: usize) -> (ModelCircuit, Vec<Fp>) {
    let mut forged = m.clone();
    forged.weights.layers[0].weights[j] += 1;
    let (circuit, mut public) = forge(&forged, input, &|_, _| {}, &|_| {});
    if !m.spec.circuit.public_weights() {
        public[0] = crate::commit::commitment(&m.spec, &m.weights);
    }
    (circuit, public)
}

/// [`forge`] with one accumulator moved: neuron `neuron` of layer `layer` by `delta`, the
/// commitment untouched.
pub fn forge_accumulator(
    m: &QuantModel,
    input: &[i64],
    layer: usize,
    neuron: usize,
    delta: i64,
) -> (ModelCircuit, Vec<Fp>) {
    let patch = |l: usize, acc: &mut Vec<i64>| {
        if l == layer {
            acc[neuron] += delta;
        }
    };
    forge(m, input, &patch, &|_| {})
}

/// Moves a rescale row's quotient by `dq` and its remainder by `-dq · 2^shift` (scaled:
/// `-dq · 2^16`), so that the division gate still holds (the limbs split the new remainder,
/// negative or not).
pub fn move_quotient(row: &mut RescaleRow, dq: i64) {
    row.q = row.q.map(|q| q + dq);
    shift_remainder(row, -(dq << crate::chips::rescale::REMAINDER_BITS));
}

/// Adds `dr` to a rescale row's scaled remainder `r0 + 256 r1`, re-split into a low limb in
/// `[0, 256)` and a high limb that may leave its range.
pub fn shift_remainder(row: &mut RescaleRow, dr: i64) {
    let r = row.r0.unwrap_or(0) + 256 * row.r1.unwrap_or(0) + dr;
    row.r0 = Some(r.rem_euclid(256));
    row.r1 = Some(r.div_euclid(256));
}

/// One quotient step (`±2^s`) of layer 0's neuron `j`, toward zero so that it stays in range.
pub fn step_toward_zero(m: &QuantModel, input: &[i64], j: usize) -> i64 {
    let q = crate::eval::evaluate(&m.spec, &m.weights, input)
        .unwrap()
        .layers[0]
        .q[j];
    let step = 1i64 << m.spec.neuron_shifts(0)[j];
    if q > 0 {
        -step
    } else {
        step
    }
}

/// Sets weight slot `slot` of a MAC row to `weight` and re-packs the row.
pub fn set_weight(row: &mut MacRow, slot: usize, weight: i64) {
    let w_off = weight + VALUE_OFFSET;
    row.digits[slot] = std::array::from_fn(|k| Some((w_off >> (2 * k)) & 3));
    let ws = digit_weights(row);
    row.packed = halo2_proofs::circuit::Value::known(pack_row(&ws, ws.len()));
}

/// The weights a MAC row's digits hold.
pub fn digit_weights(row: &MacRow) -> Vec<i64> {
    row.digits
        .iter()
        .map(|d| (0..DIGITS).rev().fold(0, |a, k| a * 4 + d[k].unwrap()) - VALUE_OFFSET)
        .collect()
}

/// Adds `dx` to input cell `cell` of `rows[row]` and moves every accumulator that reads it
/// (in a patch or tile shape, several groups share a cell) by `dx` times the weight it meets
/// there, from that row up to `end` (the filter's last chunk, exclusive), as a prover keeping
/// the MAC gates satisfied would. `weights` holds the row's weights per group (or one set for
/// every group); empty: the row's digits.
pub fn shift_input(
    rows: &mut [MacRow],
    shape: MacShape,
    (row, cell): (usize, usize),
    dx: i64,
    (end, weights): (usize, &[Vec<i64>]),
) {
    let digits = [digit_weights(&rows[row])];
    let sets = if weights.is_empty() {
        &digits[..]
    } else {
        weights
    };
    rows[row].x[cell] = rows[row].x[cell].map(|x| x + dx);
    for g in 0..shape.groups {
        let ws = &sets[g % sets.len()];
        let moved: i64 = (0..shape.width)
            .filter(|&i| shape.cell(g, i) == cell)
            .map(|i| dx * ws[i])
            .sum();
        for r in &mut rows[row..end] {
            r.acc[g] = r.acc[g].map(|a| a + moved);
        }
    }
}

/// The padding attack on layer 0's first filter: the last chunk's first slot past its weights
/// gets `weight` (in every block of the filter that reuses that chunk) and, in the first
/// block, input `128 + dx`, so the first item's accumulator moves by `dx · weight`.
#[derive(Clone, Debug)]
pub struct PaddingSlot {
    /// The MAC row (layer 0).
    pub row: usize,
    /// Later blocks' rows reusing that row's weights.
    pub reusing: Vec<usize>,
    /// The slot past the chunk's weights.
    pub slot: usize,
    /// The layer's MAC shape (which cell the slot reads, which groups share it).
    pub shape: MacShape,
    /// The weight committed in it.
    pub weight: i64,
    /// What its input cell holds above the offset zero.
    pub dx: i64,
}

impl WitnessEdit for PaddingSlot {
    fn mac(&self, layer: usize, rows: &mut [MacRow]) {
        if layer != 0 {
            return;
        }
        for r in &self.reusing {
            set_weight(&mut rows[*r], self.slot, self.weight);
        }
        set_weight(&mut rows[self.row], self.slot, self.weight);
        let cell = self.shape.cell(0, self.slot);
        // In a tile row the other groups are other filters, whose weight past the kernel is 0.
        let mut sets = vec![digit_weights(&rows[self.row])];
        sets.resize(self.shape.weight_sets(), vec![0; self.shape.width]);
        let end = self.row + 1;
        shift_input(rows, self.shape, (self.row, cell), self.dx, (end, &sets));
    }
}

/// Layer 0's MAC row plan in `m`'s layout (one inference).
fn first_layer_plan(m: &QuantModel) -> Vec<crate::chips::mac::MacRowPlan> {
    let layer = &m.spec.layers[0];
    let shape = crate::circuit::Layout::of(&m.spec.circuit).shape();
    match &layer.kind {
        LayerKind::Conv2d {
            window,
            out_channels,
            groups,
        } => mac_plan::conv(shape, window, *out_channels, *groups, 1),
        _ => mac_plan::dense(
            shape,
            layer.inputs / layer.batch,
            layer.outputs / layer.batch,
            layer.batch,
        ),
    }
}

/// Rows of a chunk of layer 0's first filter (its first position block) and the first slot
/// past the last chunk's weights, or `None` when that chunk fills its row (no padding slot).
pub fn padding_slot(m: &QuantModel) -> Option<(usize, usize)> {
    let plan = first_layer_plan(m);
    let chunks = plan
        .iter()
        .take_while(|p| p.filter == 0 && p.reuse.is_none())
        .count();
    let last = plan.get(chunks.checked_sub(1)?)?;
    (last.weights < m.spec.circuit.mac_width).then_some((chunks, last.weights))
}

/// The padding attack on `m`: the forged circuit, its public values and the row edit.
pub fn padding_attack(
    m: &QuantModel,
    input: &[i64],
    weight: i64,
    dx: i64,
) -> (ModelCircuit, Vec<Fp>, PaddingSlot) {
    let width = m.spec.circuit.mac_width;
    let shape = crate::circuit::Layout::of(&m.spec.circuit).shape();
    let plan = first_layer_plan(m);
    let (chunks, slot) = padding_slot(m).expect("the last chunk must leave slots past its weights");
    let blocks = plan.iter().filter(|p| p.filter == 0).count() / chunks;
    let edit = PaddingSlot {
        row: chunks - 1,
        reusing: (1..blocks).map(|b| b * chunks + chunks - 1).collect(),
        slot,
        shape,
        weight,
        dx,
    };
    let offset = plan[chunks - 1].offset;
    let mut packed_weights = m.weights.layers[0].weights[offset..offset + slot].to_vec();
    packed_weights.resize(width, 0);
    packed_weights[edit.slot] = weight;
    let forged_packed = pack_row(&packed_weights, width);
    let (circuit, public) = forge(
        m,
        input,
        &|l, acc| {
            if l == 0 {
                acc[0] += dx * weight;
            }
        },
        &|msg| msg[chunks - 1] = forged_packed,
    );
    (circuit, public, edit)
}
