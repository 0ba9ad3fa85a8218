//! Completing a calibrated model: the cost model plans the column layout (and `k`), and the
//! weight commitment is computed (private weights) or the weights are put in the spec
//! (public weights). This is the step between quantization and key generation;
//! the model itself ([`QuantModel`]) is plain data below it.

use crate::circuit::{Layout, DEFAULT_LAYOUT};
use crate::cost::CostModel;
use crate::digest::hex;
use crate::field::to_bytes;
use crate::model::{ModelWeights, QuantModel};
use crate::quant::Quantized;
use crate::salt::Salt;
use crate::spec::{ModelSpec, Visibility};
use crate::CoreError;

impl QuantModel {
    /// Completes a calibrated model with private weights: the cost model picks the column
    /// layout (with the smallest `k` it fits), a fresh random salt is drawn, then the weight
    /// commitment is computed. The verifying-key fingerprint stays empty; key generation fills
    /// it in.
    pub fn from_quantized(q: Quantized) -> Result<Self, CoreError> {
        Self::from_quantized_in(q, None, Visibility::Private)
    }

    /// [`QuantModel::from_quantized`] in a given layout (`None`: the planner's choice among
    /// the layouts of `visibility`). Public weights go into the spec, and the circuit holds
    /// them in fixed columns; nothing is committed.
    pub fn from_quantized_in(
        q: Quantized,
        layout: Option<Layout>,
        visibility: Visibility,
    ) -> Result<Self, CoreError> {
        let mut weights = q.weights;
        weights.salt = Salt::random();
        Self::complete(q.spec, weights, layout, visibility)
    }

    /// The same model committed with another salt (`compile --salt` reproduces a commitment).
    /// The verifying key does not depend on the salt, so its fingerprint stays. Public
    /// weights have no commitment: only the salt changes.
    pub fn with_salt(mut self, salt: Salt) -> Self {
        self.weights.salt = salt;
        if !self.spec.circuit.public_weights() {
            let commitment = crate::commit::commitment(&self.spec, &self.weights);
            self.spec.weights_commitment = hex(&to_bytes(&commitment));
        }
        self
    }

    /// The same model in another (supported) layout, public weights in a layout without hash
    /// lanes: `k`, the public weights and the weight commitment are recomputed, the
    /// verifying-key fingerprint is cleared.
    pub fn in_layout(self, layout: Layout) -> Result<Self, CoreError> {
        let visibility = Visibility::of_lanes(layout.hash_lanes);
        Self::complete(self.spec, self.weights, Some(layout), visibility)
    }

    fn complete(
        mut spec: ModelSpec,
        weights: ModelWeights,
        layout: Option<Layout>,
        visibility: Visibility,
    ) -> Result<Self, CoreError> {
        weights.check(&spec)?;
        match layout {
            None => {
                spec.circuit.hash_lanes = match visibility {
                    Visibility::Public => 0,
                    Visibility::Private => DEFAULT_LAYOUT.hash_lanes,
                };
                spec = CostModel::default().plan_layout(&spec)?.0;
            }
            Some(l) if !l.is_supported() || Visibility::of_lanes(l.hash_lanes) != visibility => {
                return Err(CoreError::Unsupported(format!(
                    "layout {l} for {visibility} weights (supported: {})",
                    Layout::menu()
                )))
            }
            Some(l) => l.apply(&mut spec)?,
        }
        match visibility {
            Visibility::Public => {
                spec.public_weights = weights.layers.clone();
                spec.weights_commitment = hex(&[0; 32]);
            }
            Visibility::Private => {
                spec.public_weights.clear();
                let commitment = crate::commit::commitment(&spec, &weights);
                spec.weights_commitment = hex(&to_bytes(&commitment));
            }
        }
        spec.vk_fingerprint.clear();
        Ok(QuantModel { spec, weights })
    }
}
