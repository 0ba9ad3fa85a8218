//! `MatMul(x, W)` by a constant `W` of three or more dimensions `[..., K, N]` (one matrix per
//! batch index, as tree ensembles in GEMM form and grouped projections are exported): the
//! batch dimensions broadcast; every distinct matrix is a dense layer (private weights) over
//! the rows of `x` that read it, and a gather puts the rows back in order.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::gather::{broadcast_indices, broadcast_shape};
use zkinfer_core::ir::{Dense, Entry, Gather, Op};

use super::broadcast::broadcast_to;
use super::{check_len, numel};
use crate::attrs::Attrs;
use crate::context::{display_name, Context};
use crate::tensor::Const;
use crate::OnnxError;

/// Lowers `MatMul(x, W)` with `W` a constant of rank ≥ 3.
pub fn lower(cx: &mut Context, node: &NodeProto, attrs: &Attrs<'_>) -> Result<(), OnnxError> {
    let v = cx.activation(node, 0)?;
    let w = cx.constant(node, 1)?.clone();
    let sx = cx.shape(v).to_vec();
    let rank = w.shape.len();
    let (k, n) = (w.shape[rank - 2], w.shape[rank - 1]);
    let mismatch = || attrs.unsupported(format!("shapes {sx:?} and {:?} do not multiply", w.shape));
    let mut fx = sx.clone();
    if fx.len() == 1 {
        fx.insert(0, 1);
    }
    let (m, kx) = (fx[fx.len() - 2], fx[fx.len() - 1]);
    let batch = broadcast_shape(&fx[..fx.len() - 2], &w.shape[..rank - 2]).ok_or_else(mismatch)?;
    if kx != k || w.floats.len() != numel(&w.shape) {
        return Err(mismatch());
    }
    let with = |r: usize, c: usize| [batch.clone(), vec![r, c]].concat();
    for s in [with(m, k), with(m, n)] {
        check_len(attrs, &s)?;
    }
    let name = display_name(node);
    let x = broadcast_to(cx, &name, v, &with(m, k));
    // The matrix every batch index reads.
    let reads = broadcast_indices(&w.shape[..rank - 2], &batch);
    let mut parts: Vec<usize> = Vec::new();
    let mut placed = vec![(0usize, 0usize); reads.len()];
    let mut matrices: Vec<usize> = reads.clone();
    matrices.sort_unstable();
    matrices.dedup();
    for (p, &j) in matrices.iter().enumerate() {
        let members: Vec<usize> = (0..reads.len()).filter(|b| reads[*b] == j).collect();
        for (slot, b) in members.iter().enumerate() {
            placed[*b] = (p, slot);
        }
        parts.push(part(
            cx,
            &name,
            x,
            (m, k, n),
            &members,
            &matrix(&w, j, k, n),
        ));
    }
    let entries = (0..reads.len())
        .flat_map(|b| {
            let (p, slot) = placed[b];
            (0..m * n).map(move |i| Entry::Value {
                input: p,
                index: slot * m * n + i,
            })
        })
        .collect();
    let mut out = with(m, n);
    if sx.len() == 1 {
        out.remove(out.len() - 2);
    }
    let gather = Gather {
        entries,
        shape: out.clone(),
    };
    cx.push(node, Op::Gather(gather), parts, out)
}

/// Matrix `j` of `w`, transposed to a dense layer's `[N][K]` weights.
fn matrix(w: &Const, j: usize, k: usize, n: usize) -> Vec<f32> {
    let block = &w.floats[j * k * n..(j + 1) * k * n];
    (0..n)
        .flat_map(|c| (0..k).map(move |r| block[r * n + c]))
        .collect()
}

/// The dense layer of one matrix over the `[M, K]` blocks `members` of `x`.
fn part(
    cx: &mut Context,
    name: &str,
    x: usize,
    (m, k, n): (usize, usize, usize),
    members: &[usize],
    weights: &[f32],
) -> usize {
    let rows: Vec<Entry> = members
        .iter()
        .flat_map(|b| {
            (0..m * k).map(move |i| Entry::Value {
                input: 0,
                index: b * m * k + i,
            })
        })
        .collect();
    let shape = vec![members.len() * m, k];
    let picked = cx.push_value(
        format!("{name}/rows{}", members[0]),
        Op::Gather(Gather {
            entries: rows,
            shape: shape.clone(),
        }),
        vec![x],
        shape,
    );
    let dense = Dense {
        inputs: k,
        outputs: n,
        weights: weights.to_vec(),
        bias: vec![0.0; n],
        batch: members.len() * m,
    };
    cx.push_value(
        format!("{name}/matrix{}", members[0]),
        Op::Dense(dense),
        vec![picked],
        vec![members.len() * m, n],
    )
}
