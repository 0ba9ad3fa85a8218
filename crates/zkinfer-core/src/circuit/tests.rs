//! MockProver tests of the whole circuit and of each chip inside it: the honest witness passes,
//! and corrupted cells are rejected.

use halo2_proofs::pasta::Fp;

use super::*;
use crate::chips::mac::MacRow;
use crate::chips::rescale::RescaleRow;
use crate::chips::sponge::SpongeWitness;
use crate::model::QuantModel;
use crate::quant::quantize_input;
use crate::testing::forgery::move_quotient;
use crate::testing::quantized_mlp;

fn model() -> (QuantModel, Vec<i64>) {
    let (m, data) = quantized_mlp(7, &[40, 16, 10]).unwrap();
    let input = quantize_input(&m.spec.input, &data[0]).unwrap();
    (m, input)
}

fn mock(
    k: u32,
    circuit: &ModelCircuit,
    public: Vec<Fp>,
) -> Result<(), Vec<halo2_proofs::dev::VerifyFailure>> {
    circuit
        .mock_prover(Arc::new(NoEdit), k, public)
        .unwrap()
        .verify()
}

fn run_edit<E: WitnessEdit + Clone + Default>(edit: E) -> bool {
    let (m, input) = model();
    run_edit_on(&m, &input, edit)
}

fn run_edit_on<E: WitnessEdit + Clone>(m: &QuantModel, input: &[i64], edit: E) -> bool {
    let (circuit, public, _) = ModelCircuit::prove(m, input).unwrap();
    EditedCircuit { circuit, edit }.mock_passes(m.spec.circuit.k, public)
}

/// The model in `layout`, with the smallest `k` that holds it and its commitment.
fn in_layout(m: &QuantModel, layout: Layout) -> QuantModel {
    m.clone().in_layout(layout).unwrap()
}

/// The committed layouts, with one patch layout (4x3p5) standing for those of other lanes.
pub(super) fn committed_and_distinct(l: &Layout) -> bool {
    !l.is_public() && (l.mac_patch == 0 || l.hash_lanes == 3)
}

#[test]
fn every_layout_passes_honestly_and_rejects_corrupted_cells() {
    let (m, input) = model();
    // Layouts that commit the weights (digits, packing, sponge); the public-weights layouts
    // have none of these cells (`public_tests.rs`). Of the patch layouts, whose dense rows
    // differ from a plain layout's only in their input cells, the one with three lanes
    // (`patch_tests.rs` covers the others on convolutions).
    for layout in LAYOUTS.into_iter().filter(committed_and_distinct) {
        let m = in_layout(&m, layout);
        assert!(
            run_edit_on(&m, &input, NoEdit),
            "{layout:?}: honest witness"
        );
        for edit in [
            DenseEdit::WrongProduct,
            DenseEdit::DigitOutOfRange,
            DenseEdit::WrongPacking,
        ] {
            assert!(
                !run_edit_on(&m, &input, edit.clone()),
                "{layout:?}: {edit:?}"
            );
        }
        for edit in [SpongeEdit::State, SpongeEdit::RootState] {
            assert!(
                !run_edit_on(&m, &input, edit.clone()),
                "{layout:?}: {edit:?}"
            );
        }
    }
}

#[test]
fn planner_picks_the_smallest_layout_for_a_small_mlp() {
    let (m, _) = model();
    // One input group, half-width rows and one lane fit k = 11 (the table's 1,279 rows need
    // it): the fewest columns.
    assert_eq!(m.spec.circuit.k, 11);
    assert_eq!(
        CircuitPlan::from_spec(&m.spec).layout,
        Layout::new(1, 1).with_width(HALF_MAC_WIDTH)
    );
}

#[test]
fn honest_witness_passes_and_matches_evaluator() {
    let (m, input) = model();
    assert!(
        m.spec.layers.iter().enumerate().any(|(i, _)| m
            .spec
            .neuron_shifts(i)
            .iter()
            .any(|s| *s > 8)),
        "test should exercise r1"
    );
    let (circuit, public, trace) = ModelCircuit::prove(&m, &input).unwrap();
    assert_eq!(mock(m.spec.circuit.k, &circuit, public.clone()), Ok(()));
    // The public outputs are the evaluator's outputs.
    let layout = InstanceLayout::new(input.len(), trace.output().len());
    let outs: Vec<i64> = public[layout.first_output()..]
        .iter()
        .map(|f| decode_offset(f).unwrap())
        .collect();
    assert_eq!(outs, trace.output());
}

