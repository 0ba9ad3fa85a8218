//! `Cast` and `CastLike` of an activation to a float type: the quantized value is unchanged.

use tract_onnx::pb::NodeProto;

use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// ONNX element types read as floats (float, float16, double, bfloat16).
const FLOAT_TYPES: [i64; 4] = [1, 10, 11, 16];

/// Lowers `Cast(to)` (float targets).
pub fn cast(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["to", "saturate"])?;
    let to = attrs.int("to", 1);
    if !FLOAT_TYPES.contains(&to) {
        return Err(attrs.unsupported(format!(
            "cast of an activation to element type {to}: only float types are supported"
        )));
    }
    let v = cx.activation(node, 0)?;
    cx.alias(node, v)
}

/// Lowers `CastLike` (a float target).
pub fn cast_like(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["saturate"])?;
    // An activation target is a float value; a constant one names its type by its values.
    if !cx.is_activation(node, 1) && cx.constant(node, 1)?.floats.is_empty() {
        return Err(attrs.unsupported("cast of an activation to an integer type"));
    }
    let v = cx.activation(node, 0)?;
    cx.alias(node, v)
}
