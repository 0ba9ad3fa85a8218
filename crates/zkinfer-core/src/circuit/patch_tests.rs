//! Patch layouts: neighbouring convolution positions share their kernel rows' input cells.
//! The honest witness passes (committed and public weights, one and two inferences); a
//! shared cell edited at its destination is rejected by its copy even when every group that
//! reads it is recomputed, and by the MAC gate when only one is; other weights are rejected.

use super::forgery_tests::{assert_rejected_by, failures, with_first_input};
use super::*;
use crate::chips::mac::MacRow;
use crate::chips::mac_plan::fits_patch;
use crate::chips::mac_shape::MacShape;
use crate::model::QuantModel;
use crate::quant::quantize_input;
use crate::quant::Width;
use crate::spec::LayerKind;
use crate::testing::forgery::{digit_weights, forge, forge_weight, shift_input};
use crate::testing::{quantized_cnn, quantized_cnn5, quantized_cnn_width};

/// Equality-constraint failures.
const COPY: &str = "Equality constraint not satisfied";

/// The layouts with patch rows.
fn patch_layouts() -> Vec<Layout> {
    LAYOUTS.into_iter().filter(|l| l.mac_patch > 0).collect()
}

/// The 3×3 CNN (its first convolution fits a 3-wide patch, its strided second one does not)
/// and the 5×5 CNN, each with its first sample quantized.
fn models() -> Vec<(QuantModel, Vec<i64>)> {
    vec![
        with_first_input(quantized_cnn(3)),
        with_first_input(quantized_cnn5(4)),
    ]
}

/// How many of the model's convolutions get patch rows in `layout`.
fn patched_convs(m: &QuantModel, layout: Layout) -> usize {
    m.spec
        .layers
        .iter()
        .filter(|l| match &l.kind {
            LayerKind::Conv2d { window, .. } => fits_patch(layout.shape(), window),
            _ => false,
        })
        .count()
}

#[test]
fn honest_witnesses_pass_in_every_patch_layout() {
    assert_eq!(patch_layouts().len(), 11);
    let mut patched = 0;
    let wide = with_first_input(quantized_cnn_width(3, Width::Wide));
    for (m, input) in models().into_iter().chain([wide]) {
        for layout in patch_layouts() {
            let m = m.clone().in_layout(layout).unwrap();
            patched += patched_convs(&m, layout);
            let (circuit, public, _) = ModelCircuit::prove(&m, &input).unwrap();
            let found = failures(&m, circuit, public, NoEdit);
            assert!(found.is_empty(), "{layout}: {found:?}");
        }
    }
    // 3-wide: the first convolution of the 3×3 CNNs in seven layouts; 5-wide: both of the 5×5
    // CNN's in four layouts.
    assert_eq!(patched, 2 * 7 + 2 * 4);
}

#[test]
fn two_inferences_side_by_side_pass_and_swapped_outputs_are_rejected() {
    let (m, data) = quantized_cnn5(4).unwrap();
    let mut m = m.in_layout(Layout::new(4, 3).with_patch(5)).unwrap();
    m.spec.circuit.batch = 2;
    m.spec.circuit.k = CircuitPlan::from_spec(&m.spec).rows(&m.spec).k().unwrap();
    let inputs: Vec<Vec<i64>> = data[..2]
        .iter()
        .map(|x| quantize_input(&m.spec.input, x).unwrap())
        .collect();
    let (circuit, mut public, _) = ModelCircuit::prove_batch(&m, &inputs).unwrap().remove(0);
    assert!(failures(&m, circuit.clone(), public.clone(), NoEdit).is_empty());
    let outputs = 2 * 3;
    let n = public.len();
    public[n - outputs..].rotate_left(3);
    assert!(!failures(&m, circuit, public, NoEdit).is_empty());
}

#[test]
fn patch_rows_have_fewer_copy_columns() {
    let plain = column_counts(Layout::new(4, 3));
    let patch = column_counts(Layout::new(4, 3).with_patch(5));
    // 4 groups × 31 input cells against 6 kernel rows × (5 + 3) cells.
    assert_eq!(plain.equality - patch.equality, 4 * 31 - 6 * 8);
    let public = column_counts(Layout::new(4, 0).with_patch(3));
    assert_eq!(
        public.equality,
        column_counts(Layout::new(4, 0)).equality - (124 - 60)
    );
}

