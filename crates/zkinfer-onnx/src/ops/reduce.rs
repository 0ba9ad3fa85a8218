//! `ReduceSum`, `ReduceMean`, `ReduceMax`: the reduced axes are moved last by a gather (when
//! they are not already), then one pooling window per remaining position. `ReduceMin`,
//! `ReduceL1`, `ReduceL2`, `ReduceSumSquare`, `ReduceLogSum`, `ReduceLogSumExp` add a table
//! or a square before and a table after.

use ndarray::{ArrayD, Dimension, IxDyn};
use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::gather::strides;
use zkinfer_core::ir::{Entry, Gather, Op, Pool, PoolKind};
use zkinfer_core::spec::Function;

use super::broadcast::axis;
use crate::attrs::Attrs;
use crate::context::{display_name, Context};
use crate::OnnxError;

/// The positions of a tensor of `shape` read in the axis order `order` (a permutation).
fn moved(shape: &[usize], order: &[usize]) -> Vec<Entry> {
    let st = strides(shape);
    let at = ArrayD::from_shape_fn(IxDyn(shape), |i| {
        i.slice().iter().zip(&st).map(|(a, s)| a * s).sum::<usize>()
    });
    at.permuted_axes(IxDyn(order))
        .iter()
        .map(|index| Entry::Value {
            input: 0,
            index: *index,
        })
        .collect()
}

/// Reduces value `v` over `axes` (sorted, distinct); returns the value holding the result with
/// the reduced axes kept as size 1.
pub fn reduce(cx: &mut Context, name: &str, v: usize, axes: &[usize], kind: PoolKind) -> usize {
    let shape = cx.shape(v).to_vec();
    let rank = shape.len();
    let outer_axes: Vec<usize> = (0..rank).filter(|d| !axes.contains(d)).collect();
    let outer: usize = outer_axes.iter().map(|d| shape[*d]).product();
    let len: usize = axes.iter().map(|d| shape[*d]).product();
    let grouped = vec![outer, 1, len];
    let trailing = axes.iter().copied().eq(rank - axes.len()..rank);
    let op = if trailing {
        Op::Reshape(grouped.clone())
    } else {
        let order: Vec<usize> = outer_axes.iter().chain(axes).copied().collect();
        Op::Gather(Gather {
            entries: moved(&shape, &order),
            shape: grouped.clone(),
        })
    };
    let g = cx.push_value(format!("{name}/group"), op, vec![v], grouped);
    let pooled = cx.push_value(
        format!("{name}/reduce"),
        Op::Pool(Pool::reduce(kind, outer, len)),
        vec![g],
        vec![1, outer, 1, 1],
    );
    let kept: Vec<usize> = (0..rank)
        .map(|d| if axes.contains(&d) { 1 } else { shape[d] })
        .collect();
    cx.push_value(
        format!("{name}/keepdims"),
        Op::Reshape(kept.clone()),
        vec![pooled],
        kept,
    )
}

/// What a reduction applies to each value before pooling.
#[derive(Clone, Copy)]
enum Before {
    Nothing,
    Table(Function),
    Square,
}

fn lower(cx: &mut Context, node: &NodeProto, kind: PoolKind) -> Result<(), OnnxError> {
    lower_with(cx, node, Before::Nothing, kind, None)
}

/// A reduction `after(pool(before(x)))`.
fn lower_with(
    cx: &mut Context,
    node: &NodeProto,
    before: Before,
    kind: PoolKind,
    after: Option<Function>,
) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["axes", "keepdims", "noop_with_empty_axes"])?;
    let x = cx.activation(node, 0)?;
    let shape = cx.shape(x).to_vec();
    let name = display_name(node);
    let v = match before {
        Before::Nothing => x,
        Before::Table(f) => cx.push_value(
            format!("{name}/each"),
            Op::Activation(f),
            vec![x],
            shape.clone(),
        ),
        Before::Square => {
            cx.push_value(format!("{name}/square"), Op::Mul, vec![x, x], shape.clone())
        }
    };
    let Some(axes) = reduced_axes(cx, node, &attrs, &shape)? else {
        return cx.alias(node, v);
    };
    let r = reduce(cx, &name, v, &axes, kind);
    let r = match after {
        Some(f) => {
            let kept = cx.shape(r).to_vec();
            cx.push_value(format!("{name}/result"), Op::Activation(f), vec![r], kept)
        }
        None => r,
    };
    finish(cx, node, &attrs, r, &shape, &axes)
}

