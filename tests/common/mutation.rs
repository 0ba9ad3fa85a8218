//! Witness mutations of a reference model: one corrupted cell of each kind the model's layers
//! have (products and accumulators, weight digits, packed weights, biases, remainders,
//! activations, pooled values, constants, hash state), each required to make MockProver
//! report a failure; and, where the first layer's kernel leaves weight slots past the end of a
//! MAC row, the padding-slot backdoor of a malicious model owner (a consistent forgery:
//! `zkinfer_core::testing::forgery`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use zkinfer::core::chips::mac::MacRow;
use zkinfer::core::chips::rescale::RescaleRow;
use zkinfer::core::chips::sponge::SpongeWitness;

use zkinfer::core::circuit::{CircuitPlan, EditedCircuit, ModelCircuit, WitnessEdit};
use zkinfer::core::spec::{GatherEntry, LayerKind, ModelSpec};
use zkinfer::core::testing::forgery;
use zkinfer::core::{Fp, VALUE_MAX};
use zkinfer::CompiledModel;

/// One corrupted witness cell (layer indices are the spec's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mutation {
    /// The honest witness.
    #[default]
    None,
    /// An accumulator of a MAC row off by one (a wrong product).
    MacAccumulator(usize),
    /// A weight digit raised by 4 and the next one lowered by 1: the same weight, a digit out of
    /// its range.
    MacDigitRange(usize),
    /// The packed weights of a MAC row off by one.
    MacPacked(usize),
    /// The bias of a filter off by one.
    MacBias(usize),
    /// A rescale remainder off by one, the quotient kept.
    RescaleRemainder(usize),
    /// The quotient one too small and the remainder `2^shift` too large (out of its range).
    RescaleRange(usize),
    /// An activation output (a table lookup's output) off by one.
    Activation(usize),
    /// The outputs of a pooling, addition or product layer computed from changed inputs (for a
    /// maximum, one input above the value range).
    PoolInputs(usize, bool),
    /// A public constant of a gather layer changed.
    Constant(usize),
    /// A lane's Poseidon state off by one.
    SpongeState,
    /// The Poseidon state of the sponge over the lane digests off by one.
    SpongeRoot,
}

impl WitnessEdit for Mutation {
    fn mac(&self, layer: usize, rows: &mut [MacRow]) {
        let mid = rows.len() / 2;
        match *self {
            Mutation::MacAccumulator(l) if l == layer => {
                rows[mid].acc[0] = rows[mid].acc[0].map(|a| a + 1)
            }
            Mutation::MacDigitRange(l) if l == layer => {
                // The first weight with a non-zero digit above the lowest.
                let (r, w, d) = rows
                    .iter()
                    .enumerate()
                    .flat_map(|(r, row)| {
                        row.digits.iter().enumerate().flat_map(move |(w, ds)| {
                            (1..ds.len())
                                .map(move |d| (r, w, d))
                                .filter(move |&(_, _, d)| ds[d].is_some_and(|v| v > 0))
                        })
                    })
                    .next()
                    .expect("a weight with a non-zero high digit");
                let ds = &mut rows[r].digits[w];
                ds[d - 1] = ds[d - 1].map(|v| v + 4);
                ds[d] = ds[d].map(|v| v - 1);
            }
            Mutation::MacPacked(l) if l == layer => {
                rows[0].packed = rows[0].packed.map(|p| p + Fp::one())
            }
            Mutation::MacBias(l) if l == layer => rows[0].bias = rows[0].bias.map(|b| b + 1),
            _ => {}
        }
    }

    fn rescale(&self, layer: usize, rows: &mut [RescaleRow]) {
        let row = &mut rows[rows.len().min(3) - 1];
        match *self {
            Mutation::RescaleRemainder(l) if l == layer => row.r0 = row.r0.map(|r| r ^ 1),
            Mutation::RescaleRange(l) if l == layer => forgery::move_quotient(row, -1),
            Mutation::Activation(l) if l == layer => row.y = row.y.map(|y| y + 1),
            _ => {}
        }
    }

    fn pool_inputs(&self, layer: usize, values: &mut [i64]) {
        match *self {
            Mutation::PoolInputs(l, true) if l == layer => values[0] = VALUE_MAX + 1,
            Mutation::PoolInputs(l, false) if l == layer => values.iter_mut().for_each(|v| *v += 1),
            _ => {}
        }
    }

    fn constants(&self, layer: usize, values: &mut [i64]) {
        if *self == Mutation::Constant(layer) {
            if let Some(v) = values.first_mut() {
                *v += 1;
            }
        }
    }

    fn sponge(&self, w: &mut SpongeWitness) {
        match self {
            Mutation::SpongeState => w.lanes[0][1].s[0] += Fp::one(),
            Mutation::SpongeRoot => w.root[1].s[0] += Fp::one(),
            _ => {}
        }
    }
}

