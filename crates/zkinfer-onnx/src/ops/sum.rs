//! `Sum` and `Mean` of several operands (activations, or constants broadcast as gathers): a
//! chain of additions, the mean scaled by `1/n` as a product with a public constant.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::Op;

use super::broadcast::{broadcast_to, constant_to};
use crate::attrs::Attrs;
use crate::context::{display_name, Context};
use crate::tensor::Const;
use crate::OnnxError;

/// The operands of a variadic node broadcast to one shape: their values and that shape.
pub fn broadcast_all(
    cx: &mut Context,
    node: &NodeProto,
) -> Result<(Vec<usize>, Vec<usize>), OnnxError> {
    let attrs = Attrs::new(node);
    let count = node.input.iter().filter(|n| !n.is_empty()).count();
    if !(0..count).any(|i| cx.is_activation(node, i)) {
        return Err(attrs.unsupported("at least one operand must be an activation"));
    }
    let mut shape: Vec<usize> = Vec::new();
    for i in 0..count {
        let s = if cx.is_activation(node, i) {
            cx.shape(cx.activation(node, i)?).to_vec()
        } else {
            cx.constant(node, i)?.shape.clone()
        };
        shape = super::broadcast::output_shape(&attrs, &shape, &s)?;
    }
    let name = display_name(node);
    let mut values = Vec::with_capacity(count);
    for i in 0..count {
        values.push(if cx.is_activation(node, i) {
            let v = cx.activation(node, i)?;
            broadcast_to(cx, &name, v, &shape)
        } else {
            let c = cx.constant(node, i)?.clone();
            constant_to(cx, &name, &c, &shape)
        });
    }
    Ok((values, shape))
}

/// Lowers `Sum` / `Mean`.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    Attrs::new(node).reject_unknown(&[])?;
    let (values, shape) = broadcast_all(cx, node)?;
    let name = display_name(node);
    let mean = node.op_type == "Mean";
    let mut acc = values[0];
    for (k, v) in values.iter().enumerate().skip(1) {
        if k + 1 == values.len() && !mean {
            return cx.push(node, Op::Add, vec![acc, *v], shape);
        }
        acc = cx.push_value(format!("{name}/{k}"), Op::Add, vec![acc, *v], shape.clone());
    }
    if !mean {
        return cx.alias(node, acc);
    }
    let inverse = Const {
        shape: vec![1],
        floats: vec![1.0 / values.len() as f32],
        ints: vec![],
    };
    let c = constant_to(cx, &name, &inverse, &shape);
    cx.push(node, Op::Mul, vec![acc, c], shape)
}
