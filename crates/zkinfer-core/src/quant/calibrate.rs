//! Calibration: choose every scale from sample inputs, quantize the weights, and measure the
//! quantized model against the float one.

use serde::{Deserialize, Serialize};

use super::{fit_scale, to_fixed, ACTIVATION_MARGIN};
use crate::eval::evaluate;
use crate::ir::{float_trace, FloatLayer, LayerOp, PoolKind};
use crate::model::{LayerWeights, ModelWeights, MAX_BIAS};
use crate::spec::{
    Activation, CircuitSpec, LayerKind, LayerSpec, ModelSpec, TensorSpec, FORMAT_VERSION,
};
use crate::{CoreError, MAX_SHIFT, VALUE_MAX, VALUE_MIN};

/// Largest scale exponent calibration picks for inputs, weights and activations.
const SCALE_CAP: u32 = 16;

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

/// The result of calibration: a spec without commitment, fingerprint or `k`, and the weights.
#[derive(Clone, Debug)]
pub struct Quantized {
    /// Spec with `weights_commitment`, `vk_fingerprint` empty and `circuit.k = 0`.
    pub spec: ModelSpec,
    /// Integer weights.
    pub weights: ModelWeights,
    /// Error report.
    pub report: CalibrationReport,
}

fn max_abs(values: impl IntoIterator<Item = f32>) -> f64 {
    values
        .into_iter()
        .fold(0.0f64, |m, v| m.max((v as f64).abs()))
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

/// Chooses scales from `samples`, quantizes `layers`, and reports the error.
pub fn calibrate(
    name: &str,
    layers: &[FloatLayer],
    input_shape: &[usize],
    output_shape: &[usize],
    samples: &[Vec<f32>],
) -> Result<Quantized, CoreError> {
    if samples.is_empty() {
        return Err(CoreError::Calibration("no calibration samples".into()));
    }
    let traces: Vec<_> = samples.iter().map(|s| float_trace(layers, s)).collect();
    let input_scale = fit_scale(
        max_abs(samples.iter().flatten().copied()),
        128.0,
        1.0,
        SCALE_CAP,
    );
    let post_max: Vec<f64> = (0..layers.len())
        .map(|i| max_abs(traces.iter().flat_map(|t| t[i].1.iter().copied())))
        .collect();
    let act_max: Vec<f64> = (0..layers.len())
        .map(|i| max_abs(traces.iter().flat_map(|t| t[i].0.iter().copied())))
        .collect();
    // Extra bits taken off a layer's output scale after an overflow on the calibration data.
    let mut backoff = vec![0u32; layers.len()];
    for _ in 0..(layers.len() * SCALE_CAP as usize + 1) {
        let (spec, weights) = build(
            name,
            layers,
            input_shape,
            output_shape,
            input_scale,
            &act_max,
            &post_max,
            &backoff,
        )?;
        let mut overflow = None;
        let mut quantized = Vec::with_capacity(samples.len());
        for s in samples {
            let q = super::quantize_input(&spec.input, s)?;
            match evaluate(&spec, &weights, &q) {
                Ok(t) => quantized.push(t),
                Err(CoreError::Overflow { layer, .. }) => {
                    overflow = Some(layer);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        match overflow {
            Some(layer) if spec.layers[layer].output_scale > 0 => backoff[layer] += 1,
            Some(layer) => {
                return Err(CoreError::Calibration(format!(
                    "layer {layer} ({}) overflows the 8-bit range even at scale 2^0",
                    spec.layers[layer].name
                )))
            }
            None => {
                let report = report(&spec, &traces, &quantized);
                return Ok(Quantized {
                    spec,
                    weights,
                    report,
                });
            }
        }
    }
    Err(CoreError::Calibration(
        "no scale assignment fits the calibration data".into(),
    ))
}

#[allow(clippy::too_many_arguments)] // one pass over the layers needs all of the calibration state
fn build(
    name: &str,
    layers: &[FloatLayer],
    input_shape: &[usize],
    output_shape: &[usize],
    input_scale: u32,
    act_max: &[f64],
    post_max: &[f64],
    backoff: &[u32],
) -> Result<(ModelSpec, ModelWeights), CoreError> {
    let mut specs = Vec::with_capacity(layers.len());
    let mut weights = Vec::with_capacity(layers.len());
    // Scale of every value: the input, then each layer's output.
    let mut scales = vec![input_scale];
    for (i, l) in layers.iter().enumerate() {
        let in_scale = scales[l.sources[0]];
        let table_scale = fit_scale(post_max[i], 128.0, 1.0, SCALE_CAP);
        let activation = match (l.function, l.relu) {
            (Some(function), _) => Activation::Table {
                function,
                scale: table_scale,
            },
            (None, true) => Activation::Relu,
            (None, false) => Activation::None,
        };
        let result = |q_scale: u32| match activation {
            Activation::Table { scale, .. } => scale,
            _ => q_scale,
        };
        let (kind, float_w, float_b): (LayerKind, &[f32], &[f32]) = match &l.op {
            LayerOp::Add { subtract } => {
                let acc_scale = l.sources.iter().map(|s| scales[*s]).max().unwrap_or(0);
                let fit = fit_scale(act_max[i], VALUE_MAX as f64, ACTIVATION_MARGIN, SCALE_CAP)
                    .saturating_sub(backoff[i]);
                let out_scale = fit.min(acc_scale).max(acc_scale.saturating_sub(MAX_SHIFT));
                let len = layers_len(layers, input_shape, l.sources[0]);
                specs.push(LayerSpec {
                    name: l.name.clone(),
                    kind: LayerKind::Add {
                        subtract: *subtract,
                    },
                    sources: l.sources.clone(),
                    batch: 1,
                    inputs: len,
                    outputs: len,
                    weight_scale: 0,
                    output_scale: out_scale,
                    activation,
                });
                weights.push(LayerWeights {
                    weights: vec![],
                    bias: vec![],
                });
                scales.push(result(out_scale));
                continue;
            }
            LayerOp::Dense(d) => (LayerKind::Dense, &d.weights, &d.bias),
            LayerOp::Conv2d(c) => (
                LayerKind::Conv2d {
                    window: c.window,
                    out_channels: c.out_channels,
                },
                &c.weights,
                &c.bias,
            ),
            LayerOp::Pool(p) => {
                let (kind, w_scale) = match p.kind {
                    PoolKind::Max => (LayerKind::MaxPool { window: p.window }, 0),
                    PoolKind::Average => {
                        let area = p.window.area();
                        // Exact for power-of-two areas; otherwise 7 extra bits of multiplier.
                        let exact = area.is_power_of_two() && !p.exclude_pad;
                        let bits = area.next_power_of_two().trailing_zeros();
                        let w_scale = if exact {
                            bits
                        } else {
                            (bits + 7).min(MAX_SHIFT)
                        };
                        if (1usize << w_scale) < area {
                            return Err(CoreError::Unsupported(format!(
                                "layer {i} ({}): average pool over {area} values is too large",
                                l.name
                            )));
                        }
                        (
                            LayerKind::AvgPool {
                                window: p.window,
                                exclude_pad: p.exclude_pad,
                            },
                            w_scale,
                        )
                    }
                };
                let [c, h, w] = p.output_shape();
                specs.push(LayerSpec {
                    name: l.name.clone(),
                    kind,
                    sources: l.sources.clone(),
                    batch: 1,
                    inputs: p.window.input.iter().product(),
                    outputs: c * h * w,
                    weight_scale: w_scale,
                    output_scale: in_scale,
                    activation,
                });
                weights.push(LayerWeights {
                    weights: vec![],
                    bias: vec![],
                });
                scales.push(result(in_scale));
                continue;
            }
        };
        let max_w = float_w.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let mut w_scale = fit_scale(max_w as f64, 127.49, 1.0, SCALE_CAP);
        let mut out_scale = fit_scale(act_max[i], VALUE_MAX as f64, ACTIVATION_MARGIN, SCALE_CAP)
            .saturating_sub(backoff[i]);
        // Keep the shift in [0, MAX_SHIFT].
        let shift = (in_scale + w_scale) as i64 - out_scale as i64;
        if shift > MAX_SHIFT as i64 {
            let excess = (shift - MAX_SHIFT as i64) as u32;
            let from_w = excess.min(w_scale);
            w_scale -= from_w;
            out_scale += excess - from_w;
        } else if shift < 0 {
            out_scale = in_scale + w_scale;
        }
        let acc_scale = in_scale + w_scale;
        let q_w: Vec<i64> = float_w
            .iter()
            .map(|w| to_fixed(*w as f64, w_scale).clamp(VALUE_MIN, VALUE_MAX))
            .collect();
        let q_b: Vec<i64> = float_b
            .iter()
            .map(|b| to_fixed(*b as f64, acc_scale))
            .collect();
        if let Some(b) = q_b.iter().find(|b| b.abs() > MAX_BIAS) {
            return Err(CoreError::Calibration(format!(
                "layer {i} ({}): bias {b} does not fit at scale 2^{acc_scale}",
                l.name
            )));
        }
        let (inputs, outputs) = match &l.op {
            LayerOp::Dense(d) => (d.inputs * d.batch, d.outputs * d.batch),
            LayerOp::Conv2d(c) => (
                c.window.input.iter().product(),
                c.output_shape().iter().product(),
            ),
            LayerOp::Pool(_) | LayerOp::Add { .. } => (0, 0),
        };
        specs.push(LayerSpec {
            name: l.name.clone(),
            kind,
            sources: l.sources.clone(),
            batch: match &l.op {
                LayerOp::Dense(d) => d.batch.max(1),
                _ => 1,
            },
            inputs,
            outputs,
            weight_scale: w_scale,
            output_scale: out_scale,
            activation,
        });
        weights.push(LayerWeights {
            weights: q_w,
            bias: q_b,
        });
        scales.push(result(out_scale));
    }
    let out_scale = scales.last().copied().unwrap_or(input_scale);
    let spec = ModelSpec {
        format_version: FORMAT_VERSION,
        name: name.to_string(),
        input: TensorSpec {
            shape: input_shape.to_vec(),
            scale: input_scale,
        },
        output: TensorSpec {
            shape: output_shape.to_vec(),
            scale: out_scale,
        },
        layers: specs,
        circuit: CircuitSpec {
            k: 0,
            mac_width: crate::circuit::MAC_WIDTH,
            hash_lanes: crate::circuit::HASH_LANES,
            value_bits: crate::VALUE_BITS,
        },
        weights_commitment: String::new(),
        vk_fingerprint: String::new(),
    };
    Ok((spec, ModelWeights { layers: weights }))
}

/// Number of scalars of layer value `v`.
fn layers_len(layers: &[FloatLayer], input_shape: &[usize], v: usize) -> usize {
    match v {
        0 => input_shape.iter().product(),
        _ => match &layers[v - 1].op {
            LayerOp::Dense(d) => d.outputs * d.batch,
            LayerOp::Conv2d(c) => c.output_shape().iter().product(),
            LayerOp::Pool(p) => p.output_shape().iter().product(),
            LayerOp::Add { .. } => layers_len(layers, input_shape, layers[v - 1].sources[0]),
        },
    }
}

fn report(
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
