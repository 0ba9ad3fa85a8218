//! `ArrayFeatureExtractor(X, indices)`: values of `X` at `indices` along its last axis. A
//! constant `X` read at activation indices (a classifier's labels by its arg-max) is a
//! lookup; an activation read at constant indices is a gather.

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::{Entry, Gather, Op};

use super::super::embedding::lookup;
use crate::attrs::Attrs;
use crate::context::{display_name, Context};
use crate::tensor::Const;
use crate::OnnxError;

/// Lowers `ArrayFeatureExtractor`.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&[])?;
    let name = display_name(node);
    if !cx.is_activation(node, 0) {
        let table = cx.constant(node, 0)?.clone();
        if table.shape.iter().rev().skip(1).any(|d| *d != 1) {
            return Err(attrs.unsupported(format!(
                "a constant X of shape {:?} read at computed indices (one row is supported)",
                table.shape
            )));
        }
        let ids = cx.activation(node, 1)?;
        let column = Const {
            shape: vec![table.values().len(), 1],
            floats: table.values(),
            ints: vec![],
        };
        let n: usize = cx.shape(ids).iter().product();
        let (dense, hot) = lookup(cx, &name, &column, ids).map_err(|e| attrs.unsupported(e))?;
        return cx.push(node, Op::Dense(dense), vec![hot], vec![n]);
    }
    let x = cx.activation(node, 0)?;
    let shape = cx.shape(x).to_vec();
    let width = shape.last().copied().unwrap_or(0) as i64;
    let picks = cx.constant(node, 1)?.values();
    let picks: Vec<usize> = picks
        .iter()
        .map(|i| {
            let i = *i as i64;
            usize::try_from(if i < 0 { i + width } else { i })
                .ok()
                .filter(|i| (*i as i64) < width)
                .ok_or_else(|| attrs.unsupported(format!("index {i} outside {width} features")))
        })
        .collect::<Result<_, _>>()?;
    let rows = shape.iter().product::<usize>() / (width.max(1) as usize);
    let entries = (0..rows)
        .flat_map(|r| {
            picks.iter().map(move |p| Entry::Value {
                input: 0,
                index: r * width as usize + p,
            })
        })
        .collect();
    let mut out = shape.clone();
    if let Some(last) = out.last_mut() {
        *last = picks.len();
    }
    let gather = Gather {
        entries,
        shape: out.clone(),
    };
    cx.push(node, Op::Gather(gather), vec![x], out)
}
