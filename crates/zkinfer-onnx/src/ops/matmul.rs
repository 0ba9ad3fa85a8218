//! `MatMul`: an activation times a constant 2-D matrix (a dense layer whose weights stay
//! private; a batch of matrices in `batched_matmul`), or the product of two activations
//! (attention scores and values).

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::gather::broadcast_shape;
use zkinfer_core::ir::{Dense, MatMul, Op};

use super::broadcast::broadcast_to;
use crate::context::display_name;

use super::numel;
use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// Lowers `MatMul(x, W)` to a dense layer without bias (a following `Add` supplies it).
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&[])?;
    if cx.is_activation(node, 0) && cx.is_activation(node, 1) {
        return lower_activations(cx, node, &attrs);
    }
    let v = cx.activation(node, 0)?;
    let w = cx.constant(node, 1)?;
    if w.shape.len() >= 3 {
        return super::batched_matmul::lower(cx, node, &attrs);
    }
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

/// `A · B` for two activations with numpy matmul semantics (1-D operands promoted, batch
/// dimensions broadcast).
fn lower_activations(
    cx: &mut Context,
    node: &NodeProto,
    attrs: &Attrs<'_>,
) -> Result<(), OnnxError> {
    let (a, b) = (cx.activation(node, 0)?, cx.activation(node, 1)?);
    let (sa, sb) = (cx.shape(a).to_vec(), cx.shape(b).to_vec());
    let mismatch = || attrs.unsupported(format!("shapes {sa:?} and {sb:?} do not multiply"));
    let mut fa = sa.clone();
    if fa.len() == 1 {
        fa.insert(0, 1);
    }
    let mut fb = sb.clone();
    if fb.len() == 1 {
        fb.push(1);
    }
    if fa.len() < 2 || fb.len() < 2 {
        return Err(mismatch());
    }
    let (m, k) = (fa[fa.len() - 2], fa[fa.len() - 1]);
    let (k2, n) = (fb[fb.len() - 2], fb[fb.len() - 1]);
    let batch = broadcast_shape(&fa[..fa.len() - 2], &fb[..fb.len() - 2]).ok_or_else(mismatch)?;
    if k != k2 {
        return Err(mismatch());
    }
    let name = display_name(node);
    let full = |mut b: Vec<usize>, r: usize, c: usize| {
        b.extend([r, c]);
        b
    };
    let a = broadcast_to(cx, &name, a, &full(batch.clone(), m, k));
    let b = broadcast_to(cx, &name, b, &full(batch.clone(), k, n));
    let mut out = full(batch.clone(), m, n);
    for s in [&out, &full(batch.clone(), m, k), &full(batch.clone(), k, n)] {
        super::check_len(attrs, s)?;
    }
    if sa.len() == 1 {
        out.remove(out.len() - 2);
    }
    if sb.len() == 1 {
        out.pop();
    }
    let mm = MatMul {
        batch: numel(&batch),
        m,
        k,
        n,
    };
    cx.push(node, Op::MatMul(mm), vec![a, b], out)
}
