//! Integer weights of one layer, private in a compiled model or public in a spec whose
//! circuit holds them in fixed columns, and which of the two a model's weights are.

use serde::{Deserialize, Serialize};

use super::LayerSpec;
use crate::{CoreError, VALUE_MAX, VALUE_MIN};

/// Integer parameters of one dense or convolution layer (empty for other layers).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerWeights {
    /// `filters * kernel` weights in `[-128, 127]`, filter `j`'s row for output `j`.
    pub weights: Vec<i64>,
    /// `filters` biases at scale `input_scale + weight_scale` (plus the filter's channel scale).
    pub bias: Vec<i64>,
}

/// Largest bias magnitude accepted (keeps accumulators far from the field modulus).
pub const MAX_BIAS: i64 = 1 << 40;

impl LayerWeights {
    /// Checks that the weights of layer `i`, `l`, have its shapes and fit their ranges.
    pub fn check(&self, i: usize, l: &LayerSpec) -> Result<(), CoreError> {
        let filters = l.filters();
        let k = l.kernel_len();
        if self.weights.len() != filters * k || self.bias.len() != filters {
            return Err(CoreError::ShapeMismatch {
                context: format!("layer {i} ({}) weights", l.name),
                expected: format!("{filters}x{k} weights, {filters} biases"),
                got: format!("{} weights, {} biases", self.weights.len(), self.bias.len()),
            });
        }
        let overflow = |what, value, min, max| CoreError::Overflow {
            layer: i,
            name: l.name.clone(),
            what,
            value,
            min,
            max,
        };
        if let Some(v) = self
            .weights
            .iter()
            .find(|v| !(VALUE_MIN..=VALUE_MAX).contains(*v))
        {
            return Err(overflow("weight", *v, VALUE_MIN, VALUE_MAX));
        }
        if let Some(v) = self.bias.iter().find(|v| v.abs() > MAX_BIAS) {
            return Err(overflow("bias", *v, -MAX_BIAS, MAX_BIAS));
        }
        Ok(())
    }
}

/// Whether a model's weights are private (committed, hidden from the verifier) or public (in
/// the spec and the verifying key).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// Private weights, bound by a Poseidon commitment.
    #[default]
    Private,
    /// Public weights, fixed columns of the circuit.
    Public,
}

impl Visibility {
    /// The visibility a layout with `hash_lanes` lanes holds weights with.
    pub fn of_lanes(hash_lanes: usize) -> Self {
        match hash_lanes {
            0 => Visibility::Public,
            _ => Visibility::Private,
        }
    }
}

impl std::fmt::Display for Visibility {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Visibility::Private => "private",
            Visibility::Public => "public",
        })
    }
}

impl std::str::FromStr for Visibility {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "private" => Ok(Visibility::Private),
            "public" => Ok(Visibility::Public),
            _ => Err(format!("weights `{s}`: `private` or `public`")),
        }
    }
}
