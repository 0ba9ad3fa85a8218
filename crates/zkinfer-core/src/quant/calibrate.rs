//! Calibration: choose every scale from sample inputs, quantize the weights, and measure the
//! quantized model against the float one.

use super::report::{report, CalibrationReport};
use super::{fit_scale, to_fixed, Width, ACTIVATION_MARGIN};
use crate::eval::evaluate;
use crate::ir::{float_trace, Entry, FloatLayer, LayerOp, PoolKind};
use crate::model::{LayerWeights, ModelWeights, MAX_BIAS};
use crate::spec::{
    Activation, CircuitSpec, Function, GatherEntry, LayerKind, LayerSpec, ModelSpec, TensorSpec,
    FORMAT_VERSION,
};
use crate::{CoreError, MAX_SHIFT, VALUE_MAX, VALUE_MIN, WIDE_MAX};

/// Headroom factor above the calibrated maximum of a wide activation: one bit, since a wide
/// value does not saturate (a quotient beyond the 16-bit range is refused).
const WIDE_MARGIN: f64 = 2.0;

/// Largest scale exponent calibration picks for inputs, weights and activations.
pub(super) const SCALE_CAP: u32 = 16;

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

/// Chooses scales from `samples`, quantizes `layers` with 8-bit activations, and reports the
/// error.
pub fn calibrate(
    name: &str,
    layers: &[FloatLayer],
    input_shape: &[usize],
    output_shape: &[usize],
    samples: &[Vec<f32>],
) -> Result<Quantized, CoreError> {
    calibrate_with(
        name,
        layers,
        input_shape,
        output_shape,
        samples,
        Width::Narrow,
    )
}

