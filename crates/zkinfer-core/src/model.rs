//! The quantized model: public spec plus private integer weights.

use serde::{Deserialize, Serialize};

use crate::spec::ModelSpec;
use crate::CoreError;

pub use crate::spec::{LayerWeights, MAX_BIAS};

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
            w.check(i, l)?;
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
