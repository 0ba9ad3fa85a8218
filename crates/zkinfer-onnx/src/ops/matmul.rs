//! `MatMul` of the activation (batch 1) by a constant matrix.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::{Dense, Op};

use super::numel;
use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// Lowers `MatMul(x, W)` to a dense layer without bias (a following `Add` supplies it).
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&[])?;
    let v = cx.activation(node, 0)?;
    let w = cx.constant(node, 1)?;
    let (k, n) = match w.shape.as_slice() {
        [k, n] => (*k, *n),
        s => {
            return Err(
                attrs.unsupported(format!("the constant operand must be 2-D, got shape {s:?}"))
            )
        }
    };
    if w.floats.len() != k * n {
        return Err(attrs.unsupported(format!(
            "the constant operand must be a float tensor, got {} float values",
            w.floats.len()
        )));
    }
    let x = cx.shape(v).to_vec();
    let rows = numel(&x) / k.max(1);
    if x.last() != Some(&k) || rows == 0 {
        return Err(attrs.unsupported(format!(
            "activation of shape {x:?} does not multiply a [{k}, {n}] matrix"
        )));
    }
    let mut shape = x;
    if let Some(last) = shape.last_mut() {
        *last = n;
    }
    let weights: Vec<f32> = (0..n)
        .flat_map(|j| (0..k).map(move |i| i * n + j))
        .map(|idx| w.floats[idx])
        .collect();
    let dense = Dense {
        inputs: k,
        outputs: n,
        weights,
        bias: vec![0.0; n],
        batch: rows,
    };
    cx.push(node, Op::Dense(dense), vec![v], shape)
}
