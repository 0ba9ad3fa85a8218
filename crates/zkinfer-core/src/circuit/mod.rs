//! The model circuit: MAC, pooling, rescale and sponge chips wired together, one instance column.

#[cfg(test)]
mod activation_tests;
#[cfg(test)]
mod attention_tests;
#[cfg(test)]
mod batch_tests;
#[cfg(test)]
mod channel_tests;
#[cfg(test)]
mod cnn_tests;
#[cfg(test)]
mod commitment_tests;
mod edit;
#[cfg(test)]
mod forgery_tests;
mod instance;
mod layout;
#[cfg(test)]
mod patch_tests;
mod plan;
#[cfg(test)]
mod public_tests;
#[cfg(test)]
mod saturation_tests;
mod synthesize;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod wide_tests;

pub use edit::{EditedCircuit, NoEdit, WitnessEdit};
pub use instance::{decode_offset, instances, InstanceLayout};
pub use layout::{Layout, Shaped, DEFAULT_LAYOUT, HALF_MAC_WIDTH, LAYOUTS};
pub use plan::{CircuitPlan, LayerPlan, RowCounts, RESERVED_ROWS};

use std::sync::Arc;

use halo2_proofs::dev::MockProver;
use halo2_proofs::pasta::Fp;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Error, Fixed, Instance};

use crate::chips::mac::MacConfig;
use crate::chips::mac_public::PublicMacConfig;
use crate::chips::pool::PoolConfig;
use crate::chips::rescale::RescaleConfig;
use crate::chips::sponge::SpongeConfig;
use crate::chips::table::TableConfig;
use crate::eval::Trace;
use crate::model::ModelWeights;

pub use crate::spec::MAC_WIDTH;

/// Where the weights live.
#[derive(Clone, Debug)]
pub enum WeightColumns {
    /// Private weights: base-4 digits in the MAC rows, hashed into the public commitment.
    Committed {
        /// Multiply-accumulate rows (dense and convolution).
        mac: MacConfig,
        /// Weight commitment (boxed: its round constants make it the large variant).
        sponge: Box<SpongeConfig>,
    },
    /// Public weights: fixed columns of the MAC rows (the verifying key holds them).
    Public(PublicMacConfig),
}

impl WeightColumns {
    /// MAC input columns, by group.
    pub fn x(&self) -> &[Column<Advice>] {
        match self {
            WeightColumns::Committed { mac, .. } => &mac.x,
            WeightColumns::Public(mac) => &mac.x,
        }
    }

    /// MAC accumulator columns.
    pub fn acc(&self) -> &[Column<Advice>] {
        match self {
            WeightColumns::Committed { mac, .. } => &mac.acc,
            WeightColumns::Public(mac) => &mac.acc,
        }
    }

    /// Weights per MAC row.
    pub fn width(&self) -> usize {
        match self {
            WeightColumns::Committed { mac, .. } => mac.width(),
            WeightColumns::Public(mac) => mac.width(),
        }
    }

    /// Poseidon lanes hashing the weights (none when they are public).
    pub fn hash_lanes(&self) -> usize {
        match self {
            WeightColumns::Committed { sponge, .. } => sponge.lanes.len(),
            WeightColumns::Public(_) => 0,
        }
    }
}

/// Columns of the whole circuit.
#[derive(Clone, Debug)]
pub struct CircuitConfig {
    /// Multiply-accumulate rows and, for private weights, their commitment.
    pub weights: WeightColumns,
    /// Window maxima and sums.
    pub pool: PoolConfig,
    /// Model inputs, copied from the instance column.
    pub input: Column<Advice>,
    /// Constants (zero padding).
    pub constants: Column<Fixed>,
    /// Rescale and activation.
    pub rescale: RescaleConfig,
    /// Lookup table.
    pub table: TableConfig,
    /// Public inputs: commitment, inputs, outputs.
    pub instance: Column<Instance>,
}

/// The prover's private values.
#[derive(Clone, Debug)]
pub struct CircuitWitness {
    /// Evaluator traces, one per inference the circuit proves.
    pub traces: Vec<Trace>,
    /// The weights (shared by the circuits of a batch).
    pub weights: Arc<ModelWeights>,
    /// The committed message (packed weights, then biases).
    pub message: Arc<Vec<Fp>>,
}