/// [`calibrate`] with the activations of `width`.
pub fn calibrate_with(
    name: &str,
    layers: &[FloatLayer],
    input_shape: &[usize],
    output_shape: &[usize],
    samples: &[Vec<f32>],
    width: Width,
) -> Result<Quantized, CoreError> {
    if samples.is_empty() {
        return Err(CoreError::Calibration("no calibration samples".into()));
    }
    let traces: Vec<_> = samples.iter().map(|s| float_trace(layers, s)).collect();
    let input_max = max_abs(samples.iter().flatten().copied());
    if input_max > VALUE_MAX as f64 + 0.5 {
        return Err(CoreError::Calibration(format!(
            "input values reach {input_max}, beyond the 8-bit range (±{VALUE_MAX}) even at scale 2^0"
        )));
    }
    let input_scale = fit_scale(input_max, 128.0, 1.0, SCALE_CAP);
    let post_max: Vec<f64> = (0..layers.len())
        .map(|i| max_abs(traces.iter().flat_map(|t| t[i].1.iter().copied())))
        .collect();
    let act_max: Vec<f64> = (0..layers.len())
        .map(|i| max_abs(traces.iter().flat_map(|t| t[i].0.iter().copied())))
        .collect();
    // Extra bits taken off a layer's output scale after an overflow on the calibration data.
    let mut backoff = vec![0u32; layers.len()];
    // Largest scale a value may take (gathers read all their sources at one scale).
    let mut caps = vec![SCALE_CAP; layers.len() + 1];
    for _ in 0..(2 * (layers.len() + 1) * SCALE_CAP as usize + 1) {
        let scales = Scales {
            input: input_scale,
            act_max: &act_max,
            post_max: &post_max,
            backoff: &backoff,
            caps: &caps,
            width,
        };
        let (spec, weights, conflicts) = build(name, layers, input_shape, output_shape, &scales)?;
        if !conflicts.is_empty() {
            let before = caps.clone();
            for (v, cap) in conflicts {
                caps[v] = caps[v].min(cap);
            }
            if caps == before {
                return Err(CoreError::Calibration(
                    "the values a gather reads cannot be brought to one scale".into(),
                ));
            }
            continue;
        }
        let mut overflow = None;
        let mut quantized = Vec::with_capacity(samples.len());
        for s in samples {
            let q = super::quantize_input(&spec.input, s)?;
            match evaluate(&spec, &weights, &q) {
                Ok(t) => match saturated(&spec, &t) {
                    Some(layer) => {
                        overflow = Some(layer);
                        break;
                    }
                    None => quantized.push(t),
                },
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
                saturated_table(&spec, &post_max)?;
                let (weights, quantized) =
                    with_corrected_biases(&spec, weights, samples, &traces, quantized)?;
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

/// The weights with their biases corrected (`bias.rs`) and the calibration traces they give;
/// the weights as built if a calibration sample would then saturate or overflow.
fn with_corrected_biases(
    spec: &ModelSpec,
    weights: ModelWeights,
    samples: &[Vec<f32>],
    float: &[super::bias::FloatTrace],
    quantized: Vec<crate::eval::Trace>,
) -> Result<(ModelWeights, Vec<crate::eval::Trace>), CoreError> {
    let inputs = samples
        .iter()
        .map(|s| super::quantize_input(&spec.input, s))
        .collect::<Result<Vec<_>, _>>()?;
    let Ok(fixed) = super::bias::corrected(spec, &weights, &inputs, float) else {
        return Ok((weights, quantized));
    };
    let traces: Result<Vec<_>, _> = inputs.iter().map(|x| evaluate(spec, &fixed, x)).collect();
    match traces {
        Ok(t) if t.iter().all(|t| saturated(spec, t).is_none()) => Ok((fixed, t)),
        _ => Ok((weights, quantized)),
    }
}

/// The calibration state one build reads.
struct Scales<'a> {
    /// Fitted input scale.
    input: u32,
    /// Per layer: largest absolute pre-activation value.
    act_max: &'a [f64],
    /// Per layer: largest absolute result.
    post_max: &'a [f64],
    /// Per layer: bits taken off after overflows.
    backoff: &'a [u32],
    /// Per value: largest scale allowed.
    caps: &'a [u32],
    /// Which layers may be wide.
    width: Width,
}

/// A value that must not exceed a scale: `(value, scale)`.
type Conflict = (usize, u32);

type Built = (ModelSpec, ModelWeights, Vec<Conflict>);

fn no_weights() -> LayerWeights {
    LayerWeights {
        weights: vec![],
        bias: vec![],
    }
}

fn build(
    name: &str,
    layers: &[FloatLayer],
    input_shape: &[usize],
    output_shape: &[usize],
    sc: &Scales<'_>,
) -> Result<Built, CoreError> {
    let (act_max, post_max, backoff) = (sc.act_max, sc.post_max, sc.backoff);
    let input_scale = sc.input.min(sc.caps[0]);
    let mut specs = Vec::with_capacity(layers.len());
    let mut weights = Vec::with_capacity(layers.len());
    let mut conflicts: Vec<Conflict> = Vec::new();
    // Scale of every value: the input, then each layer's output.
    let mut scales = vec![input_scale];
    let wides = super::width::wide_layers(layers, sc.width);
    for (i, l) in layers.iter().enumerate() {
        let cap = sc.caps[i + 1];
        let wide = wides[i];
        let (limit, margin) = if wide {
            (WIDE_MAX as f64, WIDE_MARGIN)
        } else {
            (VALUE_MAX as f64, ACTIVATION_MARGIN)
        };
        let in_scale = scales[l.sources[0]];
        let table_scale = match l.function {
            Some(f) if crate::function::exact(f) => {
                let top = post_max[i].max(crate::function::known_bound(f));
                fit_scale(top, VALUE_MAX as f64, 1.0, SCALE_CAP)
            }
            _ => fit_scale(post_max[i], 128.0, 1.0, SCALE_CAP),
        }
        .min(cap);
        // Output scale of a rescaling layer whose accumulator has scale `acc`.
        let rescaled = |acc: u32| {
            fit_scale(act_max[i], limit, margin, SCALE_CAP)
                .saturating_sub(backoff[i])
                .min(acc)
                .min(if l.function.is_some() { SCALE_CAP } else { cap })
                .max(acc.saturating_sub(MAX_SHIFT))
        };
        let len = layers_len(layers, input_shape, i + 1);
        let simple = |kind: LayerKind, batch: usize, w_scale: u32, out_scale: u32| LayerSpec {
            name: l.name.clone(),
            kind,
            sources: l.sources.clone(),
            batch,
            inputs: layers_len(layers, input_shape, l.sources[0]),
            outputs: len,
            weight_scale: w_scale,
            channel_scales: Vec::new(),
            output_scale: out_scale,
            activation: Activation::None,
            wide,
        };
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
                let out_scale = rescaled(acc_scale);
                let kind = LayerKind::Add {
                    subtract: *subtract,
                };
                specs.push(LayerSpec {
                    activation,
                    ..simple(kind, 1, 0, out_scale)
                });
                weights.push(no_weights());
                scales.push(result(out_scale));
                continue;
            }
            LayerOp::Mul | LayerOp::MatMul(_) => {
                let acc_scale = l.sources.iter().map(|s| scales[*s]).sum::<u32>();
                let out_scale = rescaled(acc_scale);
                let (kind, batch) = match &l.op {
                    LayerOp::MatMul(mm) => (
                        LayerKind::MatMul {
                            m: mm.m,
                            k: mm.k,
                            n: mm.n,
                        },
                        mm.batch,
                    ),
                    _ => (LayerKind::Mul, 1),
                };
                specs.push(LayerSpec {
                    activation,
                    ..simple(kind, batch, 0, out_scale)
                });
                weights.push(no_weights());
                scales.push(result(out_scale));
                continue;
            }
            LayerOp::Gather(g) => {
                let const_scale = fit_scale(g.max_const(), VALUE_MAX as f64 + 0.49, 1.0, SCALE_CAP);
                let read: Vec<usize> = g
                    .entries
                    .iter()
                    .filter_map(|e| match e {
                        Entry::Value { input, .. } => l.sources.get(*input).copied(),
                        Entry::Const(_) => None,
                    })
                    .collect();
                let target = read
                    .iter()
                    .map(|s| scales[*s])
                    .fold(const_scale.min(cap), u32::min);
                conflicts.extend(
                    read.iter()
                        .filter(|s| scales[**s] > target)
                        .map(|s| (*s, target)),
                );
                let entries = g
                    .entries
                    .iter()
                    .map(|e| match *e {
                        Entry::Value { input, index } => GatherEntry::Value(input, index),
                        Entry::Const(c) => GatherEntry::Const(
                            to_fixed(c as f64, target).clamp(VALUE_MIN, VALUE_MAX),
                        ),
                    })
                    .collect();
                specs.push(simple(LayerKind::Gather { entries }, 1, 0, target));
                weights.push(no_weights());
                scales.push(target);
                continue;
            }
            LayerOp::Dense(d) => (LayerKind::Dense, &d.weights, &d.bias),
            LayerOp::Conv2d(c) => (
                LayerKind::Conv2d {
                    window: c.window,
                    out_channels: c.out_channels,
                    groups: c.groups,
                },
                &c.weights,
                &c.bias,
            ),
            LayerOp::Pool(p) => {
                let (kind, w_scale) = match p.kind {
                    PoolKind::Max => (LayerKind::MaxPool { window: p.window }, 0),
                    PoolKind::Sum => (LayerKind::SumPool { window: p.window }, 0),
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
                let out_scale = match p.kind {
                    PoolKind::Max => {
                        if result(in_scale) > cap && activation == Activation::None {
                            conflicts.push((l.sources[0], cap));
                        }
                        in_scale
                    }
                    PoolKind::Average => rescaled(in_scale + w_scale),
                    PoolKind::Sum => rescaled(in_scale),
                };
                specs.push(LayerSpec {
                    activation,
                    ..simple(kind, 1, w_scale, out_scale)
                });
                weights.push(no_weights());
                scales.push(result(out_scale));
                continue;
            }
        };
        let max_w = float_w.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let mut w_scale = fit_scale(max_w as f64, 127.49, 1.0, SCALE_CAP);
        let mut out_scale =
            fit_scale(act_max[i], limit, margin, SCALE_CAP).saturating_sub(backoff[i]);
        if l.function.is_none() {
            out_scale = out_scale.min(cap);
        }
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
        let shift = (acc_scale - out_scale.min(acc_scale)) as i64;
        let kernel = float_w.len() / float_b.len().max(1);
        let extra = super::channel::channel_scales(float_w, float_b, w_scale, acc_scale, shift);
        let extra_of = |f: usize| extra.get(f).copied().unwrap_or(0);
        let q_w: Vec<i64> = float_w
            .iter()
            .enumerate()
            .map(|(j, w)| {
                to_fixed(*w as f64, w_scale + extra_of(j / kernel.max(1)))
                    .clamp(VALUE_MIN, VALUE_MAX)
            })
            .collect();
        let q_b: Vec<i64> = float_b
            .iter()
            .enumerate()
            .map(|(f, b)| to_fixed(*b as f64, acc_scale + extra_of(f)))
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
            _ => (0, 0),
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
            channel_scales: extra,
            output_scale: out_scale,
            activation,
            wide,
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
        output_parts: Vec::new(),
        layers: specs,
        circuit: CircuitSpec::unplanned(),
        weights_commitment: String::new(),
        vk_fingerprint: String::new(),
        public_weights: Vec::new(),
    };
    for (v, s) in scales.iter().enumerate() {
        if *s > sc.caps[v] && !conflicts.iter().any(|c| c.0 == v) {
            conflicts.push((v, sc.caps[v]));
        }
    }
    Ok((
        spec,
        ModelWeights {
            layers: weights,
            salt: Default::default(),
        },
        conflicts,
    ))
}

/// Steps a calibration sample's quotient may lie beyond the 8-bit range (saturating) before
/// its layer's scale backs off a bit: rounding can carry a value fitted to 127 a little
/// past it, which costs less than halving the resolution of every value.
const CALIBRATION_SLACK: i64 = 4;

/// The first 8-bit layer whose quotients on a calibration sample saturate by more than
/// [`CALIBRATION_SLACK`] steps: the calibration data must keep its values, only other data
/// may saturate (wide values do not saturate: the evaluator refuses them out of range).
fn saturated(spec: &ModelSpec, trace: &crate::eval::Trace) -> Option<usize> {
    let limit = VALUE_MAX + CALIBRATION_SLACK;
    trace
        .layers
        .iter()
        .zip(&spec.layers)
        .position(|(t, l)| !l.wide && t.q.iter().any(|q| *q > limit || *q < -limit - 1))
}

/// Number of scalars of layer value `v`.
fn layers_len(layers: &[FloatLayer], input_shape: &[usize], v: usize) -> usize {
    match v {
        0 => input_shape.iter().product(),
        _ => match &layers[v - 1].op {
            LayerOp::Dense(d) => d.outputs * d.batch,
            LayerOp::Conv2d(c) => c.output_shape().iter().product(),
            LayerOp::Pool(p) => p.output_shape().iter().product(),
            LayerOp::Add { .. } | LayerOp::Mul => {
                layers_len(layers, input_shape, layers[v - 1].sources[0])
            }
            LayerOp::Gather(g) => g.entries.len(),
            LayerOp::MatMul(mm) => mm.batch * mm.m * mm.n,
        },
    }
}

/// Refuses a table function whose outputs on the calibration data exceed the 8-bit range
/// even at scale 2^0: its table would clamp them to ±127, a wrong value. `1/√` is exempt: it
/// saturates only where the variance it normalises is below one step, and the centred values
/// it multiplies are then 0 too.
fn saturated_table(spec: &ModelSpec, post_max: &[f64]) -> Result<(), CoreError> {
    for (i, l) in spec.layers.iter().enumerate() {
        let Activation::Table { function, scale: 0 } = l.activation else {
            continue;
        };
        let reach = post_max.get(i).copied().unwrap_or(0.0);
        if !matches!(function, Function::Rsqrt { .. }) && reach > VALUE_MAX as f64 + 0.5 {
            return Err(CoreError::Calibration(format!(
                "layer {i} ({}): {function:?} reaches {reach:.1}, beyond the 8-bit range even at scale 2^0",
                l.name
            )));
        }
    }
    Ok(())
}
