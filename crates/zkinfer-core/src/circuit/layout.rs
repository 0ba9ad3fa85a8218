//! Column layouts: how many MAC input groups and Poseidon lanes a circuit has.
//!
//! halo2's `Circuit::configure` takes no runtime parameters, so each layout of the menu
//! [`LAYOUTS`] is its own circuit type, [`Shaped<G, L>`]; the spec records the layout
//! (`circuit.mac_groups`, `circuit.hash_lanes`) and every use of a circuit dispatches on it
//! ([`with_shape!`](crate::with_shape)). The planner picks the layout per model: a batch-1
//! dense model wastes a second input group, a convolution fills it; a small model hashes its
//! weights in one lane, a large one needs six to keep `k` down.

use std::sync::Arc;

use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner};
use halo2_proofs::pasta::Fp;
use halo2_proofs::plonk::{Circuit, ConstraintSystem, Error};

use super::{synthesize::synthesize, CircuitConfig, ModelCircuit, NoEdit, WitnessEdit};
use crate::spec::CircuitSpec;

/// A circuit's column layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Layout {
    /// Input groups per MAC row (output positions sharing a row's weights).
    pub mac_groups: usize,
    /// Parallel Poseidon lanes hashing the weights.
    pub hash_lanes: usize,
}

/// The layouts this build supports (one circuit type each).
pub const LAYOUTS: [Layout; 6] = [
    Layout::new(1, 1),
    Layout::new(1, 2),
    Layout::new(1, 6),
    Layout::new(2, 1),
    Layout::new(2, 2),
    Layout::new(2, 6),
];

/// The layout of specs written before layouts were chosen per model.
pub const DEFAULT_LAYOUT: Layout = Layout::new(2, 6);

impl Layout {
    /// A layout (supported or not: see [`Layout::is_supported`]).
    pub const fn new(mac_groups: usize, hash_lanes: usize) -> Self {
        Layout {
            mac_groups,
            hash_lanes,
        }
    }

    /// The layout a spec records.
    pub fn of(c: &CircuitSpec) -> Self {
        Layout::new(c.mac_groups, c.hash_lanes)
    }

    /// Whether this build has a circuit type for the layout.
    pub fn is_supported(&self) -> bool {
        LAYOUTS.contains(self)
    }
}

/// The model circuit in layout `(G, L)`: `G` MAC input groups, `L` Poseidon lanes. It carries
/// the layout-free [`ModelCircuit`] and a witness edit (soundness tests corrupt cells with it).
#[derive(Clone, Debug)]
pub struct Shaped<const G: usize, const L: usize> {
    /// Plan and witness.
    pub circuit: ModelCircuit,
    /// Changes to the witness before assignment ([`NoEdit`] for real proofs).
    pub edit: Arc<dyn WitnessEdit>,
}

impl<const G: usize, const L: usize> Shaped<G, L> {
    /// The honest circuit.
    pub fn new(circuit: ModelCircuit) -> Self {
        Shaped {
            circuit,
            edit: Arc::new(NoEdit),
        }
    }
}

impl<const G: usize, const L: usize> Circuit<Fp> for Shaped<G, L> {
    type Config = CircuitConfig;
    type FloorPlanner = SimpleFloorPlanner;

    fn without_witnesses(&self) -> Self {
        Shaped::new(self.circuit.without_witnesses())
    }

    fn configure(meta: &mut ConstraintSystem<Fp>) -> CircuitConfig {
        CircuitConfig::configure(meta, Layout::new(G, L))
    }

    fn synthesize(&self, config: CircuitConfig, layouter: impl Layouter<Fp>) -> Result<(), Error> {
        if self.circuit.plan.layout != Layout::new(G, L) {
            return Err(Error::Synthesis);
        }
        synthesize(&self.circuit, &config, layouter, self.edit.as_ref())
    }
}

/// Evaluates `$body` with `$S` bound to the circuit type of `$layout` (a [`Layout`]); an
/// unsupported layout evaluates `$unsupported` instead.
#[macro_export]
macro_rules! with_shape {
    ($layout:expr, $S:ident => $body:expr, $unsupported:expr) => {{
        let layout: $crate::circuit::Layout = $layout;
        match (layout.mac_groups, layout.hash_lanes) {
            (1, 1) => {
                type $S = $crate::circuit::Shaped<1, 1>;
                $body
            }
            (1, 2) => {
                type $S = $crate::circuit::Shaped<1, 2>;
                $body
            }
            (1, 6) => {
                type $S = $crate::circuit::Shaped<1, 6>;
                $body
            }
            (2, 1) => {
                type $S = $crate::circuit::Shaped<2, 1>;
                $body
            }
            (2, 2) => {
                type $S = $crate::circuit::Shaped<2, 2>;
                $body
            }
            (2, 6) => {
                type $S = $crate::circuit::Shaped<2, 6>;
                $body
            }
            _ => $unsupported,
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_menu_layout_has_a_circuit_type() {
        for l in LAYOUTS {
            let counts = with_shape!(l, S => {
                let mut cs = ConstraintSystem::<Fp>::default();
                let c = S::configure(&mut cs);
                (c.mac.x.len(), c.sponge.lanes.len())
            }, panic!("{l:?} has no type"));
            assert_eq!(counts, (l.mac_groups, l.hash_lanes));
        }
        assert!(!Layout::new(3, 6).is_supported());
        assert!(!with_shape!(Layout::new(3, 6), _S => true, false));
    }
}
