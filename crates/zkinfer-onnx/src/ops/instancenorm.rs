//! `InstanceNormalization`: each channel of each item normalised over its spatial positions
//! (the pieces of LayerNormalization from axis 2), then a per-channel scale and bias (public
//! constants).

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::Op;

use super::broadcast::constant_to;
use super::layernorm::normalize;
use crate::attrs::Attrs;
use crate::context::{display_name, Context};
use crate::tensor::Const;
use crate::OnnxError;

/// A per-channel constant as `[C, 1, …, 1]`, broadcasting over an `[N, C, …]` tensor.
fn per_channel(c: &Const, rank: usize, channels: usize) -> Result<Const, String> {
    if c.values().len() != channels {
        return Err(format!(
            "{} values for {channels} channels",
            c.values().len()
        ));
    }
    let mut shape = vec![1; rank - 1];
    shape[0] = channels;
    Ok(Const {
        shape,
        floats: c.values(),
        ints: vec![],
    })
}

/// Lowers `InstanceNormalization`.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["epsilon"])?;
    let x = cx.activation(node, 0)?;
    let shape = cx.shape(x).to_vec();
    if shape.len() < 3 {
        return Err(attrs.unsupported(format!(
            "input of shape {shape:?} (N, C and spatial axes expected)"
        )));
    }
    let name = display_name(node);
    let channels = shape[1];
    let scale = per_channel(cx.constant(node, 1)?, shape.len(), channels)
        .map_err(|e| attrs.unsupported(e))?;
    let bias = per_channel(cx.constant(node, 2)?, shape.len(), channels)
        .map_err(|e| attrs.unsupported(e))?;
    let n = normalize(cx, &name, x, 2, attrs.float("epsilon", 1e-5))
        .map_err(|e| attrs.unsupported(e))?;
    let g = constant_to(cx, &format!("{name}/scale"), &scale, &shape);
    let y = cx.push_value(format!("{name}/scaled"), Op::Mul, vec![n, g], shape.clone());
    let b = constant_to(cx, &format!("{name}/bias"), &bias, &shape);
    cx.push(node, Op::Add, vec![y, b], shape)
}
