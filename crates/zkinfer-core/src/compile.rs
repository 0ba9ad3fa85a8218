//! Completing a calibrated model: the cost model plans the column layout (and `k`), and the
//! weight commitment is computed. This is the step between quantization and key generation;
//! the model itself ([`QuantModel`]) is plain data below it.

use crate::circuit::Layout;
use crate::cost::CostModel;
use crate::model::{ModelWeights, QuantModel};
use crate::quant::Quantized;
use crate::salt::Salt;
use crate::spec::ModelSpec;
use crate::CoreError;

impl QuantModel {
    /// Completes a calibrated model: the cost model picks the column layout (with the
    /// smallest `k` it fits), a fresh random salt is drawn, then the weight commitment is
    /// computed. The verifying-key fingerprint stays empty; key generation fills it in.
    pub fn from_quantized(q: Quantized) -> Result<Self, CoreError> {
        Self::from_quantized_in(q, None)
    }

    /// [`QuantModel::from_quantized`] in a given layout (`None`: the planner's choice).
    pub fn from_quantized_in(q: Quantized, layout: Option<Layout>) -> Result<Self, CoreError> {
        let mut weights = q.weights;
        weights.salt = Salt::random();
        Self::complete(q.spec, weights, layout)
    }

    /// The same model committed with another salt (`compile --salt` reproduces a commitment).
    /// The verifying key does not depend on the salt, so its fingerprint stays.
    pub fn with_salt(mut self, salt: Salt) -> Self {
        self.weights.salt = salt;
        let commitment = crate::commit::commitment(&self.spec, &self.weights);
        self.spec.weights_commitment = crate::digest::hex(&crate::field::to_bytes(&commitment));
        self
    }

    /// The same model in another (supported) layout: `k` and the weight commitment are
    /// recomputed, the verifying-key fingerprint is cleared.
    pub fn in_layout(self, layout: Layout) -> Result<Self, CoreError> {
        Self::complete(self.spec, self.weights, Some(layout))
    }

    fn complete(
        mut spec: ModelSpec,
        weights: ModelWeights,
        layout: Option<Layout>,
    ) -> Result<Self, CoreError> {
        weights.check(&spec)?;
        match layout {
            None => spec = CostModel::default().plan_layout(&spec)?.0,
            Some(l) if !l.is_supported() => {
                return Err(CoreError::Unsupported(format!(
                    "layout {l} (supported: {})",
                    Layout::menu()
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
