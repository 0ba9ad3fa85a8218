//! Synthesis of the model circuit: inputs, then every layer's chips, then the commitment (of
//! private weights).

use halo2_proofs::circuit::Layouter;
use halo2_proofs::pasta::Fp;
use halo2_proofs::plonk::Error;

use super::{CircuitConfig, InstanceLayout, ModelCircuit, WeightColumns, WitnessEdit};
use crate::chips::mac_public::PublicMacLayer;
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
    config.table.load(&mut layouter, &circuit.plan.table)?;
    let w = circuit.witness.as_deref();
    let copies = circuit.plan.copies.max(1);
    let mac_shape = circuit.plan.layout.shape();
    if w.is_some_and(|w| w.traces.len() != copies) {
        return Err(Error::Synthesis);
    }
    let layout = InstanceLayout::new(
        circuit.plan.input_len * copies,
        circuit.plan.output_len() * copies,
    );
    let n_in = circuit.plan.input_len * copies;
    let (input_cells, zero, salt) = assign_inputs(config, &mut layouter, circuit, n_in)?;
    for (i, cell) in input_cells.iter().enumerate() {
        layouter.constrain_instance(cell.cell(), config.instance, layout.first_input() + i)?;
    }
    // Cells of every value of every inference: the input, then each layer's output.
    let per_copy = circuit.plan.input_len;
    let mut values: Vec<Vec<Vec<Cell>>> = input_cells
        .chunks(per_copy.max(1))
        .map(|c| vec![c.to_vec()])
        .collect();
    values.resize_with(copies, || vec![Vec::new()]);
    let mut packed: Vec<Cell> = Vec::new();
    let mut biases: Vec<Cell> = Vec::new();
    for (i, l) in circuit.plan.layers.iter().enumerate() {
        let src = l.sources.first().copied().ok_or(Error::Synthesis)?;
        let rescale_layer = RescaleLayer {
            name: &l.name,
            shifts: &l.shifts,
            activation_tag: l.activation_tag,
            wide: l.wide,
        };
        let rescale = |layouter: &mut _, copy: usize, to_rescale: &[Cell]| {
            let trace = w.map(|w| &w.traces[copy].layers[i]);
            let mut rows = rescale::witness_rows(rescale_layer, trace, l.outputs);
            if w.is_some() {
                edit.rescale(i, &mut rows);
            }
            config
                .rescale
                .assign(layouter, rescale_layer, to_rescale, &rows)
        };
        if let LayerKind::Dense | LayerKind::Conv2d { .. } = &l.kind {
            // One MAC region for every inference: the weights are laid out (and committed)
            // once, and each row's weights serve the inferences side by side.
            let plan = match &l.kind {
                LayerKind::Conv2d {
                    window,
                    out_channels,
                    groups,
                } => mac_plan::conv(mac_shape, window, *out_channels, *groups, copies),
                _ => mac_plan::dense(
                    mac_shape,
                    l.inputs / l.batch,
                    l.outputs / l.batch,
                    l.batch * copies,
                ),
            };
            let cells: Vec<Cell> = values
                .iter()
                .map(|v| v.get(src).ok_or(Error::Synthesis))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .flatten()
                .cloned()
                .collect();
            let x: Option<Vec<i64>> = w.map(|w| {
                w.traces
                    .iter()
                    .flat_map(|t| t.value(src).iter().copied())
                    .collect()
            });
            let k = l.kind.kernel_len(l.inputs / l.batch);
            let mut rows = mac::witness_rows(
                &plan,
                mac_shape,
                k,
                x.as_deref(),
                w.map(|w| &w.weights.layers[i]),
            );
            if w.is_some() {
                edit.mac(i, &mut rows);
            }
            let accs = match &config.weights {
                WeightColumns::Committed { mac, .. } => {
                    let out = mac.assign(
                        &mut layouter,
                        &l.name,
                        &plan,
                        &rows,
                        &cells,
                        &zero,
                        l.outputs * copies,
                    )?;
                    packed.extend(out.packed);
                    biases.extend(out.bias);
                    out.acc
                }
                WeightColumns::Public(mac) => {
                    let public = circuit.plan.public_weights.as_deref();
                    let layer = PublicMacLayer {
                        name: &l.name,
                        plan: &plan,
                        rows: &rows,
                        weights: public.and_then(|p| p.get(i)).ok_or(Error::Synthesis)?,
                        kernel_len: k,
                        inputs: &cells,
                        zero: &zero,
                        outputs: l.outputs * copies,
                    };
                    mac.assign(&mut layouter, layer)?
                }
            };
            for (copy, acc) in accs.chunks(l.outputs.max(1)).enumerate() {
                let y = rescale(&mut layouter, copy, acc)?;
                values.get_mut(copy).ok_or(Error::Synthesis)?.push(y);
            }
            continue;
        }
        for (copy, copy_values) in values.iter_mut().enumerate() {
            let trace = w.map(|w| &w.traces[copy]);
            let cells = layer_cells(
                config,
                &mut layouter,
                edit,
                (i, l),
                trace,
                copy_values,
                &zero,
            )?;
            let out = match cells {
                LayerCells::Final(out) => out,
                LayerCells::ToRescale(acc) => rescale(&mut layouter, copy, &acc)?,
            };
            copy_values.push(out);
        }
    }
    if let WeightColumns::Committed { sponge, .. } = &config.weights {
        packed.extend(biases);
        let mut sponge_witness = w.map(|w| sponge.witness(&w.message, &w.weights.salt));
        if let Some(sw) = sponge_witness.as_mut() {
            edit.sponge(sw);
        }
        let salt = salt.ok_or(Error::Synthesis)?;
        let commitment = sponge.commit(&mut layouter, &packed, &salt, sponge_witness.as_ref())?;
        layouter.constrain_instance(commitment.cell(), config.instance, layout.commitment())?;
    }
    let out_len = circuit.plan.output_len();
    for (copy, v) in values.iter().enumerate() {
        let prev = v.last().ok_or(Error::Synthesis)?;
        for (j, cell) in prev.iter().enumerate() {
            let row = layout.first_output() + copy * out_len + j;
            layouter.constrain_instance(cell.cell(), config.instance, row)?;
        }
    }
    Ok(())
}