#[test]
fn planned_k_is_tight() {
    let (m, _) = model();
    let rows = CircuitPlan::from_spec(&m.spec).rows(&m.spec);
    assert_eq!(rows.k().unwrap(), m.spec.circuit.k);
    assert!(rows.max() + plan::RESERVED_ROWS <= 1 << m.spec.circuit.k);
}

#[test]
fn wrong_public_output_or_input_is_rejected() {
    let (m, input) = model();
    let (circuit, public, _) = ModelCircuit::prove(&m, &input).unwrap();
    let mut bad = public.clone();
    *bad.last_mut().unwrap() += Fp::one();
    assert!(mock(m.spec.circuit.k, &circuit, bad).is_err());
    let mut bad = public.clone();
    bad[1] += Fp::one();
    assert!(mock(m.spec.circuit.k, &circuit, bad).is_err());
    let mut bad = public;
    bad[0] += Fp::one();
    assert!(mock(m.spec.circuit.k, &circuit, bad).is_err());
}

#[test]
fn changed_weight_under_same_commitment_is_rejected() {
    let (m, input) = model();
    let (_, honest_public, _) = ModelCircuit::prove(&m, &input).unwrap();
    let mut changed = m.clone();
    let w = &mut changed.weights.layers[0].weights[3];
    *w = if *w < 100 { *w + 1 } else { *w - 1 };
    let (circuit, public, _) = ModelCircuit::prove(&changed, &input).unwrap();
    // With its own commitment the changed model proves fine...
    assert_eq!(mock(m.spec.circuit.k, &circuit, public.clone()), Ok(()));
    // ...but not against the published one.
    let mut claimed = public;
    claimed[0] = honest_public[0];
    assert!(mock(m.spec.circuit.k, &circuit, claimed).is_err());
}

/// Dense-chip corruptions.
#[derive(Clone, Debug, Default)]
enum DenseEdit {
    #[default]
    None,
    /// Digit 0 of weight 0 raised by 4 and digit 1 lowered by 1: same weight, digit out of range.
    DigitOutOfRange,
    /// Accumulator off by one (a wrong product).
    WrongProduct,
    /// Packed weights off by one.
    WrongPacking,
}

impl WitnessEdit for DenseEdit {
    fn mac(&self, layer: usize, rows: &mut [MacRow]) {
        if layer != 0 {
            return;
        }
        let row = &mut rows[1];
        match self {
            DenseEdit::None => {}
            DenseEdit::DigitOutOfRange => {
                // Find a weight whose digit 1 is non-zero.
                let i = (0..row.digits.len())
                    .find(|i| row.digits[*i][1] != Some(0))
                    .unwrap();
                row.digits[i][0] = row.digits[i][0].map(|d| d + 4);
                row.digits[i][1] = row.digits[i][1].map(|d| d - 1);
            }
            DenseEdit::WrongProduct => row.acc[0] = row.acc[0].map(|a| a + 1),
            DenseEdit::WrongPacking => row.packed = row.packed.map(|p| p + Fp::one()),
        }
    }
}

#[test]
fn dense_chip_rejects_corrupted_cells() {
    assert!(run_edit(DenseEdit::None));
    assert!(!run_edit(DenseEdit::DigitOutOfRange));
    assert!(!run_edit(DenseEdit::WrongProduct));
    assert!(!run_edit(DenseEdit::WrongPacking));
}

/// Rescale-chip corruptions (on layer 0, a ReLU layer, and layer 1, an identity layer).
#[derive(Clone, Debug, Default)]
enum RescaleEdit {
    #[default]
    None,
    /// Remainder off by one with the same quotient.
    WrongRemainder(usize),
    /// Quotient one too small and remainder `2^s` too large (outside its range).
    RemainderOutOfRange(usize),
    /// Quotient one too large and remainder negative.
    NegativeRemainder(usize),
    /// ReLU output changed.
    WrongActivation,
}

