//! The model circuit: dense, rescale and sponge chips wired together, one instance column.

mod edit;
mod instance;
mod plan;
#[cfg(test)]
mod tests;

pub use edit::{EditedCircuit, NoEdit, WitnessEdit};
pub use instance::{decode_offset, instances, InstanceLayout};
pub use plan::{CircuitPlan, LayerPlan, RowCounts, RESERVED_ROWS};

use std::sync::Arc;

use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner};
use halo2_proofs::pasta::Fp;
use halo2_proofs::plonk::{Circuit, Column, ConstraintSystem, Error, Instance};

use crate::chips::dense::{self, DenseConfig, Inputs};
use crate::chips::rescale::{self, RescaleConfig, RescaleLayer};
use crate::chips::sponge::SpongeConfig;
use crate::chips::table::TableConfig;
use crate::chips::Cell;
use crate::eval::Trace;
use crate::model::ModelWeights;

/// Multiply-accumulates per dense row (31 bytes pack into one field element).
pub const MAC_WIDTH: usize = 31;
/// Parallel Poseidon lanes hashing the weights.
pub const HASH_LANES: usize = 6;

/// Columns of the whole circuit.
#[derive(Clone, Debug)]
pub struct CircuitConfig {
    /// Dense rows.
    pub dense: DenseConfig,
    /// Rescale and activation.
    pub rescale: RescaleConfig,
    /// Weight commitment.
    pub sponge: SpongeConfig,
    /// Lookup table.
    pub table: TableConfig,
    /// Public inputs: commitment, inputs, outputs.
    pub instance: Column<Instance>,
}

/// The prover's private values.
#[derive(Clone, Debug)]
pub struct CircuitWitness {
    /// Evaluator trace of the inference.
    pub trace: Trace,
    /// The weights.
    pub weights: ModelWeights,
    /// The committed message (packed weights, then biases).
    pub message: Vec<Fp>,
}

/// One inference of a model as a halo2 circuit.
#[derive(Clone, Debug)]
pub struct ModelCircuit {
    /// Public layout, derived from the spec.
    pub plan: Arc<CircuitPlan>,
    /// Private values; `None` for key generation.
    pub witness: Option<Arc<CircuitWitness>>,
}

impl Circuit<Fp> for ModelCircuit {
    type Config = CircuitConfig;
    type FloorPlanner = SimpleFloorPlanner;

    fn without_witnesses(&self) -> Self {
        ModelCircuit {
            plan: self.plan.clone(),
            witness: None,
        }
    }

    fn configure(meta: &mut ConstraintSystem<Fp>) -> CircuitConfig {
        let table = TableConfig::configure(meta);
        let instance = meta.instance_column();
        meta.enable_equality(instance);
        CircuitConfig {
            dense: DenseConfig::configure(meta),
            rescale: RescaleConfig::configure(meta, table),
            sponge: SpongeConfig::configure(meta),
            table,
            instance,
        }
    }

    fn synthesize(&self, config: CircuitConfig, layouter: impl Layouter<Fp>) -> Result<(), Error> {
        synthesize(self, &config, layouter, &NoEdit)
    }
}

impl ModelCircuit {
    /// The circuit without witness, for key generation.
    pub fn keygen(plan: CircuitPlan) -> Self {
        ModelCircuit {
            plan: Arc::new(plan),
            witness: None,
        }
    }

    /// The circuit proving one inference of `model` on the quantized `input`, with its public
    /// values (the instance column) and the evaluator trace.
    pub fn prove(
        model: &crate::model::QuantModel,
        input: &[i64],
    ) -> Result<(Self, Vec<Fp>, Trace), crate::CoreError> {
        let trace = crate::eval::evaluate(&model.spec, &model.weights, input)?;
        let message = crate::commit::message(&model.spec, &model.weights);
        let commitment =
            crate::commit::commit_message(&crate::poseidon::PoseidonConstants::default(), &message);
        let public = instances(commitment, &trace.input, trace.output());
        let circuit = ModelCircuit {
            plan: Arc::new(CircuitPlan::from_spec(&model.spec)),
            witness: Some(Arc::new(CircuitWitness {
                trace: trace.clone(),
                weights: model.weights.clone(),
                message,
            })),
        };
        Ok((circuit, public, trace))
    }
}

/// Lays out `circuit`, letting `edit` change witness rows before they are assigned.
fn synthesize(
    circuit: &ModelCircuit,
    config: &CircuitConfig,
    mut layouter: impl Layouter<Fp>,
    edit: &dyn WitnessEdit,
) -> Result<(), Error> {
    config.table.load(&mut layouter)?;
    let w = circuit.witness.as_deref();
    let layout = InstanceLayout::new(circuit.plan.input_len, circuit.plan.output_len());
    let mut packed: Vec<Cell> = Vec::new();
    let mut biases: Vec<Cell> = Vec::new();
    let mut prev: Vec<Cell> = Vec::new();
    for (i, l) in circuit.plan.layers.iter().enumerate() {
        let input_values = w.map(|w| match i {
            0 => &w.trace.input[..],
            _ => &w.trace.layers[i - 1].out[..],
        });
        let inputs = match i {
            0 => Inputs::Instance {
                column: config.instance,
                first: layout.first_input(),
            },
            _ => Inputs::Cells(&prev),
        };
        let mut rows = dense::witness_rows(
            l.inputs,
            l.outputs,
            input_values,
            w.map(|w| &w.weights.layers[i]),
        );
        if w.is_some() {
            edit.dense(i, &mut rows);
        }
        let out =
            config
                .dense
                .assign(&mut layouter, &l.name, (l.inputs, l.outputs), inputs, &rows)?;
        packed.extend(out.packed);
        biases.extend(out.bias);
        let layer = RescaleLayer {
            name: &l.name,
            shift: l.shift,
            relu: l.relu,
        };
        let mut rows = rescale::witness_rows(layer, w.map(|w| &w.trace.layers[i]), l.outputs);
        if w.is_some() {
            edit.rescale(i, &mut rows);
        }
        prev = config
            .rescale
            .assign(&mut layouter, layer, &out.acc, &rows)?;
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

/// Column and lookup counts of the circuit (independent of the model).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ColumnCounts {
    /// Advice columns.
    pub advice: usize,
    /// Fixed columns (selectors and tables included after compression).
    pub fixed: usize,
    /// Instance columns.
    pub instance: usize,
    /// Lookup arguments.
    pub lookups: usize,
    /// Constraint degree.
    pub degree: usize,
    /// Rows used (filled in by callers that know the model).
    pub rows: usize,
}

/// Counts the columns of the circuit's constraint system.
pub fn column_counts() -> ColumnCounts {
    let mut cs = ConstraintSystem::<Fp>::default();
    let c = ModelCircuit::configure(&mut cs);
    let lane = crate::chips::sponge::LANE_COLUMNS;
    ColumnCounts {
        advice: c.dense.x.len() * (1 + crate::chips::dense::DIGITS)
            + 3
            + 5
            + c.sponge.lanes.len() * lane,
        // rescale 5, sponge c + o + cap, table 3; selectors: dense 3, rescale 1, sponge 4.
        fixed: 5 + c.sponge.c.len() + c.sponge.o.len() + 1 + 3 + 3 + 1 + 4,
        instance: 1,
        lookups: 3,
        degree: cs.degree(),
        rows: 0,
    }
}
