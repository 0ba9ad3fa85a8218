//! `Scaler`: `(x − offset) · scale` per feature, as a dense layer with diagonal weights (the
//! parameters stay private and committed).

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::{Dense, Op};

use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// Per-feature values of a list attribute (one value applies to every feature).
fn per_feature(
    attrs: &Attrs<'_>,
    name: &str,
    default: f32,
    n: usize,
) -> Result<Vec<f32>, OnnxError> {
    match attrs.floats(name) {
        None => Ok(vec![default; n]),
        Some([v]) => Ok(vec![*v; n]),
        Some(v) if v.len() == n => Ok(v.to_vec()),
        Some(v) => Err(attrs.unsupported(format!("{} {name} values for {n} features", v.len()))),
    }
}

/// Lowers `Scaler`.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["offset", "scale"])?;
    let x = cx.activation(node, 0)?;
    let shape = cx.shape(x).to_vec();
    let n = shape.last().copied().unwrap_or(0);
    let offset = per_feature(&attrs, "offset", 0.0, n)?;
    let scale = per_feature(&attrs, "scale", 1.0, n)?;
    let weights = (0..n * n)
        .map(|i| if i / n == i % n { scale[i / n] } else { 0.0 })
        .collect();
    let dense = Dense {
        inputs: n,
        outputs: n,
        weights,
        bias: offset.iter().zip(&scale).map(|(o, s)| -o * s).collect(),
        batch: shape.iter().product::<usize>() / n.max(1),
    };
    cx.push(node, Op::Dense(dense), vec![x], shape)
}
