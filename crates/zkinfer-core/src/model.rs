//! The quantized model: public spec plus private integer weights.

use serde::{Deserialize, Serialize};

use crate::spec::ModelSpec;
use crate::{CoreError, VALUE_MAX, VALUE_MIN};

/// Integer parameters of one dense layer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerWeights {
    /// `outputs * inputs` weights in `[-128, 127]`, row `j` for output `j`.
    pub weights: Vec<i64>,
    /// `outputs` biases at scale `input_scale + weight_scale`.
    pub bias: Vec<i64>,
}

/// Largest bias magnitude accepted (keeps accumulators far from the field modulus).
pub const MAX_BIAS: i64 = 1 << 40;

/// The private integer parameters of a model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelWeights {
    /// One entry per layer of the spec.
    pub layers: Vec<LayerWeights>,
    /// The commitment's secret salt.
    pub salt: crate::salt::Salt,
}

impl ModelWeights {
    /// Checks that the weights fit the spec's shapes and ranges, and that the salt is a field
    /// element.
    pub fn check(&self, spec: &ModelSpec) -> Result<(), CoreError> {
        self.salt.check()?;
        if self.layers.len() != spec.layers.len() {
            return Err(CoreError::ShapeMismatch {
                context: "weights".into(),
                expected: format!("{} layers", spec.layers.len()),
                got: format!("{} layers", self.layers.len()),
            });
        }
        for (i, (w, l)) in self.layers.iter().zip(&spec.layers).enumerate() {
            let filters = l.filters();
            let k = l.kernel_len();
            if w.weights.len() != filters * k || w.bias.len() != filters {
                return Err(CoreError::ShapeMismatch {
                    context: format!("layer {i} ({}) weights", l.name),
                    expected: format!("{filters}x{k} weights, {filters} biases"),
                    got: format!("{} weights, {} biases", w.weights.len(), w.bias.len()),
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
            if let Some(v) = w
                .weights
                .iter()
                .find(|v| !(VALUE_MIN..=VALUE_MAX).contains(*v))
            {
                return Err(overflow("weight", *v, VALUE_MIN, VALUE_MAX));
            }
            if let Some(v) = w.bias.iter().find(|v| v.abs() > MAX_BIAS) {
                return Err(overflow("bias", *v, -MAX_BIAS, MAX_BIAS));
            }
        }
        Ok(())
    }
}

/// A compiled model: what the model owner keeps (the `.zkm` file holds it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuantModel {
    /// The public spec (serialized as its JSON text, whatever the format).
    #[serde(with = "crate::spec::as_json")]
    pub spec: ModelSpec,
    /// The private weights.
    pub weights: ModelWeights,
}
