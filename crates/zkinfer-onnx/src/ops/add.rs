//! `Add` and `Sub`: of two activations (a residual connection), or of a constant folded into
//! the bias of the dense or convolution layer producing the other operand.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::Op;

use super::gemm::broadcast_bias;
use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// Lowers an `Add` node.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    lower_signed(cx, node, false)
}

/// Lowers a `Sub` node (`a - b`; a constant `a` is refused).
pub fn lower_sub(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    lower_signed(cx, node, true)
}

fn lower_signed(cx: &mut Context, node: &NodeProto, subtract: bool) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&[])?;
    if cx.is_activation(node, 0) && cx.is_activation(node, 1) {
        let (a, b) = (cx.activation(node, 0)?, cx.activation(node, 1)?);
        if cx.shape(a) != cx.shape(b) {
            return Err(attrs.unsupported(format!(
                "broadcasting {:?} + {:?} not supported (equal shapes only)",
                cx.shape(a),
                cx.shape(b)
            )));
        }
        let shape = cx.shape(a).to_vec();
        let op = if subtract { Op::Sub } else { Op::Add };
        return cx.push(node, op, vec![a, b], shape);
    }
    let act = (0..2)
        .find(|i| cx.is_activation(node, *i))
        .ok_or_else(|| attrs.unsupported("at least one operand must be an activation"))?;
    if subtract && act == 1 {
        return Err(attrs.unsupported("a constant minus an activation is not supported"));
    }
    let v = cx.activation(node, act)?;
    let sign = if subtract { -1.0 } else { 1.0 };
    let c: Vec<f32> = cx
        .constant(node, 1 - act)?
        .floats
        .iter()
        .map(|v| sign * v)
        .collect();
    let not_foldable = || {
        attrs.unsupported("adding a constant is supported only right after MatMul, Gemm or Conv")
    };
    let producer = cx
        .foldable_producer(node, act, v)
        .ok_or_else(not_foldable)?;
    let bias = match &mut producer.op {
        Op::Dense(d) => &mut d.bias,
        Op::Conv2d(c) => &mut c.bias,
        _ => return Err(not_foldable()),
    };
    let add = broadcast_bias(&c, bias.len()).ok_or_else(|| {
        attrs.unsupported(format!(
            "constant of {} values does not broadcast to {}",
            c.len(),
            bias.len()
        ))
    })?;
    for (b, a) in bias.iter_mut().zip(add) {
        *b += a;
    }
    cx.alias(node, v)
}
