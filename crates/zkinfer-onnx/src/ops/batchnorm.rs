//! `BatchNormalization` (inference), folded into the preceding Conv or dense layer.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::Op;

use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// Folds `y = scale (x - mean) / sqrt(var + eps) + b` into the previous layer's weights.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["epsilon", "momentum", "spatial", "training_mode"])?;
    let v = cx.activation(node, 0)?;
    if attrs.int("training_mode", 0) != 0 {
        return Err(attrs.unsupported("training_mode 1 not supported"));
    }
    if node.output.iter().skip(1).any(|o| !o.is_empty()) {
        return Err(attrs.unsupported("running mean/var outputs are not supported"));
    }
    let eps = attrs.float("epsilon", 1e-5);
    let get = |i: usize| cx.constant(node, i).map(|c| c.floats.clone());
    let (scale, b, mean, var) = (get(1)?, get(2)?, get(3)?, get(4)?);
    let not_after = || {
        attrs.unsupported("only a BatchNormalization right after Conv or Gemm/MatMul can be folded")
    };
    let producer = cx.foldable_producer(node, 0, v).ok_or_else(not_after)?;
    let (weights, bias, k): (&mut Vec<f32>, &mut Vec<f32>, usize) = match &mut producer.op {
        Op::Conv2d(c) => {
            let k = c.kernel_len();
            (&mut c.weights, &mut c.bias, k)
        }
        Op::Dense(d) => (&mut d.weights, &mut d.bias, d.inputs),
        _ => return Err(not_after()),
    };
    let channels = bias.len();
    if [scale.len(), b.len(), mean.len(), var.len()]
        .iter()
        .any(|l| *l != channels)
    {
        return Err(attrs.unsupported(format!("parameters do not have {channels} channels")));
    }
    for ch in 0..channels {
        let f = scale[ch] / (var[ch] + eps).sqrt();
        for w in &mut weights[ch * k..(ch + 1) * k] {
            *w *= f;
        }
        bias[ch] = (bias[ch] - mean[ch]) * f + b[ch];
    }
    cx.alias(node, v)
}
