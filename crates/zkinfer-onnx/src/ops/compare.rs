//! Comparisons with an activation operand (`Less`, `Greater`, `LessOrEqual`,
//! `GreaterOrEqual`, `Equal`) and `Not`: the difference of the operands (at their common
//! fixed-point resolution) through a 0/1 table; `And`, `Or`, `Xor` of 0/1 values.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::Op;
use zkinfer_core::spec::Function;

use super::broadcast::operands;
use crate::attrs::Attrs;
use crate::context::{display_name, Context};
use crate::OnnxError;

/// Lowers a comparison of two operands, at least one an activation.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&[])?;
    let (a, b, shape) = operands(cx, node, &attrs)?;
    // `table(hi − lo)`.
    let (hi, lo, f) = match node.op_type.as_str() {
        "Greater" => (a, b, Function::Positive),
        "Less" => (b, a, Function::Positive),
        "LessOrEqual" => (a, b, Function::NotPositive),
        "GreaterOrEqual" => (b, a, Function::NotPositive),
        _ => (a, b, Function::IsZero),
    };
    let name = display_name(node);
    let d = cx.push_value(
        format!("{name}/difference"),
        Op::Sub,
        vec![hi, lo],
        shape.clone(),
    );
    cx.push(node, Op::Activation(f), vec![d], shape)
}

/// Lowers `Not` of an activation holding 0 or 1.
pub fn not(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    Attrs::new(node).reject_unknown(&[])?;
    let v = cx.activation(node, 0)?;
    let shape = cx.shape(v).to_vec();
    cx.push(node, Op::Activation(Function::IsZero), vec![v], shape)
}

/// Lowers `And`, `Or`, `Xor` of activations holding 0 or 1: `a · b`, `a + relu(b − a)`,
/// `|a − b|`.
pub fn logic(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&[])?;
    let (a, b, shape) = operands(cx, node, &attrs)?;
    let name = display_name(node);
    match node.op_type.as_str() {
        "And" => cx.push(node, Op::Mul, vec![a, b], shape),
        "Or" => {
            let d = cx.push_value(
                format!("{name}/difference"),
                Op::Sub,
                vec![b, a],
                shape.clone(),
            );
            let r = cx.push_value(format!("{name}/relu"), Op::Relu, vec![d], shape.clone());
            cx.push(node, Op::Add, vec![a, r], shape)
        }
        _ => {
            let d = cx.push_value(
                format!("{name}/difference"),
                Op::Sub,
                vec![a, b],
                shape.clone(),
            );
            cx.push(node, Op::Activation(Function::Abs), vec![d], shape)
        }
    }
}
