//! `Conv` (2-D, and 1-D as a 2-D one of height 1; strides, pads, dilations, groups including
//! depthwise; any batch) with constant weights and bias.

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
    let images = window::images(&attrs, cx.shape(v))?;
    let (one_d, input) = (images.one_d, images.image);
    let groups = window::groups(&attrs, input[0])?;
    let w = cx.constant(node, 1)?;
    let [co, ci, kh, kw] = window::kernel_dims(&attrs, &w.shape, one_d)?;
    if ci * groups != input[0] || !co.is_multiple_of(groups) || w.floats.len() != co * ci * kh * kw
    {
        return Err(attrs.unsupported(format!(
            "weights of shape {:?} do not fit {} input channels in {groups} groups",
            w.shape, input[0]
        )));
    }
    let window = window::read(&attrs, images.stacked(), Some([kh, kw]), one_d)?;
    if window.kernel != [kh, kw] {
        return Err(attrs.unsupported(format!(
            "kernel_shape {:?} differs from the weights' {:?}",
            window.kernel,
            [kh, kw]
        )));
    }
    let bias = window::bias(cx, node, co)?;
    // A batch is one image with the samples' channels side by side, convolved in
    // `batch × groups` groups by the weights repeated per sample.
    let conv = Conv2d {
        window,
        out_channels: co * images.batch,
        weights: w.floats.repeat(images.batch),
        bias: bias.repeat(images.batch),
        groups: groups * images.batch,
    };
    let out = conv.output_shape();
    window::push_stacked(cx, node, v, images, Op::Conv2d(conv), out)
}
