//! `Div` by a constant: a product with the constant's reciprocal (e.g. attention scores scaled
//! by `1/√d`). Division by an activation: a product with its reciprocal (a table), as softmax
//! normalises.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::Op;
use zkinfer_core::spec::Function;

use super::broadcast::{broadcast_to, constant_to};
use crate::attrs::Attrs;
use crate::context::{display_name, Context};
use crate::tensor::Const;
use crate::OnnxError;

/// Lowers `Div(x, c)` to `x · (1/c)`.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&[])?;
    if cx.is_activation(node, 1) {
        return by_activation(cx, node, &attrs);
    }
    if super::affine::lower(cx, node)? {
        return Ok(());
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
    let out = super::broadcast::output_shape(&attrs, &shape, &inverse.shape)?;
    let name = display_name(node);
    let a = broadcast_to(cx, &name, x, &out);
    let b = constant_to(cx, &name, &inverse, &out);
    cx.push(node, Op::Mul, vec![a, b], out)
}

/// Lowers `Div(a, b)` with `b` an activation to `a · (1/b)` (`a` an activation or a constant).
fn by_activation(cx: &mut Context, node: &NodeProto, attrs: &Attrs<'_>) -> Result<(), OnnxError> {
    let b = cx.activation(node, 1)?;
    let name = display_name(node);
    let b_shape = cx.shape(b).to_vec();
    let a_shape = if cx.is_activation(node, 0) {
        cx.shape(cx.activation(node, 0)?).to_vec()
    } else {
        cx.constant(node, 0)?.shape.clone()
    };
    let out = super::broadcast::output_shape(attrs, &a_shape, &b_shape)?;
    let r = cx.push_value(
        format!("{name}/reciprocal"),
        Op::Activation(Function::Reciprocal),
        vec![b],
        b_shape,
    );
    let a = if cx.is_activation(node, 0) {
        let a = cx.activation(node, 0)?;
        broadcast_to(cx, &name, a, &out)
    } else {
        let c = cx.constant(node, 0)?.clone();
        constant_to(cx, &name, &c, &out)
    };
    let rb = broadcast_to(cx, &name, r, &out);
    cx.push(node, Op::Mul, vec![a, rb], out)
}
