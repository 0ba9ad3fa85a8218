//! Shared reading of window attributes (kernel, strides, pads, auto_pad, dilations).

use zkinfer_core::geometry::Window;

use crate::attrs::Attrs;
use crate::OnnxError;

/// The `[C, H, W]` of a `[1, C, H, W]` activation (`one_d`: of a `[1, C, L]` one, as
/// `[C, 1, L]`).
pub fn image(attrs: &Attrs<'_>, shape: &[usize], one_d: bool) -> Result<[usize; 3], OnnxError> {
    match shape {
        [1, c, h, w] => Ok([*c, *h, *w]),
        [1, c, l] if one_d => Ok([*c, 1, *l]),
        s => Err(attrs.unsupported(format!(
            "input of shape {s:?} (a [1, C, H, W] image is expected)"
        ))),
    }
}

fn pair(
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
