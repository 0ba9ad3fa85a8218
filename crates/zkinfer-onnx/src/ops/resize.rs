//! `Resize` and `Upsample` of an activation, one axis at a time (`crate::resize`): an axis
//! whose every output copies one input (nearest neighbour) is a gather, proved by wiring; an
//! interpolating axis is a dense layer along that axis whose weights are the interpolation
//! coefficients (private and committed like every constant of the model), with the
//! extrapolation value as the bias of the rows outside a crop box.

use ndarray::Axis as NdAxis;
use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::{Dense, Op};

use super::rearrange::{op_of, positions};
use crate::attrs::Attrs;
use crate::context::{display_name, Context};
use crate::resize::{axis_map, Axis, AxisMap, Mode, Rounding, Row, Settings};
use crate::OnnxError;

const ATTRIBUTES: &[&str] = &[
    "antialias",
    "axes",
    "coordinate_transformation_mode",
    "cubic_coeff_a",
    "exclude_outside",
    "extrapolation_value",
    "keep_aspect_ratio_policy",
    "mode",
    "nearest_mode",
    "scales",
];

/// Lowers `Resize` (any opset) and `Upsample`.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(ATTRIBUTES)?;
    let mut v = cx.activation(node, 0)?;
    let shape = cx.shape(v).to_vec();
    let legacy = node.op_type == "Upsample" || cx.opset < 11;
    let sizes = sizes(cx, node, &attrs, &shape, legacy)?;
    let extrapolation = f64::from(attrs.float("extrapolation_value", 0.0));
    // As the ONNX runtime does: an unchanged shape is a copy (a crop box aside), and an
    // antialiased resize leaves axes of unchanged length alone.
    let crop = attrs.string("coordinate_transformation_mode", "") == "tf_crop_and_resize";
    if !crop && sizes.iter().all(|a| a.output == a.input) {
        return cx.alias(node, v);
    }
    for (a, axis) in sizes.iter().enumerate() {
        let settings = settings(&attrs, axis.scale, legacy)?;
        if settings.antialias && axis.output == axis.input {
            continue;
        }
        let map = axis_map(axis, &settings).map_err(|e| attrs.unsupported(e))?;
        let identity =
            map.rows.len() == map.input && map.picks() == Some((0..map.input).collect::<Vec<_>>());
        if !identity {
            v = resize_axis(cx, node, v, a, &map, extrapolation)?;
        }
    }
    cx.alias(node, v)
}

/// Every axis' lengths, scale and crop box.
fn sizes(
    cx: &Context,
    node: &NodeProto,
    attrs: &Attrs<'_>,
    shape: &[usize],
    legacy: bool,
) -> Result<Vec<Axis>, OnnxError> {
    let given = |idx: usize| -> Result<Option<Vec<f32>>, OnnxError> {
        Ok(cx
            .optional_constant(node, idx)?
            .map(|c| c.values())
            .filter(|v| !v.is_empty()))
    };
    let rank = shape.len();
    let axes: Vec<usize> = match attrs.ints("axes") {
        None => (0..rank).collect(),
        Some(list) => list
            .iter()
            .map(|d| crate::layout::axis(*d, rank))
            .collect::<Result<_, _>>()
            .map_err(|e| attrs.unsupported(e))?,
    };
    let (roi, scales, out) = if legacy {
        let scales = match attrs.floats("scales") {
            Some(s) => Some(s.to_vec()),
            None => given(1)?,
        };
        (None, scales, None)
    } else {
        (given(1)?, given(2)?, given(3)?)
    };
    let mut result: Vec<Axis> = shape
        .iter()
        .map(|&n| Axis {
            input: n,
            output: n,
            scale: 1.0,
            roi: (0.0, 1.0),
        })
        .collect();
    let count = |what: &str, len: usize, want: usize| {
        if len == want {
            Ok(())
        } else {
            Err(attrs.unsupported(format!("{len} {what} for {want} axes")))
        }
    };
    match (scales, out) {
        (_, Some(out)) => {
            count("sizes", out.len(), axes.len())?;
            let policy = attrs.string("keep_aspect_ratio_policy", "stretch");
            // Scales and lengths in `f32`, as the ONNX runtime computes them.
            let ratios: Vec<f32> = axes
                .iter()
                .zip(&out)
                .map(|(&a, &o)| o / shape[a] as f32)
                .collect();
            let kept = match policy.as_str() {
                "stretch" => None,
                "not_larger" => ratios.iter().copied().reduce(f32::min),
                "not_smaller" => ratios.iter().copied().reduce(f32::max),
                other => {
                    return Err(attrs
                        .unsupported(format!("keep_aspect_ratio_policy {other} not supported")))
                }
            };
            for ((&a, &o), r) in axes.iter().zip(&out).zip(ratios) {
                let (scale, output) = match kept {
                    None => (r, o as usize),
                    Some(s) => (s, (s * shape[a] as f32).round() as usize),
                };
                result[a].scale = f64::from(scale);
                result[a].output = output;
            }
        }
        (Some(scales), None) => {
            count("scales", scales.len(), axes.len())?;
            for (&a, &s) in axes.iter().zip(&scales) {
                if !(s > 0.0 && s.is_finite()) {
                    return Err(attrs.unsupported(format!("scale {s} (positive expected)")));
                }
                result[a].scale = f64::from(s);
                result[a].output = (s * shape[a] as f32) as usize;
            }
        }
        (None, None) => return Err(attrs.unsupported("neither scales nor sizes are given")),
    }
    if let Some(roi) = roi {
        count("roi values", roi.len(), 2 * axes.len())?;
        for (i, &a) in axes.iter().enumerate() {
            result[a].roi = (f64::from(roi[i]), f64::from(roi[axes.len() + i]));
        }
    }
    if let Some(a) = result.iter().position(|a| a.output == 0 || a.input == 0) {
        return Err(attrs.unsupported(format!("axis {a} would be empty")));
    }
    let lengths: Vec<usize> = result.iter().map(|a| a.output).collect();
    super::check_len(attrs, &lengths)?;
    Ok(result)
}

