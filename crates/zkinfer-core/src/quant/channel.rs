//! Per-channel weight scales: the extra exponent each filter of a dense or convolution layer
//! gets over its layer's weight scale.

use super::calibrate::SCALE_CAP;
use super::{fit_scale, to_fixed};
use crate::model::MAX_BIAS;
use crate::MAX_SHIFT;

/// Extra scale exponent of each filter (`float_b.len()` filters of equal length): as many
/// bits as the filter's own largest weight leaves free over the tensor's scale `w_scale`,
/// within the rescale's `MAX_SHIFT` (the layer's shift is `shift`) and the bias bound. Empty
/// when no filter gains a bit.
pub(super) fn channel_scales(
    float_w: &[f32],
    float_b: &[f32],
    w_scale: u32,
    acc_scale: u32,
    shift: i64,
) -> Vec<u32> {
    let filters = float_b.len();
    if filters == 0 || !float_w.len().is_multiple_of(filters) {
        return Vec::new();
    }
    let room = (MAX_SHIFT as i64 - shift).clamp(0, SCALE_CAP as i64) as u32;
    let extra: Vec<u32> = float_w
        .chunks(float_w.len() / filters)
        .zip(float_b)
        .map(|(f, b)| {
            let max_w = f.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let mut e = fit_scale(max_w as f64, 127.49, 1.0, SCALE_CAP)
                .saturating_sub(w_scale)
                .min(room)
                .min(SCALE_CAP.saturating_sub(w_scale));
            while e > 0 && to_fixed(*b as f64, acc_scale + e).abs() > MAX_BIAS {
                e -= 1;
            }
            e
        })
        .collect();
    if extra.iter().all(|e| *e == 0) {
        Vec::new()
    } else {
        extra
    }
}
