//! `Min` and `Max` of several operands (activations, or constants broadcast as gathers),
//! from proved pieces: `max(a, b) = a + relu(b − a)`, `min(a, b) = a − relu(a − b)`.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::Op;

use crate::context::{display_name, Context};
use crate::OnnxError;

/// Lowers `Min` / `Max` with at least one activation operand.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let (operands, shape) = super::sum::broadcast_all(cx, node)?;
    let count = operands.len();
    let name = display_name(node);
    let max = node.op_type == "Max";
    let mut acc = operands[0];
    for (k, b) in operands.iter().copied().enumerate().skip(1) {
        let (hi, lo) = if max { (b, acc) } else { (acc, b) };
        let d = cx.push_value(
            format!("{name}/{k}/difference"),
            Op::Sub,
            vec![hi, lo],
            shape.clone(),
        );
        let r = cx.push_value(format!("{name}/{k}/relu"), Op::Relu, vec![d], shape.clone());
        let op = if max { Op::Add } else { Op::Sub };
        if k + 1 == count {
            return cx.push(node, op, vec![acc, r], shape);
        }
        acc = cx.push_value(format!("{name}/{k}"), op, vec![acc, r], shape.clone());
    }
    // One operand: the value itself.
    cx.alias(node, acc)
}
