//! `MaxPool`, `AveragePool`, `GlobalAveragePool` and `GlobalMaxPool`, on any batch (the
//! samples' channels side by side in one image).

use tract_onnx::pb::NodeProto;
use zkinfer_core::geometry::Window;
use zkinfer_core::ir::{Op, Pool, PoolKind};

use super::window::{self, Images};
use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

fn push(
    cx: &mut Context,
    node: &NodeProto,
    (v, images): (usize, Images),
    kind: PoolKind,
    window: Window,
    exclude_pad: bool,
) -> Result<(), OnnxError> {
    let pool = Pool {
        kind,
        window,
        exclude_pad,
    };
    let out = pool.output_shape();
    window::push_stacked(cx, node, v, images, Op::Pool(pool), out)
}

/// The pooled value and how it reads as images (a batch is pooled as one image with the
/// samples' channels side by side: pools work channel by channel).
fn common(cx: &Context, node: &NodeProto, attrs: &Attrs<'_>) -> Result<(usize, Images), OnnxError> {
    let v = cx.activation(node, 0)?;
    let indices_read = node
        .output
        .get(1)
        .is_some_and(|o| !o.is_empty() && cx.uses.get(o).copied().unwrap_or(0) > 0);
    if indices_read {
        return Err(attrs.unsupported("the Indices output is not supported"));
    }
    Ok((v, window::images(attrs, cx.shape(v))?))
}

/// With `ceil_mode`, the end padding that yields ONNX's rounded-up output size (the last
/// window starts inside the input or its begin padding).
fn ceil_pads(window: &mut Window) {
    for (axis, (begin, end)) in [(1usize, (0usize, 2usize)), (2, (1, 3))] {
        let size = window.input[axis] + window.pads[begin] + window.pads[end];
        // The window's span: the kernel spread by its dilation.
        let k = (window.kernel[axis - 1] - 1) * window.dilation[axis - 1] + 1;
        let s = window.stride[axis - 1];
        if size < k {
            continue;
        }
        let mut out = (size - k).div_ceil(s) + 1;
        if (out - 1) * s >= window.input[axis] + window.pads[begin] {
            out -= 1;
        }
        window.pads[end] += ((out - 1) * s + k).saturating_sub(size);
    }
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
    let read = common(cx, node, &attrs)?;
    if attrs.int("storage_order", 0) != 0 {
        return Err(attrs.unsupported("storage_order 1 not supported"));
    }
    let mut window = window::read(&attrs, read.1.stacked(), None, read.1.one_d)?;
    let span = |a: usize| (window.kernel[a] - 1) * window.dilation[a] + 1;
    if window.pads[0] >= span(0)
        || window.pads[1] >= span(1)
        || window.pads[2] >= span(0)
        || window.pads[3] >= span(1)
    {
        return Err(attrs.unsupported(format!(
            "pads {:?} not smaller than the dilated kernel",
            window.pads
        )));
    }
    if attrs.int("ceil_mode", 0) != 0 {
        ceil_pads(&mut window);
    }
    push(cx, node, read, PoolKind::Max, window, false)
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
    let read = common(cx, node, &attrs)?;
    let mut window = window::read(&attrs, read.1.stacked(), None, read.1.one_d)?;
    let include_pad = attrs.int("count_include_pad", 0) != 0;
    if attrs.int("ceil_mode", 0) != 0 {
        if include_pad {
            return Err(attrs.unsupported("ceil_mode 1 with count_include_pad 1 not supported"));
        }
        ceil_pads(&mut window);
    }
    let exclude_pad = window.pads != [0; 4] && !include_pad;
    push(cx, node, read, PoolKind::Average, window, exclude_pad)
}

/// Lowers `GlobalAveragePool` and `GlobalMaxPool`: one window over each channel.
fn lower_global(cx: &mut Context, node: &NodeProto, kind: PoolKind) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&[])?;
    let read = common(cx, node, &attrs)?;
    let input = read.1.stacked();
    let window = Window {
        input,
        kernel: [input[1], input[2]],
        stride: [1, 1],
        pads: [0; 4],
        dilation: [1, 1],
    };
    push(cx, node, read, kind, window, false)
}

/// Lowers `GlobalAveragePool`.
pub fn lower_global_average(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    lower_global(cx, node, PoolKind::Average)
}

/// Lowers `GlobalMaxPool`.
pub fn lower_global_max(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    lower_global(cx, node, PoolKind::Max)
}
