//! Classical machine-learning ops of the `ai.onnx.ml` domain, as skl2onnx writes them:
//! classifiers produce a label and class scores from proved pieces (dense layers whose
//! weights stay private and committed, comparisons, tables), with `ArgMax` for the label.

pub mod feature;
pub mod linear;
pub mod normalizer;
pub mod scaler;
pub mod tree;

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::Op;
use zkinfer_core::spec::Function;

use super::argmax::{index_of_max, MAX_AXIS};
use super::embedding::lookup;
use crate::attrs::Attrs;
use crate::context::{display_name, Context};
use crate::tensor::Const;
use crate::OnnxError;

/// Names a classifier's outputs from its raw scores `[N, C]`: the scores after
/// `post_transform` (output 1) and the label of the largest (output 0), mapped to
/// `labels` unless they are `0..C`.
pub fn classify(
    cx: &mut Context,
    node: &NodeProto,
    scores: usize,
    labels: &[i64],
) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    let name = display_name(node);
    let shape = cx.shape(scores).to_vec();
    let classes = shape.last().copied().unwrap_or(0);
    if classes == 0 || classes > MAX_AXIS || labels.len() != classes {
        return Err(attrs.unsupported(format!(
            "{} labels for {classes} class scores",
            labels.len()
        )));
    }
    let probs = match attrs.string("post_transform", "NONE").as_str() {
        "NONE" => scores,
        "SOFTMAX" => super::softmax::normalise(cx, &name, scores, &[shape.len() - 1], false, None)
            .map_err(|e| attrs.unsupported(e))?,
        "LOGISTIC" => cx.push_value(
            format!("{name}/logistic"),
            Op::Activation(Function::Sigmoid),
            vec![scores],
            shape.clone(),
        ),
        other => return Err(attrs.unsupported(format!("post_transform {other} is not supported"))),
    };
    let index = index_of_max(cx, &format!("{name}/label"), probs, shape.len() - 1, false);
    let n: usize = shape[..shape.len() - 1].iter().product();
    let label = if labels.iter().enumerate().all(|(i, l)| *l == i as i64) {
        index
    } else {
        let table = Const {
            shape: vec![classes, 1],
            floats: labels.iter().map(|l| *l as f32).collect(),
            ints: vec![],
        };
        let (dense, hot) = lookup(cx, &format!("{name}/labels"), &table, index)
            .map_err(|e| attrs.unsupported(e))?;
        cx.push_value(
            format!("{name}/mapped"),
            Op::Dense(dense),
            vec![hot],
            vec![n, 1],
        )
    };
    cx.push_output(node, 0, Op::Reshape(vec![n]), vec![label], vec![n])?;
    cx.push_output(node, 1, Op::Reshape(shape.clone()), vec![probs], shape)
}

/// Integer labels of a classifier (string labels are refused).
pub fn int_labels(attrs: &Attrs<'_>, name: &str) -> Result<Vec<i64>, OnnxError> {
    if attrs.has("classlabels_strings") {
        return Err(attrs.unsupported("string class labels are not supported"));
    }
    attrs
        .ints(name)
        .map(<[i64]>::to_vec)
        .ok_or_else(|| attrs.unsupported(format!("{name} is missing")))
}