/// The input column's cells: the model inputs of every inference (bound to the instance by
/// the caller), the fixed offset zero (128) that padding and spare cells copy, and the salt
/// (committed weights only).
fn assign_inputs(
    config: &CircuitConfig,
    layouter: &mut impl Layouter<Fp>,
    circuit: &ModelCircuit,
    n_in: usize,
) -> Result<(Vec<Cell>, Cell, Option<Cell>), Error> {
    let w = circuit.witness.as_deref();
    let per_copy = circuit.plan.input_len.max(1);
    layouter.assign_region(
        || "inputs",
        |mut region| {
            let cells = (0..n_in)
                .map(|i| {
                    let v = w.and_then(|w| w.traces.get(i / per_copy)?.input.get(i % per_copy));
                    region.assign_advice(
                        || "input",
                        config.input,
                        i,
                        || crate::chips::value(v.map(|v| v + VALUE_OFFSET)),
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            let zero = region.assign_advice_from_constant(
                || "offset zero",
                config.input,
                n_in,
                fe(VALUE_OFFSET),
            )?;
            if circuit.plan.layout.is_public() {
                return Ok((cells, zero, None));
            }
            let salt_value = w
                .map(|w| halo2_proofs::circuit::Value::known(w.weights.salt.to_field()))
                .unwrap_or(halo2_proofs::circuit::Value::unknown());
            let salt = region.assign_advice(|| "salt", config.input, n_in + 1, || salt_value)?;
            Ok((cells, zero, Some(salt)))
        },
    )
}

/// What a layer (other than a MAC layer) leaves for one inference.
enum LayerCells {
    /// Its output cells (maximum pools and gathers have no rescale).
    Final(Vec<Cell>),
    /// Accumulators for the rescale.
    ToRescale(Vec<Cell>),
}

/// Lays out one inference's copy of a pooling, addition, product or gather layer.
fn layer_cells(
    config: &CircuitConfig,
    layouter: &mut impl Layouter<Fp>,
    edit: &dyn WitnessEdit,
    (i, l): (usize, &super::LayerPlan),
    trace: Option<&crate::eval::Trace>,
    values: &[Vec<Cell>],
    zero: &Cell,
) -> Result<LayerCells, Error> {
    let value_of = |v: usize| -> Option<&[i64]> { trace.map(|t| t.value(v)) };
    // A sum's or product's result cells hold the trace's accumulators.
    let acc = trace.and_then(|t| t.layers.get(i)).map(|t| &t.acc[..]);
    let src = l.sources.first().copied().ok_or(Error::Synthesis)?;
    let x = value_of(src);
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
                config, layouter, edit, i, &l.name, entries, &l.sources, values,
            )?;
            return Ok(LayerCells::Final(out));
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
            config.pool.dot(layouter, &l.name, &outputs, acc, zero)?
        }
        LayerKind::SumPool { window } => {
            let windows: Vec<Vec<Slot<'_>>> =
                window.windows().iter().map(|ix| slots(ix, 1)).collect();
            config
                .pool
                .assign(layouter, &l.name, (false, false), &windows, acc, zero)?
        }
        LayerKind::Dense | LayerKind::Conv2d { .. } => return Err(Error::Synthesis),
        LayerKind::MaxPool { window } => {
            let claimed = trace.map(|t| &t.layers[i].out[..]);
            let windows: Vec<Vec<Slot<'_>>> =
                window.windows().iter().map(|ix| slots(ix, 1)).collect();
            let out =
                config
                    .pool
                    .assign(layouter, &l.name, (true, l.wide), &windows, claimed, zero)?;
            return Ok(LayerCells::Final(out));
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
                .assign(layouter, &l.name, (false, false), &windows, acc, zero)?
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
                .assign(layouter, &l.name, (false, false), &windows, acc, zero)?
        }
    };
    Ok(LayerCells::ToRescale(to_rescale))
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
