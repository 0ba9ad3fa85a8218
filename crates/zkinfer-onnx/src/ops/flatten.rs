//! `Flatten(axis)`.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::Op;

use super::numel;
use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// Lowers `Flatten` to a reshape to `[prod(dims[..axis]), prod(dims[axis..])]`.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["axis"])?;
    let v = cx.activation(node, 0)?;
    let input = cx.shape(v).to_vec();
    let rank = input.len() as i64;
    let mut axis = attrs.int("axis", 1);
    if axis < 0 {
        axis += rank;
    }
    if !(0..=rank).contains(&axis) {
        return Err(attrs.unsupported(format!("axis {axis} out of range for rank {rank}")));
    }
    let (a, b) = input.split_at(axis as usize);
    let shape = vec![numel(a), numel(b)];
    cx.push(node, Op::Reshape(shape.clone()), vec![v], shape)
}
