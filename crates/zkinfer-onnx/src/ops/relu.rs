//! `Relu`.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::Op;

use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// Lowers `Relu(x)`.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    Attrs::new(node).reject_unknown(&[])?;
    cx.activation(node, 0)?;
    let shape = cx.shape.clone();
    cx.push(node, Some(Op::Relu), shape)
}
