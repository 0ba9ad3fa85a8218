//! `Pad` (constant, edge, reflect, wrap) with constant pads: a gather.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::Op;

use super::select::select;
use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// Padding modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Constant,
    Edge,
    Reflect,
    Wrap,
}

/// The input position output position `o` of an axis of `dim` values reads, `before` values
/// padded in front (negative: cropped).
fn source(o: usize, dim: usize, before: i64, mode: Mode) -> Option<usize> {
    let n = dim as i64;
    let i = o as i64 - before;
    if (0..n).contains(&i) {
        return Some(i as usize);
    }
    match mode {
        Mode::Constant => None,
        Mode::Edge => Some(i.clamp(0, n - 1) as usize),
        Mode::Wrap => Some(i.rem_euclid(n) as usize),
        Mode::Reflect if n == 1 => Some(0),
        Mode::Reflect => {
            let period = 2 * (n - 1);
            let r = i.rem_euclid(period);
            Some(if r < n { r } else { period - r } as usize)
        }
    }
}

/// Lowers `Pad`.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["mode", "pads", "value"])?;
    let v = cx.activation(node, 0)?;
    let shape = cx.shape(v).to_vec();
    let rank = shape.len();
    let mode = match attrs.string("mode", "constant").as_str() {
        "constant" => Mode::Constant,
        "edge" => Mode::Edge,
        "reflect" => Mode::Reflect,
        "wrap" => Mode::Wrap,
        m => return Err(attrs.unsupported(format!("mode {m} not supported"))),
    };
    let (pads, fill) = if node.input.len() > 1 {
        let pads = cx.constant(node, 1)?.ints.clone();
        let fill = cx
            .optional_constant(node, 2)?
            .and_then(|c| c.values().first().copied())
            .unwrap_or(0.0);
        (pads, fill)
    } else {
        let pads = attrs
            .ints("pads")
            .ok_or_else(|| attrs.unsupported("pads missing"))?;
        (pads.to_vec(), attrs.float("value", 0.0))
    };
    let axes: Vec<usize> = match cx.optional_constant(node, 3)? {
        Some(c) => c
            .ints
            .iter()
            .map(|a| super::broadcast::axis(&attrs, *a, rank))
            .collect::<Result<_, _>>()?,
        None => (0..rank).collect(),
    };
    if pads.len() != 2 * axes.len() {
        return Err(attrs.unsupported(format!("{} pads for {} axes", pads.len(), axes.len())));
    }
    let mut out = shape.clone();
    for (j, a) in axes.iter().enumerate() {
        let len = (shape[*a] as i64)
            .checked_add(pads[j])
            .and_then(|l| l.checked_add(pads[j + axes.len()]))
            .filter(|l| *l > 0)
            .ok_or_else(|| attrs.unsupported(format!("pads {pads:?} leave axis {a} empty")))?;
        out[*a] = usize::try_from(len).unwrap_or(usize::MAX);
    }
    super::check_len(&attrs, &out)?;
    let mut picks: Vec<Vec<Option<usize>>> =
        shape.iter().map(|d| (0..*d).map(Some).collect()).collect();
    for (j, a) in axes.iter().enumerate() {
        let (before, after) = (pads[j], pads[j + axes.len()]);
        let len = shape[*a] as i64 + before + after;
        picks[*a] = (0..len as usize)
            .map(|o| source(o, shape[*a], before, mode))
            .collect();
    }
    let gather = select(&shape, &picks, fill);
    let out = gather.shape.clone();
    cx.push(node, Op::Gather(gather), vec![v], out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        let row = |mode| (0..7).map(|o| source(o, 3, 2, mode)).collect::<Vec<_>>();
        assert_eq!(row(Mode::Constant)[..3], [None, None, Some(0)]);
        assert_eq!(row(Mode::Edge), [0, 0, 0, 1, 2, 2, 2].map(Some).to_vec());
        assert_eq!(row(Mode::Reflect), [2, 1, 0, 1, 2, 1, 0].map(Some).to_vec());
        assert_eq!(row(Mode::Wrap), [1, 2, 0, 1, 2, 0, 1].map(Some).to_vec());
    }
}