/// The inferences one circuit proves: its public plan and, when proving, the witness. The
/// halo2 circuit is [`Shaped`] in the plan's layout.
#[derive(Clone, Debug)]
pub struct ModelCircuit {
    /// Public layout, derived from the spec.
    pub plan: Arc<CircuitPlan>,
    /// Private values; `None` for key generation.
    pub witness: Option<Arc<CircuitWitness>>,
}

impl CircuitConfig {
    /// Allocates the columns of `layout` and creates every gate and lookup.
    pub fn configure(meta: &mut ConstraintSystem<Fp>, layout: Layout) -> Self {
        let table = TableConfig::configure(meta);
        let instance = meta.instance_column();
        meta.enable_equality(instance);
        let input = meta.advice_column();
        meta.enable_equality(input);
        let constants = meta.fixed_column();
        meta.enable_constant(constants);
        // Column order is part of the verifying key: MAC, pool, rescale, then the sponge.
        let shape = layout.shape();
        enum Mac {
            Committed(MacConfig),
            Public(PublicMacConfig),
        }
        let mac = match layout.is_public() {
            true => Mac::Public(PublicMacConfig::configure(meta, shape)),
            false => Mac::Committed(MacConfig::configure(meta, shape)),
        };
        let pool = PoolConfig::configure(meta, table);
        let rescale = RescaleConfig::configure(meta, table, layout.rescale_lanes());
        let weights = match mac {
            Mac::Committed(mac) => WeightColumns::Committed {
                mac,
                sponge: Box::new(SpongeConfig::configure(meta, layout.hash_lanes)),
            },
            Mac::Public(mac) => WeightColumns::Public(mac),
        };
        CircuitConfig {
            weights,
            pool,
            input,
            constants,
            rescale,
            table,
            instance,
        }
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

    /// The same plan without the witness.
    pub fn without_witnesses(&self) -> Self {
        ModelCircuit {
            plan: self.plan.clone(),
            witness: None,
        }
    }

    /// Runs halo2's `MockProver` on the circuit in its plan's layout, with `edit` applied to
    /// the witness, at `k` with the instance column `public`.
    pub fn mock_prover(
        &self,
        edit: Arc<dyn WitnessEdit>,
        k: u32,
        public: Vec<Fp>,
    ) -> Result<MockProver<Fp>, Error> {
        crate::with_shape!(self.plan.layout, S => {
            let circuit = S { circuit: self.clone(), edit };
            MockProver::run(k, &circuit, vec![public])
        }, Err(Error::Synthesis))
    }

    /// The circuit proving one inference of `model` on the quantized `input`, with its public
    /// values (the instance column) and the evaluator trace.
    pub fn prove(
        model: &crate::model::QuantModel,
        input: &[i64],
    ) -> Result<(Self, Vec<Fp>, Trace), crate::CoreError> {
        let (circuit, public, mut traces) = Self::prove_batch(model, &[input.to_vec()])?
            .pop()
            .ok_or_else(|| crate::CoreError::Unsupported("an empty batch of inputs".into()))?;
        let trace = traces
            .pop()
            .ok_or_else(|| crate::CoreError::Unsupported("an empty batch of inputs".into()))?;
        Ok((circuit, public, trace))
    }

    /// The circuits proving the inferences of `inputs` in one proof: each circuit proves
    /// the plan's `copies` inferences (so `inputs.len()` must be a multiple of it); returns
    /// every circuit with its public values and its inferences' traces. The weights, their
    /// packed message and its commitment are computed once and shared by every circuit.
    #[allow(clippy::type_complexity)] // (circuit, instance column, traces) per circuit
    pub fn prove_batch(
        model: &crate::model::QuantModel,
        inputs: &[Vec<i64>],
    ) -> Result<Vec<(Self, Vec<Fp>, Vec<Trace>)>, crate::CoreError> {
        let plan = Arc::new(CircuitPlan::from_spec(&model.spec));
        let copies = plan.copies.max(1);
        if inputs.is_empty() || !inputs.len().is_multiple_of(copies) {
            return Err(crate::CoreError::Unsupported(format!(
                "{} inputs: this model's circuit proves {copies} inferences at a time",
                inputs.len()
            )));
        }
        // Public weights are in the verifying key: nothing is hashed, the commitment is zero.
        let (message, commitment) = match plan.layout.is_public() {
            true => (Arc::new(Vec::new()), Fp::zero()),
            false => {
                let message = crate::commit::message(&model.spec, &model.weights);
                let commitment = crate::commit::commit_message(
                    &crate::poseidon::PoseidonConstants::default(),
                    &message,
                    plan.layout.hash_lanes,
                    &model.weights.salt,
                );
                (Arc::new(message), commitment)
            }
        };
        let weights = Arc::new(model.weights.clone());
        inputs
            .chunks(copies)
            .map(|chunk| {
                let traces = chunk
                    .iter()
                    .map(|x| crate::eval::evaluate(&model.spec, &model.weights, x))
                    .collect::<Result<Vec<_>, _>>()?;
                let xs: Vec<i64> = traces.iter().flat_map(|t| t.input.clone()).collect();
                let ys: Vec<i64> = traces.iter().flat_map(|t| t.output().to_vec()).collect();
                let public = instances(commitment, &xs, &ys);
                let circuit = ModelCircuit {
                    plan: plan.clone(),
                    witness: Some(Arc::new(CircuitWitness {
                        traces: traces.clone(),
                        weights: weights.clone(),
                        message: message.clone(),
                    })),
                };
                Ok((circuit, public, traces))
            })
            .collect()
    }
}

/// Column and lookup counts of a layout's circuit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ColumnCounts {
    /// Advice columns.
    pub advice: usize,
    /// Fixed columns (selectors and tables included after compression).
    pub fixed: usize,
    /// Instance columns.
    pub instance: usize,
    /// Columns in the permutation argument (copy constraints).
    pub equality: usize,
    /// Lookup arguments.
    pub lookups: usize,
    /// Constraint degree.
    pub degree: usize,
    /// Rows used (filled in by callers that know the model).
    pub rows: usize,
}

