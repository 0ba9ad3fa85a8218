//! `Conv` (2-D; strides, pads, dilations, groups including depthwise) with constant weights
//! and bias.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::{Conv2d, Op};

use super::window;
use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// Lowers a Conv node.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&[
        "auto_pad",
        "dilations",
        "group",
        "kernel_shape",
        "pads",
        "strides",
    ])?;
    let v = cx.activation(node, 0)?;
    let input = window::image(&attrs, cx.shape(v), false)?;
    let group = attrs.int("group", 1);
    let groups = usize::try_from(group)
        .ok()
        .filter(|g| *g > 0 && input[0].is_multiple_of(*g))
        .ok_or_else(|| {
            attrs.unsupported(format!(
                "group {group} does not divide {} input channels",
                input[0]
            ))
        })?;
    let w = cx.constant(node, 1)?;
    let [co, ci, kh, kw] = match w.shape.as_slice() {
        [a, b, c, d] => [*a, *b, *c, *d],
        s => return Err(attrs.unsupported(format!("weights of shape {s:?} (4-D expected)"))),
    };
    if ci * groups != input[0] || !co.is_multiple_of(groups) || w.floats.len() != co * ci * kh * kw
    {
        return Err(attrs.unsupported(format!(
            "weights of shape {:?} do not fit {} input channels in {groups} groups",
            w.shape, input[0]
        )));
    }
    let window = window::read(&attrs, input, Some([kh, kw]), false)?;
    if window.kernel != [kh, kw] {
        return Err(attrs.unsupported(format!(
            "kernel_shape {:?} differs from the weights' {:?}",
            window.kernel,
            [kh, kw]
        )));
    }
    let weights = w.floats.clone();
    let bias = match cx.optional_constant(node, 2)? {
        None => vec![0.0; co],
        Some(b) if b.floats.len() == co => b.floats.clone(),
        Some(b) => {
            return Err(attrs.unsupported(format!("bias of shape {:?} (expected [{co}])", b.shape)))
        }
    };
    let conv = Conv2d {
        window,
        out_channels: co,
        weights,
        bias,
        groups,
    };
    let [oc, oh, ow] = conv.output_shape();
    cx.push(node, Op::Conv2d(conv), vec![v], vec![1, oc, oh, ow])
}
