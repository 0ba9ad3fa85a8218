//! `PRelu(x, slope)`: one slope is a table (leaky ReLU); slopes that vary (per channel) are
//! `relu(x) + slope · (x − relu(x))`, from proved pieces.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::Op;

use super::broadcast::constant_to;
use crate::context::{display_name, Context};
use crate::OnnxError;

/// Lowers `PRelu`.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    if super::activation::prelu_uniform(cx, node)? {
        return Ok(());
    }
    let x = cx.activation(node, 0)?;
    let shape = cx.shape(x).to_vec();
    let slope = cx.constant(node, 1)?.clone();
    let attrs = crate::attrs::Attrs::new(node);
    if zkinfer_core::ir::gather::broadcast_shape(&slope.shape, &shape).as_deref()
        != Some(&shape[..])
    {
        return Err(attrs.unsupported(format!(
            "slope of shape {:?} does not broadcast to {shape:?}",
            slope.shape
        )));
    }
    let name = display_name(node);
    let r = cx.push_value(format!("{name}/relu"), Op::Relu, vec![x], shape.clone());
    let neg = cx.push_value(
        format!("{name}/negative"),
        Op::Sub,
        vec![x, r],
        shape.clone(),
    );
    let s = constant_to(cx, &name, &slope, &shape);
    let scaled = cx.push_value(
        format!("{name}/scaled"),
        Op::Mul,
        vec![neg, s],
        shape.clone(),
    );
    cx.push(node, Op::Add, vec![r, scaled], shape)
}
