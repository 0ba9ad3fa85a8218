//! `Mul`: elementwise product of two activations, or of an activation and a public constant,
//! with broadcasting.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::Op;

use super::broadcast::operands;
use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// Lowers `Mul`.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&[])?;
    if super::affine::lower(cx, node)? {
        return Ok(());
    }
    let (a, b, shape) = operands(cx, node, &attrs)?;
    cx.push(node, Op::Mul, vec![a, b], shape)
}