/// The axes a reduction reduces (sorted, distinct), or `None` for a no-op.
fn reduced_axes(
    cx: &Context,
    node: &NodeProto,
    attrs: &Attrs<'_>,
    shape: &[usize],
) -> Result<Option<Vec<usize>>, OnnxError> {
    let listed: Vec<i64> = match cx.optional_constant(node, 1)? {
        Some(c) => c.ints.clone(),
        None => attrs.ints("axes").map(<[i64]>::to_vec).unwrap_or_default(),
    };
    if listed.is_empty() && attrs.int("noop_with_empty_axes", 0) != 0 {
        return Ok(None);
    }
    let mut axes: Vec<usize> = if listed.is_empty() {
        (0..shape.len()).collect()
    } else {
        listed
            .iter()
            .map(|a| axis(attrs, *a, shape.len()))
            .collect::<Result<_, _>>()?
    };
    axes.sort_unstable();
    axes.dedup();
    if axes.iter().any(|d| shape[*d] == 0) || shape.is_empty() {
        return Err(attrs.unsupported(format!("cannot reduce the empty tensor {shape:?}")));
    }
    Ok(Some(axes))
}

/// Names the reduced value `r` (reduced axes kept as 1) as the node's output, dropping the
/// reduced axes unless `keepdims`.
fn finish(
    cx: &mut Context,
    node: &NodeProto,
    attrs: &Attrs<'_>,
    r: usize,
    shape: &[usize],
    axes: &[usize],
) -> Result<(), OnnxError> {
    let out: Vec<usize> = if attrs.int("keepdims", 1) != 0 {
        cx.shape(r).to_vec()
    } else {
        (0..shape.len())
            .filter(|d| !axes.contains(d))
            .map(|d| shape[d])
            .collect()
    };
    cx.push(node, Op::Reshape(out.clone()), vec![r], out)
}

/// Lowers `ReduceSum`.
pub fn sum(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    lower(cx, node, PoolKind::Sum)
}

/// Lowers `ReduceMean`.
pub fn mean(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    lower(cx, node, PoolKind::Average)
}

/// Lowers `ReduceMax`.
pub fn max(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    lower(cx, node, PoolKind::Max)
}

/// Lowers `ReduceMin` as `−max(−x)`.
pub fn min(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    lower_with(
        cx,
        node,
        Before::Table(Function::Neg),
        PoolKind::Max,
        Some(Function::Neg),
    )
}

/// Lowers `ReduceL1` as `Σ |x|`.
pub fn l1(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    lower_with(cx, node, Before::Table(Function::Abs), PoolKind::Sum, None)
}

/// Lowers `ReduceL2` as `√(Σ x²)`.
pub fn l2(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    lower_with(
        cx,
        node,
        Before::Square,
        PoolKind::Sum,
        Some(Function::Sqrt),
    )
}

/// Lowers `ReduceSumSquare` as `Σ x²`.
pub fn sum_square(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    lower_with(cx, node, Before::Square, PoolKind::Sum, None)
}

/// Lowers `ReduceLogSum` as `ln Σ x`.
pub fn log_sum(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    lower_with(
        cx,
        node,
        Before::Nothing,
        PoolKind::Sum,
        Some(Function::Log),
    )
}

/// Lowers `ReduceLogSumExp` as `m + ln Σ e^(x − m)` with `m` the maximum (so the
/// exponentials stay within their range).
pub fn log_sum_exp(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["axes", "keepdims", "noop_with_empty_axes"])?;
    let x = cx.activation(node, 0)?;
    let shape = cx.shape(x).to_vec();
    let name = display_name(node);
    let Some(axes) = reduced_axes(cx, node, &attrs, &shape)? else {
        return cx.alias(node, x);
    };
    let (m, _, e) = super::softmax::shifted_exp(cx, &name, x, &axes);
    let kept = cx.shape(m).to_vec();
    let s = reduce(cx, &format!("{name}/sum"), e, &axes, PoolKind::Sum);
    let l = cx.push_value(
        format!("{name}/log"),
        Op::Activation(Function::Log),
        vec![s],
        kept.clone(),
    );
    let r = cx.push_value(format!("{name}/result"), Op::Add, vec![l, m], kept);
    finish(cx, node, &attrs, r, &shape, &axes)
}