/// Counts the columns of a layout's constraint system.
pub fn column_counts(layout: Layout) -> ColumnCounts {
    let mut cs = ConstraintSystem::<Fp>::default();
    let c = CircuitConfig::configure(&mut cs, layout);
    let x = c.weights.x().len();
    let acc = c.weights.acc().len();
    // MAC inputs and accumulators; pool a, out; rescale lanes; the input column.
    let shared_advice = x
        + acc
        + c.pool.a.len()
        + 1
        + c.rescale.lanes.len() * crate::chips::rescale::LANE_COLUMNS
        + 1;
    // rescale 5, pool 1 + multipliers, table 3, constants 1; selectors: pool 1, rescale 1.
    let shared_fixed = 5 + 1 + c.pool.mult.len() + 3 + 1 + 1 + 1;
    // mac x, acc; pool a, out; rescale acc, y; instance, input, constants.
    let shared_equality = x + acc + c.pool.a.len() + 1 + c.rescale.lanes.len() * 2 + 3;
    let (advice, fixed, equality) = match &c.weights {
        // Digits, bias and packed; padding masks, sponge c, o and cap, selectors mac 3 and
        // sponge 5; bias, packed and the sponge's m per lane.
        WeightColumns::Committed { mac, sponge } => (
            mac.digits.len() * crate::chips::mac::DIGITS
                + 2
                + sponge.lanes.len() * crate::chips::sponge::LANE_COLUMNS,
            mac.pad.len() + sponge.c.len() + sponge.o.len() + 1 + 3 + 5,
            2 + sponge.lanes.len() * crate::poseidon::RATE,
        ),
        // Weights and bias (a set per group in tile rows); selectors mac 2.
        WeightColumns::Public(mac) => (
            0,
            mac.w.iter().map(Vec::len).sum::<usize>() + mac.bias.len() + 2,
            0,
        ),
    };
    ColumnCounts {
        advice: shared_advice + advice,
        fixed: shared_fixed + fixed,
        instance: 1,
        equality: shared_equality + equality,
        lookups: c.rescale.lanes.len() * crate::chips::rescale::LANE_LOOKUPS + c.pool.a.len(),
        degree: cs.degree(),
        rows: 0,
    }
}