/// Adds `dx` to input cell `cell` of layer 0's first MAC row; with `all_groups`, moves every
/// accumulator that reads the cell (as an honest computation on the edited value would),
/// otherwise group 0's only.
#[derive(Clone, Debug)]
struct SharedCell {
    shape: MacShape,
    cell: usize,
    dx: i64,
    chunks: usize,
    all_groups: bool,
}

impl WitnessEdit for SharedCell {
    fn mac(&self, layer: usize, rows: &mut [MacRow]) {
        if layer != 0 {
            return;
        }
        let others: Vec<_> = rows[..self.chunks]
            .iter()
            .map(|r| r.acc[1..].to_vec())
            .collect();
        shift_input(
            rows,
            self.shape,
            (0, self.cell),
            self.dx,
            (self.chunks, &[]),
        );
        if !self.all_groups {
            for (r, acc) in rows.iter_mut().zip(others) {
                r.acc[1..].clone_from_slice(&acc);
            }
        }
    }
}

/// The first row's cell read by groups 0 (tap 1) and 1 (tap 0) of kernel row `r`, and how
/// far each of the first block's outputs moves when it grows by `dx`.
fn shared_cell(m: &QuantModel, layout: Layout, r: usize, dx: i64) -> (usize, Vec<i64>) {
    let shape = layout.shape();
    let cell = shape.cell(0, r * shape.patch + 1);
    assert_eq!(cell, shape.cell(1, r * shape.patch));
    let ws = &m.weights.layers[0].weights;
    let moved = (0..shape.groups)
        .map(|g| {
            (0..shape.width)
                .filter(|&i| shape.cell(g, i) == cell)
                .map(|i| dx * ws[i])
                .sum()
        })
        .collect();
    (cell, moved)
}

#[test]
fn a_shared_input_cell_is_bound_at_its_destination() {
    for (m, input) in models() {
        for layout in patch_layouts() {
            let m = m.clone().in_layout(layout).unwrap();
            let LayerKind::Conv2d { window, .. } = &m.spec.layers[0].kind else {
                continue;
            };
            if !fits_patch(layout.shape(), window) {
                continue;
            }
            // The kernel row that meets the input's first row at output row 0.
            let (cell, moved) = shared_cell(&m, layout, window.pads[0], 1);
            assert!(
                moved[0] != 0 && moved[1] != 0,
                "{layout}: both groups read it"
            );
            let chunk = crate::chips::mac_plan::chunk_len(layout.shape(), window);
            let chunks = m.spec.layers[0].kernel_len().div_ceil(chunk);
            // The first block's positions of filter 0 (`lines × columns` of them from the
            // output's corner); the downstream layers, the outputs and the public values follow
            // the edited cell.
            let (cols, ow) = (layout.shape().columns(), window.output_hw().unwrap()[1]);
            let (circuit, public) = forge(
                &m,
                &input,
                &|l, acc| {
                    if l == 0 {
                        for (g, d) in moved.iter().enumerate() {
                            acc[g / cols * ow + g % cols] += d;
                        }
                    }
                },
                &|_| {},
            );
            let edit = SharedCell {
                shape: layout.shape(),
                cell,
                dx: 1,
                chunks,
                all_groups: true,
            };
            let found = failures(&m, circuit.clone(), public.clone(), edit.clone());
            assert_rejected_by(&format!("{layout}: shared cell"), &found, &[COPY]);
            // Recomputing only group 0 leaves group 1's gate reading the edited cell.
            let one = SharedCell {
                all_groups: false,
                ..edit
            };
            let found = failures(&m, circuit, public, one);
            assert!(
                found
                    .iter()
                    .any(|f| f.contains("mac") && f.contains("chunk")),
                "{layout}: {found:?}"
            );
        }
    }
}

#[test]
fn a_corrupted_shared_cell_is_rejected() {
    let (m, input) = models().remove(1);
    let layout = Layout::new(4, 3).with_patch(5);
    let m = m.in_layout(layout).unwrap();
    let (circuit, public, _) = ModelCircuit::prove(&m, &input).unwrap();
    for cell in [0, 5, 9, 47] {
        let edit = SharedCell {
            shape: MacShape {
                groups: 0,
                ..layout.shape()
            },
            cell,
            dx: 1,
            chunks: 1,
            all_groups: true,
        };
        let found = failures(&m, circuit.clone(), public.clone(), edit);
        assert!(!found.is_empty(), "cell {cell} accepted");
    }
}

