//! Layout operations on arrays of any element type, with ONNX's index conventions: used on
//! constant values when folding, and on arrays of value indices when an activation is
//! rearranged (the result then names, for every output position, the input position it
//! reads: a gather the circuit proves by wiring).

use ndarray::{ArrayD, Axis, Dimension, IxDyn};

/// An axis (negative counts from the end) of a tensor of `rank` dimensions.
pub fn axis(axis: i64, rank: usize) -> Result<usize, String> {
    let a = if axis < 0 { axis + rank as i64 } else { axis };
    usize::try_from(a)
        .ok()
        .filter(|a| *a < rank)
        .ok_or_else(|| format!("axis {axis} out of range for rank {rank}"))
}

/// Refuses a shape of more values than a model may hold (before anything of that size is
/// allocated).
pub fn check_size(shape: &[usize]) -> Result<(), String> {
    // Zero-sized axes do not excuse the others: every axis is bounded too.
    let n = shape
        .iter()
        .try_fold(1usize, |a, d| a.checked_mul((*d).max(1)));
    match n {
        Some(n) if n <= zkinfer_core::spec::MAX_LEN => Ok(()),
        _ => Err(format!(
            "a tensor of shape {shape:?} exceeds {} values",
            zkinfer_core::spec::MAX_LEN
        )),
    }
}

/// An array of `shape` holding `values` in row-major order.
pub fn from_vec<T>(shape: &[usize], values: Vec<T>) -> Result<ArrayD<T>, String> {
    ArrayD::from_shape_vec(IxDyn(shape), values).map_err(|e| format!("shape {shape:?}: {e}"))
}

/// `a`'s values in row-major order under a new shape of the same size.
pub fn reshape<T: Clone>(a: &ArrayD<T>, shape: &[usize]) -> Result<ArrayD<T>, String> {
    from_vec(shape, a.iter().cloned().collect())
}

/// The shape `Reshape` produces from `shape` and a target with ONNX's 0 (copy, unless
/// `allowzero`) and -1 (inferred).
pub fn reshape_target(
    shape: &[usize],
    target: &[i64],
    allowzero: bool,
) -> Result<Vec<usize>, String> {
    let n: usize = shape.iter().product();
    let mut out = Vec::with_capacity(target.len());
    let mut infer = None;
    for (i, d) in target.iter().enumerate() {
        match *d {
            -1 if infer.is_none() => {
                infer = Some(i);
                out.push(1);
            }
            0 if !allowzero => out.push(*shape.get(i).ok_or("0 copies a missing dimension")?),
            d if d >= 0 => out.push(d as usize),
            _ => return Err(format!("target shape {target:?} is invalid")),
        }
    }
    let known: usize = out.iter().product();
    if let Some(i) = infer {
        if known == 0 || !n.is_multiple_of(known) {
            return Err(format!("cannot reshape {shape:?} to {target:?}"));
        }
        out[i] = n / known;
    }
    if out.iter().product::<usize>() != n {
        return Err(format!("cannot reshape {shape:?} to {target:?}"));
    }
    Ok(out)
}

/// `Transpose`: axes permuted (`perm` absent: reversed).
pub fn transpose<T: Clone>(a: &ArrayD<T>, perm: Option<&[i64]>) -> Result<ArrayD<T>, String> {
    let rank = a.ndim();
    let perm: Vec<usize> = match perm {
        Some(p) => p.iter().map(|d| axis(*d, rank)).collect::<Result<_, _>>()?,
        None => (0..rank).rev().collect(),
    };
    let mut seen = perm.clone();
    seen.sort_unstable();
    if seen != (0..rank).collect::<Vec<_>>() {
        return Err(format!("perm {perm:?} is not a permutation of {rank} axes"));
    }
    let view = a.view().permuted_axes(IxDyn(&perm));
    reshape(&view.to_owned(), view.shape())
}

/// `Unsqueeze`: size-1 axes inserted at `axes` (positions in the output).
pub fn unsqueeze<T: Clone>(a: &ArrayD<T>, axes: &[i64]) -> Result<ArrayD<T>, String> {
    let rank = a.ndim() + axes.len();
    let mut at: Vec<usize> = axes
        .iter()
        .map(|d| axis(*d, rank))
        .collect::<Result<_, _>>()?;
    at.sort_unstable();
    at.dedup();
    if at.len() != axes.len() {
        return Err(format!("axes {axes:?} repeat"));
    }
    let mut shape = a.shape().to_vec();
    for d in at {
        shape.insert(d, 1);
    }
    reshape(a, &shape)
}

