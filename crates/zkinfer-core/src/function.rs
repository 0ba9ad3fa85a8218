//! Table functions: each function's float definition and the integer table a lookup holds.
//!
//! For a function `f`, an input scale `s_in` and an output scale `s_out`, the table maps every
//! 8-bit `q` to `clamp(round(f(q / 2^s_in) · 2^s_out), -128, 127)`.
//!
//! Tables are part of the verifying key, so every machine must compute the same entries:
//! transcendental functions come from `libm` (a pure-Rust port of musl's, the same results on
//! every platform) rather than the platform's math library; the rest is IEEE arithmetic and
//! `sqrt`, which are correctly rounded everywhere.

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
    let y = 1.0 - poly * libm::exp(-x * x);
    if x >= 0.0 {
        y
    } else {
        -y
    }
}

/// `f(x)` in floating point.
pub fn eval(f: Function, x: f64) -> f64 {
    match f {
        Function::Sigmoid => 1.0 / (1.0 + libm::exp(-x)),
        Function::Tanh => libm::tanh(x),
        Function::Exp => libm::exp(x),
        Function::Erf => erf(x),
        Function::Gelu => 0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2)),
        Function::GeluTanh => {
            let c = (2.0 / std::f64::consts::PI).sqrt();
            0.5 * x * (1.0 + libm::tanh(c * (x + 0.044_715 * x * x * x)))
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
        Function::Log => libm::log(x),
        Function::Rsqrt { eps, count } => 1.0 / (x / count.max(1) as f64 + param(eps)).sqrt(),
        Function::Sqrt => x.sqrt(),
        Function::Abs => x.abs(),
        Function::Neg => -x,
        Function::Sign => sign(x),
        Function::Floor => x.floor(),
        Function::Ceil => x.ceil(),
        Function::Round => x.round_ties_even(),
        Function::Trunc => x.trunc(),
        Function::Sin => libm::sin(x),
        Function::Cos => libm::cos(x),
        Function::Softplus => softplus(x),
        Function::Softsign => x / (1.0 + x.abs()),
        Function::Mish => x * libm::tanh(softplus(x)),
        Function::HardSwish => x * (x / 6.0 + 0.5).clamp(0.0, 1.0),
        Function::HardSigmoid { alpha, beta } => (param(alpha) * x + param(beta)).clamp(0.0, 1.0),
        Function::Elu { alpha } if x < 0.0 => param(alpha) * libm::expm1(x),
        Function::Celu { alpha } if x < 0.0 => param(alpha) * libm::expm1(x / param(alpha)),
        Function::Elu { .. } | Function::Celu { .. } => x,
        Function::Selu { alpha, gamma } if x <= 0.0 => param(gamma) * param(alpha) * libm::expm1(x),
        Function::Selu { gamma, .. } => param(gamma) * x,
        Function::ThresholdedRelu { alpha } if x > param(alpha) => x,
        Function::ThresholdedRelu { .. } => 0.0,
        Function::Positive => f64::from(x > 0.0),
        Function::NotPositive => f64::from(x <= 0.0),
        Function::IsZero => f64::from(x == 0.0),
        Function::Pow { exponent } => libm::pow(x, param(exponent)),
        Function::Affine { scale, offset } => param(scale) * x + param(offset),
    }
}

/// `ln(1 + e^x)`, without overflow.
fn softplus(x: f64) -> f64 {
    libm::log1p(libm::exp(-x.abs())) + x.max(0.0)
}

/// -1, 0 or 1.
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
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

/// Whether `f` takes its largest values exactly (steps, selectors, piecewise-linear and
/// affine functions), so that its table's scale must hold them unclamped: `1` from a 0/1
/// table at scale `2^7` would be stored as `127/128`, and a one-hot row or an index built
/// from it would be wrong. Smooth functions that only approach their bound (sigmoid, tanh,
/// ...) may round their top step down instead and keep the finer scale.
pub fn exact(f: Function) -> bool {
    use Function::*;
    matches!(
        f,
        LeakyRelu { .. }
            | Clip { .. }
            | Abs
            | Neg
            | Sign
            | Floor
            | Ceil
            | Round
            | Trunc
            | HardSwish
            | HardSigmoid { .. }
            | ThresholdedRelu { .. }
            | Positive
            | NotPositive
            | IsZero
            | Affine { .. }
            | Pow { .. }
    )
}

/// The largest magnitude a bounded step function outputs on some input, whether or not the
/// calibration data reached it (0 for the others).
pub fn known_bound(f: Function) -> f64 {
    match f {
        Function::Sign
        | Function::Positive
        | Function::NotPositive
        | Function::IsZero
        | Function::HardSigmoid { .. } => 1.0,
        _ => 0.0,
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

    /// Every function's tables at every pair of scales from 0 to 8, hashed: a change of any
    /// entry (another math library, a changed formula) changes a verifying key, and shows here.
    #[test]
    fn table_entries_are_pinned() {
        let functions = [
            Function::Sigmoid,
            Function::Tanh,
            Function::Exp,
            Function::Erf,
            Function::Gelu,
            Function::GeluTanh,
            Function::LeakyRelu {
                alpha: to_param(0.01),
            },
            Function::Clip {
                min: 0,
                max: to_param(6.0),
            },
            Function::Reciprocal,
            Function::Log,
            Function::Rsqrt {
                eps: to_param(1e-5),
                count: 64,
            },
        ];
        let digests: Vec<String> = functions
            .iter()
            .map(|f| {
                let mut bytes = Vec::new();
                for s_in in 0..=8 {
                    for s_out in 0..=8 {
                        for q in VALUE_MIN..=VALUE_MAX {
                            bytes.push(apply(*f, q, s_in, s_out) as i8 as u8);
                        }
                    }
                }
                crate::digest::hex(&crate::digest::blake2b256(b"zkinfer-table", &bytes))[..16]
                    .to_string()
            })
            .collect();
        assert_eq!(digests, PINNED_TABLES, "{digests:?}");
    }

    const PINNED_TABLES: [&str; 11] = [
        "600ee10bc2541132",
        "33e69738e8f8f494",
        "9f3fc10380f7fd44",
        "313218f272011d50",
        "9428533a9da3039f",
        "e4fd526059f50019",
        "4cfc4307103b3cde",
        "82403e268bfe9b2f",
        "8dc9e9fffb34a86e",
        "dcdd91f4dd1297a1",
        "2b3ab54cf665606d",
    ];
}
