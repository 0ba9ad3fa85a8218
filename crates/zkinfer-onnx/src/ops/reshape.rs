//! `Reshape(x, shape)` with a constant target shape.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::Op;

use super::numel;
use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// Lowers `Reshape`, resolving `0` (copy) and `-1` (infer) entries.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["allowzero"])?;
    let v = cx.activation(node, 0)?;
    let input = cx.shape(v).to_vec();
    let target = cx.constant(node, 1)?.ints.clone();
    let total = numel(&input);
    let mut shape = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, d) in target.iter().enumerate() {
        match *d {
            0 if attrs.int("allowzero", 0) == 0 => shape.push(*input.get(i).ok_or_else(|| {
                attrs.unsupported(format!("shape entry {i} copies a missing dimension"))
            })?),
            -1 if infer.is_none() => {
                infer = Some(i);
                shape.push(1);
            }
            d if d > 0 => shape.push(d as usize),
            d => return Err(attrs.unsupported(format!("shape entry {d} is not supported"))),
        }
    }
    if let Some(i) = infer {
        let known = numel(&shape).max(1);
        if !total.is_multiple_of(known) {
            return Err(attrs.unsupported(format!("cannot reshape {:?} to {target:?}", input)));
        }
        shape[i] = total / known;
    }
    if numel(&shape) != total {
        return Err(attrs.unsupported(format!(
            "cannot reshape {:?} ({total} values) to {shape:?}",
            input
        )));
    }
    cx.push(node, Op::Reshape(shape.clone()), vec![v], shape)
}
