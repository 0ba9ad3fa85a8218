//! `Identity`, `Cast` and `CastLike` of constants.

use tract_onnx::pb::NodeProto;

use super::required;
use super::tensor::Tensor;
use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// ONNX element types read as floats (float, float16, double, bfloat16).
const FLOAT_TYPES: [i64; 4] = [1, 10, 11, 16];
/// ONNX's boolean element type.
const BOOL: i64 = 9;

fn to_type(t: &Tensor, elem_type: i64) -> Result<Tensor, String> {
    Ok(match elem_type {
        e if FLOAT_TYPES.contains(&e) => Tensor::F(t.floats()),
        BOOL => Tensor::I(t.floats().mapv(|v| i64::from(v != 0.0))),
        2..=7 | 12 | 13 => Tensor::I(t.ints().mapv(|v| narrow(v, elem_type))),
        other => return Err(format!("cast to element type {other} is not supported")),
    })
}

/// An integer as the integer type `elem_type` holds it (two's-complement wrapping, as a cast
/// does).
fn narrow(v: i64, elem_type: i64) -> i64 {
    match elem_type {
        2 => v as u8 as i64,
        3 => v as i8 as i64,
        4 => v as u16 as i64,
        5 => v as i16 as i64,
        6 => v as i32 as i64,
        12 => v as u32 as i64,
        _ => v,
    }
}

/// `Identity`.
pub fn identity(_: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Result<Vec<Tensor>, String> {
    Ok(vec![required(inputs, 0)?.clone()])
}

/// `Cast(to)`.
pub fn cast(attrs: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Result<Vec<Tensor>, String> {
    Ok(vec![to_type(required(inputs, 0)?, attrs.int("to", 1))?])
}

/// `CastLike`: to the kind (float or integer) of the second input.
pub fn cast_like(_: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Result<Vec<Tensor>, String> {
    let t = required(inputs, 0)?;
    Ok(vec![if required(inputs, 1)?.is_int() {
        Tensor::I(t.ints())
    } else {
        Tensor::F(t.floats())
    }])
}

/// `CastLike(constant, activation)`: the constant as floats (activations are floats).
pub fn like_activation(cx: &Context, node: &NodeProto) -> Result<Option<Tensor>, OnnxError> {
    let constant_input = node
        .input
        .first()
        .is_some_and(|n| cx.consts.contains_key(n));
    if node.op_type != "CastLike" || !constant_input || !cx.is_activation(node, 1) {
        return Ok(None);
    }
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["saturate"])?;
    let t = Tensor::from_const(cx.constant(node, 0)?).map_err(|e| attrs.unsupported(e))?;
    Ok(Some(Tensor::F(t.floats())))
}
