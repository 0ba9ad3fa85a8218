//! `Transpose(perm)`: a gather.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::gather::{ravel, strides, unravel};
use zkinfer_core::ir::{Entry, Gather, Op};

use super::numel;
use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// Lowers `Transpose` (default: reversed axes).
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["perm"])?;
    let v = cx.activation(node, 0)?;
    let shape = cx.shape(v).to_vec();
    let rank = shape.len();
    let perm: Vec<usize> = match attrs.ints("perm") {
        Some(p) => p.iter().map(|a| *a as usize).collect(),
        None => (0..rank).rev().collect(),
    };
    let mut sorted = perm.clone();
    sorted.sort_unstable();
    if sorted != (0..rank).collect::<Vec<_>>() {
        return Err(attrs.unsupported(format!("perm {perm:?} is not a permutation of {rank} axes")));
    }
    let gather = permute(&shape, &perm);
    let out = gather.shape.clone();
    cx.push(node, Op::Gather(gather), vec![v], out)
}

/// The gather whose output axis `d` is input axis `perm[d]` of an input of shape `shape`.
pub fn permute(shape: &[usize], perm: &[usize]) -> Gather {
    let out: Vec<usize> = perm.iter().map(|a| shape[*a]).collect();
    let st = strides(shape);
    let entries = (0..numel(&out))
        .map(|flat| {
            let o = unravel(flat, &out);
            let mut idx = vec![0; shape.len()];
            for (d, a) in perm.iter().enumerate() {
                idx[*a] = o[d];
            }
            Entry::Value {
                input: 0,
                index: ravel(&idx, &st),
            }
        })
        .collect();
    Gather {
        entries,
        shape: out,
    }
}
