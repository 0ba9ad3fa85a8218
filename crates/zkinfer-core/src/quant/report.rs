//! The calibration report: how far the quantized model is from the float one on the
//! calibration samples.

use serde::{Deserialize, Serialize};

use crate::spec::ModelSpec;

/// Quantized-vs-float error on the calibration samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationReport {
    /// Number of samples.
    pub samples: usize,
    /// Largest absolute output error.
    pub max_abs_error: f64,
    /// Mean absolute output error.
    pub mean_abs_error: f64,
    /// Largest absolute float output (to read the error against).
    pub max_abs_output: f64,
    /// Fraction of samples whose output argmax agrees with the float model.
    pub argmax_agreement: f64,
    /// Per layer: largest absolute error of the dequantized layer output.
    pub layer_max_abs_error: Vec<f64>,
}

fn argmax(v: &[f64]) -> usize {
    v.iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |(bi, bv), (i, x)| {
            if *x > bv {
                (i, *x)
            } else {
                (bi, bv)
            }
        })
        .0
}

/// The report of `quantized` traces against the `float` ones (per layer: pre-activation and
/// result values).
pub(super) fn report(
    spec: &ModelSpec,
    float: &[Vec<(Vec<f32>, Vec<f32>)>],
    quantized: &[crate::eval::Trace],
) -> CalibrationReport {
    let n_layers = spec.layers.len();
    let mut layer_err = vec![0.0f64; n_layers];
    let (mut max_err, mut sum_err, mut count, mut max_out, mut agree) =
        (0.0f64, 0.0, 0usize, 0.0f64, 0usize);
    for (f, q) in float.iter().zip(quantized) {
        for (i, lt) in q.layers.iter().enumerate() {
            let deq = super::dequantize(&lt.out, spec.layers[i].result_scale());
            for (a, b) in deq.iter().zip(&f[i].1) {
                layer_err[i] = layer_err[i].max((a - *b as f64).abs());
            }
        }
        let fo: Vec<f64> = f[n_layers - 1].1.iter().map(|v| *v as f64).collect();
        let qo = super::dequantize(q.output(), spec.output.scale);
        for (a, b) in qo.iter().zip(&fo) {
            let e = (a - b).abs();
            max_err = max_err.max(e);
            sum_err += e;
            count += 1;
            max_out = max_out.max(b.abs());
        }
        agree += usize::from(argmax(&qo) == argmax(&fo));
    }
    CalibrationReport {
        samples: quantized.len(),
        max_abs_error: max_err,
        mean_abs_error: if count == 0 {
            0.0
        } else {
            sum_err / count as f64
        },
        max_abs_output: max_out,
        argmax_agreement: agree as f64 / quantized.len().max(1) as f64,
        layer_max_abs_error: layer_err,
    }
}
