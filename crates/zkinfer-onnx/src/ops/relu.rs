//! `Relu`.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::Op;

use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// Lowers `Relu(x)`.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    Attrs::new(node).reject_unknown(&[])?;
    let v = cx.activation(node, 0)?;
    let shape = cx.shape(v).to_vec();
    cx.push(node, Op::Relu, vec![v], shape)
}
