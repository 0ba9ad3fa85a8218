//! `Conv` (2-D, and 1-D as a 2-D one of height 1; strides, pads, dilations, groups including
//! depthwise) with constant weights and bias.

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
    let one_d = cx.shape(v).len() == 3;
    let input = window::image(&attrs, cx.shape(v), one_d)?;
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
        [a, b, c, d] if !one_d => [*a, *b, *c, *d],
        [a, b, l] if one_d => [*a, *b, 1, *l],
        s => {
            return Err(attrs.unsupported(format!(
                "weights of shape {s:?} ({}-D expected)",
                if one_d { 3 } else { 4 }
            )))
        }
    };
    if ci * groups != input[0] || !co.is_multiple_of(groups) || w.floats.len() != co * ci * kh * kw
    {
        return Err(attrs.unsupported(format!(
            "weights of shape {:?} do not fit {} input channels in {groups} groups",
            w.shape, input[0]
        )));
    }
    let window = window::read(&attrs, input, Some([kh, kw]), one_d)?;
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
    if !one_d {
        return cx.push(node, Op::Conv2d(conv), vec![v], vec![1, oc, oh, ow]);
    }
    // `[1, C, L]` is read as the image `[1, C, 1, L]` and the result read back as `[1, C', L']`.
    let name = crate::context::display_name(node);
    let image = vec![1, input[0], 1, input[2]];
    let v = cx.push_value(
        format!("{name}/image"),
        Op::Reshape(image.clone()),
        vec![v],
        image,
    );
    let conved = cx.push_value(name, Op::Conv2d(conv), vec![v], vec![1, oc, oh, ow]);
    cx.push(
        node,
        Op::Reshape(vec![1, oc, ow]),
        vec![conved],
        vec![1, oc, ow],
    )
}
