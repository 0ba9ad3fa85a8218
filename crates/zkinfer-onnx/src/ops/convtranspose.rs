//! `ConvTranspose` (2-D, and 1-D as 2-D of height 1; strides, dilations, pads, auto_pad,
//! output_padding, output_shape, groups; any batch) with constant weights and bias: the input
//! spread out by the strides with zeros between and padded (a gather with constant zeros,
//! proved by wiring), then convolved with stride 1 by the kernel flipped and its channel axes
//! swapped (the MAC chip).

use tract_onnx::pb::NodeProto;
use zkinfer_core::geometry::Window;
use zkinfer_core::ir::{Conv2d, Entry, Gather, Op};

use super::window::{self, Images};
use crate::attrs::Attrs;
use crate::context::{display_name, Context};
use crate::OnnxError;

/// The most values the spread input may hold.
const MAX_SPREAD: usize = 1 << 24;

/// One spatial axis: input length, kernel, stride, dilation and the output's padding.
#[derive(Clone, Copy, Debug)]
struct Line {
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    /// Output positions cut at the start and at the end (negative: zeros added).
    cut: [i64; 2],
    /// Extra output positions at the end (`output_padding`).
    extra: usize,
}

impl Line {
    /// The output length before cutting.
    fn full(&self) -> i64 {
        (self.stride * (self.input - 1) + self.extra + self.dilation * (self.kernel - 1) + 1) as i64
    }

    /// The output length.
    fn output(&self) -> Option<usize> {
        usize::try_from(
            self.full()
                .saturating_sub(self.cut[0])
                .saturating_sub(self.cut[1]),
        )
        .ok()
        .filter(|n| *n > 0)
    }

    /// The spread input's length: the output plus the kernel's span less one.
    fn spread(&self) -> Option<usize> {
        Some(self.output()? + self.dilation * (self.kernel - 1))
    }

    /// The input position read at spread position `y`, or `None` for a zero.
    fn source(&self, y: usize) -> Option<usize> {
        let u = y as i64 + self.cut[0] - (self.dilation * (self.kernel - 1)) as i64;
        let u = usize::try_from(u).ok()?;
        (u % self.stride == 0 && u / self.stride < self.input).then_some(u / self.stride)
    }
}

/// Lowers a ConvTranspose node.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&[
        "auto_pad",
        "dilations",
        "group",
        "kernel_shape",
        "output_padding",
        "output_shape",
        "pads",
        "strides",
    ])?;
    let v = cx.activation(node, 0)?;
    let images = window::images(&attrs, cx.shape(v))?;
    let [c, h, w] = images.image;
    let groups = window::groups(&attrs, c)?;
    let weights = cx.constant(node, 1)?;
    let [ci, cog, kh, kw] = window::kernel_dims(&attrs, &weights.shape, images.one_d)?;
    if ci != c || weights.floats.len() != ci * cog * kh * kw || kh * kw == 0 {
        return Err(attrs.unsupported(format!(
            "weights of shape {:?} do not fit {c} input channels",
            weights.shape
        )));
    }
    let declared = attrs.ints("kernel_shape");
    let wanted: &[i64] = if images.one_d {
        &[kw as i64]
    } else {
        &[kh as i64, kw as i64]
    };
    if declared.is_some_and(|k| k != wanted) {
        return Err(attrs.unsupported(format!(
            "kernel_shape {declared:?} differs from the weights' {wanted:?}"
        )));
    }
    let co = cog * groups;
    let bias = window::bias(cx, node, co)?;
    let lines = lines(&attrs, [h, w], [kh, kw], images.one_d)?;
    let flipped = flip(&weights.floats, [ci, cog, kh, kw], groups);
    let spread = spread(cx, node, v, images, &lines)?;
    let [sh, sw] = [lines[0].spread(), lines[1].spread()].map(|n| n.unwrap_or(0));
    let conv = Conv2d {
        window: Window {
            input: [images.batch * c, sh, sw],
            kernel: [kh, kw],
            stride: [1, 1],
            pads: [0; 4],
            dilation: [lines[0].dilation, lines[1].dilation],
        },
        out_channels: co * images.batch,
        weights: flipped.repeat(images.batch),
        bias: bias.repeat(images.batch),
        groups: groups * images.batch,
    };
    if !conv.window.is_reasonable() {
        return Err(attrs.unsupported(format!("window {:?} does not fit", conv.window)));
    }
    let out = conv.output_shape();
    let stacked = Images {
        image: [c, sh, sw],
        ..images
    };
    window::push_stacked(cx, node, spread, stacked, Op::Conv2d(conv), out)
}

