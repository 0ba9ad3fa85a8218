//! `Gemm`: `Y = alpha · A' · B' + beta · C`, A the activation (batch 1), B and C constant.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::{Dense, Op};

use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// Lowers a Gemm node to a dense layer.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["alpha", "beta", "transA", "transB"])?;
    let x = cx.activation(node, 0)?;
    let (alpha, beta) = (attrs.float("alpha", 1.0), attrs.float("beta", 1.0));
    let trans_a = attrs.int("transA", 0) != 0;
    let trans_b = attrs.int("transB", 0) != 0;
    // A is [1, K] (or [K, 1] with transA): either way its data is the K-vector.
    let a = cx.shape(x);
    let k = match (a, trans_a) {
        ([1, k], false) | ([k, 1], true) => *k,
        _ => {
            return Err(attrs.unsupported(format!(
                "input A of shape {a:?} with transA={} (batch 1 expected)",
                trans_a as u8
            )))
        }
    };
    let b = cx.constant(node, 1)?;
    let (rows, cols) = match b.shape.as_slice() {
        [r, c] => (*r, *c),
        s => return Err(attrs.unsupported(format!("B must be 2-D, got shape {s:?}"))),
    };
    let (b_k, n) = if trans_b { (cols, rows) } else { (rows, cols) };
    if b_k != k || b.floats.len() != rows * cols {
        return Err(attrs.unsupported(format!(
            "B of shape {:?} does not multiply A with {k} columns",
            b.shape
        )));
    }
    // Dense weights are [n][k].
    let weights: Vec<f32> = (0..n)
        .flat_map(|j| (0..k).map(move |i| if trans_b { j * cols + i } else { i * cols + j }))
        .map(|idx| alpha * b.floats[idx])
        .collect();
    let bias = match cx.optional_constant(node, 2)? {
        None => vec![0.0; n],
        Some(c) => broadcast_bias(&c.floats, n).ok_or_else(|| {
            attrs.unsupported(format!(
                "C of shape {:?} does not broadcast to [1, {n}]",
                c.shape
            ))
        })?,
    };
    let bias = bias.into_iter().map(|v| beta * v).collect();
    let dense = Dense {
        inputs: k,
        outputs: n,
        weights,
        bias,
    };
    cx.push(node, Op::Dense(dense), vec![x], vec![1, n])
}

/// A bias broadcast to `n` values (scalar or `n` values).
pub fn broadcast_bias(values: &[f32], n: usize) -> Option<Vec<f32>> {
    match values.len() {
        1 => Some(vec![values[0]; n]),
        len if len == n => Some(values.to_vec()),
        _ => None,
    }
}
