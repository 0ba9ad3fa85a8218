//! `ArgMax` / `ArgMin` along one axis, from proved pieces: `eq = [x − max(x) = 0]` (a 0/1
//! table), `w = eq · (K − k)` with public constants, `K − max(w)` is the first index holding
//! the maximum (`select_last_index`: `w = eq · (k + 1)`, `max(w) − 1`). Values closer than
//! one fixed-point step tie.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::{Op, PoolKind};
use zkinfer_core::spec::Function;

use super::broadcast::{axis, broadcast_to, constant_to};
use super::reduce::reduce;
use crate::attrs::Attrs;
use crate::context::{display_name, Context};
use crate::tensor::Const;
use crate::OnnxError;

/// Longest axis (indices are 8-bit values).
pub const MAX_AXIS: usize = 127;

/// Lowers `ArgMax` and `ArgMin`.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["axis", "keepdims", "select_last_index"])?;
    let x = cx.activation(node, 0)?;
    let shape = cx.shape(x).to_vec();
    let a = axis(&attrs, attrs.int("axis", 0), shape.len())?;
    let len = shape[a];
    if len > MAX_AXIS {
        return Err(attrs.unsupported(format!("an axis of {len} values (at most {MAX_AXIS})")));
    }
    let last = attrs.int("select_last_index", 0) != 0;
    let name = display_name(node);
    let v = match node.op_type.as_str() {
        "ArgMin" => cx.push_value(
            format!("{name}/negate"),
            Op::Activation(Function::Neg),
            vec![x],
            shape.clone(),
        ),
        _ => x,
    };
    let index = index_of_max(cx, &name, v, a, last);
    let kept = cx.shape(index).to_vec();
    let out: Vec<usize> = if attrs.int("keepdims", 1) != 0 {
        kept.clone()
    } else {
        shape
            .iter()
            .enumerate()
            .filter(|(d, _)| *d != a)
            .map(|(_, n)| *n)
            .collect()
    };
    cx.push(node, Op::Reshape(out.clone()), vec![index], out)
}

/// The index of the maximum of `v` along axis `a` (the first, or the `last`), with that axis
/// kept as 1; the axis holds at most [`MAX_AXIS`] values.
pub fn index_of_max(cx: &mut Context, name: &str, v: usize, a: usize, last: bool) -> usize {
    let shape = cx.shape(v).to_vec();
    let len = shape[a];
    let m = reduce(cx, &format!("{name}/max"), v, &[a], PoolKind::Max);
    let kept = cx.shape(m).to_vec();
    let mb = broadcast_to(cx, name, m, &shape);
    let d = cx.push_value(
        format!("{name}/difference"),
        Op::Sub,
        vec![v, mb],
        shape.clone(),
    );
    let eq = cx.push_value(
        format!("{name}/at_max"),
        Op::Activation(Function::IsZero),
        vec![d],
        shape.clone(),
    );
    let mut rank_shape = vec![1; shape.len()];
    rank_shape[a] = len;
    let ranks = Const {
        shape: rank_shape,
        floats: (0..len)
            .map(|k| if last { k + 1 } else { len - k } as f32)
            .collect(),
        ints: vec![],
    };
    let c = constant_to(cx, &format!("{name}/rank"), &ranks, &shape);
    let w = cx.push_value(
        format!("{name}/ranked"),
        Op::Mul,
        vec![eq, c],
        shape.clone(),
    );
    let r = reduce(cx, &format!("{name}/best"), w, &[a], PoolKind::Max);
    // First index: K − r = (−r) + K; last index: r − 1.
    let (base, offset) = if last {
        (r, -1.0)
    } else {
        let neg = cx.push_value(
            format!("{name}/negate_rank"),
            Op::Activation(Function::Neg),
            vec![r],
            kept.clone(),
        );
        (neg, len as f32)
    };
    let shift = Const {
        shape: vec![1],
        floats: vec![offset],
        ints: vec![],
    };
    let s = constant_to(cx, &format!("{name}/offset"), &shift, &kept);
    cx.push_value(format!("{name}/index"), Op::Add, vec![base, s], kept)
}
