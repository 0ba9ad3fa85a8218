//! Elementwise functions applied by table lookup: `Sigmoid`, `Tanh`, `Exp`, `Erf`, `Gelu`,
//! `LeakyRelu`, `Clip`, the other unary functions ONNX names (`Sqrt`, `Log`, `Softplus`, `Elu`,
//! …). They differ only in the [`Function`] they name, so they share one file.

use tract_onnx::pb::NodeProto;
use zkinfer_core::function::to_param;
use zkinfer_core::ir::Op;
use zkinfer_core::spec::Function;

use crate::attrs::Attrs;
use crate::context::Context;
use crate::OnnxError;

fn push(cx: &mut Context, node: &NodeProto, f: Function) -> Result<(), OnnxError> {
    let v = cx.activation(node, 0)?;
    let shape = cx.shape(v).to_vec();
    cx.push(node, Op::Activation(f), vec![v], shape)
}

fn plain(cx: &mut Context, node: &NodeProto, f: Function) -> Result<(), OnnxError> {
    Attrs::new(node).reject_unknown(&[])?;
    push(cx, node, f)
}

/// Lowerings of ops without attributes that apply one function.
macro_rules! plain_ops {
    ($($name:ident => $f:ident),* $(,)?) => {$(
        #[doc = concat!("`", stringify!($f), "`.")]
        pub fn $name(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
            plain(cx, node, Function::$f)
        }
    )*};
}

plain_ops! {
    sigmoid => Sigmoid, tanh => Tanh, exp => Exp, erf => Erf, sqrt => Sqrt, abs => Abs,
    neg => Neg, sign => Sign, floor => Floor, ceil => Ceil, round => Round, sin => Sin,
    cos => Cos, softplus => Softplus, softsign => Softsign, mish => Mish,
    hard_swish => HardSwish, reciprocal => Reciprocal, log => Log,
}

/// A float attribute as a parameter.
fn float_param(attrs: &Attrs<'_>, name: &str, default: f32) -> i64 {
    to_param(attrs.float(name, default) as f64)
}

/// `Elu(alpha)`.
pub fn elu(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["alpha"])?;
    let alpha = float_param(&attrs, "alpha", 1.0);
    push(cx, node, Function::Elu { alpha })
}

/// `Celu(alpha)`.
pub fn celu(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["alpha"])?;
    let alpha = float_param(&attrs, "alpha", 1.0);
    push(cx, node, Function::Celu { alpha })
}

/// `Selu(alpha, gamma)`.
pub fn selu(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["alpha", "gamma"])?;
    let alpha = float_param(&attrs, "alpha", 1.673_263_2);
    let gamma = float_param(&attrs, "gamma", 1.050_701);
    push(cx, node, Function::Selu { alpha, gamma })
}

/// `HardSigmoid(alpha, beta)`.
pub fn hard_sigmoid(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["alpha", "beta"])?;
    let alpha = float_param(&attrs, "alpha", 0.2);
    let beta = float_param(&attrs, "beta", 0.5);
    push(cx, node, Function::HardSigmoid { alpha, beta })
}

/// `ThresholdedRelu(alpha)`.
pub fn thresholded_relu(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["alpha"])?;
    let alpha = float_param(&attrs, "alpha", 1.0);
    push(cx, node, Function::ThresholdedRelu { alpha })
}

/// The single value of a constant input, or why it is not one.
fn scalar(cx: &Context, node: &NodeProto, idx: usize) -> Result<f32, OnnxError> {
    let c = cx.constant(node, idx)?;
    let values = c.values();
    match values.first() {
        Some(v) if values.iter().all(|x| x == v) => Ok(*v),
        _ => Err(Attrs::new(node).unsupported(format!(
            "input {idx} of shape {:?} must hold one value",
            c.shape
        ))),
    }
}

/// `PRelu(x, slope)` with one slope for every value (per-channel slopes go through
/// [`super::prelu`]).
pub fn prelu_uniform(cx: &mut Context, node: &NodeProto) -> Result<bool, OnnxError> {
    Attrs::new(node).reject_unknown(&[])?;
    match scalar(cx, node, 1) {
        Ok(alpha) => push(
            cx,
            node,
            Function::LeakyRelu {
                alpha: to_param(alpha as f64),
            },
        )
        .map(|()| true),
        Err(_) => Ok(false),
    }
}

/// `Min` / `Max` of an activation and one constant value: a clip; any other operands
/// (several activations, constants that vary) go through [`super::extremum`].
pub fn min_max(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&[])?;
    let uniform = node.input.len() == 2
        && cx.is_activation(node, 0)
        && !cx.is_activation(node, 1)
        && scalar(cx, node, 1).is_ok();
    if !uniform {
        return super::extremum::lower(cx, node);
    }
    let bound = to_param((scalar(cx, node, 1)? as f64).clamp(-1e6, 1e6));
    let (min, max) = match node.op_type.as_str() {
        "Max" => (bound, to_param(1e6)),
        _ => (to_param(-1e6), bound),
    };
    push(cx, node, Function::Clip { min, max })
}

/// `Gelu` (exact, or the tanh approximation).
pub fn gelu(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["approximate"])?;
    match attrs.string("approximate", "none").as_str() {
        "none" => push(cx, node, Function::Gelu),
        "tanh" => push(cx, node, Function::GeluTanh),
        other => Err(attrs.unsupported(format!("approximate {other} not supported"))),
    }
}

/// `LeakyRelu(alpha)`.
pub fn leaky_relu(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["alpha"])?;
    let alpha = to_param(attrs.float("alpha", 0.01) as f64);
    push(cx, node, Function::LeakyRelu { alpha })
}

/// `Clip(min, max)` with constant bounds (inputs since opset 11, attributes before).
pub fn clip(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&["min", "max"])?;
    let bound = |idx: usize, attr: &str, default: f32| -> Result<f32, OnnxError> {
        match cx.optional_constant(node, idx)? {
            Some(c) if c.values().len() == 1 => Ok(c.values()[0]),
            Some(c) => {
                Err(attrs.unsupported(format!("bound of shape {:?} (a scalar expected)", c.shape)))
            }
            None => Ok(attrs.float(attr, default)),
        }
    };
    let (min, max) = (bound(1, "min", f32::MIN)?, bound(2, "max", f32::MAX)?);
    let clamp = |v: f32| (v as f64).clamp(-1e6, 1e6);
    push(
        cx,
        node,
        Function::Clip {
            min: to_param(clamp(min)),
            max: to_param(clamp(max)),
        },
    )
}
