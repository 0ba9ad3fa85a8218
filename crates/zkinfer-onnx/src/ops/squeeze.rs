//! `Squeeze` and `Unsqueeze`: new shapes for the same values (wiring).

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::Op;

use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// The axes of a node: input 1 (opset 13) or the `axes` attribute.
fn axes(cx: &Context, node: &NodeProto, attrs: &Attrs<'_>) -> Result<Option<Vec<i64>>, OnnxError> {
    if let Some(c) = cx.optional_constant(node, 1)? {
        return Ok(Some(c.ints.clone()));
    }
    Ok(attrs.ints("axes").map(<[i64]>::to_vec))
}

/// Lowers `Squeeze` (no axes: every dimension of size 1).
pub fn squeeze(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["axes"])?;
    let v = cx.activation(node, 0)?;
    let shape = cx.shape(v).to_vec();
    let drop: Vec<usize> = match axes(cx, node, &attrs)? {
        Some(a) => a
            .iter()
            .map(|x| super::broadcast::axis(&attrs, *x, shape.len()))
            .collect::<Result<_, _>>()?,
        None => (0..shape.len()).filter(|d| shape[*d] == 1).collect(),
    };
    if let Some(d) = drop.iter().find(|d| shape[**d] != 1) {
        return Err(attrs.unsupported(format!("axis {d} of {shape:?} is not 1")));
    }
    let out: Vec<usize> = (0..shape.len())
        .filter(|d| !drop.contains(d))
        .map(|d| shape[d])
        .collect();
    cx.push(node, Op::Reshape(out.clone()), vec![v], out)
}

/// Lowers `Unsqueeze`.
pub fn unsqueeze(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["axes"])?;
    let v = cx.activation(node, 0)?;
    let shape = cx.shape(v).to_vec();
    let a = axes(cx, node, &attrs)?.ok_or_else(|| attrs.unsupported("axes missing"))?;
    let rank = shape.len() + a.len();
    let mut new: Vec<usize> = a
        .iter()
        .map(|x| super::broadcast::axis(&attrs, *x, rank))
        .collect::<Result<_, _>>()?;
    new.sort_unstable();
    new.dedup();
    if new.len() != a.len() {
        return Err(attrs.unsupported(format!("repeated axes {a:?}")));
    }
    let mut rest = shape.iter();
    let out: Vec<usize> = (0..rank)
        .map(|d| {
            if new.contains(&d) {
                1
            } else {
                rest.next().copied().unwrap_or(1)
            }
        })
        .collect();
    cx.push(node, Op::Reshape(out.clone()), vec![v], out)
}
