//! Elementwise functions applied by table lookup: `Sigmoid`, `Tanh`, `Exp`, `Erf`, `Gelu`,
//! `LeakyRelu`, `Clip`. They differ only in the [`Function`] they name, so they share one file.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::Op;
use zkinfer_core::quant::activation::to_param;
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

/// `Sigmoid`.
pub fn sigmoid(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    plain(cx, node, Function::Sigmoid)
}

/// `Tanh`.
pub fn tanh(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    plain(cx, node, Function::Tanh)
}

/// `Exp`.
pub fn exp(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    plain(cx, node, Function::Exp)
}

/// `Erf`.
pub fn erf(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    plain(cx, node, Function::Erf)
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
