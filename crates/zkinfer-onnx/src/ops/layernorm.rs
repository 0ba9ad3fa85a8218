//! `LayerNormalization`, composed from proved pieces: `d = x - mean(x)`, `Σ d²` (a dot
//! product), `r = 1/sqrt(Σ d² / n + ε)` (table), `y = d · r · scale + bias` (scale and bias
//! public constants; skipped when they are all ones and zeros).

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::{MatMul, Op, PoolKind};
use zkinfer_core::spec::Function;

use super::broadcast::{axis, broadcast_to, constant_to};
use super::reduce::reduce;
use crate::attrs::Attrs;
use crate::context::{display_name, Context};
use crate::OnnxError;

/// Longest normalised axis whose sum of squares is taken as one dot product.
const DOT_SUM_MAX: usize = 32;

/// Lowers `LayerNormalization` (only the first output, `Y`).
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["axis", "epsilon", "stash_type"])?;
    if node
        .output
        .iter()
        .skip(1)
        .any(|o| !o.is_empty() && cx.uses.get(o).copied().unwrap_or(0) > 0)
    {
        return Err(attrs.unsupported("the Mean and InvStdDev outputs are not supported"));
    }
    let x = cx.activation(node, 0)?;
    let shape = cx.shape(x).to_vec();
    let name = display_name(node);
    let a = axis(&attrs, attrs.int("axis", -1), shape.len())?;
    let eps = attrs.float("epsilon", 1e-5);
    let n = normalize(cx, &name, x, a, eps).map_err(|e| attrs.unsupported(e))?;
    let scale = cx.constant(node, 1)?.clone();
    let bias = cx.optional_constant(node, 2)?.cloned();
    let g = constant_to(cx, &format!("{name}/scale"), &scale, &shape);
    match bias {
        None => cx.push(node, Op::Mul, vec![n, g], shape),
        Some(b) => {
            let y = cx.push_value(format!("{name}/scaled"), Op::Mul, vec![n, g], shape.clone());
            let bc = constant_to(cx, &format!("{name}/bias"), &b, &shape);
            cx.push(node, Op::Add, vec![y, bc], shape)
        }
    }
}

/// `(x − mean) / √(var + ε)` over the axes from `a` on: the normalised value, before any
/// scale and bias.
pub fn normalize(
    cx: &mut Context,
    name: &str,
    x: usize,
    a: usize,
    eps: f32,
) -> Result<usize, String> {
    let shape = cx.shape(x).to_vec();
    let axes: Vec<usize> = (a..shape.len()).collect();
    let eps = zkinfer_core::function::to_param(eps as f64);
    let mean = reduce(cx, &format!("{name}/mean"), x, &axes, PoolKind::Average);
    let mb = broadcast_to(cx, name, mean, &shape);
    let d = cx.push_value(
        format!("{name}/centre"),
        Op::Sub,
        vec![x, mb],
        shape.clone(),
    );
    let outer: usize = shape[..a].iter().product();
    let len: usize = shape[a..].iter().product();
    let mut kept = shape.clone();
    kept[a..].iter_mut().for_each(|d| *d = 1);
    let (var, count) = if len <= DOT_SUM_MAX {
        // Σ d² per group as one dot product of d with itself (a batch of 1 × len by len × 1
        // products): the squares are summed at full precision before one rescale.
        let sums = MatMul {
            batch: outer,
            m: 1,
            k: len,
            n: 1,
        };
        let sq = cx.push_value(
            format!("{name}/sum_squares"),
            Op::MatMul(sums),
            vec![d, d],
            kept.clone(),
        );
        (sq, len)
    } else {
        // Long axes: the sum of squares would leave the 8-bit range, so average the squares.
        let sq = cx.push_value(format!("{name}/square"), Op::Mul, vec![d, d], shape.clone());
        let mean = reduce(
            cx,
            &format!("{name}/variance"),
            sq,
            &axes,
            PoolKind::Average,
        );
        (mean, 1)
    };
    let count = u32::try_from(count).map_err(|_| "axis too long".to_string())?;
    let r = cx.push_value(
        format!("{name}/rsqrt"),
        Op::Activation(Function::Rsqrt { eps, count }),
        vec![var],
        kept,
    );
    let rb = broadcast_to(cx, name, r, &shape);
    Ok(cx.push_value(format!("{name}/normed"), Op::Mul, vec![d, rb], shape))
}
