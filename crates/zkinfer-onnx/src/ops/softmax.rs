//! `Softmax` and `LogSoftmax`, composed from proved pieces: `d = x - max(x)`, `e = exp(d)`
//! (table), `s = Σ e`; softmax is `e · (1/s)` (reciprocal table), log-softmax `d - ln s`.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::{Op, PoolKind};
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
    let m = reduce(cx, &format!("{name}/max"), x, &axes, PoolKind::Max);
    let mb = broadcast_to(cx, &name, m, &shape);
    let d = cx.push_value(format!("{name}/shift"), Op::Sub, vec![x, mb], shape.clone());
    let e = cx.push_value(
        format!("{name}/exp"),
        Op::Activation(Function::Exp),
        vec![d],
        shape.clone(),
    );
    let s = reduce(cx, &format!("{name}/sum"), e, &axes, PoolKind::Sum);
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
    let tb = broadcast_to(cx, &name, t, &shape);
    cx.push(node, op, vec![left, tb], shape)
}

/// Lowers `Softmax`.
pub fn softmax(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    lower(cx, node, false)
}

/// Lowers `LogSoftmax`.
pub fn log_softmax(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    lower(cx, node, true)
}
