//! Shared reading of window attributes (kernel, strides, pads, auto_pad, dilations).

use tract_onnx::pb::NodeProto;
use zkinfer_core::geometry::Window;
use zkinfer_core::ir::Op;

use crate::attrs::Attrs;
use crate::context::{display_name, Context};
use crate::OnnxError;

/// An activation read as images: `batch` samples of `[C, H, W]` (a 1-D `[N, C, L]` one as
/// `[C, 1, L]`).
#[derive(Clone, Copy, Debug)]
pub struct Images {
    /// Samples (the leading axis).
    pub batch: usize,
    /// Channels, height and width of one sample.
    pub image: [usize; 3],
    /// Whether the activation is 1-D (`[N, C, L]`).
    pub one_d: bool,
}

impl Images {
    /// The channels, height and width of all samples read as one image: the samples' channels
    /// side by side (`[N·C, H, W]`), as per-channel ops (pools, grouped convolutions) see them.
    pub fn stacked(&self) -> [usize; 3] {
        [self.batch * self.image[0], self.image[1], self.image[2]]
    }

    /// The ONNX shape of `batch` samples of `[c, h, w]` in this activation's rank.
    pub fn onnx_shape(&self, [c, h, w]: [usize; 3]) -> Vec<usize> {
        if self.one_d {
            vec![self.batch, c, w]
        } else {
            vec![self.batch, c, h, w]
        }
    }
}

/// Reads an `[N, C, H, W]` activation (or `[N, C, L]`, as `[C, 1, L]`) as images.
pub fn images(attrs: &Attrs<'_>, shape: &[usize]) -> Result<Images, OnnxError> {
    match shape {
        [n, c, h, w] if *n > 0 => Ok(Images {
            batch: *n,
            image: [*c, *h, *w],
            one_d: false,
        }),
        [n, c, l] if *n > 0 => Ok(Images {
            batch: *n,
            image: [*c, 1, *l],
            one_d: true,
        }),
        s => Err(attrs.unsupported(format!(
            "input of shape {s:?} (an [N, C, H, W] or [N, C, L] activation is expected)"
        ))),
    }
}

/// Pushes `op`, which reads value `v` as the image `[1, N·C, H, W]` and yields the image
/// `[1, out]`, and names its result as `node`'s output in the input's batch and rank: the
/// reshapes around it are added when the input is batched or 1-D.
pub fn push_stacked(
    cx: &mut Context,
    node: &NodeProto,
    v: usize,
    images: Images,
    op: Op,
    out: [usize; 3],
) -> Result<(), OnnxError> {
    let shape = images.onnx_shape([out[0] / images.batch, out[1], out[2]]);
    let stacked: Vec<usize> = std::iter::once(1).chain(images.stacked()).collect();
    let image_out: Vec<usize> = std::iter::once(1).chain(out).collect();
    if cx.shape(v) == stacked.as_slice() && shape == image_out {
        return cx.push(node, op, vec![v], shape);
    }
    let name = display_name(node);
    let v = cx.push_value(
        format!("{name}/image"),
        Op::Reshape(stacked.clone()),
        vec![v],
        stacked,
    );
    let result = cx.push_value(name, op, vec![v], image_out);
    cx.push(node, Op::Reshape(shape.clone()), vec![result], shape)
}

/// A per-axis attribute of two positive values (one for a 1-D window, as `[1, v]`), or
/// `default` on both axes.
pub fn pair(
    attrs: &Attrs<'_>,
    name: &str,
    default: usize,
    one_d: bool,
) -> Result<[usize; 2], OnnxError> {
    match attrs.ints(name) {
        None => Ok([default; 2]),
        Some([a, b]) if *a > 0 && *b > 0 && !one_d => Ok([*a as usize, *b as usize]),
        Some([a]) if *a > 0 && one_d => Ok([1, *a as usize]),
        Some(v) => Err(attrs.unsupported(format!(
            "{name} {v:?} ({} positive values expected)",
            if one_d { 1 } else { 2 }
        ))),
    }
}

