//! Layout ops on an activation (`Reshape`, `Flatten`, `Squeeze`, `Unsqueeze`, `Transpose`,
//! `Slice`, `Gather` and `GatherElements` by constant indices, `Expand`, `Tile`, `Split`,
//! `DepthToSpace`, `SpaceToDepth`): the op's constant
//! folding is run on the activation's *positions*, and the positions it returns say which
//! input value every output reads. In order, that is a reshape; otherwise a gather, which the
//! circuit proves by wiring.

use ndarray::ArrayD;
use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::{Entry, Gather, Op};

use crate::attrs::Attrs;
use crate::context::Context;
use crate::fold::tensor::Tensor;
use crate::OnnxError;

/// Every position of a tensor of `shape`, as an integer tensor of that shape.
pub fn positions(shape: &[usize]) -> Result<Tensor, String> {
    let n: usize = shape.iter().product();
    crate::layout::from_vec(shape, (0..n as i64).collect()).map(Tensor::I)
}

/// The op reading, from a value of `len` values, the positions `picked`.
pub fn op_of(picked: &ArrayD<i64>, len: usize) -> Op {
    let shape = picked.shape().to_vec();
    let in_order = picked.iter().enumerate().all(|(i, p)| *p == i as i64);
    if in_order && picked.len() == len {
        return Op::Reshape(shape);
    }
    Op::Gather(Gather {
        entries: picked
            .iter()
            .map(|p| Entry::Value {
                input: 0,
                index: *p as usize,
            })
            .collect(),
        shape,
    })
}

/// Lowers a layout op whose input 0 is an activation and whose other inputs are constants.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    if node.op_type == "Gather" && !cx.is_activation(node, 0) && cx.is_activation(node, 1) {
        return super::embedding::lower(cx, node);
    }
    let attrs = Attrs::new(node);
    attrs.reject_unknown(crate::fold::known_attributes(&node.op_type))?;
    let v = cx.activation(node, 0)?;
    let fold =
        crate::fold::folding(&node.op_type).ok_or_else(|| attrs.unsupported("not a layout op"))?;
    let mut inputs = vec![Some(
        positions(cx.shape(v)).map_err(|e| attrs.unsupported(e))?,
    )];
    for i in 1..node.input.len() {
        let c = cx.optional_constant(node, i)?;
        inputs.push(
            c.map(Tensor::from_const)
                .transpose()
                .map_err(|e| attrs.unsupported(e))?,
        );
    }
    let outputs = fold(&attrs, &inputs).map_err(|e| attrs.unsupported(e))?;
    let len = cx.shape(v).iter().product();
    for (i, out) in outputs.into_iter().enumerate() {
        // Outputs nothing reads (a split's unused parts) are not built.
        let read = node
            .output
            .get(i)
            .is_some_and(|n| cx.uses.get(n).copied().unwrap_or(0) > 0);
        if !read {
            continue;
        }
        let picked = out.ints();
        if picked.is_empty() {
            return Err(attrs.unsupported(format!("output {i} is empty")));
        }
        let shape = picked.shape().to_vec();
        cx.push_output(node, i, op_of(&picked, len), vec![v], shape)?;
    }
    Ok(())
}
