//! `Where(condition, x, y)`. With a constant condition every output reads `x` or `y` (an
//! activation's value or a public constant), a gather the circuit proves by wiring; with a
//! computed (0/1) condition it is `y + c · (x − y)`, from proved pieces.

use ndarray::ArrayD;
use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::{Entry, Gather, Op};

use crate::attrs::Attrs;
use crate::context::{Context, MASK_BELOW};
use crate::fold::tensor::{broadcast, broadcast_shape, Tensor};
use crate::layout::from_vec;
use crate::OnnxError;

/// Where branch `idx` reads from, broadcast to `shape`: one entry per output position.
fn branch(
    cx: &Context,
    node: &NodeProto,
    idx: usize,
    shape: &[usize],
    sources: &mut Vec<usize>,
) -> Result<Vec<Entry>, String> {
    if cx.is_activation(node, idx) {
        let v = cx.activation(node, idx).map_err(|e| e.to_string())?;
        let input = sources.len();
        sources.push(v);
        let own = cx.shape(v);
        let n: usize = own.iter().product();
        let at = broadcast(&from_vec(own, (0..n).collect::<Vec<usize>>())?, shape)?;
        return Ok(at
            .iter()
            .map(|index| Entry::Value {
                input,
                index: *index,
            })
            .collect());
    }
    let c = cx.constant(node, idx).map_err(|e| e.to_string())?;
    let values: ArrayD<f32> = broadcast(&Tensor::from_const(c)?.floats(), shape)?;
    if values
        .iter()
        .any(|v| v.is_nan() || (v.abs() > 1e6 && *v > MASK_BELOW))
    {
        return Err("a branch holds a NaN or a huge positive constant".into());
    }
    Ok(values
        .iter()
        .map(|v| {
            if *v <= MASK_BELOW {
                Entry::Const(f32::NEG_INFINITY)
            } else {
                Entry::Const(*v)
            }
        })
        .collect())
}

/// Replaces the mask entries (`-inf` constants) of `entries` by 0 and records which they
/// were, for the `Softmax` that reads the result (the only reader a mask may have).
fn take_mask(
    cx: &Context,
    node: &NodeProto,
    entries: &mut [Entry],
) -> Result<Option<Vec<bool>>, String> {
    let masked: Vec<bool> = entries
        .iter()
        .map(|e| matches!(e, Entry::Const(v) if *v == f32::NEG_INFINITY))
        .collect();
    if !masked.contains(&true) {
        return Ok(None);
    }
    if !cx.only_softmax_reads(node) {
        return Err(format!(
            "a mask (constants at or below {MASK_BELOW}) must be read by a Softmax alone"
        ));
    }
    for (e, m) in entries.iter_mut().zip(&masked) {
        if *m {
            *e = Entry::Const(0.0);
        }
    }
    Ok(Some(masked))
}

/// Lowers `Where`.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&[])?;
    if cx.is_activation(node, 0) {
        return computed(cx, node);
    }
    let shape_of = |i: usize| -> Result<Vec<usize>, OnnxError> {
        Ok(if cx.is_activation(node, i) {
            cx.shape(cx.activation(node, i)?).to_vec()
        } else {
            cx.constant(node, i)?.shape.clone()
        })
    };
    let cond = Tensor::from_const(cx.constant(node, 0)?).map_err(|e| attrs.unsupported(e))?;
    let (sx, sy) = (shape_of(1)?, shape_of(2)?);
    let shape = broadcast_shape(cond.shape(), &sx)
        .and_then(|s| broadcast_shape(&s, &sy))
        .map_err(|e| attrs.unsupported(e))?;
    super::check_len(&attrs, &shape)?;
    let mut sources = Vec::new();
    let mut pick = |i| branch(cx, node, i, &shape, &mut sources).map_err(|e| attrs.unsupported(e));
    let (x, y) = (pick(1)?, pick(2)?);
    let c = broadcast(&cond.ints(), &shape).map_err(|e| attrs.unsupported(e))?;
    let mut entries: Vec<Entry> = c
        .iter()
        .zip(x.into_iter().zip(y))
        .map(|(k, (a, b))| if *k != 0 { a } else { b })
        .collect();
    let mask = take_mask(cx, node, &mut entries).map_err(|e| attrs.unsupported(e))?;
    let gather = Gather {
        entries,
        shape: shape.clone(),
    };
    // A gather reads at least one value; one that picks only constants names the model input.
    if sources.is_empty() {
        sources.push(0);
    }
    cx.push(node, Op::Gather(gather), sources, shape)?;
    if let Some(mask) = mask {
        cx.masks.insert(cx.nodes.len(), mask);
    }
    Ok(())
}

/// `Where` with an activation condition holding 0 or 1: `y + c · (x − y)`.
fn computed(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let (values, shape) = super::sum::broadcast_all(cx, node)?;
    let [c, x, y] = values[..] else {
        return Err(Attrs::new(node).unsupported("three operands expected"));
    };
    let name = crate::context::display_name(node);
    let d = cx.push_value(
        format!("{name}/difference"),
        Op::Sub,
        vec![x, y],
        shape.clone(),
    );
    let p = cx.push_value(
        format!("{name}/selected"),
        Op::Mul,
        vec![c, d],
        shape.clone(),
    );
    cx.push(node, Op::Add, vec![y, p], shape)
}
