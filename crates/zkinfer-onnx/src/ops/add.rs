//! `Add` of a constant to the output of a dense layer: folded into its bias.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::Op;

use super::gemm::broadcast_bias;
use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// Folds `Add(dense_output, c)` (either operand order) into the dense bias.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&[])?;
    let act = (0..2)
        .find(|i| node.input.get(*i).is_some_and(|n| cx.is_activation(n)))
        .ok_or_else(|| {
            attrs.unsupported("one operand must be the running activation, the other a constant")
        })?;
    let c = cx.constant(node, 1 - act)?.floats.clone();
    let shape = cx.shape.clone();
    let dense = match cx.nodes.last_mut() {
        Some(n) => match &mut n.op {
            Op::Dense(d) => d,
            _ => {
                return Err(attrs
                    .unsupported("adding a constant is supported only right after MatMul or Gemm"))
            }
        },
        None => {
            return Err(attrs.unsupported("adding a constant to the model input is not supported"))
        }
    };
    let bias = broadcast_bias(&c, dense.outputs).ok_or_else(|| {
        attrs.unsupported(format!(
            "constant of {} values does not broadcast to {}",
            c.len(),
            dense.outputs
        ))
    })?;
    for (b, v) in dense.bias.iter_mut().zip(bias) {
        *b += v;
    }
    cx.push(node, None, shape)
}
