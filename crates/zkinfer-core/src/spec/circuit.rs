//! The circuit a spec was compiled for: its `k`, column layout and batch.

use serde::{Deserialize, Serialize};

use super::{one, MAC_WIDTH};

/// Layout constants of the circuit the spec was compiled for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CircuitSpec {
    /// log2 of the number of rows.
    pub k: u32,
    /// Weights per MAC row (31, or 16 in half-width layouts).
    pub mac_width: usize,
    /// Input groups per MAC row (output positions sharing the row's weights). Absent in specs
    /// of the layout that was once the only one (2), which keep their JSON and digest.
    #[serde(default = "two", skip_serializing_if = "is_two")]
    pub mac_groups: usize,
    /// Kernel width of patch MAC rows (neighbouring convolution positions share their
    /// inputs), or 0 for plain rows (absent in the JSON then).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub mac_patch: usize,
    /// Tile MAC rows: each row's groups are filters sharing one item's inputs (public weights;
    /// absent in the JSON when false).
    #[serde(default, skip_serializing_if = "is_false")]
    pub mac_tile: bool,
    /// Output lines of square patch MAC rows, or 0 for one line (absent in the JSON then).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub mac_lines: usize,
    /// Parallel Poseidon sponges hashing the weights.
    pub hash_lanes: usize,
    /// Neurons rescaled per row when the layout has more than its default (absent, 0,
    /// otherwise).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rescale_lanes: usize,
    /// Bits of activations and weights.
    pub value_bits: u32,
    /// Inferences one circuit proves side by side (sharing its weights and commitment).
    #[serde(default = "one")]
    pub batch: usize,
}

impl CircuitSpec {
    /// The circuit of a spec not planned yet: `k = 0`, one inference per circuit, and the
    /// layout of specs written before layouts were chosen per model (full-width MAC rows, two
    /// input groups, six hash lanes). Planning picks the layout and `k`.
    pub fn unplanned() -> Self {
        CircuitSpec {
            k: 0,
            mac_width: MAC_WIDTH,
            mac_groups: 2,
            mac_patch: 0,
            mac_tile: false,
            mac_lines: 0,
            hash_lanes: 6,
            rescale_lanes: 0,
            value_bits: crate::VALUE_BITS,
            batch: 1,
        }
    }

    /// Whether the circuit holds the weights in fixed columns (public weights, carried by the
    /// spec) rather than committing them: a layout without hash lanes.
    pub fn public_weights(&self) -> bool {
        self.hash_lanes == 0
    }
}

fn two() -> usize {
    2
}

fn is_two(v: &usize) -> bool {
    *v == 2
}

fn is_zero(v: &usize) -> bool {
    *v == 0
}

fn is_false(v: &bool) -> bool {
    !*v
}
