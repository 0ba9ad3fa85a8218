//! `Concat(axis)` of activations and constants: a gather.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::gather::{ravel, strides, unravel};
use zkinfer_core::ir::{Entry, Gather, Op};

use super::broadcast::axis;
use super::numel;
use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// One input of the concatenation.
enum Part {
    /// Position among the gather's inputs.
    Value(usize),
    /// Constant values.
    Const(Vec<f32>),
}

/// Lowers `Concat`.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["axis"])?;
    let mut inputs: Vec<usize> = Vec::new();
    let mut parts: Vec<(Part, Vec<usize>)> = Vec::new();
    for i in 0..node.input.len() {
        if cx.is_activation(node, i) {
            let v = cx.activation(node, i)?;
            let slot = inputs.iter().position(|u| *u == v).unwrap_or_else(|| {
                inputs.push(v);
                inputs.len() - 1
            });
            parts.push((Part::Value(slot), cx.shape(v).to_vec()));
        } else {
            let c = cx.constant(node, i)?;
            parts.push((Part::Const(c.values()), c.shape.clone()));
        }
    }
    let first = parts
        .first()
        .map(|p| p.1.clone())
        .ok_or_else(|| attrs.unsupported("no inputs"))?;
    if inputs.is_empty() {
        return Err(attrs.unsupported("at least one input must be an activation"));
    }
    let ax = axis(&attrs, attrs.int("axis", 0), first.len())?;
    let mut out = first.clone();
    out[ax] = 0;
    for (_, s) in &parts {
        let same = s.len() == first.len()
            && s.iter()
                .zip(&first)
                .enumerate()
                .all(|(d, (a, b))| d == ax || a == b);
        if !same {
            return Err(attrs.unsupported(format!(
                "input shape {s:?} does not concatenate with {first:?} on axis {ax}"
            )));
        }
        out[ax] = out[ax].saturating_add(s[ax]);
    }
    super::check_len(&attrs, &out)?;
    let entries = (0..numel(&out))
        .map(|flat| {
            let mut idx = unravel(flat, &out);
            let mut part = 0;
            while idx[ax] >= parts[part].1[ax] {
                idx[ax] -= parts[part].1[ax];
                part += 1;
            }
            let (p, shape) = &parts[part];
            let index = ravel(&idx, &strides(shape));
            match p {
                Part::Value(slot) => Entry::Value {
                    input: *slot,
                    index,
                },
                Part::Const(values) => Entry::Const(values[index]),
            }
        })
        .collect();
    let gather = Gather {
        entries,
        shape: out.clone(),
    };
    cx.push(node, Op::Gather(gather), inputs, out)
}
