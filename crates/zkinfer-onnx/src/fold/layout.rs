//! Layout ops on constants, through [`crate::layout`].

use super::tensor::{each, Tensor};
use super::{int_list, required};
use crate::attrs::Attrs;
use crate::layout as l;

type Out = Result<Vec<Tensor>, String>;

/// Axes from input `i` (newer opsets) or the `axes` attribute (older ones).
fn axes(attrs: &Attrs<'_>, inputs: &[Option<Tensor>], i: usize) -> Option<Vec<i64>> {
    int_list(inputs, i).or_else(|| attrs.ints("axes").map(<[i64]>::to_vec))
}

/// `Reshape(data, shape)`.
pub fn reshape(attrs: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Out {
    let t = required(inputs, 0)?;
    let target = required(inputs, 1)?.int_list();
    let shape = l::reshape_target(t.shape(), &target, attrs.int("allowzero", 0) != 0)?;
    Ok(vec![each!(t.clone(), a => l::reshape(&a, &shape)?)])
}

/// `Flatten(axis)`.
pub fn flatten(attrs: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Out {
    let at = attrs.int("axis", 1);
    Ok(vec![
        each!(required(inputs, 0)?.clone(), a => l::flatten(&a, at)?),
    ])
}

/// `Squeeze`.
pub fn squeeze(attrs: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Out {
    let ax = axes(attrs, inputs, 1);
    Ok(vec![
        each!(required(inputs, 0)?.clone(), a => l::squeeze(&a, ax.as_deref())?),
    ])
}

/// `Unsqueeze`.
pub fn unsqueeze(attrs: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Out {
    let ax = axes(attrs, inputs, 1).ok_or("axes are missing")?;
    Ok(vec![
        each!(required(inputs, 0)?.clone(), a => l::unsqueeze(&a, &ax)?),
    ])
}

/// `Concat(axis)`: integers when every part is.
pub fn concat(attrs: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Out {
    let parts: Vec<&Tensor> = inputs.iter().flatten().collect();
    let at = attrs.int("axis", 0);
    Ok(vec![if parts.iter().all(|p| p.is_int()) {
        Tensor::I(l::concat(
            &parts.iter().map(|p| p.ints()).collect::<Vec<_>>(),
            at,
        )?)
    } else {
        Tensor::F(l::concat(
            &parts.iter().map(|p| p.floats()).collect::<Vec<_>>(),
            at,
        )?)
    }])
}

/// `Transpose(perm)`.
pub fn transpose(attrs: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Out {
    let perm = attrs.ints("perm");
    Ok(vec![
        each!(required(inputs, 0)?.clone(), a => l::transpose(&a, perm)?),
    ])
}

/// `Slice` (inputs since opset 10, attributes before).
pub fn slice(attrs: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Out {
    let list = |i: usize, attr: &str| {
        int_list(inputs, i).or_else(|| attrs.ints(attr).map(<[i64]>::to_vec))
    };
    let starts = list(1, "starts").ok_or("starts are missing")?;
    let ends = list(2, "ends").ok_or("ends are missing")?;
    let (ax, steps) = (list(3, "axes"), int_list(inputs, 4));
    Ok(vec![each!(required(inputs, 0)?.clone(), a =>
        l::slice(&a, &starts, &ends, ax.as_deref(), steps.as_deref())?)])
}

/// `Gather(axis)`.
pub fn gather(attrs: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Out {
    let idx = required(inputs, 1)?.ints();
    let at = attrs.int("axis", 0);
    Ok(vec![
        each!(required(inputs, 0)?.clone(), a => l::gather(&a, &idx, at)?),
    ])
}

/// `Expand(shape)`.
pub fn expand(_: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Out {
    let shape = required(inputs, 1)?
        .int_list()
        .into_iter()
        .map(|d| usize::try_from(d).map_err(|_| format!("negative dimension {d}")))
        .collect::<Result<Vec<usize>, String>>()?;
    Ok(vec![
        each!(required(inputs, 0)?.clone(), a => l::expand(&a, &shape)?),
    ])
}

/// `Tile(repeats)`.
pub fn tile(_: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Out {
    let repeats = required(inputs, 1)?.int_list();
    Ok(vec![
        each!(required(inputs, 0)?.clone(), a => l::tile(&a, &repeats)?),
    ])
}

/// The part sizes of a `Split` of an axis of length `len`: the `split` input or attribute,
/// else `outputs` (or `num_outputs`) parts as equal as ONNX makes them.
pub fn split_sizes(
    attrs: &Attrs<'_>,
    sizes: Option<Vec<i64>>,
    len: usize,
    outputs: usize,
) -> Result<Vec<usize>, String> {
    match sizes.or_else(|| attrs.ints("split").map(<[i64]>::to_vec)) {
        Some(s) => s
            .into_iter()
            .map(|d| usize::try_from(d).map_err(|_| format!("negative split size {d}")))
            .collect(),
        None => l::even_split(
            len,
            attrs.int("num_outputs", outputs as i64).max(0) as usize,
        ),
    }
}

/// `Split(axis)`.
pub fn split(attrs: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Out {
    let t = required(inputs, 0)?;
    let at = attrs.int("axis", 0);
    let d = l::axis(at, t.shape().len())?;
    let sizes = split_sizes(attrs, int_list(inputs, 1), t.shape()[d], attrs.outputs())?;
    Ok(match t {
        Tensor::F(a) => l::split(a, at, &sizes)?
            .into_iter()
            .map(Tensor::F)
            .collect(),
        Tensor::I(a) => l::split(a, at, &sizes)?
            .into_iter()
            .map(Tensor::I)
            .collect(),
    })
}

/// `GatherElements(axis)`.
pub fn gather_elements(attrs: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Out {
    let idx = required(inputs, 1)?.ints();
    let at = attrs.int("axis", 0);
    Ok(vec![
        each!(required(inputs, 0)?.clone(), a => l::gather_elements(&a, &idx, at)?),
    ])
}

/// The `blocksize` attribute.
fn block(attrs: &Attrs<'_>) -> Result<usize, String> {
    usize::try_from(attrs.int("blocksize", 0)).map_err(|_| "negative blocksize".to_string())
}

/// `DepthToSpace(blocksize, mode)`.
pub fn depth_to_space(attrs: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Out {
    let b = block(attrs)?;
    let crd = match attrs.string("mode", "DCR").as_str() {
        "DCR" => false,
        "CRD" => true,
        m => return Err(format!("mode {m} is not supported")),
    };
    Ok(vec![
        each!(required(inputs, 0)?.clone(), a => l::depth_to_space(&a, b, crd)?),
    ])
}

/// `SpaceToDepth(blocksize)`.
pub fn space_to_depth(attrs: &Attrs<'_>, inputs: &[Option<Tensor>]) -> Out {
    let b = block(attrs)?;
    Ok(vec![
        each!(required(inputs, 0)?.clone(), a => l::space_to_depth(&a, b)?),
    ])
}
