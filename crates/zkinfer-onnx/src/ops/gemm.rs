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
    // A is [M, K] (rows of the batch), or [K, 1] with transA (the same data as [1, K]).
    let a = cx.shape(x);
    let (m, k) = match (a, trans_a) {
        ([m, k], false) => (*m, *k),
        ([k, 1], true) => (1, *k),
        _ => {
            return Err(attrs.unsupported(format!(
                "input A of shape {a:?} with transA={} (a transposed A must have one column)",
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
        Some(c) if c.shape.len() == 2 && c.shape[0] > 1 => {
            return Err(attrs.unsupported(format!(
                "C of shape {:?} varies by row (only a row bias is supported)",
                c.shape
            )))
        }
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
        batch: m,
    };
    cx.push(node, Op::Dense(dense), vec![x], vec![m, n])
}

/// A bias broadcast to `n` values (scalar or `n` values).
pub fn broadcast_bias(values: &[f32], n: usize) -> Option<Vec<f32>> {
    match values.len() {
        1 => Some(vec![values[0]; n]),
        len if len == n => Some(values.to_vec()),
        _ => None,
    }
}
