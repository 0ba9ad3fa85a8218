//! `Pow(x, e)` with a constant exponent: one table for one exponent; for exponents that vary
//! (at most [`MAX_EXPONENTS`] distinct values), one table per exponent and a gather picking,
//! for every position, the table of its exponent.

use tract_onnx::pb::NodeProto;
use zkinfer_core::function::to_param;
use zkinfer_core::ir::gather::broadcast_indices;
use zkinfer_core::ir::{Entry, Gather, Op};
use zkinfer_core::spec::Function;

use super::broadcast::broadcast_to;
use crate::attrs::Attrs;
use crate::context::{display_name, Context};
use crate::OnnxError;

/// Most distinct exponents a `Pow` may use.
pub const MAX_EXPONENTS: usize = 8;

/// Lowers `Pow`.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&[])?;
    let x = cx.activation(node, 0)?;
    let e = cx.constant(node, 1)?.clone();
    let values: Vec<i64> = e.values().iter().map(|v| to_param(*v as f64)).collect();
    let mut distinct = values.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() > MAX_EXPONENTS {
        return Err(attrs.unsupported(format!(
            "{} distinct exponents (at most {MAX_EXPONENTS})",
            distinct.len()
        )));
    }
    let shape = cx.shape(x).to_vec();
    let out = super::broadcast::output_shape(&attrs, &shape, &e.shape)?;
    let name = display_name(node);
    let xb = broadcast_to(cx, &name, x, &out);
    if let [exponent] = distinct[..] {
        return cx.push(
            node,
            Op::Activation(Function::Pow { exponent }),
            vec![xb],
            out,
        );
    }
    let tables: Vec<usize> = distinct
        .iter()
        .map(|exponent| {
            cx.push_value(
                format!("{name}/pow"),
                Op::Activation(Function::Pow {
                    exponent: *exponent,
                }),
                vec![xb],
                out.clone(),
            )
        })
        .collect();
    let entries = broadcast_indices(&e.shape, &out)
        .into_iter()
        .enumerate()
        .map(|(index, k)| Entry::Value {
            input: distinct.binary_search(&values[k]).unwrap_or(0),
            index,
        })
        .collect();
    let gather = Gather {
        entries,
        shape: out.clone(),
    };
    cx.push(node, Op::Gather(gather), tables, out)
}
