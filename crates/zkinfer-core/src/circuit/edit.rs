//! Witness edits: a seam for soundness tests, which corrupt chosen cells of an honest witness
//! and check that the constraints reject them.

use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner};
use halo2_proofs::pasta::Fp;
use halo2_proofs::plonk::{Circuit, ConstraintSystem, Error};

use super::{synthesize, CircuitConfig, ModelCircuit};
use crate::chips::mac::MacRow;
use crate::chips::rescale::RescaleRow;
use crate::chips::sponge::SpongeWitness;

/// Changes witness rows after they are computed and before they are assigned.
pub trait WitnessEdit: std::fmt::Debug {
    /// Edits the multiply-accumulate rows of layer `layer`.
    fn mac(&self, _layer: usize, _rows: &mut [MacRow]) {}
    /// Edits the input values a pooling or addition layer computes its outputs from (the input
    /// cells are copies and keep their values; for an addition, the first operand).
    fn pool_inputs(&self, _layer: usize, _values: &mut [i64]) {}
    /// Edits the witness values of a gather layer's constant cells (the constants stay).
    fn constants(&self, _layer: usize, _values: &mut [i64]) {}
    /// Edits the rescale rows of layer `layer`.
    fn rescale(&self, _layer: usize, _rows: &mut [RescaleRow]) {}
    /// Edits the commitment rows.
    fn sponge(&self, _witness: &mut SpongeWitness) {}
}

/// Leaves the witness as computed.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoEdit;

impl WitnessEdit for NoEdit {}

/// A model circuit whose witness is edited before assignment (same constraint system).
#[derive(Clone, Debug)]
pub struct EditedCircuit<E> {
    /// The honest circuit.
    pub circuit: ModelCircuit,
    /// The edit.
    pub edit: E,
}

#[cfg(test)]
impl<E: WitnessEdit + Clone + Default> EditedCircuit<E> {
    /// Whether MockProver accepts the edited circuit at `k` with the instance column `public`.
    pub(crate) fn mock_passes(&self, k: u32, public: Vec<Fp>) -> bool {
        halo2_proofs::dev::MockProver::run(k, self, vec![public])
            .unwrap()
            .verify()
            .is_ok()
    }
}

impl<E: WitnessEdit + Clone + Default> Circuit<Fp> for EditedCircuit<E> {
    type Config = CircuitConfig;
    type FloorPlanner = SimpleFloorPlanner;

    fn without_witnesses(&self) -> Self {
        EditedCircuit {
            circuit: self.circuit.without_witnesses(),
            edit: E::default(),
        }
    }

    fn configure(meta: &mut ConstraintSystem<Fp>) -> CircuitConfig {
        ModelCircuit::configure(meta)
    }

    fn synthesize(&self, config: CircuitConfig, layouter: impl Layouter<Fp>) -> Result<(), Error> {
        synthesize(&self.circuit, &config, layouter, &self.edit)
    }
}
