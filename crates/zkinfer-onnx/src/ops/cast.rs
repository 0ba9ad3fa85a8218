//! `Cast` and `CastLike` of an activation: to a float type the quantized value is
//! unchanged; to an integer type it is rounded toward zero (a table).

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::Op;
use zkinfer_core::spec::Function;

use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// ONNX element types read as floats (float, float16, double, bfloat16).
const FLOAT_TYPES: [i64; 4] = [1, 10, 11, 16];
/// ONNX integer element types.
const INT_TYPES: [i64; 8] = [2, 3, 4, 5, 6, 7, 12, 13];

/// Lowers `Cast(to)` (float targets).
pub fn cast(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["to", "saturate"])?;
    let to = attrs.int("to", 1);
    let v = cx.activation(node, 0)?;
    if FLOAT_TYPES.contains(&to) {
        return cx.alias(node, v);
    }
    if !INT_TYPES.contains(&to) {
        return Err(attrs.unsupported(format!(
            "cast of an activation to element type {to}: float and integer types are supported"
        )));
    }
    let shape = cx.shape(v).to_vec();
    cx.push(node, Op::Activation(Function::Trunc), vec![v], shape)
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
