//! `Normalizer` with the L1 norm: `x / Σ|x|` over the last axis (an abs table, a sum, a
//! reciprocal table and a product).

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::{Op, PoolKind};
use zkinfer_core::spec::Function;

use crate::attrs::Attrs;
use crate::context::{display_name, Context};
use crate::ops::broadcast::broadcast_to;
use crate::ops::reduce::reduce;
use crate::OnnxError;

/// Lowers `Normalizer`.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["norm"])?;
    if attrs.string("norm", "MAX") != "L1" {
        return Err(attrs.unsupported("only the L1 norm is supported"));
    }
    let x = cx.activation(node, 0)?;
    let shape = cx.shape(x).to_vec();
    let name = display_name(node);
    let last = shape.len().saturating_sub(1);
    let a = cx.push_value(
        format!("{name}/abs"),
        Op::Activation(Function::Abs),
        vec![x],
        shape.clone(),
    );
    let s = reduce(cx, &format!("{name}/sum"), a, &[last], PoolKind::Sum);
    let kept = cx.shape(s).to_vec();
    let r = cx.push_value(
        format!("{name}/reciprocal"),
        Op::Activation(Function::Reciprocal),
        vec![s],
        kept,
    );
    let rb = broadcast_to(cx, &name, r, &shape);
    cx.push(node, Op::Mul, vec![x, rb], shape)
}