/// `Squeeze`: the size-1 axes `axes` removed (absent: every size-1 axis).
pub fn squeeze<T: Clone>(a: &ArrayD<T>, axes: Option<&[i64]>) -> Result<ArrayD<T>, String> {
    let shape = a.shape();
    let drop: Vec<usize> = match axes {
        Some(ax) => ax
            .iter()
            .map(|d| axis(*d, shape.len()))
            .collect::<Result<_, _>>()?,
        None => (0..shape.len()).filter(|d| shape[*d] == 1).collect(),
    };
    if let Some(d) = drop.iter().find(|d| shape[**d] != 1) {
        return Err(format!("axis {d} of shape {shape:?} is not 1"));
    }
    let kept: Vec<usize> = (0..shape.len())
        .filter(|d| !drop.contains(d))
        .map(|d| shape[d])
        .collect();
    reshape(a, &kept)
}

/// `Flatten`: two dimensions, split before `axis`.
pub fn flatten<T: Clone>(a: &ArrayD<T>, at: i64) -> Result<ArrayD<T>, String> {
    let rank = a.ndim();
    let at = if at < 0 { at + rank as i64 } else { at };
    let at = usize::try_from(at)
        .ok()
        .filter(|d| *d <= rank)
        .ok_or_else(|| format!("axis {at} out of range for rank {rank}"))?;
    let outer: usize = a.shape()[..at].iter().product();
    reshape(a, &[outer, a.len() / outer.max(1)])
}

/// `Concat` along `axis`.
pub fn concat<T: Clone>(parts: &[ArrayD<T>], at: i64) -> Result<ArrayD<T>, String> {
    let first = parts.first().ok_or("nothing to concatenate")?;
    let d = axis(at, first.ndim())?;
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    let joined = ndarray::concatenate(Axis(d), &views).map_err(|e| format!("concat: {e}"))?;
    reshape(&joined, joined.shape())
}

/// The positions `Slice` reads along an axis of length `n`.
fn slice_positions(n: usize, start: i64, end: i64, step: i64) -> Result<Vec<usize>, String> {
    if step == 0 {
        return Err("slice step 0".into());
    }
    let n = n as i64;
    let norm = |v: i64| if v < 0 { v + n } else { v };
    let (lo, hi) = if step > 0 { (0, n) } else { (-1, n - 1) };
    let (start, end) = (norm(start).clamp(lo, hi), norm(end).clamp(lo, hi));
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i < end) || (step < 0 && i > end) {
        out.push(i as usize);
        match i.checked_add(step) {
            Some(next) => i = next,
            None => break,
        }
    }
    Ok(out)
}

/// `Slice` with ONNX's clamping of starts, ends and steps along `axes` (absent: the first
/// `starts.len()` axes).
pub fn slice<T: Clone>(
    a: &ArrayD<T>,
    starts: &[i64],
    ends: &[i64],
    axes: Option<&[i64]>,
    steps: Option<&[i64]>,
) -> Result<ArrayD<T>, String> {
    let rank = a.ndim();
    let axes: Vec<i64> = axes.map_or_else(|| (0..starts.len() as i64).collect(), <[i64]>::to_vec);
    if ends.len() != starts.len() || axes.len() != starts.len() {
        return Err("starts, ends and axes differ in length".into());
    }
    let mut out = a.clone();
    for (i, ax) in axes.iter().enumerate() {
        let d = axis(*ax, rank)?;
        let step = steps.map_or(Ok(1), |s| s.get(i).copied().ok_or("steps too short"))?;
        let picks = slice_positions(out.shape()[d], starts[i], ends[i], step)?;
        out = out.select(Axis(d), &picks);
    }
    reshape(&out, out.shape())
}

/// `Gather` along `axis` by `indices` (negative counts from the end).
pub fn gather<T: Clone>(
    a: &ArrayD<T>,
    indices: &ArrayD<i64>,
    at: i64,
) -> Result<ArrayD<T>, String> {
    let d = axis(at, a.ndim())?;
    let n = a.shape()[d] as i64;
    let picks: Vec<usize> = indices
        .iter()
        .map(|i| {
            let j = if *i < 0 { i + n } else { *i };
            usize::try_from(j)
                .ok()
                .filter(|j| (*j as i64) < n)
                .ok_or_else(|| format!("index {i} out of range for length {n}"))
        })
        .collect::<Result<_, _>>()?;
    let picked = a.select(Axis(d), &picks);
    let shape: Vec<usize> = a.shape()[..d]
        .iter()
        .chain(indices.shape())
        .chain(&a.shape()[d + 1..])
        .copied()
        .collect();
    reshape(&picked, &shape)
}

