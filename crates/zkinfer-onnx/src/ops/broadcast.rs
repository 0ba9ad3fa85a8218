//! Operands of elementwise ops: axis normalisation, numpy broadcasting and constant operands.
//! Broadcasting and constants become gathers, which the circuit proves by wiring.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::gather::{broadcast_indices, broadcast_shape};
use zkinfer_core::ir::{Entry, Gather, Op};

use super::numel;
use crate::attrs::Attrs;
use crate::context::{display_name, Context};
use crate::tensor::Const;
use crate::OnnxError;

/// `axis` (negative counts from the end) as an index into a shape of `rank` dimensions.
pub fn axis(attrs: &Attrs<'_>, axis: i64, rank: usize) -> Result<usize, OnnxError> {
    let a = if axis < 0 { axis + rank as i64 } else { axis };
    if (0..rank as i64).contains(&a) {
        Ok(a as usize)
    } else {
        Err(attrs.unsupported(format!("axis {axis} out of range for rank {rank}")))
    }
}

/// The numpy broadcast of two operand shapes, within the size a model may hold.
pub fn output_shape(attrs: &Attrs<'_>, a: &[usize], b: &[usize]) -> Result<Vec<usize>, OnnxError> {
    let out = broadcast_shape(a, b)
        .ok_or_else(|| attrs.unsupported(format!("shapes {a:?} and {b:?} do not broadcast")))?;
    super::check_len(attrs, &out)?;
    Ok(out)
}

/// Value `v` broadcast to shape `to`: `v` itself, a reshape (same values) or a gather.
pub fn broadcast_to(cx: &mut Context, name: &str, v: usize, to: &[usize]) -> usize {
    let from = cx.shape(v).to_vec();
    if from == to {
        return v;
    }
    let op = if numel(&from) == numel(to) {
        Op::Reshape(to.to_vec())
    } else {
        Op::Gather(Gather {
            entries: broadcast_indices(&from, to)
                .into_iter()
                .map(|index| Entry::Value { input: 0, index })
                .collect(),
            shape: to.to_vec(),
        })
    };
    cx.push_value(format!("{name}/broadcast"), op, vec![v], to.to_vec())
}

/// A constant broadcast to shape `to`, as a gather of public constants.
pub fn constant_to(cx: &mut Context, name: &str, c: &Const, to: &[usize]) -> usize {
    let values = c.values();
    let entries = broadcast_indices(&c.shape, to)
        .into_iter()
        .map(|i| Entry::Const(values.get(i).copied().unwrap_or(0.0)))
        .collect();
    let gather = Gather {
        entries,
        shape: to.to_vec(),
    };
    // A gather reads at least one value; a constant one names the model input and ignores it.
    cx.push_value(
        format!("{name}/constant"),
        Op::Gather(gather),
        vec![0],
        to.to_vec(),
    )
}

/// The operands of a binary elementwise node as two values of the broadcast shape; either
/// (not both) may be a constant.
pub fn operands(
    cx: &mut Context,
    node: &NodeProto,
    attrs: &Attrs<'_>,
) -> Result<(usize, usize, Vec<usize>), OnnxError> {
    let name = display_name(node);
    let shape_of = |cx: &Context, i: usize| -> Result<Vec<usize>, OnnxError> {
        if cx.is_activation(node, i) {
            Ok(cx.shape(cx.activation(node, i)?).to_vec())
        } else {
            Ok(cx.constant(node, i)?.shape.clone())
        }
    };
    if !cx.is_activation(node, 0) && !cx.is_activation(node, 1) {
        return Err(attrs.unsupported("at least one operand must be an activation"));
    }
    let (sa, sb) = (shape_of(cx, 0)?, shape_of(cx, 1)?);
    let out = output_shape(attrs, &sa, &sb)?;
    let operand = |cx: &mut Context, i: usize| -> Result<usize, OnnxError> {
        if cx.is_activation(node, i) {
            let v = cx.activation(node, i)?;
            Ok(broadcast_to(cx, &name, v, &out))
        } else {
            let c = cx.constant(node, i)?.clone();
            Ok(constant_to(cx, &name, &c, &out))
        }
    };
    let a = operand(cx, 0)?;
    let b = operand(cx, 1)?;
    Ok((a, b, out))
}