impl WitnessEdit for RescaleEdit {
    fn rescale(&self, layer: usize, rows: &mut [RescaleRow]) {
        let row = &mut rows[2];
        match *self {
            RescaleEdit::WrongRemainder(l) if l == layer => row.r0 = row.r0.map(|r| r ^ 1),
            RescaleEdit::RemainderOutOfRange(l) if l == layer => move_quotient(row, -1),
            RescaleEdit::NegativeRemainder(l) if l == layer => move_quotient(row, 1),
            RescaleEdit::WrongActivation if layer == 0 => row.y = row.y.map(|y| y + 1),
            _ => {}
        }
    }
}

#[test]
fn rescale_chip_rejects_corrupted_cells() {
    assert!(run_edit(RescaleEdit::None));
    for layer in 0..2 {
        assert!(
            !run_edit(RescaleEdit::WrongRemainder(layer)),
            "layer {layer}"
        );
        assert!(
            !run_edit(RescaleEdit::RemainderOutOfRange(layer)),
            "layer {layer}"
        );
        assert!(
            !run_edit(RescaleEdit::NegativeRemainder(layer)),
            "layer {layer}"
        );
    }
    assert!(!run_edit(RescaleEdit::WrongActivation));
}

/// Sponge-chip corruptions.
#[derive(Clone, Debug, Default)]
enum SpongeEdit {
    #[default]
    None,
    State,
    FullRoundHelper,
    PartialRoundHelper,
    RootState,
    /// A message cell of a partial-round row.
    PartialMessage,
    /// A message cell of a full-round row that absorbs nothing.
    StillMessage,
    /// The spare message cell of the root's final row (`m[0]` is the digest).
    FinalMessage,
}

impl WitnessEdit for SpongeEdit {
    fn sponge(&self, w: &mut SpongeWitness) {
        match self {
            SpongeEdit::None => {}
            SpongeEdit::State => {
                if let Some(lane) = w.lanes.last_mut() {
                    lane[7].s[1] += Fp::one();
                }
            }
            SpongeEdit::FullRoundHelper => w.lanes[0][1].aux[9] += Fp::one(),
            SpongeEdit::PartialRoundHelper => w.lanes[0][5].aux[12] += Fp::one(),
            SpongeEdit::RootState => w.root[5].s[0] += Fp::one(),
            SpongeEdit::PartialMessage => w.lanes[0][5].m[0] += Fp::one(),
            SpongeEdit::StillMessage => w.lanes[0][1].m[1] += Fp::one(),
            SpongeEdit::FinalMessage => {
                if let Some(row) = w.root.last_mut() {
                    row.m[1] += Fp::one();
                }
            }
        }
    }
}

#[test]
fn sponge_chip_rejects_corrupted_cells() {
    assert!(run_edit(SpongeEdit::None));
    assert!(!run_edit(SpongeEdit::State));
    assert!(!run_edit(SpongeEdit::FullRoundHelper));
    assert!(!run_edit(SpongeEdit::PartialRoundHelper));
    assert!(!run_edit(SpongeEdit::RootState));
    // Message cells outside absorbing rows are pinned by gates, not copies.
    assert!(!run_edit(SpongeEdit::PartialMessage));
    assert!(!run_edit(SpongeEdit::StillMessage));
    assert!(!run_edit(SpongeEdit::FinalMessage));
}

#[test]
fn circuit_degree_is_at_most_five() {
    for layout in LAYOUTS {
        let mut cs = halo2_proofs::plonk::ConstraintSystem::<Fp>::default();
        CircuitConfig::configure(&mut cs, layout);
        assert!(cs.degree() <= 5, "{layout:?}: degree {}", cs.degree());
        assert_eq!(cs.blinding_factors() + 1, plan::RESERVED_ROWS);
    }
}

/// One count of halo2's `CircuitCost` description.
fn cost_count(description: &str, field: &str) -> usize {
    crate::keys::cost_count(description, field)
        .unwrap_or_else(|| panic!("{field} missing from {description}"))
}

#[test]
fn column_counts_agree_with_halo2() {
    let (m, _) = model();
    for layout in LAYOUTS {
        let m = in_layout(&m, layout);
        let plan = CircuitPlan::from_spec(&m.spec);
        let halo2 = crate::keys::cost_description(&plan);
        let ours = column_counts(layout);
        assert_eq!(
            (ours.advice, ours.equality, ours.lookups, ours.degree),
            (
                cost_count(&halo2, "num_advice_columns"),
                cost_count(&halo2, "permutation_cols"),
                cost_count(&halo2, "lookups"),
                cost_count(&halo2, "max_deg"),
            ),
            "{layout}"
        );
    }
}
