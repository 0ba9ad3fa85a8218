//! Folds that build tensors from shapes: `Shape`, `Size`, `ConstantOfShape`, `Range`,
//! `NonZero`, `Trilu`.

use ndarray::{ArrayD, Dimension, IxDyn};
use tract_onnx::pb::NodeProto;

use super::tensor::{each, Tensor};
use super::{int_list, required};
use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

/// `Shape` and `Size` of an activation or a constant: known before proving.
pub fn of_activation(cx: &Context, node: &NodeProto) -> Result<Option<Tensor>, OnnxError> {
    if node.op_type != "Shape" && node.op_type != "Size" {
        return Ok(None);
    }
    let shape: Vec<usize> = if cx.is_activation(node, 0) {
        cx.shape(cx.activation(node, 0)?).to_vec()
    } else {
        cx.constant(node, 0)?.shape.clone()
    };
    let dims: Vec<i64> = shape.iter().map(|d| *d as i64).collect();
    if node.op_type == "Size" {
        let n = dims.iter().product::<i64>();
        return Ok(Some(Tensor::I(ArrayD::from_elem(IxDyn(&[]), n))));
    }
    let attrs = Attrs::new(node);
    let rank = dims.len() as i64;
    let clamp = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank) as usize;
    let (start, end) = (clamp(attrs.int("start", 0)), clamp(attrs.int("end", rank)));
    let picked = dims.get(start..end.max(start)).unwrap_or(&[]).to_vec();
    Ok(Some(Tensor::vector(picked)))
}

/// A non-negative shape from a constant.
fn shape_of(t: &Tensor) -> Result<Vec<usize>, String> {
    t.int_list()
        .into_iter()
        .map(|d| usize::try_from(d).map_err(|_| format!("negative dimension {d}")))
        .collect()
}

fn checked_len(shape: &[usize]) -> Result<usize, String> {
    crate::layout::check_size(shape)?;
    Ok(shape.iter().product())
}

/// `ConstantOfShape(value)`.
pub fn constant_of_shape(
    attrs: &Attrs<'_>,
    inputs: &[Option<Tensor>],
) -> Result<Vec<Tensor>, String> {
    let shape = shape_of(required(inputs, 0)?)?;
    checked_len(&shape)?;
    let value = match attrs.tensor("value") {
        Some(t) => Tensor::from_const(&crate::tensor::read(t)?)?,
        None => Tensor::F(ArrayD::from_elem(IxDyn(&[1]), 0.0)),
    };
    if value.len() != 1 {
        return Err(format!(
            "value of shape {:?} (one value expected)",
            value.shape()
        ));
    }
    Ok(vec![
        each!(value, a => ArrayD::from_elem(IxDyn(&shape), a.iter().next().copied().unwrap_or_default())),
    ])
}

/// `Range(start, limit, delta)`.
pub fn range(_: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Result<Vec<Tensor>, String> {
    let [start, limit, delta] = [0, 1, 2].map(|i| required(inputs, i));
    let (start, limit, delta) = (start?, limit?, delta?);
    let f = |t: &Tensor| t.floats().iter().next().copied().unwrap_or(0.0) as f64;
    let (s, l, d) = (f(start), f(limit), f(delta));
    if d == 0.0 {
        return Err("range delta 0".into());
    }
    let n = ((l - s) / d).ceil().max(0.0);
    if n > zkinfer_core::spec::MAX_LEN as f64 {
        return Err(format!("a range of {n} values is too large"));
    }
    let n = n as usize;
    Ok(vec![
        if start.is_int() && limit.is_int() && delta.is_int() {
            let first = |t: &Tensor| {
                t.int_list()
                    .first()
                    .copied()
                    .ok_or("an empty range operand")
            };
            let (s, d) = (first(start)?, first(delta)?);
            Tensor::vector((0..n as i64).map(|i| s + i * d).collect())
        } else {
            Tensor::F(
                ndarray::Array1::from_iter((0..n).map(|i| (s + i as f64 * d) as f32)).into_dyn(),
            )
        },
    ])
}

/// `NonZero`: the coordinates of the non-zero values, one row per axis.
pub fn non_zero(_: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Result<Vec<Tensor>, String> {
    let t = required(inputs, 0)?.floats();
    let hits: Vec<Vec<usize>> = t
        .indexed_iter()
        .filter(|(_, v)| **v != 0.0)
        .map(|(i, _)| i.slice().to_vec())
        .collect();
    let rank = t.ndim();
    let values: Vec<i64> = (0..rank)
        .flat_map(|d| hits.iter().map(move |h| h[d] as i64))
        .collect();
    crate::layout::from_vec(&[rank, hits.len()], values).map(|a| vec![Tensor::I(a)])
}

/// `Trilu(upper, k)`: the upper or lower triangle of the last two axes.
pub fn trilu(attrs: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Result<Vec<Tensor>, String> {
    let t = required(inputs, 0)?;
    let k = int_list(inputs, 1)
        .and_then(|v| v.first().copied())
        .unwrap_or(0);
    let upper = attrs.int("upper", 1) != 0;
    if t.shape().len() < 2 {
        return Err("Trilu needs at least two axes".into());
    }
    let keep = |idx: &IxDyn| {
        let r = idx.slice();
        let (i, j) = (r[r.len() - 2] as i64, r[r.len() - 1] as i64);
        if upper {
            j - i >= k
        } else {
            j - i <= k
        }
    };
    Ok(vec![each!(t.clone(), a => {
        let mut a = a;
        a.indexed_iter_mut().for_each(|(idx, v)| if !keep(&idx) { *v = Default::default() });
        a
    })])
}
