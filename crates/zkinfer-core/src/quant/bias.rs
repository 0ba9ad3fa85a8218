//! Bias correction. On the calibration data, the accumulators of a dense or convolution layer
//! drift from the float model's pre-activations by a mean that is the same for every output
//! of a filter: the rounding of its weights, and of the values it reads. Calibration takes
//! that mean out of the filter's bias, layer by layer in order, each layer measured with the
//! corrections before it in place. The circuit proves whatever bias the model commits to, so
//! this is a calibration choice only.

use crate::eval::{evaluate, Trace};
use crate::model::{ModelWeights, MAX_BIAS};
use crate::spec::{LayerKind, ModelSpec};
use crate::CoreError;

/// Float values of one calibration sample: per layer, (pre-activation, result).
pub(super) type FloatTrace = Vec<(Vec<f32>, Vec<f32>)>;

/// `weights` with the biases of every dense and convolution layer corrected, measured on the
/// quantized calibration inputs `inputs` against their float traces `float`.
pub(super) fn corrected(
    spec: &ModelSpec,
    weights: &ModelWeights,
    inputs: &[Vec<i64>],
    float: &[FloatTrace],
) -> Result<ModelWeights, CoreError> {
    let mut w = weights.clone();
    for (i, l) in spec.layers.iter().enumerate() {
        if !matches!(l.kind, LayerKind::Dense | LayerKind::Conv2d { .. }) {
            continue;
        }
        let traces = inputs
            .iter()
            .map(|x| evaluate(spec, &w, x))
            .collect::<Result<Vec<_>, _>>()?;
        let acc_scale = spec.layer_acc_scale(i);
        let drifts = mean_drift(spec, i, &traces, float);
        for (f, (drift, bias)) in drifts.iter().zip(&mut w.layers[i].bias).enumerate() {
            let scale = acc_scale + l.channel_scales.get(f).copied().unwrap_or(0);
            let fixed = *bias - (drift * (1u64 << scale) as f64).round() as i64;
            if fixed.abs() <= MAX_BIAS {
                *bias = fixed;
            }
        }
    }
    Ok(w)
}

/// Per filter of layer `i`: the mean over the samples and the filter's outputs of the
/// dequantized accumulator minus the float pre-activation.
fn mean_drift(spec: &ModelSpec, i: usize, traces: &[Trace], float: &[FloatTrace]) -> Vec<f64> {
    let l = &spec.layers[i];
    let acc_scale = spec.layer_acc_scale(i);
    let filters = l.filters();
    let (mut sum, mut count) = (vec![0.0f64; filters], vec![0usize; filters]);
    for (t, f) in traces.iter().zip(float) {
        for (o, (acc, pre)) in t.layers[i].acc.iter().zip(&f[i].0).enumerate() {
            let scale = acc_scale + l.channel_scale(o);
            let filter = l.filter_of(o);
            if filter < filters {
                sum[filter] += *acc as f64 / (1u64 << scale) as f64 - f64::from(*pre);
                count[filter] += 1;
            }
        }
    }
    sum.iter()
        .zip(&count)
        .map(|(s, n)| if *n == 0 { 0.0 } else { s / *n as f64 })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{float_trace, FloatLayer};
    use crate::quant::{calibrate, quantize_input};
    use crate::testing::{float_cnn, float_mlp, samples};

    /// Calibrates `layers` on `data` and returns the largest mean drift, over every filter of
    /// every dense and convolution layer, in steps of the filter's accumulator.
    fn largest_drift(
        layers: &[FloatLayer],
        shape: &[usize],
        out: &[usize],
        data: &[Vec<f32>],
    ) -> f64 {
        let q = calibrate("drift", layers, shape, out, data).unwrap();
        let float: Vec<FloatTrace> = data.iter().map(|x| float_trace(layers, x)).collect();
        let traces: Vec<Trace> = data
            .iter()
            .map(|x| {
                evaluate(
                    &q.spec,
                    &q.weights,
                    &quantize_input(&q.spec.input, x).unwrap(),
                )
                .unwrap()
            })
            .collect();
        let mut worst = 0.0f64;
        for (i, l) in q.spec.layers.iter().enumerate() {
            if !matches!(l.kind, LayerKind::Dense | LayerKind::Conv2d { .. }) {
                continue;
            }
            for (f, d) in mean_drift(&q.spec, i, &traces, &float).iter().enumerate() {
                let scale =
                    q.spec.layer_acc_scale(i) + l.channel_scales.get(f).copied().unwrap_or(0);
                worst = worst.max(d.abs() * (1u64 << scale) as f64);
            }
        }
        worst
    }

    #[test]
    fn calibration_leaves_no_mean_drift_in_any_filter() {
        // Each filter's bias absorbs its mean drift: what is left is the bias's own rounding
        // (half a step), and what correcting an earlier layer moves (a fraction of a step).
        let mlp = float_mlp(5, &[24, 12, 6]);
        let worst = largest_drift(&mlp, &[1, 24], &[1, 6], &samples(6, 16, 24));
        assert!(worst <= 1.0, "MLP: a filter drifts by {worst} steps");
        let cnn = float_cnn(7);
        let worst = largest_drift(&cnn, &[1, 2, 8, 8], &[1, 3], &samples(8, 8, 128));
        assert!(worst <= 1.0, "CNN: a filter drifts by {worst} steps");
    }
}
