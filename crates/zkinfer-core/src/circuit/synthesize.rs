//! Synthesis of the model circuit: inputs, then every layer's chips, then the commitment.

use halo2_proofs::circuit::Layouter;
use halo2_proofs::pasta::Fp;
use halo2_proofs::plonk::Error;

use super::{CircuitConfig, InstanceLayout, ModelCircuit, WitnessEdit};
use crate::chips::rescale::{self, RescaleLayer};
use crate::chips::{mac, mac_plan, Cell};
use crate::spec::LayerKind;

/// Lays out `circuit`, letting `edit` change witness rows before they are assigned.
pub(super) fn synthesize(
    circuit: &ModelCircuit,
    config: &CircuitConfig,
    mut layouter: impl Layouter<Fp>,
    edit: &dyn WitnessEdit,
) -> Result<(), Error> {
    config.table.load(&mut layouter)?;
    let w = circuit.witness.as_deref();
    let layout = InstanceLayout::new(circuit.plan.input_len, circuit.plan.output_len());
    let mut prev: Vec<Cell> = layouter.assign_region(
        || "inputs",
        |mut region| {
            (0..circuit.plan.input_len)
                .map(|i| {
                    region.assign_advice_from_instance(
                        || "input",
                        config.instance,
                        layout.first_input() + i,
                        config.input,
                        i,
                    )
                })
                .collect()
        },
    )?;
    let mut packed: Vec<Cell> = Vec::new();
    let mut biases: Vec<Cell> = Vec::new();
    for (i, l) in circuit.plan.layers.iter().enumerate() {
        let x = w.map(|w| match i {
            0 => &w.trace.input[..],
            _ => &w.trace.layers[i - 1].out[..],
        });
        let trace = w.map(|w| &w.trace.layers[i]);
        let mut pool_x = x.map(<[i64]>::to_vec);
        if let (Some(v), LayerKind::MaxPool { .. } | LayerKind::AvgPool { .. }) =
            (pool_x.as_mut(), &l.kind)
        {
            edit.pool_inputs(i, v);
        }
        let to_rescale: Vec<Cell> = match &l.kind {
            LayerKind::Dense | LayerKind::Conv2d { .. } => {
                let plan = match &l.kind {
                    LayerKind::Conv2d {
                        window,
                        out_channels,
                    } => mac_plan::conv(window, *out_channels),
                    _ => mac_plan::dense(l.inputs, l.outputs),
                };
                let k = l.kind.kernel_len(l.inputs);
                let mut rows = mac::witness_rows(&plan, k, x, w.map(|w| &w.weights.layers[i]));
                if w.is_some() {
                    edit.mac(i, &mut rows);
                }
                let out =
                    config
                        .mac
                        .assign(&mut layouter, &l.name, &plan, &rows, &prev, l.outputs)?;
                packed.extend(out.packed);
                biases.extend(out.bias);
                out.acc
            }
            LayerKind::MaxPool { window } => {
                prev = config.pool.assign(
                    &mut layouter,
                    &l.name,
                    true,
                    &window.windows(),
                    &prev,
                    pool_x.as_deref(),
                )?;
                continue;
            }
            LayerKind::AvgPool { window } => config.pool.assign(
                &mut layouter,
                &l.name,
                false,
                &window.windows(),
                &prev,
                pool_x.as_deref(),
            )?,
        };
        let layer = RescaleLayer {
            name: &l.name,
            shift: l.shift,
            relu: l.relu,
        };
        let mut rows = rescale::witness_rows(layer, trace, l.outputs);
        if w.is_some() {
            edit.rescale(i, &mut rows);
        }
        prev = config
            .rescale
            .assign(&mut layouter, layer, &to_rescale, &rows)?;
    }
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
