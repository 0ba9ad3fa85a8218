//! Fixed-point quantization with power-of-two scales.

pub mod accuracy;
mod bias;
mod calibrate;
mod channel;
mod input;
mod report;
mod width;

pub use calibrate::{calibrate, calibrate_with, Quantized};
pub use input::{dequantize, quantize_input, split_samples};
pub use report::CalibrationReport;
pub use width::{Width, AUTO_BUDGET};

/// Headroom factor above the calibrated maximum of every activation: 1, none. The scale is
/// the largest power of two that keeps the calibrated maximum within 8 bits; a larger value
/// on other data saturates to the 8-bit range (the rescale's quotient may reach one and a half
/// times that range), which costs less accuracy than a coarser scale for every value would.
pub const ACTIVATION_MARGIN: f64 = 1.0;

/// Largest scale exponent `s` with `max_abs * 2^s * margin <= limit`, capped to `[0, cap]`.
pub fn fit_scale(max_abs: f64, limit: f64, margin: f64, cap: u32) -> u32 {
    if max_abs <= 0.0 || !max_abs.is_finite() {
        return cap;
    }
    let s = (limit / (max_abs * margin)).log2().floor();
    s.clamp(0.0, cap as f64) as u32
}

/// `round(v * 2^scale)`.
pub fn to_fixed(v: f64, scale: u32) -> i64 {
    (v * (1u64 << scale) as f64).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_fits() {
        assert_eq!(fit_scale(1.0, 128.0, 1.0, 16), 7);
        assert_eq!(fit_scale(0.9, 127.0, 1.0, 16), 7);
        assert_eq!(fit_scale(3.0, 127.0, 1.25, 16), 5);
        assert_eq!(fit_scale(1000.0, 127.0, 1.0, 16), 0);
        assert_eq!(fit_scale(0.0, 127.0, 1.0, 12), 12);
        assert_eq!(to_fixed(0.5, 3), 4);
        assert_eq!(to_fixed(-0.07, 4), -1);
    }
}
