//! `MaxPool`, `AveragePool` and `GlobalAveragePool`.

use tract_onnx::pb::NodeProto;
use zkinfer_core::geometry::Window;
use zkinfer_core::ir::{Op, Pool, PoolKind};

use super::window;
use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

fn push(
    cx: &mut Context,
    node: &NodeProto,
    v: usize,
    kind: PoolKind,
    window: Window,
    exclude_pad: bool,
) -> Result<(), OnnxError> {
    let pool = Pool {
        kind,
        window,
        exclude_pad,
    };
    let [c, h, w] = pool.output_shape();
    cx.push(node, Op::Pool(pool), vec![v], vec![1, c, h, w])
}

fn common(
    cx: &Context,
    node: &NodeProto,
    attrs: &Attrs<'_>,
) -> Result<(usize, [usize; 3]), OnnxError> {
    let v = cx.activation(node, 0)?;
    if attrs.int("ceil_mode", 0) != 0 {
        return Err(attrs.unsupported("ceil_mode 1 not supported"));
    }
    if node.output.len() > 1 && !node.output[1].is_empty() {
        return Err(attrs.unsupported("the Indices output is not supported"));
    }
    Ok((v, window::image(attrs, cx.shape(v))?))
}

/// Lowers `MaxPool`.
pub fn lower_max(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&[
        "auto_pad",
        "ceil_mode",
        "dilations",
        "kernel_shape",
        "pads",
        "storage_order",
        "strides",
    ])?;
    let (v, input) = common(cx, node, &attrs)?;
    if attrs.int("storage_order", 0) != 0 {
        return Err(attrs.unsupported("storage_order 1 not supported"));
    }
    let window = window::read(&attrs, input, None)?;
    if window.pads[0] >= window.kernel[0]
        || window.pads[1] >= window.kernel[1]
        || window.pads[2] >= window.kernel[0]
        || window.pads[3] >= window.kernel[1]
    {
        return Err(attrs.unsupported(format!(
            "pads {:?} not smaller than the kernel",
            window.pads
        )));
    }
    push(cx, node, v, PoolKind::Max, window, false)
}

/// Lowers `AveragePool` (count_include_pad 0 divides by the values inside the input).
pub fn lower_average(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&[
        "auto_pad",
        "ceil_mode",
        "count_include_pad",
        "dilations",
        "kernel_shape",
        "pads",
        "strides",
    ])?;
    let (v, input) = common(cx, node, &attrs)?;
    let window = window::read(&attrs, input, None)?;
    let exclude_pad = window.pads != [0; 4] && attrs.int("count_include_pad", 0) == 0;
    push(cx, node, v, PoolKind::Average, window, exclude_pad)
}

/// Lowers `GlobalAveragePool`.
pub fn lower_global_average(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&[])?;
    let (v, input) = common(cx, node, &attrs)?;
    let window = Window {
        input,
        kernel: [input[1], input[2]],
        stride: [1, 1],
        pads: [0; 4],
    };
    push(cx, node, v, PoolKind::Average, window, false)
}
