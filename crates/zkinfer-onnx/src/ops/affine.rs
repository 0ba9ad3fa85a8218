//! `Add`, `Sub`, `Mul`, `Div` of an activation and a constant holding one value: the table
//! function `a·x + b` on the activation (one lookup per value), rather than a product or sum
//! with a gather of that constant repeated.

use tract_onnx::pb::NodeProto;
use zkinfer_core::function::to_param;
use zkinfer_core::ir::Op;
use zkinfer_core::spec::Function;

use crate::context::Context;
use crate::OnnxError;

/// Lowers `node` as `a·x + b` when one operand is an activation and the other a constant of
/// one value that does not broadcast the activation; returns whether it did.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<bool, OnnxError> {
    let (act, ci) = match (cx.is_activation(node, 0), cx.is_activation(node, 1)) {
        (true, false) => (0, 1),
        (false, true) => (1, 0),
        _ => return Ok(false),
    };
    let Ok(c) = cx.constant(node, ci) else {
        return Ok(false);
    };
    let values = c.values();
    let Some(v) = values.first().copied() else {
        return Ok(false);
    };
    let x = cx.activation(node, act)?;
    let shape = cx.shape(x).to_vec();
    let within = c.shape.len() <= shape.len() && c.shape.iter().all(|d| *d == 1);
    if !within || values.iter().any(|w| *w != v) || !v.is_finite() || v.abs() > 1e6 {
        return Ok(false);
    }
    let v = v as f64;
    let (scale, offset) = match (node.op_type.as_str(), act) {
        ("Add", _) => (1.0, v),
        ("Sub", 0) => (1.0, -v),
        ("Sub", _) => (-1.0, v),
        ("Mul", _) => (v, 0.0),
        ("Div", 0) if v != 0.0 => (1.0 / v, 0.0),
        _ => return Ok(false),
    };
    let f = Function::Affine {
        scale: to_param(scale),
        offset: to_param(offset),
    };
    cx.push(node, Op::Activation(f), vec![x], shape)?;
    Ok(true)
}
