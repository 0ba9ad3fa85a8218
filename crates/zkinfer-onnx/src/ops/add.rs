//! `Add` and `Sub` with broadcasting: a constant is folded into the bias of the dense or
//! convolution layer producing the other operand when it can be; otherwise the operands (two
//! activations, e.g. a residual connection, or an activation and a public constant) are added
//! elementwise.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::Op;

use super::broadcast::{broadcast_to, constant_to, operands};
use crate::attrs::Attrs;
use crate::context::{display_name, Context, MASK_BELOW};
use crate::tensor::Const;
use crate::OnnxError;
use zkinfer_core::ir::gather::{broadcast_indices, broadcast_shape};

/// Lowers an `Add` node.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    lower_signed(cx, node, false)
}

/// Lowers a `Sub` node (`a - b`; a constant `a` is refused).
pub fn lower_sub(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    lower_signed(cx, node, true)
}

fn lower_signed(cx: &mut Context, node: &NodeProto, subtract: bool) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&[])?;
    if !subtract && masked_add(cx, node, &attrs)? {
        return Ok(());
    }
    if fold_into_bias(cx, node, subtract)? || super::affine::lower(cx, node)? {
        return Ok(());
    }
    let (a, b, shape) = operands(cx, node, &attrs)?;
    let op = if subtract { Op::Sub } else { Op::Add };
    cx.push(node, op, vec![a, b], shape)
}

/// Folds `act ± constant` into the bias of the dense or convolution layer producing `act`
/// when nothing else reads it and the constant broadcasts over the layer's outputs; returns
/// whether it did.
fn fold_into_bias(cx: &mut Context, node: &NodeProto, subtract: bool) -> Result<bool, OnnxError> {
    let act = match (cx.is_activation(node, 0), cx.is_activation(node, 1)) {
        (true, false) => 0,
        (false, true) if !subtract => 1,
        _ => return Ok(false),
    };
    let v = cx.activation(node, act)?;
    let shape = cx.shape(v).to_vec();
    let c = cx.constant(node, 1 - act)?;
    if broadcast_shape(&c.shape, &shape).as_deref() != Some(&shape[..]) {
        return Ok(false); // the constant broadcasts the activation: not a bias
    }
    let sign = if subtract { -1.0 } else { 1.0 };
    let values = c.values();
    let full: Vec<f32> = broadcast_indices(&c.shape, &shape)
        .into_iter()
        .map(|i| sign * values[i])
        .collect();
    let Some(producer) = cx.foldable_producer(node, act, v) else {
        return Ok(false);
    };
    // Output `i` of the producer uses bias `channel(i)`.
    let (bias, channel): (&mut Vec<f32>, Box<dyn Fn(usize) -> usize>) = match &mut producer.op {
        Op::Dense(d) => {
            let n = d.outputs.max(1);
            (&mut d.bias, Box::new(move |i| i % n))
        }
        Op::Conv2d(c) => {
            let per = c.output_shape()[1] * c.output_shape()[2];
            (&mut c.bias, Box::new(move |i| i / per.max(1)))
        }
        _ => return Ok(false),
    };
    let mut add = vec![None; bias.len()];
    for (i, x) in full.iter().enumerate() {
        match add.get_mut(channel(i)) {
            Some(slot @ None) => *slot = Some(*x),
            Some(Some(y)) if *y == *x => {}
            _ => return Ok(false), // not constant per output channel
        }
    }
    for (b, a) in bias.iter_mut().zip(add) {
        *b += a.unwrap_or(0.0);
    }
    cx.alias(node, v)?;
    Ok(true)
}

/// `scores + mask` with a constant mask holding `-inf` or huge negative entries (an additive
/// attention mask): the masked entries are recorded for the `Softmax` that reads the sum
/// (the only reader allowed), the others added; returns whether it was one.
fn masked_add(cx: &mut Context, node: &NodeProto, attrs: &Attrs<'_>) -> Result<bool, OnnxError> {
    let (act, ci) = match (cx.is_activation(node, 0), cx.is_activation(node, 1)) {
        (true, false) => (0, 1),
        (false, true) => (1, 0),
        _ => return Ok(false),
    };
    let c = cx.constant(node, ci)?.clone();
    let values = c.values();
    if !values.iter().any(|v| *v <= MASK_BELOW) {
        return Ok(false);
    }
    if !cx.only_softmax_reads(node) {
        return Err(attrs.unsupported(format!(
            "a mask (constants at or below {MASK_BELOW}) must be read by a Softmax alone"
        )));
    }
    let v = cx.activation(node, act)?;
    let shape = cx.shape(v).to_vec();
    let out = super::broadcast::output_shape(attrs, &shape, &c.shape)?;
    let full: Vec<f32> = broadcast_indices(&c.shape, &out)
        .into_iter()
        .map(|i| values[i])
        .collect();
    let mask: Vec<bool> = full.iter().map(|v| *v <= MASK_BELOW).collect();
    let kept = Const {
        shape: out.clone(),
        floats: full
            .iter()
            .map(|v| if *v <= MASK_BELOW { 0.0 } else { *v })
            .collect(),
        ints: vec![],
    };
    let name = display_name(node);
    let a = broadcast_to(cx, &name, v, &out);
    let b = constant_to(cx, &name, &kept, &out);
    cx.push(node, Op::Add, vec![a, b], out)?;
    cx.masks.insert(cx.nodes.len(), mask);
    Ok(true)
}
