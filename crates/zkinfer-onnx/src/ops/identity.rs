//! `Identity`.

use tract_onnx::pb::NodeProto;

use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// Lowers `Identity(x)` (no IR node: the value is renamed).
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    Attrs::new(node).reject_unknown(&[])?;
    let v = cx.activation(node, 0)?;
    cx.alias(node, v)
}
