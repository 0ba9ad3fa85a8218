//! `Gemm`: `Y = alpha · A' · B' + beta · C`, A the activation, B and C constant. A transposed A
//! is transposed by a gather first; a C that varies by row is added as a public constant.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::{Dense, Gather, Op};

use super::broadcast::constant_to;
use crate::context::display_name;
use crate::tensor::Const;

use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// Lowers a Gemm node to a dense layer.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["alpha", "beta", "transA", "transB"])?;
    let mut x = cx.activation(node, 0)?;
    let (alpha, beta) = (attrs.float("alpha", 1.0), attrs.float("beta", 1.0));
    let trans_a = attrs.int("transA", 0) != 0;
    let trans_b = attrs.int("transB", 0) != 0;
    let name = display_name(node);
    let a = cx.shape(x).to_vec();
    let (m, k) = match (a.as_slice(), trans_a) {
        ([m, k], false) => (*m, *k),
        ([k, 1], true) => (1, *k),
        ([k, m], true) => {
            // A is [K, M]: gather its transpose [M, K].
            let (k, m) = (*k, *m);
            let t = Gather {
                shape: vec![m, k],
                ..Gather::transposed(k, m, 1)
            };
            x = cx.push_value(
                format!("{name}/transpose_a"),
                Op::Gather(t),
                vec![x],
                vec![m, k],
            );
            (m, k)
        }
        _ => return Err(attrs.unsupported(format!("input A of shape {a:?} (2-D expected)"))),
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
    // A C that varies by row is added after the product as a public constant.
    let mut row_constant: Option<Const> = None;
    let bias = match cx.optional_constant(node, 2)? {
        None => vec![0.0; n],
        Some(c) if c.shape.len() == 2 && c.shape[0] > 1 => {
            if c.shape[0] != m || (c.shape[1] != n && c.shape[1] != 1) {
                return Err(attrs.unsupported(format!(
                    "C of shape {:?} does not broadcast to [{m}, {n}]",
                    c.shape
                )));
            }
            row_constant = Some(Const {
                shape: c.shape.clone(),
                floats: c.values().iter().map(|v| beta * v).collect(),
                ints: vec![],
            });
            vec![0.0; n]
        }
        Some(c) => broadcast_bias(&c.values(), n).ok_or_else(|| {
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
    let Some(c) = row_constant else {
        return cx.push(node, Op::Dense(dense), vec![x], vec![m, n]);
    };
    let y = cx.push_value(name.clone(), Op::Dense(dense), vec![x], vec![m, n]);
    let cv = constant_to(cx, &name, &c, &[m, n]);
    cx.push(node, Op::Add, vec![y, cv], vec![m, n])
}

/// A bias broadcast to `n` values (scalar or `n` values).
pub fn broadcast_bias(values: &[f32], n: usize) -> Option<Vec<f32>> {
    match values.len() {
        1 => Some(vec![values[0]; n]),
        len if len == n => Some(values.to_vec()),
        _ => None,
    }
}
