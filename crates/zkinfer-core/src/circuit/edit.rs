//! Witness edits: a seam for soundness tests, which corrupt chosen cells of an honest witness
//! and check that the constraints reject them. Copies take their destination's value from the
//! witness rows, so an edit there tests the copy's equality constraint.

use std::sync::Arc;

use halo2_proofs::dev::MockProver;
use halo2_proofs::pasta::Fp;
use halo2_proofs::plonk::Error;

use super::ModelCircuit;
use crate::chips::mac::MacRow;
use crate::chips::rescale::RescaleRow;
use crate::chips::sponge::SpongeWitness;

/// Changes witness rows after they are computed and before they are assigned.
pub trait WitnessEdit: std::fmt::Debug + Send + Sync + 'static {
    /// Edits the multiply-accumulate rows of layer `layer`.
    fn mac(&self, _layer: usize, _rows: &mut [MacRow]) {}
    /// Edits the input values a pooling or addition layer computes its outputs from, which are
    /// also the values its copies of the input cells hold (for an addition, the first
    /// operand): the equality constraints to the source cells must reject them.
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

impl<E: WitnessEdit + Clone> EditedCircuit<E> {
    /// halo2's `MockProver` on the edited circuit at `k` with the instance column `public`.
    pub fn mock_prover(&self, k: u32, public: Vec<Fp>) -> Result<MockProver<Fp>, Error> {
        self.circuit
            .mock_prover(Arc::new(self.edit.clone()), k, public)
    }

    /// MockProver's failures on the edited circuit at `k` with the instance column `public`,
    /// as text (empty: accepted; a synthesis error is one failure).
    pub fn failures(&self, k: u32, public: Vec<Fp>) -> Vec<String> {
        match self.mock_prover(k, public) {
            Ok(p) => p
                .verify()
                .err()
                .unwrap_or_default()
                .iter()
                .map(ToString::to_string)
                .collect(),
            Err(e) => vec![format!("synthesis: {e:?}")],
        }
    }

    /// Whether MockProver accepts the edited circuit at `k` with the instance column `public`.
    pub fn mock_passes(&self, k: u32, public: Vec<Fp>) -> bool {
        self.mock_prover(k, public)
            .is_ok_and(|p| p.verify().is_ok())
    }
}
