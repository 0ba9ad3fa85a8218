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

impl QuantModel {
    /// Completes a calibrated model: the cost model picks the column layout (with the
    /// smallest `k` it fits), a fresh random salt is drawn, then the weight commitment is
    /// computed. The verifying-key fingerprint stays empty; key generation fills it in.
    pub fn from_quantized(q: crate::quant::Quantized) -> Result<Self, CoreError> {
        Self::from_quantized_in(q, None)
    }

    /// [`QuantModel::from_quantized`] in a given layout (`None`: the planner's choice).
    pub fn from_quantized_in(
        q: crate::quant::Quantized,
        layout: Option<crate::circuit::Layout>,
    ) -> Result<Self, CoreError> {
        let mut weights = q.weights;
        weights.salt = crate::salt::Salt::random();
        Self::complete(q.spec, weights, layout)
    }

    /// The same model committed with another salt (`compile --salt` reproduces a commitment).
    /// The verifying key does not depend on the salt, so its fingerprint stays.
    pub fn with_salt(mut self, salt: crate::salt::Salt) -> Self {
        self.weights.salt = salt;
        let commitment = crate::commit::commitment(&self.spec, &self.weights);
        self.spec.weights_commitment = crate::digest::hex(&crate::field::to_bytes(&commitment));
        self
    }

    /// The same model in another (supported) layout: `k` and the weight commitment are
    /// recomputed, the verifying-key fingerprint is cleared.
    pub fn in_layout(self, layout: crate::circuit::Layout) -> Result<Self, CoreError> {
        Self::complete(self.spec, self.weights, Some(layout))
    }

    fn complete(
        mut spec: ModelSpec,
        weights: ModelWeights,
        layout: Option<crate::circuit::Layout>,
    ) -> Result<Self, CoreError> {
        weights.check(&spec)?;
        match layout {
            None => spec = crate::cost::CostModel::default().plan_layout(&spec)?.0,
            Some(l) if !l.is_supported() => {
                return Err(CoreError::Unsupported(format!(
                    "layout {l} (supported: {})",
                    crate::circuit::Layout::menu()
                )))
            }
            Some(l) => l.apply(&mut spec)?,
        }
        let commitment = crate::commit::commitment(&spec, &weights);
        spec.weights_commitment = crate::digest::hex(&crate::field::to_bytes(&commitment));
        spec.vk_fingerprint.clear();
        Ok(QuantModel { spec, weights })
    }
}
