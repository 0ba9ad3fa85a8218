//! Quantizing model inputs and dequantizing outputs.

use crate::spec::TensorSpec;
use crate::{CoreError, VALUE_MAX, VALUE_MIN};

/// Quantizes a float input at the tensor's scale, saturating to the 8-bit range.
pub fn quantize_input(t: &TensorSpec, values: &[f32]) -> Result<Vec<i64>, CoreError> {
    if values.len() != t.len() {
        return Err(CoreError::InputLength {
            expected: t.len(),
            got: values.len(),
        });
    }
    if let Some(index) = values.iter().position(|v| !v.is_finite()) {
        return Err(CoreError::NonFinite {
            what: "input".into(),
            index,
        });
    }
    Ok(values
        .iter()
        .map(|v| super::to_fixed(*v as f64, t.scale).clamp(VALUE_MIN, VALUE_MAX))
        .collect())
}

/// Real values of quantized integers at `scale`.
pub fn dequantize(values: &[i64], scale: u32) -> Vec<f64> {
    let d = (1u64 << scale) as f64;
    values.iter().map(|v| *v as f64 / d).collect()
}

/// Splits a flat array holding several concatenated samples of `len` values each.
pub fn split_samples(flat: &[f32], len: usize) -> Result<Vec<Vec<f32>>, CoreError> {
    if len == 0 || flat.is_empty() || !flat.len().is_multiple_of(len) {
        return Err(CoreError::InputLength {
            expected: len,
            got: flat.len(),
        });
    }
    if let Some(index) = flat.iter().position(|v| !v.is_finite()) {
        return Err(CoreError::NonFinite {
            what: "input data".into(),
            index,
        });
    }
    Ok(flat.chunks(len).map(|c| c.to_vec()).collect())
}
