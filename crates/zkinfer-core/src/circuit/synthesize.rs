//! Synthesis of the model circuit: inputs, then every layer's chips, then the commitment.

use halo2_proofs::circuit::Layouter;
use halo2_proofs::pasta::Fp;
use halo2_proofs::plonk::Error;

use super::{CircuitConfig, InstanceLayout, ModelCircuit, WitnessEdit};
use crate::chips::pool::Slot;
use crate::chips::rescale::{self, RescaleLayer};
use crate::chips::{mac, mac_plan, Cell};
use crate::field::fe;
use crate::spec::{GatherEntry, LayerKind};
use crate::VALUE_OFFSET;

/// Lays out `circuit`, letting `edit` change witness rows before they are assigned.
pub(super) fn synthesize(
    circuit: &ModelCircuit,
    config: &CircuitConfig,
    mut layouter: impl Layouter<Fp>,
    edit: &dyn WitnessEdit,
) -> Result<(), Error> {
    config.table.load(&mut layouter, &circuit.plan.functions)?;
    let w = circuit.witness.as_deref();
    let layout = InstanceLayout::new(circuit.plan.input_len, circuit.plan.output_len());
    let n_in = circuit.plan.input_len;
    let (input_cells, zero): (Vec<Cell>, Cell) = layouter.assign_region(
        || "inputs",
        |mut region| {
            let cells = (0..n_in)
                .map(|i| {
                    region.assign_advice_from_instance(
                        || "input",
                        config.instance,
                        layout.first_input() + i,
                        config.input,
                        i,
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            let zero = region.assign_advice_from_constant(
                || "offset zero",
                config.input,
                n_in,
                fe(VALUE_OFFSET),
            )?;
            Ok((cells, zero))
        },
    )?;
    // Cells of every value: the input, then each layer's output.
    let mut values: Vec<Vec<Cell>> = vec![input_cells];
    let mut packed: Vec<Cell> = Vec::new();
    let mut biases: Vec<Cell> = Vec::new();
    for (i, l) in circuit.plan.layers.iter().enumerate() {
        let value_of = |v: usize| -> Option<&[i64]> {
            w.map(|w| match v {
                0 => &w.trace.input[..],
                _ => &w.trace.layers[v - 1].out[..],
            })
        };
        let src = l.sources.first().copied().ok_or(Error::Synthesis)?;
        let x = value_of(src);
        let trace = w.map(|w| &w.trace.layers[i]);
        let mut pool_x = x.map(<[i64]>::to_vec);
        if let (
            Some(v),
            LayerKind::MaxPool { .. }
            | LayerKind::AvgPool { .. }
            | LayerKind::SumPool { .. }
            | LayerKind::Add { .. }
            | LayerKind::Mul
            | LayerKind::MatMul { .. },
        ) = (pool_x.as_mut(), &l.kind)
        {
            edit.pool_inputs(i, v);
        }
        let cells = values.get(src).ok_or(Error::Synthesis)?;
        let slots = |idx: &[usize], weight: i64| -> Vec<Slot<'_>> {
            idx.iter()
                .map(|j| Slot {
                    cell: &cells[*j],
                    value: pool_x.as_ref().map(|v| v[*j]),
                    weight,
                })
                .collect()
        };
        let to_rescale: Vec<Cell> = match &l.kind {
            LayerKind::Gather { entries } => {
                let out = gather(
                    config,
                    &mut layouter,
                    edit,
                    i,
                    &l.name,
                    entries,
                    &l.sources,
                    &values,
                )?;
                values.push(out);
                continue;
            }
            LayerKind::Mul | LayerKind::MatMul { .. } => {
                let b_cells = values.get(l.sources[1]).ok_or(Error::Synthesis)?;
                let b_vals = value_of(l.sources[1]);
                fn slot<'c>(cells: &'c [Cell], vals: Option<&[i64]>, j: usize) -> Slot<'c> {
                    Slot {
                        cell: &cells[j],
                        value: vals.map(|v| v[j]),
                        weight: 1,
                    }
                }
                let (a_cells, a_vals) = (cells, pool_x.as_deref());
                let outputs: Vec<Vec<(Slot<'_>, Slot<'_>)>> = match &l.kind {
                    LayerKind::MatMul { m, k, n } => (0..l.outputs)
                        .map(|o| {
                            let (t, r, c) = (o / (m * n), (o / n) % m, o % n);
                            (0..*k)
                                .map(|j| {
                                    (
                                        slot(a_cells, a_vals, t * m * k + r * k + j),
                                        slot(b_cells, b_vals, t * k * n + j * n + c),
                                    )
                                })
                                .collect()
                        })
                        .collect(),
                    _ => (0..l.outputs)
                        .map(|j| vec![(slot(a_cells, a_vals, j), slot(b_cells, b_vals, j))])
                        .collect(),
                };
                config.pool.dot(&mut layouter, &l.name, &outputs)?
            }
            LayerKind::SumPool { window } => {
                let windows: Vec<Vec<Slot<'_>>> =
                    window.windows().iter().map(|ix| slots(ix, 1)).collect();
                config
                    .pool
                    .assign(&mut layouter, &l.name, false, &windows)?
            }
            LayerKind::Dense | LayerKind::Conv2d { .. } => {
                let plan = match &l.kind {
                    LayerKind::Conv2d {
                        window,
                        out_channels,
                        groups,
                    } => mac_plan::conv(window, *out_channels, *groups),
                    _ => mac_plan::dense(l.inputs / l.batch, l.outputs / l.batch, l.batch),
                };
                let k = l.kind.kernel_len(l.inputs / l.batch);
                let mut rows = mac::witness_rows(&plan, k, x, w.map(|w| &w.weights.layers[i]));
                if w.is_some() {
                    edit.mac(i, &mut rows);
                }
                let out = config.mac.assign(
                    &mut layouter,
                    &l.name,
                    &plan,
                    &rows,
                    cells,
                    &zero,
                    l.outputs,
                )?;
                packed.extend(out.packed);
                biases.extend(out.bias);
                out.acc
            }
            LayerKind::MaxPool { window } => {
                let windows: Vec<Vec<Slot<'_>>> =
                    window.windows().iter().map(|ix| slots(ix, 1)).collect();
                let out = config.pool.assign(&mut layouter, &l.name, true, &windows)?;
                values.push(out);
                continue;
            }
            LayerKind::AvgPool {
                window,
                exclude_pad,
            } => {
                let m = crate::spec::avg_multipliers(window, l.weight_scale, *exclude_pad);
                let windows: Vec<Vec<Slot<'_>>> = window
                    .windows()
                    .iter()
                    .zip(m)
                    .map(|(ix, m)| slots(ix, m))
                    .collect();
                config
                    .pool
                    .assign(&mut layouter, &l.name, false, &windows)?
            }
            LayerKind::Add { subtract } => {
                let mut operands = Vec::with_capacity(l.sources.len());
                for (k, src) in l.sources.iter().enumerate() {
                    let cells = values.get(*src).ok_or(Error::Synthesis)?;
                    let vals = if k == 0 {
                        pool_x.as_deref()
                    } else {
                        value_of(*src)
                    };
                    let magnitude = 1i64 << l.add_shifts.get(k).copied().unwrap_or(0);
                    let weight = if *subtract && k == 1 {
                        -magnitude
                    } else {
                        magnitude
                    };
                    operands.push((cells, vals, weight));
                }
                let windows: Vec<Vec<Slot<'_>>> = (0..l.outputs)
                    .map(|e| {
                        operands
                            .iter()
                            .map(|(cells, vals, weight)| Slot {
                                cell: &cells[e],
                                value: vals.map(|v| v[e]),
                                weight: *weight,
                            })
                            .collect()
                    })
                    .collect();
                config
                    .pool
                    .assign(&mut layouter, &l.name, false, &windows)?
            }
        };
        let layer = RescaleLayer {
            name: &l.name,
            shift: l.shift,
            activation_tag: l.activation_tag,
        };
        let mut rows = rescale::witness_rows(layer, trace, l.outputs);
        if w.is_some() {
            edit.rescale(i, &mut rows);
        }
        let out = config
            .rescale
            .assign(&mut layouter, layer, &to_rescale, &rows)?;
        values.push(out);
    }
    let prev = values.pop().ok_or(Error::Synthesis)?;
    packed.extend(biases);
    let mut sponge_witness = w.map(|w| config.sponge.witness(&w.message));
    if let Some(sw) = sponge_witness.as_mut() {
        edit.sponge(sw);
    }
    let commitment = config
        .sponge
        .commit(&mut layouter, &packed, sponge_witness.as_ref())?;
    layouter.constrain_instance(commitment.cell(), config.instance, layout.commitment())?;
    for (j, cell) in prev.iter().enumerate() {
        layouter.constrain_instance(cell.cell(), config.instance, layout.first_output() + j)?;
    }
    Ok(())
}

/// A gather layer's cells: the source cells it names, and constant cells bound to their
/// public values.
#[allow(clippy::too_many_arguments)] // the layer's place in the synthesis loop
fn gather(
    config: &CircuitConfig,
    layouter: &mut impl Layouter<Fp>,
    edit: &dyn WitnessEdit,
    layer: usize,
    name: &str,
    entries: &[GatherEntry],
    sources: &[usize],
    values: &[Vec<Cell>],
) -> Result<Vec<Cell>, Error> {
    let constants: Vec<i64> = entries
        .iter()
        .filter_map(|e| match e {
            GatherEntry::Const(c) => Some(*c),
            GatherEntry::Value(..) => None,
        })
        .collect();
    let mut witness = constants.clone();
    edit.constants(layer, &mut witness);
    let mut const_cells = config
        .pool
        .constants(layouter, name, &constants, &witness)?
        .into_iter();
    entries
        .iter()
        .map(|e| match *e {
            GatherEntry::Value(slot, index) => sources
                .get(slot)
                .and_then(|s| values.get(*s))
                .and_then(|v| v.get(index))
                .cloned()
                .ok_or(Error::Synthesis),
            GatherEntry::Const(_) => const_cells.next().ok_or(Error::Synthesis),
        })
        .collect()
}
