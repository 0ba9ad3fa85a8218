//! `Constant` nodes, in every value form ONNX defines except sparse and string ones.

use ndarray::{ArrayD, IxDyn};
use tract_onnx::pb::NodeProto;

use super::tensor::Tensor;
use crate::attrs::Attrs;
use crate::context::{display_name, Context};
use crate::OnnxError;

fn value(attrs: &Attrs<'_>) -> Result<Tensor, String> {
    if let Some(t) = attrs.tensor("value") {
        return Tensor::from_const(&crate::tensor::read(t)?);
    }
    if attrs.has("value_float") {
        Ok(Tensor::F(ArrayD::from_elem(
            IxDyn(&[]),
            attrs.float("value_float", 0.0),
        )))
    } else if attrs.has("value_int") {
        Ok(Tensor::I(ArrayD::from_elem(
            IxDyn(&[]),
            attrs.int("value_int", 0),
        )))
    } else if let Some(v) = attrs.floats("value_floats") {
        Ok(Tensor::F(ndarray::Array1::from(v.to_vec()).into_dyn()))
    } else if let Some(v) = attrs.ints("value_ints") {
        Ok(Tensor::vector(v.to_vec()))
    } else {
        Err(
            "only tensor, float and integer values are supported (not sparse or string ones)"
                .into(),
        )
    }
}

/// Records a `Constant` node's value.
pub fn constant(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    let t = value(&attrs).map_err(|detail| OnnxError::Tensor {
        node: display_name(node),
        tensor: node.output.first().cloned().unwrap_or_default(),
        detail,
    })?;
    if let Some(out) = node.output.first() {
        cx.consts.insert(out.clone(), t.into_const());
    }
    Ok(())
}
