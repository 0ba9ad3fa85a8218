//! Constant folding: a node whose inputs are all constants (or that reads only an
//! activation's shape) is evaluated here, on `ndarray`, and its outputs become constants, so
//! the shape arithmetic, casts and masks exporters write around layers never reach the
//! circuit.

mod arith;
mod cast;
mod compare;
mod constant;
mod layout;
mod shape;
pub mod tensor;

use tract_onnx::pb::NodeProto;

use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;
pub use constant::constant;
use tensor::Tensor;

/// Evaluates one op on constant inputs (`None`: an absent optional input).
pub type Folding = fn(&Attrs<'_>, &[Option<Tensor>]) -> Result<Vec<Tensor>, String>;

/// The folding of an op type, if it has one.
pub fn folding(op_type: &str) -> Option<Folding> {
    Some(match op_type {
        "Identity" => cast::identity,
        "Cast" => cast::cast,
        "CastLike" => cast::cast_like,
        "ConstantOfShape" => shape::constant_of_shape,
        "Range" => shape::range,
        "NonZero" => shape::non_zero,
        "Trilu" => shape::trilu,
        "Reshape" => layout::reshape,
        "Flatten" => layout::flatten,
        "Squeeze" => layout::squeeze,
        "Unsqueeze" => layout::unsqueeze,
        "Concat" => layout::concat,
        "Transpose" => layout::transpose,
        "Slice" => layout::slice,
        "Gather" => layout::gather,
        "Expand" => layout::expand,
        "Tile" => layout::tile,
        "Split" => layout::split,
        "GatherElements" => layout::gather_elements,
        "DepthToSpace" => layout::depth_to_space,
        "SpaceToDepth" => layout::space_to_depth,
        "Add" | "Sub" | "Mul" | "Div" | "Pow" | "Mod" => arith::binary,
        "Min" | "Max" | "Sum" | "Mean" => arith::variadic,
        "Neg" | "Abs" | "Sqrt" | "Reciprocal" | "Floor" | "Ceil" | "Round" | "Exp" | "Log"
        | "Sign" | "Relu" | "Sigmoid" | "Tanh" | "Erf" => arith::unary,
        "Equal" | "Less" | "Greater" | "LessOrEqual" | "GreaterOrEqual" | "And" | "Or" | "Xor" => {
            compare::binary
        }
        "Not" => compare::not,
        "Where" => compare::select,
        _ => return None,
    })
}

/// The attributes an op type's folding reads; any other is refused rather than ignored.
pub fn known_attributes(op_type: &str) -> &'static [&'static str] {
    match op_type {
        "Cast" => &["to", "saturate"],
        "CastLike" => &["saturate"],
        "ConstantOfShape" => &["value"],
        "Trilu" => &["upper"],
        "Reshape" => &["allowzero"],
        "Flatten" | "Concat" | "Gather" | "GatherElements" => &["axis"],
        "DepthToSpace" => &["blocksize", "mode"],
        "SpaceToDepth" => &["blocksize"],
        "Squeeze" | "Unsqueeze" => &["axes"],
        "Transpose" => &["perm"],
        "Slice" => &["starts", "ends", "axes"],
        "Split" => &["axis", "split", "num_outputs"],
        "Mod" => &["fmod"],
        "Shape" => &["start", "end"],
        _ => &[],
    }
}

/// Folds `node` when it can be evaluated now; returns whether it was.
pub fn fold(cx: &mut Context, node: &NodeProto) -> Result<bool, OnnxError> {
    if let Some(out) = cast::like_activation(cx, node)? {
        return store(cx, node, vec![out]).map(|()| true);
    }
    if let Some(out) = shape::of_activation(cx, node)? {
        Attrs::new(node).reject_unknown(known_attributes(&node.op_type))?;
        return store(cx, node, vec![out]).map(|()| true);
    }
    let Some(f) = folding(&node.op_type) else {
        return Ok(false);
    };
    let present = node.input.iter().filter(|n| !n.is_empty());
    if node.input.is_empty() || present.clone().any(|n| !cx.consts.contains_key(n)) {
        return Ok(false);
    }
    let inputs = node
        .input
        .iter()
        .map(|n| match cx.consts.get(n) {
            Some(c) => Tensor::from_const(c).map(Some),
            None => Ok(None),
        })
        .collect::<Result<Vec<_>, String>>()
        .map_err(|e| Attrs::new(node).unsupported(e))?;
    let attrs = Attrs::new(node);
    attrs.reject_unknown(known_attributes(&node.op_type))?;
    let outputs = f(&attrs, &inputs).map_err(|e| attrs.unsupported(e))?;
    store(cx, node, outputs).map(|()| true)
}

fn store(cx: &mut Context, node: &NodeProto, outputs: Vec<Tensor>) -> Result<(), OnnxError> {
    for (name, t) in node.output.iter().zip(outputs) {
        if t.len() > zkinfer_core::spec::MAX_LEN {
            return Err(Attrs::new(node).unsupported(format!(
                "a constant of shape {:?} exceeds {} values",
                t.shape(),
                zkinfer_core::spec::MAX_LEN
            )));
        }
        cx.consts.insert(name.clone(), t.into_const());
    }
    Ok(())
}

/// Input `i`, which the op requires.
fn required(inputs: &[Option<Tensor>], i: usize) -> Result<&Tensor, String> {
    inputs
        .get(i)
        .and_then(Option::as_ref)
        .ok_or_else(|| format!("input {i} is missing"))
}

/// Input `i` as a list of integers, if present.
fn int_list(inputs: &[Option<Tensor>], i: usize) -> Option<Vec<i64>> {
    inputs.get(i).and_then(Option::as_ref).map(Tensor::int_list)
}