/// The mutations of a model: every cell kind of its first MAC layer, the accumulator of its
/// last, the remainder and range of its first rescale, the remainder of its last, each distinct
/// activation table, each kind of pooling/addition/product layer, the first gather with
/// constants, and the commitment's lane and root states (of private weights).
pub fn mutations(spec: &ModelSpec) -> Vec<Mutation> {
    let plan = CircuitPlan::from_spec(spec);
    let layers = &plan.layers;
    let public = spec.circuit.public_weights();
    let is_mac = |k: &LayerKind| matches!(k, LayerKind::Dense | LayerKind::Conv2d { .. });
    let rescaled =
        |k: &LayerKind| !matches!(k, LayerKind::MaxPool { .. } | LayerKind::Gather { .. });
    let mut out = Vec::new();
    let macs: Vec<usize> = (0..layers.len())
        .filter(|&i| is_mac(&layers[i].kind))
        .collect();
    if let (Some(&first), Some(&last)) = (macs.first(), macs.last()) {
        out.push(Mutation::MacAccumulator(first));
        // Public weights are fixed columns: no digit, packed or bias cells to corrupt.
        if !public {
            out.extend([
                Mutation::MacDigitRange(first),
                Mutation::MacPacked(first),
                Mutation::MacBias(first),
            ]);
        }
        if last != first {
            out.push(Mutation::MacAccumulator(last));
        }
    }
    let scaled: Vec<usize> = (0..layers.len())
        .filter(|&i| rescaled(&layers[i].kind))
        .collect();
    if let (Some(&first), Some(&last)) = (scaled.first(), scaled.last()) {
        out.push(Mutation::RescaleRemainder(first));
        out.push(Mutation::RescaleRange(first));
        if last != first {
            out.push(Mutation::RescaleRemainder(last));
        }
    }
    let mut tags = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        if let Some(tag) = l.activation_tag.filter(|t| !tags.contains(t)) {
            tags.push(tag);
            out.push(Mutation::Activation(i));
        }
    }
    let mut kinds = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let kind = l.kind.name();
        if is_mac(&l.kind) || matches!(l.kind, LayerKind::Gather { .. }) || kinds.contains(&kind) {
            continue;
        }
        kinds.push(kind);
        out.push(Mutation::PoolInputs(
            i,
            matches!(l.kind, LayerKind::MaxPool { .. }),
        ));
    }
    if let Some(i) = spec.layers.iter().position(|l| match &l.kind {
        LayerKind::Gather { entries } => entries.iter().any(|e| matches!(e, GatherEntry::Const(_))),
        _ => false,
    }) {
        out.push(Mutation::Constant(i));
    }
    if !public {
        out.extend([Mutation::SpongeState, Mutation::SpongeRoot]);
    }
    out
}

/// Runs MockProver on the model's circuit for `input` with each of the model's mutations
/// (two at a time) and checks that every one is reported, after checking that the honest
/// witness passes through the same path. Returns how many mutations were tried.
pub fn check_mutations(compiled: &CompiledModel, input: &[i64]) -> usize {
    let model = &compiled.model;
    let k = model.spec.circuit.k;
    let (circuit, public, _) = ModelCircuit::prove(model, input).expect("the honest circuit");
    let passes = |edit: Mutation| {
        let edited = EditedCircuit {
            circuit: circuit.clone(),
            edit,
        };
        edited
            .mock_prover(k, public.clone())
            .expect("MockProver runs")
            .verify()
            .is_ok()
    };
    assert!(
        passes(Mutation::None),
        "{}: the honest witness fails",
        model.spec.name
    );
    let list = mutations(&model.spec);
    let next = AtomicUsize::new(0);
    let accepted = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while let Some(m) = list.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if passes(*m) {
                        accepted.lock().unwrap().push(*m);
                    }
                }
            });
        }
    });
    let accepted = accepted.into_inner().unwrap();
    assert!(
        accepted.is_empty(),
        "{}: mutations accepted: {accepted:?}",
        model.spec.name
    );
    list.len() + usize::from(check_padding_backdoor(compiled, input))
}

/// Runs the padding-slot backdoor on the first layer if its kernel leaves slots past the end of
/// a MAC row (a padding weight +1 committed, its input one quotient step off) and requires
/// MockProver to reject it; returns whether it ran.
fn check_padding_backdoor(compiled: &CompiledModel, input: &[i64]) -> bool {
    let model = &compiled.model;
    let first = &model.spec.layers[0];
    let mac = matches!(first.kind, LayerKind::Dense | LayerKind::Conv2d { .. });
    if !mac || forgery::padding_slot(model).is_none() {
        return false;
    }
    let step = forgery::step_toward_zero(model, input, 0);
    let (circuit, public, edit) = forgery::padding_attack(model, input, 1, step);
    let accepted = EditedCircuit { circuit, edit }
        .mock_prover(model.spec.circuit.k, public)
        .expect("MockProver runs")
        .verify()
        .is_ok();
    assert!(
        !accepted,
        "{}: the padding backdoor was accepted",
        model.spec.name
    );
    true
}