/// Reads a 2-D window (`one_d`: a 1-D one over `[C, 1, L]`); `kernel` is given when the op
/// takes it from a tensor (Conv weights).
pub fn read(
    attrs: &Attrs<'_>,
    input: [usize; 3],
    kernel: Option<[usize; 2]>,
    one_d: bool,
) -> Result<Window, OnnxError> {
    let kernel = match (attrs.ints("kernel_shape"), kernel) {
        (Some(_), _) | (None, None) => pair(attrs, "kernel_shape", 0, one_d)?,
        (None, Some(k)) => k,
    };
    if kernel.contains(&0) {
        return Err(attrs.unsupported("kernel_shape is required"));
    }
    let stride = pair(attrs, "strides", 1, one_d)?;
    let dilation = pair(attrs, "dilations", 1, one_d)?;
    let span = |k: usize, d: usize| (k - 1) * d + 1;
    let pads = match attrs.string("auto_pad", "NOTSET").as_str() {
        "NOTSET" => match attrs.ints("pads") {
            None => [0; 4],
            Some(p) if p.len() == 4 && p.iter().all(|v| *v >= 0) && !one_d => {
                [p[0] as usize, p[1] as usize, p[2] as usize, p[3] as usize]
            }
            Some(p) if p.len() == 2 && p.iter().all(|v| *v >= 0) && one_d => {
                [0, p[0] as usize, 0, p[1] as usize]
            }
            Some(p) => {
                return Err(attrs.unsupported(format!(
                    "pads {p:?} (non-negative begin and end values per axis expected)"
                )))
            }
        },
        "VALID" => [0; 4],
        mode @ ("SAME_UPPER" | "SAME_LOWER") => {
            let total = |size: usize, k: usize, s: usize| {
                (size.div_ceil(s).saturating_sub(1) * s + k).saturating_sub(size)
            };
            let (th, tw) = (
                total(input[1], span(kernel[0], dilation[0]), stride[0]),
                total(input[2], span(kernel[1], dilation[1]), stride[1]),
            );
            if mode == "SAME_UPPER" {
                [th / 2, tw / 2, th - th / 2, tw - tw / 2]
            } else {
                [th - th / 2, tw - tw / 2, th / 2, tw / 2]
            }
        }
        other => return Err(attrs.unsupported(format!("auto_pad {other} not supported"))),
    };
    let window = Window {
        input,
        kernel,
        stride,
        pads,
        dilation,
    };
    if !window.is_reasonable() {
        return Err(attrs.unsupported(format!("window {window:?} does not fit the input")));
    }
    Ok(window)
}

/// The `group` attribute of a convolution over `channels` input channels.
pub fn groups(attrs: &Attrs<'_>, channels: usize) -> Result<usize, OnnxError> {
    let group = attrs.int("group", 1);
    usize::try_from(group)
        .ok()
        .filter(|g| *g > 0 && channels.is_multiple_of(*g))
        .ok_or_else(|| {
            attrs.unsupported(format!(
                "group {group} does not divide {channels} input channels"
            ))
        })
}

/// A convolution kernel's shape as `[a, b, kh, kw]` (a 1-D kernel `[a, b, l]` as
/// `[a, b, 1, l]`).
pub fn kernel_dims(
    attrs: &Attrs<'_>,
    shape: &[usize],
    one_d: bool,
) -> Result<[usize; 4], OnnxError> {
    match shape {
        [a, b, y, x] if !one_d => Ok([*a, *b, *y, *x]),
        [a, b, l] if one_d => Ok([*a, *b, 1, *l]),
        s => Err(attrs.unsupported(format!(
            "weights of shape {s:?} ({}-D expected)",
            if one_d { 3 } else { 4 }
        ))),
    }
}

/// A convolution's optional constant bias (input 2) of `channels` values; zeros without one.
pub fn bias(cx: &Context, node: &NodeProto, channels: usize) -> Result<Vec<f32>, OnnxError> {
    match cx.optional_constant(node, 2)? {
        None => Ok(vec![0.0; channels]),
        Some(b) if b.floats.len() == channels => Ok(b.floats.clone()),
        Some(b) => Err(Attrs::new(node).unsupported(format!(
            "bias of shape {:?} (expected [{channels}])",
            b.shape
        ))),
    }
}
