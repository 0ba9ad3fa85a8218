//! `Slice(starts, ends, axes, steps)` with constant bounds (inputs, or attributes before
//! opset 10): a gather.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::Op;

use super::select::select;
use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// Positions `start, start + step, …` before `end`, clamped as ONNX specifies.
pub fn positions(dim: usize, start: i64, end: i64, step: i64) -> Vec<usize> {
    let n = dim as i64;
    let norm = |v: i64| if v < 0 { v.saturating_add(n) } else { v };
    let (mut i, end) = if step > 0 {
        (norm(start).clamp(0, n), norm(end).clamp(0, n))
    } else {
        (norm(start).clamp(0, n - 1), norm(end).clamp(-1, n - 1))
    };
    let mut out = Vec::new();
    while (step > 0 && i < end) || (step < 0 && i > end) {
        out.push(i as usize);
        i += step;
    }
    out
}

/// Lowers `Slice`.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["starts", "ends", "axes"])?;
    let v = cx.activation(node, 0)?;
    let shape = cx.shape(v).to_vec();
    let list = |cx: &Context, idx: usize, attr: &str| -> Result<Option<Vec<i64>>, OnnxError> {
        if node.input.len() > 1 {
            Ok(cx.optional_constant(node, idx)?.map(|c| c.ints.clone()))
        } else {
            Ok(attrs.ints(attr).map(<[i64]>::to_vec))
        }
    };
    let starts = list(cx, 1, "starts")?.ok_or_else(|| attrs.unsupported("starts missing"))?;
    let ends = list(cx, 2, "ends")?.ok_or_else(|| attrs.unsupported("ends missing"))?;
    let axes = list(cx, 3, "axes")?.unwrap_or_else(|| (0..starts.len() as i64).collect());
    let steps = list(cx, 4, "steps")?.unwrap_or_else(|| vec![1; starts.len()]);
    if [ends.len(), axes.len(), steps.len()] != [starts.len(); 3] {
        return Err(attrs.unsupported("starts, ends, axes and steps differ in length"));
    }
    let mut picks: Vec<Vec<Option<usize>>> =
        shape.iter().map(|d| (0..*d).map(Some).collect()).collect();
    for i in 0..starts.len() {
        let a = super::broadcast::axis(&attrs, axes[i], shape.len())?;
        if steps[i] == 0 {
            return Err(attrs.unsupported("step 0"));
        }
        picks[a] = positions(shape[a], starts[i], ends[i], steps[i])
            .into_iter()
            .map(Some)
            .collect();
    }
    let gather = select(&shape, &picks, 0.0);
    if gather.entries.is_empty() {
        return Err(attrs.unsupported("the slice is empty"));
    }
    let out = gather.shape.clone();
    cx.push(node, Op::Gather(gather), vec![v], out)
}

#[cfg(test)]
mod tests {
    use super::positions;

    #[test]
    fn clamps_like_onnx() {
        assert_eq!(positions(5, 1, 3, 1), vec![1, 2]);
        assert_eq!(positions(5, -1, i64::MIN, -1), vec![4, 3, 2, 1, 0]);
        assert_eq!(positions(5, 0, i64::MAX, 2), vec![0, 2, 4]);
        assert_eq!(positions(5, 10, 0, -2), vec![4, 2]);
    }
}
