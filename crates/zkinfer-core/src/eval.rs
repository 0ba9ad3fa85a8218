//! The integer reference evaluator: exactly what the circuit proves.
//!
//! Layer `i` computes, for each output `j`:
//! `acc = bias_j + Σ_i w_ji x_i`, `q = floor((acc + 2^(s-1)) / 2^s)` (round half up; `s` is the
//! layer's shift, `2^(s-1)` read as 0 when `s = 0`), and `y = max(q, 0)` or `y = q`.
//! The result saturates: `y` reads `q` clamped to `[-128, 127]`. `q` itself must lie in
//! `[-192, 191]` (the rescale's lookup range); otherwise evaluation fails naming the layer.
//! A wide layer's `q` must lie in the 16-bit range and is not clamped.

use crate::model::LayerWeights;
use crate::model::ModelWeights;
use crate::spec::{Activation, GatherEntry, LayerKind, LayerSpec, ModelSpec};
use crate::{CoreError, VALUE_MAX, VALUE_MIN};

/// Intermediate values of one layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerTrace {
    /// Accumulators `bias + W x` before rescaling.
    pub acc: Vec<i64>,
    /// Rescaled values before the activation.
    pub q: Vec<i64>,
    /// Layer outputs.
    pub out: Vec<i64>,
}

/// Every intermediate value of one inference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// Quantized input.
    pub input: Vec<i64>,
    /// One entry per layer.
    pub layers: Vec<LayerTrace>,
}

impl Trace {
    /// Value `v`: 0 is the input, `j + 1` the output of layer `j` (empty if out of range).
    pub fn value(&self, v: usize) -> &[i64] {
        match v {
            0 => &self.input,
            _ => self.layers.get(v - 1).map(|l| &l.out[..]).unwrap_or(&[]),
        }
    }

    /// Quantized model output.
    pub fn output(&self) -> &[i64] {
        self.layers
            .last()
            .map(|l| &l.out[..])
            .unwrap_or(&self.input)
    }
}

/// Rounded division by `2^shift` (half up), as the rescale gate defines it.
pub fn rescale(acc: i64, shift: u32) -> i64 {
    let half = if shift == 0 { 0 } else { 1i64 << (shift - 1) };
    (acc + half) >> shift
}

/// The layer's values before rescaling: accumulators (dense, conv), window sums (average
/// pool) or window maxima (max pool).
pub fn accumulate(l: &LayerSpec, w: &LayerWeights, x: &[i64]) -> Vec<i64> {
    let (kind, weight_scale) = (&l.kind, l.weight_scale);
    match kind {
        LayerKind::Dense => {
            let k = l.kernel_len().max(1);
            x.chunks(k)
                .flat_map(|row_x| {
                    w.weights.chunks(k).zip(&w.bias).map(move |(row, b)| {
                        b + row.iter().zip(row_x).map(|(w, v)| w * v).sum::<i64>()
                    })
                })
                .collect()
        }
        LayerKind::Conv2d {
            window,
            out_channels,
            groups,
        } => {
            let k = l.kernel_len();
            let cin = window.input[0] / (*groups).max(1);
            (0..*out_channels)
                .flat_map(|co| (0..window.positions()).map(move |p| (co, p)))
                .map(|(co, p)| {
                    let f = &w.weights[co * k..(co + 1) * k];
                    let first =
                        crate::ir::conv_first_channel(window.input[0], *out_channels, *groups, co);
                    w.bias[co]
                        + window
                            .group_taps(p, first, cin)
                            .map(|(t, i)| f[t] * x[i])
                            .sum::<i64>()
                })
                .collect()
        }
        LayerKind::Add { .. }
        | LayerKind::Gather { .. }
        | LayerKind::Mul
        | LayerKind::MatMul { .. } => Vec::new(),
        LayerKind::SumPool { window } => (0..window.input[0])
            .flat_map(|c| (0..window.positions()).map(move |p| (c, p)))
            .map(|(c, p)| window.sources(c, p).map(|i| x[i]).sum::<i64>())
            .collect(),
        LayerKind::MaxPool { window } => (0..window.input[0])
            .flat_map(|c| (0..window.positions()).map(move |p| (c, p)))
            .map(|(c, p)| window.sources(c, p).map(|i| x[i]).max().unwrap_or(0))
            .collect(),
        LayerKind::AvgPool {
            window,
            exclude_pad,
        } => {
            let m = crate::spec::avg_multipliers(window, weight_scale, *exclude_pad);
            (0..window.input[0])
                .flat_map(|c| (0..window.positions()).map(move |p| (c, p)))
                .zip(m)
                .map(|((c, p), m)| m * window.sources(c, p).map(|i| x[i]).sum::<i64>())
                .collect()
        }
    }
}

/// The values a gather picks (sources read through `value`).
pub fn gather<'a>(
    entries: &[GatherEntry],
    sources: &[usize],
    value: &dyn Fn(usize) -> &'a [i64],
) -> Vec<i64> {
    entries
        .iter()
        .map(|e| match *e {
            GatherEntry::Value(slot, index) => value(sources[slot])[index],
            GatherEntry::Const(c) => c,
        })
        .collect()
}

/// `batch` integer products of `m × k` and `k × n` row-major matrices.
pub fn matmul(batch: usize, m: usize, k: usize, n: usize, a: &[i64], b: &[i64]) -> Vec<i64> {
    (0..batch * m * n)
        .map(|o| {
            let (t, i, j) = (o / (m * n), (o / n) % m, o % n);
            (0..k)
                .map(|l| a[t * m * k + i * k + l] * b[t * k * n + l * n + j])
                .sum()
        })
        .collect()
}

