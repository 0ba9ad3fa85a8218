//! Table activations: the integer function a lookup table holds.
//!
//! For a function `f`, an input scale `s_in` and an output scale `s_out`, the table maps every
//! 8-bit `q` to `clamp(round(f(q / 2^s_in) · 2^s_out), -128, 127)`.

use crate::spec::{Function, Param};
use crate::{VALUE_MAX, VALUE_MIN};

/// A parameter as a float.
pub fn param(p: Param) -> f64 {
    p as f64 / (1u64 << 20) as f64
}

/// A float as a parameter.
pub fn to_param(v: f64) -> Param {
    (v * (1u64 << 20) as f64).round() as Param
}

/// The error function (Abramowitz–Stegun 7.1.26, |error| < 1.5e-7).
pub fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let y = 1.0 - poly * (-x * x).exp();
    if x >= 0.0 {
        y
    } else {
        -y
    }
}

/// `f(x)` in floating point.
pub fn eval(f: Function, x: f64) -> f64 {
    match f {
        Function::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        Function::Tanh => x.tanh(),
        Function::Exp => x.exp(),
        Function::Erf => erf(x),
        Function::Gelu => 0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2)),
        Function::GeluTanh => {
            let c = (2.0 / std::f64::consts::PI).sqrt();
            0.5 * x * (1.0 + (c * (x + 0.044_715 * x * x * x)).tanh())
        }
        Function::LeakyRelu { alpha } => {
            if x >= 0.0 {
                x
            } else {
                param(alpha) * x
            }
        }
        Function::Clip { min, max } => x.max(param(min)).min(param(max)),
        Function::Reciprocal => 1.0 / x,
        Function::Log => x.ln(),
        Function::Rsqrt { eps, count } => 1.0 / (x / count.max(1) as f64 + param(eps)).sqrt(),
    }
}

/// The table entry for `q`.
pub fn apply(f: Function, q: i64, in_scale: u32, out_scale: u32) -> i64 {
    let x = q as f64 / (1u64 << in_scale) as f64;
    let y = (eval(f, x) * (1u64 << out_scale) as f64).round();
    if y.is_nan() {
        // Outside the domain (ln or 1/sqrt of a negative value): the most negative value for
        // ln, else the largest.
        if matches!(f, Function::Log) {
            VALUE_MIN
        } else {
            VALUE_MAX
        }
    } else {
        (y.clamp(VALUE_MIN as f64, VALUE_MAX as f64)) as i64
    }
}

/// Largest absolute value of `f` over inputs of magnitude at most `max_in`.
pub fn range(f: Function, max_in: f64) -> f64 {
    (0..=64)
        .map(|i| -max_in + 2.0 * max_in * i as f64 / 64.0)
        .map(|x| eval(f, x).abs())
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_and_tables() {
        assert!((erf(0.5) - 0.520_499_877_8).abs() < 1e-6);
        assert_eq!(apply(Function::Sigmoid, 0, 4, 7), 64);
        assert_eq!(apply(Function::Sigmoid, 127, 4, 7), 127);
        assert_eq!(apply(Function::Tanh, -128, 5, 7), -128);
        assert_eq!(apply(Function::Tanh, -32, 5, 7), -97);
        assert_eq!(
            apply(
                Function::LeakyRelu {
                    alpha: to_param(0.1)
                },
                -100,
                4,
                4
            ),
            -10
        );
        assert_eq!(
            apply(
                Function::Clip {
                    min: 0,
                    max: to_param(6.0)
                },
                120,
                4,
                4
            ),
            96
        );
        assert!((range(Function::Exp, 2.0) - 2f64.exp()).abs() < 1e-9);
    }
}