/// `Expand`: `a` broadcast with `shape` (numpy rules in both directions).
pub fn expand<T: Clone>(a: &ArrayD<T>, shape: &[usize]) -> Result<ArrayD<T>, String> {
    let to = zkinfer_core::ir::gather::broadcast_shape(a.shape(), shape)
        .ok_or_else(|| format!("shape {:?} does not expand to {shape:?}", a.shape()))?;
    check_size(&to)?;
    let view = a
        .broadcast(IxDyn(&to))
        .ok_or_else(|| format!("shape {:?} does not expand to {to:?}", a.shape()))?;
    reshape(&view.to_owned(), &to)
}

/// `Tile`: axis `d` repeated `repeats[d]` times.
pub fn tile<T: Clone>(a: &ArrayD<T>, repeats: &[i64]) -> Result<ArrayD<T>, String> {
    if repeats.len() != a.ndim() || repeats.iter().any(|r| *r < 0) {
        return Err(format!("repeats {repeats:?} do not fit rank {}", a.ndim()));
    }
    let tiled: Vec<usize> = a
        .shape()
        .iter()
        .zip(repeats)
        .map(|(n, r)| n.saturating_mul(*r as usize))
        .collect();
    check_size(&tiled)?;
    let mut out = a.clone();
    for (d, r) in repeats.iter().enumerate() {
        let n = out.shape()[d];
        let picks: Vec<usize> = (0..*r as usize).flat_map(|_| 0..n).collect();
        out = out.select(Axis(d), &picks);
    }
    reshape(&out, out.shape())
}

/// `Split` along `axis` into parts of `sizes`.
pub fn split<T: Clone>(a: &ArrayD<T>, at: i64, sizes: &[usize]) -> Result<Vec<ArrayD<T>>, String> {
    let d = axis(at, a.ndim())?;
    if sizes.iter().try_fold(0usize, |s, n| s.checked_add(*n)) != Some(a.shape()[d]) {
        return Err(format!(
            "split sizes {sizes:?} do not add up to {}",
            a.shape()[d]
        ));
    }
    let mut start = 0;
    sizes
        .iter()
        .map(|s| {
            let picks: Vec<usize> = (start..start + s).collect();
            start += s;
            let part = a.select(Axis(d), &picks);
            reshape(&part, part.shape())
        })
        .collect()
}

/// Sizes of `Split` into `parts` pieces as equal as ONNX makes them (the last one smaller).
pub fn even_split(len: usize, parts: usize) -> Result<Vec<usize>, String> {
    if parts == 0 {
        return Err("split into 0 outputs".into());
    }
    let size = len.div_ceil(parts);
    let mut sizes = vec![size; parts];
    let last = len
        .checked_sub(size * (parts - 1))
        .ok_or("split does not fit")?;
    sizes[parts - 1] = last;
    Ok(sizes)
}

/// `GatherElements` along `axis`: output position `i` reads `a` at `i` with its `axis`
/// coordinate replaced by `indices[i]` (negative counts from the end).
pub fn gather_elements<T: Clone>(
    a: &ArrayD<T>,
    indices: &ArrayD<i64>,
    at: i64,
) -> Result<ArrayD<T>, String> {
    let d = axis(at, a.ndim())?;
    if indices.ndim() != a.ndim() {
        return Err(format!(
            "indices of rank {} for data of rank {}",
            indices.ndim(),
            a.ndim()
        ));
    }
    let n = a.shape()[d] as i64;
    let values = indices
        .indexed_iter()
        .map(|(idx, i)| {
            let j = if *i < 0 { i + n } else { *i };
            let mut at: Vec<usize> = idx.slice().to_vec();
            at[d] = usize::try_from(j)
                .ok()
                .filter(|j| (*j as i64) < n)
                .ok_or_else(|| format!("index {i} out of range for length {n}"))?;
            a.get(IxDyn(&at))
                .cloned()
                .ok_or_else(|| format!("position {at:?} outside shape {:?}", a.shape()))
        })
        .collect::<Result<Vec<T>, String>>()?;
    from_vec(indices.shape(), values)
}