/// A layer's output for the quotient `q`: the activation of `q` saturated to 8 bits (a wide
/// layer's quotient, in range, is not saturated).
pub fn activate(l: &LayerSpec, q: i64) -> i64 {
    let q = if l.wide {
        q
    } else {
        q.clamp(VALUE_MIN, VALUE_MAX)
    };
    match l.activation {
        Activation::Relu => q.max(0),
        Activation::None => q,
        Activation::Table { function, scale } => {
            crate::function::apply(function, q, l.output_scale, scale)
        }
    }
}

/// Runs the quantized model on a quantized input.
pub fn evaluate(
    spec: &ModelSpec,
    weights: &ModelWeights,
    input: &[i64],
) -> Result<Trace, CoreError> {
    evaluate_patched(spec, weights, input, &|_, _| {})
}

/// [`evaluate`] with `patch(layer, acc)` changing each layer's values before rescaling; every
/// later value is computed from the patched ones. Soundness tests build consistent forgeries
/// with it (a changed accumulator and everything downstream recomputed, as a malicious prover
/// would).
pub fn evaluate_patched(
    spec: &ModelSpec,
    weights: &ModelWeights,
    input: &[i64],
    patch: &dyn Fn(usize, &mut Vec<i64>),
) -> Result<Trace, CoreError> {
    if input.len() != spec.input.len() {
        return Err(CoreError::InputLength {
            expected: spec.input.len(),
            got: input.len(),
        });
    }
    if let Some(v) = input.iter().find(|v| !(VALUE_MIN..=VALUE_MAX).contains(*v)) {
        return Err(CoreError::Overflow {
            layer: 0,
            name: "input".into(),
            what: "input",
            value: *v,
            min: VALUE_MIN,
            max: VALUE_MAX,
        });
    }
    let mut layers: Vec<LayerTrace> = Vec::with_capacity(spec.layers.len());
    for (i, (l, w)) in spec.layers.iter().zip(&weights.layers).enumerate() {
        let shifts = spec.neuron_shifts(i);
        let value = |v: usize| -> &[i64] {
            match v {
                0 => input,
                _ => &layers[v - 1].out,
            }
        };
        let x = value(l.sources[0]);
        if let LayerKind::Gather { entries } = &l.kind {
            let out = gather(entries, &l.sources, &value);
            layers.push(LayerTrace {
                acc: Vec::new(),
                q: out.clone(),
                out,
            });
            continue;
        }
        let mut acc: Vec<i64> = match &l.kind {
            LayerKind::Mul => x
                .iter()
                .zip(value(l.sources[1]))
                .map(|(a, b)| a * b)
                .collect(),
            LayerKind::MatMul { m, k, n } => matmul(l.batch, *m, *k, *n, x, value(l.sources[1])),
            LayerKind::Add { subtract } => {
                let subtract = *subtract;
                let acc_scale = spec.layer_acc_scale(i);
                let mut acc = vec![0i64; l.outputs];
                for (k, s) in l.sources.iter().enumerate() {
                    let sign = if subtract && k == 1 { -1 } else { 1 };
                    let m = sign * (1i64 << (acc_scale - spec.value_scale(*s)));
                    for (a, v) in acc.iter_mut().zip(value(*s)) {
                        *a += v * m;
                    }
                }
                acc
            }
            _ => accumulate(l, w, x),
        };
        patch(i, &mut acc);
        let q: Vec<i64> = match &l.kind {
            LayerKind::MaxPool { .. } => acc.clone(),
            _ => acc
                .iter()
                .zip(&shifts)
                .map(|(a, s)| rescale(*a, *s))
                .collect(),
        };
        let range = l.quotient_range();
        if let Some(v) = q.iter().find(|v| !range.contains(*v)) {
            return Err(CoreError::Overflow {
                layer: i,
                name: l.name.clone(),
                what: "activation",
                value: *v,
                min: *range.start(),
                max: *range.end(),
            });
        }
        let out: Vec<i64> = q.iter().map(|v| activate(l, *v)).collect();
        layers.push(LayerTrace { acc, q, out });
    }
    Ok(Trace {
        input: input.to_vec(),
        layers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescale_rounds_half_up() {
        assert_eq!(rescale(5, 1), 3);
        assert_eq!(rescale(-5, 1), -2);
        assert_eq!(rescale(-6, 2), -1);
        assert_eq!(rescale(7, 0), 7);
        assert_eq!(rescale(383, 8), 1);
        assert_eq!(rescale(384, 8), 2);
    }
}

#[cfg(test)]
mod overflow_tests {
    use super::*;
    use crate::testing::quantized_mlp;

    #[test]
    fn an_input_that_overflows_names_the_layer() {
        let (m, _) = quantized_mlp(11, &[16, 8, 4]).unwrap();
        // Saturate the input and make every first-layer weight as large as it can be.
        let mut weights = m.weights.clone();
        weights.layers[0]
            .weights
            .iter_mut()
            .for_each(|w| *w = crate::VALUE_MAX);
        let input = vec![crate::VALUE_MAX; 16];
        match evaluate(&m.spec, &weights, &input) {
            Err(CoreError::Overflow {
                layer, name, what, ..
            }) => {
                assert_eq!((layer, name.as_str(), what), (0, "fc0", "activation"));
            }
            other => panic!("expected an overflow naming layer 0, got {other:?}"),
        }
        // Out-of-range inputs are refused before any layer runs.
        assert!(matches!(
            evaluate(&m.spec, &m.weights, &[crate::VALUE_MAX + 1; 16]),
            Err(CoreError::Overflow { what: "input", .. })
        ));
    }
}
