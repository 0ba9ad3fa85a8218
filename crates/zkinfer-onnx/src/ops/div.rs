//! `Div` by a constant: a product with the constant's reciprocal (e.g. attention scores scaled
//! by `1/√d`). Division by an activation is not supported.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::gather::broadcast_shape;
use zkinfer_core::ir::Op;

use super::broadcast::{broadcast_to, constant_to};
use crate::attrs::Attrs;
use crate::context::{display_name, Context};
use crate::tensor::Const;
use crate::OnnxError;

/// Lowers `Div(x, c)` to `x · (1/c)`.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&[])?;
    if !cx.is_activation(node, 0) || cx.is_activation(node, 1) {
        return Err(attrs.unsupported("only an activation divided by a constant is supported"));
    }
    let x = cx.activation(node, 0)?;
    let c = cx.constant(node, 1)?;
    let values = c.values();
    if values.iter().any(|v| *v == 0.0 || !v.is_finite()) {
        return Err(attrs.unsupported("the divisor holds zero or non-finite values"));
    }
    let inverse = Const {
        shape: c.shape.clone(),
        floats: values.iter().map(|v| 1.0 / v).collect(),
        ints: vec![],
    };
    let shape = cx.shape(x).to_vec();
    let out = broadcast_shape(&shape, &inverse.shape).ok_or_else(|| {
        attrs.unsupported(format!(
            "shapes {shape:?} and {:?} do not broadcast",
            inverse.shape
        ))
    })?;
    super::check_len(&attrs, &out)?;
    let name = display_name(node);
    let a = broadcast_to(cx, &name, x, &out);
    let b = constant_to(cx, &name, &inverse, &out);
    cx.push(node, Op::Mul, vec![a, b], out)
}
