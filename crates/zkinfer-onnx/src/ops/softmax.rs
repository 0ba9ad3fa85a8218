//! `Softmax` and `LogSoftmax`, composed from proved pieces: `d = x - max(x)`, `e = exp(d)`
//! (table), `s = Σ e`; softmax is `e · (1/s)` (reciprocal table), log-softmax `d - ln s`.
//!
//! A masked input (an attention mask of `-inf`, see `Context::masks`) excludes its masked
//! entries: they read another entry of their row for the maximum, and their `e` is the
//! constant 0, so their weight is exactly 0 and the others are normalised among themselves.

use std::collections::HashMap;
use tract_onnx::pb::NodeProto;

use zkinfer_core::ir::gather::{ravel, strides, unravel};
use zkinfer_core::ir::{Entry, Gather, Op, PoolKind};
use zkinfer_core::spec::Function;

use super::broadcast::{axis, broadcast_to};
use super::reduce::reduce;
use crate::attrs::Attrs;
use crate::context::{display_name, Context};
use crate::OnnxError;

fn lower(cx: &mut Context, node: &NodeProto, log: bool) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["axis"])?;
    let x = cx.activation(node, 0)?;
    let shape = cx.shape(x).to_vec();
    let name = display_name(node);
    // Before opset 13 the input is read as 2-D: everything from `axis` on is normalised.
    let (default, flat) = if cx.opset >= 13 {
        (-1, false)
    } else {
        (1, true)
    };
    let a = axis(&attrs, attrs.int("axis", default), shape.len())?;
    let axes: Vec<usize> = if flat {
        (a..shape.len()).collect()
    } else {
        vec![a]
    };
    let mask = cx.masks.get(&x).cloned();
    if mask.is_some() && log {
        return Err(attrs.unsupported("a masked input to LogSoftmax"));
    }
    let v =
        normalise(cx, &name, x, &axes, log, mask.as_deref()).map_err(|e| attrs.unsupported(e))?;
    cx.push(node, Op::Reshape(shape.clone()), vec![v], shape)
}

/// Softmax (or, `log`, log-softmax) of value `x` over `axes`, masked entries (`mask`)
/// excluded.
pub fn normalise(
    cx: &mut Context,
    name: &str,
    x: usize,
    axes: &[usize],
    log: bool,
    mask: Option<&[bool]>,
) -> Result<usize, String> {
    let shape = cx.shape(x).to_vec();
    let x = match mask {
        Some(m) => fill_masked(cx, name, x, axes, m)?,
        None => x,
    };
    let (_, d, e) = shifted_exp(cx, name, x, axes);
    let e = match mask {
        Some(m) => zero_masked(cx, name, e, m),
        None => e,
    };
    let s = reduce(cx, &format!("{name}/sum"), e, axes, PoolKind::Sum);
    let sum_shape = cx.shape(s).to_vec();
    let (f, op, left) = if log {
        (Function::Log, Op::Sub, d)
    } else {
        (Function::Reciprocal, Op::Mul, e)
    };
    let t = cx.push_value(
        format!("{name}/normaliser"),
        Op::Activation(f),
        vec![s],
        sum_shape,
    );
    let tb = broadcast_to(cx, name, t, &shape);
    Ok(cx.push_value(format!("{name}/normalised"), op, vec![left, tb], shape))
}

/// `m = max(x)` over `axes` (axes kept as 1), `d = x − m` and `e = exp(d)` (at most 1: the
/// exp table's range).
pub fn shifted_exp(
    cx: &mut Context,
    name: &str,
    x: usize,
    axes: &[usize],
) -> (usize, usize, usize) {
    let shape = cx.shape(x).to_vec();
    let m = reduce(cx, &format!("{name}/max"), x, axes, PoolKind::Max);
    let mb = broadcast_to(cx, name, m, &shape);
    let d = cx.push_value(format!("{name}/shift"), Op::Sub, vec![x, mb], shape.clone());
    let e = cx.push_value(
        format!("{name}/exp"),
        Op::Activation(Function::Exp),
        vec![d],
        shape,
    );
    (m, d, e)
}

/// Value `x` with every masked entry replaced by an unmasked entry of its row (the positions
/// that differ only along `axes`), so the row's maximum is that of its unmasked entries.
fn fill_masked(
    cx: &mut Context,
    name: &str,
    x: usize,
    axes: &[usize],
    mask: &[bool],
) -> Result<usize, String> {
    let shape = cx.shape(x).to_vec();
    let st = strides(&shape);
    let row = |i: usize| {
        let mut idx = unravel(i, &shape);
        axes.iter().for_each(|a| idx[*a] = 0);
        ravel(&idx, &st)
    };
    let mut first: HashMap<usize, usize> = HashMap::new();
    for (i, m) in mask.iter().enumerate() {
        if !m {
            first.entry(row(i)).or_insert(i);
        }
    }
    let entries = (0..mask.len())
        .map(|i| {
            let index = if mask[i] {
                *first
                    .get(&row(i))
                    .ok_or("a softmax row is entirely masked")?
            } else {
                i
            };
            Ok(Entry::Value { input: 0, index })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let gather = Gather {
        entries,
        shape: shape.clone(),
    };
    Ok(cx.push_value(
        format!("{name}/unmasked"),
        Op::Gather(gather),
        vec![x],
        shape,
    ))
}

/// Value `e` with its masked entries set to the constant 0.
fn zero_masked(cx: &mut Context, name: &str, e: usize, mask: &[bool]) -> usize {
    let shape = cx.shape(e).to_vec();
    let entries = mask
        .iter()
        .enumerate()
        .map(|(index, m)| {
            if *m {
                Entry::Const(0.0)
            } else {
                Entry::Value { input: 0, index }
            }
        })
        .collect();
    let gather = Gather {
        entries,
        shape: shape.clone(),
    };
    cx.push_value(format!("{name}/masked"), Op::Gather(gather), vec![e], shape)
}

/// Lowers `Softmax`.
pub fn softmax(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    lower(cx, node, false)
}

/// Lowers `LogSoftmax`.
pub fn log_softmax(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    lower(cx, node, true)
}
