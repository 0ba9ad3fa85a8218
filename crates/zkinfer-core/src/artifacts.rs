//! Files: the private compiled model (`.zkm`, bincode) and the proof bundle (bincode).
//!
//! The `.zkm` holds the spec as its JSON text: the spec's serde attributes (a field omitted
//! when it has its old default) are for JSON and would desynchronize bincode.

use serde::{Deserialize, Serialize};

use crate::model::QuantModel;
use crate::quant::CalibrationReport;
use crate::spec::FORMAT_VERSION;
use crate::CoreError;

/// Magic bytes opening a `.zkm` file.
pub const ZKM_MAGIC: &[u8; 8] = b"ZKINFZK3";
/// Magic bytes of `.zkm` files of earlier formats (the spec in bincode; no salt).
const OLD_ZKM_MAGICS: [&[u8; 8]; 2] = [b"ZKINFZKM", b"ZKINFZK2"];
/// Magic bytes opening a proof bundle.
pub const BUNDLE_MAGIC: &[u8; 8] = b"ZKINFPRF";
/// Largest proof bundle accepted (bytes).
pub const MAX_BUNDLE_BYTES: u64 = 64 << 20;

/// The private compiled model: spec, weights and the calibration report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompiledModel {
    /// Spec and weights.
    pub model: QuantModel,
    /// Error measured at compile time.
    pub calibration: CalibrationReport,
}

/// A proof of one inference with its public values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofBundle {
    /// Format version.
    pub format_version: u32,
    /// Digest of the spec the proof was made for.
    pub spec_digest: [u8; 32],
    /// Quantized inputs (at the spec's input scale).
    pub inputs: Vec<i64>,
    /// Quantized outputs (at the spec's output scale).
    pub outputs: Vec<i64>,
    /// The halo2 proof.
    pub proof: Vec<u8>,
}

fn encode<T: Serialize>(magic: &[u8; 8], value: &T) -> Vec<u8> {
    let mut out = magic.to_vec();
    out.extend(bincode::serialize(value).unwrap_or_default());
    out
}

fn decode<T: for<'de> Deserialize<'de>>(
    what: &'static str,
    magic: &[u8; 8],
    bytes: &[u8],
) -> Result<T, CoreError> {
    use bincode::Options;
    let body = bytes
        .strip_prefix(&magic[..])
        .ok_or_else(|| CoreError::Format {
            what,
            detail: "wrong magic bytes (not a file of this kind)".into(),
        })?;
    bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .with_limit(MAX_BUNDLE_BYTES.max(body.len() as u64))
        .reject_trailing_bytes()
        .deserialize(body)
        .map_err(|e| CoreError::Format {
            what,
            detail: e.to_string(),
        })
}

impl CompiledModel {
    /// Serializes to `.zkm` bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(ZKM_MAGIC, self)
    }

    /// Parses `.zkm` bytes and checks the weights against the spec.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CoreError> {
        if OLD_ZKM_MAGICS.iter().any(|m| bytes.starts_with(&m[..])) {
            return Err(CoreError::Format {
                what: "compiled model",
                detail: "a .zkm of an earlier format: compile the model again".into(),
            });
        }
        let m: CompiledModel = decode("compiled model", ZKM_MAGIC, bytes)?;
        crate::circuit::CircuitPlan::validated(&m.model.spec)?;
        m.model.weights.check(&m.model.spec)?;
        Ok(m)
    }
}

impl ProofBundle {
    /// Serializes the bundle.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(BUNDLE_MAGIC, self)
    }

    /// Parses a bundle (size-limited; trailing bytes rejected) and checks its version.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CoreError> {
        if bytes.len() as u64 > MAX_BUNDLE_BYTES {
            return Err(CoreError::Format {
                what: "proof bundle",
                detail: format!(
                    "{} bytes exceeds the {MAX_BUNDLE_BYTES}-byte limit",
                    bytes.len()
                ),
            });
        }
        let b: ProofBundle = decode("proof bundle", BUNDLE_MAGIC, bytes)?;
        if b.format_version != FORMAT_VERSION {
            return Err(CoreError::Format {
                what: "proof bundle",
                detail: format!(
                    "format_version {} (expected {FORMAT_VERSION})",
                    b.format_version
                ),
            });
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::circuit::LAYOUTS;
    use crate::testing::quantized_mlp;

    #[test]
    fn compiled_model_round_trips_in_every_layout() {
        let (m, _) = quantized_mlp(5, &[20, 8, 4]).unwrap();
        for layout in LAYOUTS {
            let mut model = m.clone().in_layout(layout).unwrap();
            // What key generation fills in.
            model.spec.vk_fingerprint = "ab".repeat(32);
            let compiled = CompiledModel {
                model,
                calibration: CalibrationReport {
                    samples: 3,
                    max_abs_error: 0.25,
                    mean_abs_error: 0.125,
                    max_abs_output: 4.0,
                    argmax_agreement: 1.0,
                    layer_max_abs_error: vec![0.5, 0.25],
                },
            };
            let bytes = compiled.to_bytes();
            assert_eq!(
                CompiledModel::from_bytes(&bytes).unwrap(),
                compiled,
                "{layout}"
            );
            assert_eq!(
                CompiledModel::from_bytes(&bytes)
                    .unwrap()
                    .model
                    .spec
                    .digest(),
                compiled.model.spec.digest()
            );
        }
    }

    #[test]
    fn earlier_zkm_format_is_named() {
        for magic in OLD_ZKM_MAGICS {
            let mut bytes = magic.to_vec();
            bytes.extend([0u8; 16]);
            let err = CompiledModel::from_bytes(&bytes).unwrap_err().to_string();
            assert!(err.contains("earlier format"), "{err}");
        }
    }
}