#[test]
fn computing_with_other_weights_is_rejected() {
    // Committed patch layouts; the public ones run in `public_tests.rs` (every public layout).
    for (m, input) in models() {
        for layout in patch_layouts().into_iter().filter(|l| !l.is_public()) {
            let m = m.clone().in_layout(layout).unwrap();
            // A first-layer weight of kernel row 0 whose first position reads a live input.
            let j = (0..5)
                .find(|j| m.weights.layers[0].weights[*j] < 127 && input[*j] != 0)
                .expect("a weight with a live input");
            // The forged weights are hashed, but the public commitment is the published one.
            let (circuit, public) = forge_weight(&m, &input, j);
            let found = failures(&m, circuit, public, NoEdit);
            assert!(!found.is_empty(), "{layout}: other weights accepted");
        }
    }
}

/// The digits of a patch row hold the filter's contiguous weights, as in a plain row: the
/// commitment's packing does not depend on the shape.
#[test]
fn patch_rows_hold_a_filters_weights_in_order() {
    let (m, input) = models().remove(1);
    let layout = Layout::new(4, 3).with_patch(5);
    let m = m.in_layout(layout).unwrap();
    let (circuit, _, _) = ModelCircuit::prove(&m, &input).unwrap();
    let w = circuit.witness.as_ref().unwrap();
    let plan = crate::chips::mac_plan::conv(
        layout.shape(),
        match &m.spec.layers[0].kind {
            LayerKind::Conv2d { window, .. } => window,
            _ => unreachable!("the first layer is a convolution"),
        },
        3,
        1,
        1,
    );
    let rows = crate::chips::mac::witness_rows(
        &plan,
        layout.shape(),
        50,
        Some(&w.traces[0].input),
        Some(&w.weights.layers[0]),
    );
    let ws = &w.weights.layers[0].weights;
    assert_eq!(digit_weights(&rows[0])[..30], ws[..30]);
    assert_eq!(digit_weights(&rows[1])[..20], ws[30..50]);
    assert!(digit_weights(&rows[1])[20..].iter().all(|w| *w == 0));
}

/// Adds 1 to the accumulator of group `group` in row `row` of layer `layer`'s MAC rows.
#[derive(Clone, Debug)]
pub(super) struct SpareAccumulator {
    pub(super) layer: usize,
    pub(super) row: usize,
    pub(super) group: usize,
}

impl WitnessEdit for SpareAccumulator {
    fn mac(&self, layer: usize, rows: &mut [MacRow]) {
        if layer == self.layer {
            let acc = &mut rows[self.row].acc[self.group];
            *acc = acc.map(|a| a + 1);
        }
    }
}

/// A row's last chunk with a group whose accumulator is no output (past the end of an output
/// row, or a tile row's spare filter): `(row, group)`.
pub(super) fn spare_group(plan: &[crate::chips::mac::MacRowPlan]) -> (usize, usize) {
    plan.iter()
        .enumerate()
        .filter(|(_, p)| p.outputs.iter().any(Option::is_some))
        .find_map(|(r, p)| p.outputs.iter().position(Option::is_none).map(|g| (r, g)))
        .expect("a row with a spare group")
}

#[test]
fn a_spare_groups_accumulator_is_pinned_by_the_gate() {
    // The 5×5 CNN's second convolution has output rows 5 wide: its second block of four
    // positions has three groups past the row's end, read by nothing.
    let (m, input) = models().remove(1);
    for layout in patch_layouts().into_iter().filter(|l| l.mac_patch == 5) {
        let m = m.clone().in_layout(layout).unwrap();
        let LayerKind::Conv2d { window, .. } = &m.spec.layers[1].kind else {
            unreachable!("the second layer is a convolution")
        };
        let plan = crate::chips::mac_plan::conv(layout.shape(), window, 2, 1, 1);
        let (row, group) = spare_group(&plan);
        let (circuit, public, _) = ModelCircuit::prove(&m, &input).unwrap();
        let edit = SpareAccumulator {
            layer: 1,
            row,
            group,
        };
        let found = failures(&m, circuit, public, edit);
        assert_rejected_by(&format!("{layout}: spare accumulator"), &found, &["mac"]);
    }
}