/// `DepthToSpace` of an `[N, C, H, W]` tensor (`crd`: the CRD channel order, else DCR).
pub fn depth_to_space<T: Clone>(a: &ArrayD<T>, b: usize, crd: bool) -> Result<ArrayD<T>, String> {
    let [n, c, h, w] = a.shape()[..] else {
        return Err(format!("shape {:?} is not [N, C, H, W]", a.shape()));
    };
    let bb = b.checked_mul(b).filter(|bb| *bb > 0 && c % bb == 0);
    let Some(bb) = bb else {
        return Err(format!(
            "{c} channels do not split into blocks of {b} × {b}"
        ));
    };
    let c2 = c / bb;
    let (split, perm): (Vec<usize>, [i64; 6]) = if crd {
        (vec![n, c2, b, b, h, w], [0, 1, 4, 2, 5, 3])
    } else {
        (vec![n, b, b, c2, h, w], [0, 3, 4, 1, 5, 2])
    };
    let moved = transpose(&reshape(a, &split)?, Some(&perm))?;
    reshape(&moved, &[n, c2, h * b, w * b])
}

/// `SpaceToDepth` of an `[N, C, H, W]` tensor.
pub fn space_to_depth<T: Clone>(a: &ArrayD<T>, b: usize) -> Result<ArrayD<T>, String> {
    let [n, c, h, w] = a.shape()[..] else {
        return Err(format!("shape {:?} is not [N, C, H, W]", a.shape()));
    };
    if b == 0 || h % b != 0 || w % b != 0 {
        return Err(format!("{h} × {w} does not split into blocks of {b} × {b}"));
    }
    let split = reshape(a, &[n, c, h / b, b, w / b, b])?;
    let moved = transpose(&split, Some(&[0, 3, 5, 1, 2, 4]))?;
    reshape(&moved, &[n, c * b * b, h / b, w / b])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn positions(shape: &[usize]) -> Result<ArrayD<usize>, String> {
        from_vec(shape, (0..shape.iter().product()).collect())
    }

    #[test]
    fn slices_with_negative_steps_and_clamping() {
        let a = positions(&[5]).unwrap();
        let s = slice(&a, &[-1], &[i64::MIN], None, Some(&[-2])).unwrap();
        assert_eq!(s.iter().copied().collect::<Vec<_>>(), vec![4, 2, 0]);
        let s = slice(&a, &[1], &[i64::MAX], None, None).unwrap();
        assert_eq!(s.iter().copied().collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    }

    #[test]
    fn gathers_transposes_and_tiles() {
        let a = positions(&[2, 3]).unwrap();
        let idx = from_vec(&[2], vec![2i64, -3]).unwrap();
        let g = gather(&a, &idx, 1).unwrap();
        assert_eq!(g.shape(), &[2, 2]);
        assert_eq!(g.iter().copied().collect::<Vec<_>>(), vec![2, 0, 5, 3]);
        let t = transpose(&a, None).unwrap();
        assert_eq!(
            t.iter().copied().collect::<Vec<_>>(),
            vec![0, 3, 1, 4, 2, 5]
        );
        let r = tile(&a, &[1, 2]).unwrap();
        assert_eq!(r.shape(), &[2, 6]);
        assert_eq!(
            r.iter().skip(6).copied().collect::<Vec<_>>(),
            vec![3, 4, 5, 3, 4, 5]
        );
        assert_eq!(even_split(5, 2).unwrap(), vec![3, 2]);
        assert!(gather(&a, &from_vec(&[1], vec![3i64]).unwrap(), 1).is_err());
    }

    #[test]
    fn depth_and_space_round_trip() {
        let a = positions(&[1, 8, 2, 3]).unwrap();
        for crd in [false, true] {
            let d = depth_to_space(&a, 2, crd).unwrap();
            assert_eq!(d.shape(), &[1, 2, 4, 6]);
        }
        let d = depth_to_space(&a, 2, false).unwrap();
        // DCR: output (0, 0, 0, 1) reads channel 2 (block offset (0, 1)) at (0, 0).
        assert_eq!(d[[0, 0, 0, 1]], 2 * 6);
        let back = space_to_depth(&d, 2).unwrap();
        assert_eq!(back, a);
        let e = gather_elements(
            &positions(&[2, 2]).unwrap(),
            &from_vec(&[2, 2], vec![1i64, 0, 0, -1]).unwrap(),
            1,
        )
        .unwrap();
        assert_eq!(e.iter().copied().collect::<Vec<_>>(), vec![1, 0, 2, 3]);
    }

    #[test]
    fn reshape_targets_follow_onnx() {
        assert_eq!(
            reshape_target(&[2, 3, 4], &[0, -1], false).unwrap(),
            vec![2, 12]
        );
        assert!(reshape_target(&[2, 3], &[-1, -1], false).is_err());
        assert!(reshape_target(&[2, 3], &[4, -1], false).is_err());
    }
}
