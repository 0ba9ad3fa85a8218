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
    let one_d = cx.shape(v).len() == 3;
    let pool = Pool {
        kind,
        window,
        exclude_pad,
    };
    let [c, h, w] = pool.output_shape();
    let shape = if one_d {
        vec![1, c, w]
    } else {
        vec![1, c, h, w]
    };
    if !one_d {
        return cx.push(node, Op::Pool(pool), vec![v], shape);
    }
    let name = crate::context::display_name(node);
    let image = vec![1, window.input[0], 1, window.input[2]];
    let v = cx.push_value(
        format!("{name}/image"),
        Op::Reshape(image.clone()),
        vec![v],
        image,
    );
    let pooled = cx.push_value(name, Op::Pool(pool), vec![v], vec![1, c, h, w]);
    cx.push(node, Op::Reshape(shape.clone()), vec![pooled], shape)
}

/// The pooled value, its `[C, H, W]`, and whether the input is 1-D.
fn common(
    cx: &Context,
    node: &NodeProto,
    attrs: &Attrs<'_>,
) -> Result<(usize, [usize; 3], bool), OnnxError> {
    let v = cx.activation(node, 0)?;
    let indices_read = node
        .output
        .get(1)
        .is_some_and(|o| !o.is_empty() && cx.uses.get(o).copied().unwrap_or(0) > 0);
    if indices_read {
        return Err(attrs.unsupported("the Indices output is not supported"));
    }
    let one_d = cx.shape(v).len() == 3;
    Ok((v, window::image(attrs, cx.shape(v), one_d)?, one_d))
}

/// With `ceil_mode`, the end padding that yields ONNX's rounded-up output size (the last
/// window starts inside the input or its begin padding).
fn ceil_pads(window: &mut Window) {
    for (axis, (begin, end)) in [(1usize, (0usize, 2usize)), (2, (1, 3))] {
        let size = window.input[axis] + window.pads[begin] + window.pads[end];
        let (k, s) = (window.kernel[axis - 1], window.stride[axis - 1]);
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
    let (v, input, one_d) = common(cx, node, &attrs)?;
    if attrs.int("storage_order", 0) != 0 {
        return Err(attrs.unsupported("storage_order 1 not supported"));
    }
    let mut window = window::read(&attrs, input, None, one_d)?;
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
    if attrs.int("ceil_mode", 0) != 0 {
        ceil_pads(&mut window);
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
    let (v, input, one_d) = common(cx, node, &attrs)?;
    let mut window = window::read(&attrs, input, None, one_d)?;
    let include_pad = attrs.int("count_include_pad", 0) != 0;
    if attrs.int("ceil_mode", 0) != 0 {
        if include_pad {
            return Err(attrs.unsupported("ceil_mode 1 with count_include_pad 1 not supported"));
        }
        ceil_pads(&mut window);
    }
    let exclude_pad = window.pads != [0; 4] && !include_pad;
    push(cx, node, v, PoolKind::Average, window, exclude_pad)
}

/// Lowers `GlobalAveragePool`.
pub fn lower_global_average(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&[])?;
    let (v, input, _) = common(cx, node, &attrs)?;
    let window = Window {
        input,
        kernel: [input[1], input[2]],
        stride: [1, 1],
        pads: [0; 4],
        dilation: [1, 1],
    };
    push(cx, node, v, PoolKind::Average, window, false)
}
