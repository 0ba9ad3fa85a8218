//! `BatchNormalization` (inference): folded into the preceding Conv or dense layer when there
//! is one; otherwise a depthwise 1 × 1 convolution (its scales and shifts stay private and
//! committed like any weights), with the batch moved next to the positions by gathers.

use tract_onnx::pb::NodeProto;
use zkinfer_core::geometry::Window;
use zkinfer_core::ir::{Conv2d, Gather, Op};

use super::numel;
use crate::context::display_name;

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
    let foldable = cx
        .foldable_producer(node, 0, v)
        .is_some_and(|p| matches!(p.op, Op::Conv2d(_) | Op::Dense(_)));
    if !foldable {
        let f: Vec<f32> = (0..scale.len().min(var.len()))
            .map(|c| scale[c] / (var[c] + eps).sqrt())
            .collect();
        let shift: Vec<f32> = (0..f.len().min(b.len()).min(mean.len()))
            .map(|c| b[c] - mean[c] * f[c])
            .collect();
        return standalone(cx, node, &attrs, v, f, shift);
    }
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

/// `y[n, c, …] = f[c] · x[n, c, …] + shift[c]` as a depthwise 1 × 1 convolution over the
/// channel-major `[C, N, rest]` view of `x` (`[N, C, …]`).
fn standalone(
    cx: &mut Context,
    node: &NodeProto,
    attrs: &Attrs<'_>,
    v: usize,
    f: Vec<f32>,
    shift: Vec<f32>,
) -> Result<(), OnnxError> {
    let shape = cx.shape(v).to_vec();
    let (n, c) = match shape.as_slice() {
        [n, c, ..] => (*n, *c),
        s => return Err(attrs.unsupported(format!("input of shape {s:?} has no channel axis"))),
    };
    if f.len() != c || shift.len() != c {
        return Err(attrs.unsupported(format!("parameters do not have {c} channels")));
    }
    let rest = numel(&shape[2..]);
    let name = display_name(node);
    // [N, C, R] -> [C, N, R] (a reshape when N = 1).
    let image = vec![1, c, n, rest];
    let x = if n == 1 {
        cx.push_value(
            format!("{name}/image"),
            Op::Reshape(image.clone()),
            vec![v],
            image,
        )
    } else {
        let g = Gather::transposed(n, c, rest);
        cx.push_value(format!("{name}/channels"), Op::Gather(g), vec![v], image)
    };
    let conv = Conv2d {
        window: Window {
            input: [c, n, rest],
            kernel: [1, 1],
            stride: [1, 1],
            pads: [0; 4],
            dilation: [1, 1],
        },
        out_channels: c,
        weights: f,
        bias: shift,
        groups: c,
    };
    if n == 1 {
        let y = cx.push_value(name, Op::Conv2d(conv), vec![x], vec![1, c, 1, rest]);
        return cx.push(node, Op::Reshape(shape.clone()), vec![y], shape);
    }
    let y = cx.push_value(name, Op::Conv2d(conv), vec![x], vec![1, c, n, rest]);
    let mut back = Gather::transposed(c, n, rest);
    back.shape = shape.clone();
    cx.push(node, Op::Gather(back), vec![y], shape)
}