/// The kernel and coordinate mapping of an axis resized by `scale`.
fn settings(attrs: &Attrs<'_>, scale: f64, legacy: bool) -> Result<Settings, OnnxError> {
    let rounding = match attrs.string("nearest_mode", "round_prefer_floor").as_str() {
        // Before opset 11, nearest reads down when upsampling and up when downsampling.
        _ if legacy && scale >= 1.0 => Rounding::Floor,
        _ if legacy => Rounding::Ceil,
        "round_prefer_floor" => Rounding::PreferFloor,
        "round_prefer_ceil" => Rounding::PreferCeil,
        "floor" => Rounding::Floor,
        "ceil" => Rounding::Ceil,
        other => return Err(attrs.unsupported(format!("nearest_mode {other} not supported"))),
    };
    let mode = match attrs.string("mode", "nearest").as_str() {
        "nearest" => Mode::Nearest(rounding),
        "linear" | "bilinear" => Mode::Linear,
        "cubic" if !legacy => Mode::Cubic(f64::from(attrs.float("cubic_coeff_a", -0.75))),
        other => return Err(attrs.unsupported(format!("mode {other} not supported"))),
    };
    let antialias = attrs.int("antialias", 0) != 0;
    if antialias && matches!(mode, Mode::Nearest(_)) {
        return Err(attrs.unsupported("antialias with mode nearest"));
    }
    let transform = if legacy {
        "asymmetric".into()
    } else {
        attrs.string("coordinate_transformation_mode", "half_pixel")
    };
    Ok(Settings {
        mode,
        transform,
        antialias,
        exclude_outside: attrs.int("exclude_outside", 0) != 0,
    })
}

/// Resizes axis `a` of value `v` by `map`; returns the new value.
fn resize_axis(
    cx: &mut Context,
    node: &NodeProto,
    v: usize,
    a: usize,
    map: &AxisMap,
    extrapolation: f64,
) -> Result<usize, OnnxError> {
    let attrs = Attrs::new(node);
    let name = format!("{}/axis{a}", display_name(node));
    let shape = cx.shape(v).to_vec();
    let len = shape.iter().product();
    let at = positions(&shape).map_err(|e| attrs.unsupported(e))?.ints();
    if let Some(picks) = map.picks() {
        let picked = at.select(NdAxis(a), &picks);
        let out = picked.shape().to_vec();
        return Ok(cx.push_value(name, op_of(&picked, len), vec![v], out));
    }
    // Move the axis last, multiply by the coefficients, move it back.
    let rank = shape.len();
    let perm: Vec<usize> = (0..rank).filter(|d| *d != a).chain([a]).collect();
    let moved = at.view().permuted_axes(perm.clone()).to_owned();
    let last = cx.push_value(
        format!("{name}/last"),
        op_of(&moved, len),
        vec![v],
        moved.shape().to_vec(),
    );
    let mut dense_shape = moved.shape().to_vec();
    dense_shape[rank - 1] = map.rows.len();
    // The coefficients are a dense layer's weights: bounded like any tensor.
    super::check_len(&attrs, &[map.input, map.rows.len()])?;
    let dense = dense_of(map, extrapolation, len / map.input);
    let resized = cx.push_value(
        name.clone(),
        Op::Dense(dense),
        vec![last],
        dense_shape.clone(),
    );
    let mut inverse = vec![0; rank];
    for (i, p) in perm.iter().enumerate() {
        inverse[*p] = i;
    }
    let back = positions(&dense_shape)
        .map_err(|e| attrs.unsupported(e))?
        .ints()
        .permuted_axes(inverse);
    let out = back.shape().to_vec();
    let n = dense_shape.iter().product();
    Ok(cx.push_value(
        format!("{name}/back"),
        op_of(&back.as_standard_layout().to_owned(), n),
        vec![resized],
        out,
    ))
}

/// The dense layer computing `map` on `batch` rows.
fn dense_of(map: &AxisMap, extrapolation: f64, batch: usize) -> Dense {
    let (inputs, outputs) = (map.input, map.rows.len());
    let mut weights = vec![0.0f32; inputs * outputs];
    let mut bias = vec![0.0f32; outputs];
    for (o, row) in map.rows.iter().enumerate() {
        match row {
            Row::Taps(taps) => {
                for (i, w) in taps {
                    weights[o * inputs + i] = *w as f32;
                }
            }
            Row::Outside => bias[o] = extrapolation as f32,
        }
    }
    Dense {
        inputs,
        outputs,
        weights,
        bias,
        batch,
    }
}