/// Reads the two spatial axes' strides, dilations and padding.
fn lines(
    attrs: &Attrs<'_>,
    input: [usize; 2],
    kernel: [usize; 2],
    one_d: bool,
) -> Result<[Line; 2], OnnxError> {
    let stride = window::pair(attrs, "strides", 1, one_d)?;
    let dilation = window::pair(attrs, "dilations", 1, one_d)?;
    let extra = match attrs.ints("output_padding") {
        None => [0, 0],
        Some(v) => {
            let v: Vec<usize> = v
                .iter()
                .map(|x| usize::try_from(*x).unwrap_or(usize::MAX))
                .collect();
            match (v.as_slice(), one_d) {
                ([a, b], false) => [*a, *b],
                ([a], true) => [0, *a],
                _ => return Err(attrs.unsupported(format!("output_padding {v:?}"))),
            }
        }
    };
    let mut lines = [0, 1].map(|i| Line {
        input: input[i],
        kernel: kernel[i],
        stride: stride[i],
        dilation: dilation[i],
        cut: [0, 0],
        extra: extra[i],
    });
    let small = |v: usize| v <= 1 << 12;
    if lines
        .iter()
        .any(|l| !small(l.input) || !small(l.kernel) || !small(l.stride) || !small(l.dilation))
    {
        return Err(attrs.unsupported(format!(
            "strides {stride:?}, dilations {dilation:?} or kernel {kernel:?} beyond 4096"
        )));
    }
    if lines.iter().any(|l| l.extra >= l.stride.max(l.dilation)) {
        return Err(attrs.unsupported(format!(
            "output_padding {extra:?} (smaller than the stride or dilation expected)"
        )));
    }
    let wanted = attrs.ints("output_shape").map(|s| {
        let s: Vec<i64> = s.to_vec();
        let tail = &s[s.len().saturating_sub(if one_d { 1 } else { 2 })..];
        if one_d {
            vec![1, tail.first().copied().unwrap_or(0)]
        } else {
            tail.to_vec()
        }
    });
    let auto = attrs.string("auto_pad", "NOTSET");
    for (i, line) in lines.iter_mut().enumerate() {
        let total = match (&wanted, auto.as_str()) {
            (Some(shape), _) => Some(*shape.get(i).unwrap_or(&0)),
            (None, "SAME_UPPER" | "SAME_LOWER") => Some((line.input * line.stride) as i64),
            (None, "NOTSET" | "VALID") => None,
            (None, other) => {
                return Err(attrs.unsupported(format!("auto_pad {other} not supported")))
            }
        }
        .map(|out| line.full().saturating_sub(out));
        // As the ONNX runtime does: an odd total is split with the larger part at the end for
        // SAME_UPPER and at the start otherwise; an output_shape longer than the full result
        // adds (bias-only) positions at the end; SAME never grows the full result.
        line.cut = match total {
            Some(t) if t < 0 && wanted.is_none() => [0, 0],
            Some(t) if t < 0 => [0, t],
            Some(t) if auto == "SAME_UPPER" => [t / 2, t - t / 2],
            Some(t) => [t - t / 2, t / 2],
            None => pads(attrs, i, one_d, &auto)?.map(|p| p as i64),
        };
        if line.spread().is_none() {
            return Err(attrs.unsupported("the padding leaves no output"));
        }
    }
    Ok(lines)
}

/// The explicit `pads` of spatial axis `i`.
fn pads(attrs: &Attrs<'_>, i: usize, one_d: bool, auto: &str) -> Result<[usize; 2], OnnxError> {
    let p = match attrs.ints("pads") {
        None => return Ok([0, 0]),
        Some(_) if auto == "VALID" => return Ok([0, 0]),
        Some(p) => p,
    };
    let get = |k: usize| {
        p.get(k)
            .and_then(|v| usize::try_from(*v).ok())
            .filter(|v| *v <= 1 << 12)
    };
    let found = match (one_d, i) {
        (true, 0) => Some([0, 0]),
        (true, _) => get(0).zip(get(1)).map(|(a, b)| [a, b]),
        (false, _) => get(i).zip(get(i + 2)).map(|(a, b)| [a, b]),
    };
    found
        .filter(|_| p.len() == if one_d { 2 } else { 4 })
        .ok_or_else(|| attrs.unsupported(format!("pads {p:?}")))
}

/// The convolution kernel of a transposed one `[C_in, C_out / groups, kh, kw]`:
/// `[C_out, C_in / groups, kh, kw]`, flipped in space.
fn flip(w: &[f32], [ci, cog, kh, kw]: [usize; 4], groups: usize) -> Vec<f32> {
    let cig = ci / groups;
    let mut out = vec![0.0; w.len()];
    for g in 0..groups {
        for o in 0..cog {
            for i in 0..cig {
                for y in 0..kh {
                    for x in 0..kw {
                        let src =
                            (((g * cig + i) * cog + o) * kh + (kh - 1 - y)) * kw + (kw - 1 - x);
                        let dst = (((g * cog + o) * cig + i) * kh + y) * kw + x;
                        out[dst] = w[src];
                    }
                }
            }
        }
    }
    out
}

/// The input spread by the strides, with zeros between and around: the image
/// `[1, N·C, spread h, spread w]`.
fn spread(
    cx: &mut Context,
    node: &NodeProto,
    v: usize,
    images: Images,
    lines: &[Line; 2],
) -> Result<usize, OnnxError> {
    let [planes, h, w] = images.stacked();
    let [sh, sw] = [lines[0].spread(), lines[1].spread()].map(|n| n.unwrap_or(0));
    let size = planes
        .checked_mul(sh)
        .and_then(|n| n.checked_mul(sw))
        .filter(|n| *n <= MAX_SPREAD)
        .ok_or_else(|| Attrs::new(node).unsupported("the spread input is too large"))?;
    let mut entries = Vec::with_capacity(size);
    for p in 0..planes {
        for y in 0..sh {
            for x in 0..sw {
                entries.push(match (lines[0].source(y), lines[1].source(x)) {
                    (Some(i), Some(j)) => Entry::Value {
                        input: 0,
                        index: (p * h + i) * w + j,
                    },
                    _ => Entry::Const(0.0),
                });
            }
        }
    }
    let shape = vec![1, planes, sh, sw];
    let gather = Op::Gather(Gather {
        entries,
        shape: shape.clone(),
    });
    Ok(cx.push_value(
        format!("{}/spread", display_name(node)),
        gather,
        vec![v],
        shape,
    ))
}
