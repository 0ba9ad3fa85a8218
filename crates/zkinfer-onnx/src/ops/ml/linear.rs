//! `LinearClassifier`: class scores `x · Wᵀ + b` (a dense layer, weights private), then
//! [`super::classify`].

use tract_onnx::pb::NodeProto;
use zkinfer_core::ir::{Dense, Op};

use crate::attrs::Attrs;
use crate::context::{display_name, Context};
use crate::OnnxError;

/// Lowers `LinearClassifier`.
pub fn lower(cx: &mut Context, node: &NodeProto) -> Result<(), OnnxError> {
    let attrs = Attrs::new(node);
    attrs.reject_unknown(&[
        "classlabels_ints",
        "classlabels_strings",
        "coefficients",
        "intercepts",
        "multi_class",
        "post_transform",
    ])?;
    let labels = super::int_labels(&attrs, "classlabels_ints")?;
    let x = cx.activation(node, 0)?;
    let shape = cx.shape(x).to_vec();
    let features = shape.last().copied().unwrap_or(0);
    let coefficients = attrs.floats("coefficients").unwrap_or(&[]).to_vec();
    let classes = coefficients.len().checked_div(features).unwrap_or(0);
    if classes < 2 || classes * features != coefficients.len() || classes != labels.len() {
        return Err(attrs.unsupported(format!(
            "{} coefficients for {features} features and {} labels (one row per class, at least two, is supported)",
            coefficients.len(),
            labels.len()
        )));
    }
    let bias = attrs
        .floats("intercepts")
        .map(<[f32]>::to_vec)
        .unwrap_or_else(|| vec![0.0; classes]);
    if bias.len() != classes {
        return Err(attrs.unsupported(format!("{} intercepts for {classes} classes", bias.len())));
    }
    let rows = shape.iter().product::<usize>() / features;
    let dense = Dense {
        inputs: features,
        outputs: classes,
        weights: coefficients,
        bias,
        batch: rows,
    };
    let name = display_name(node);
    let scores = match cx.foldable_producer(node, 0, x) {
        // A dense layer (a Scaler) read only here: one layer `W·(A·x + a) + b`, so the
        // weights are quantized once.
        Some(producer) => match &mut producer.op {
            Op::Dense(first) if first.outputs == features => {
                *first = compose(first, &dense);
                cx.shapes[x] = vec![rows, classes];
                x
            }
            _ => cx.push_value(
                format!("{name}/scores"),
                Op::Dense(dense),
                vec![x],
                vec![rows, classes],
            ),
        },
        None => cx.push_value(
            format!("{name}/scores"),
            Op::Dense(dense),
            vec![x],
            vec![rows, classes],
        ),
    };
    super::classify(cx, node, scores, &labels)
}

/// The dense layer `second(first(x))`.
fn compose(first: &Dense, second: &Dense) -> Dense {
    let (k, m, n) = (first.inputs, first.outputs, second.outputs);
    let weights = (0..n)
        .flat_map(|j| {
            (0..k).map(move |i| {
                (0..m)
                    .map(|h| weight(second, j * m + h) * weight(first, h * k + i))
                    .sum()
            })
        })
        .collect();
    let bias = (0..n)
        .map(|j| {
            let bias = |d: &Dense, i: usize| d.bias.get(i).copied().unwrap_or(0.0);
            bias(second, j)
                + (0..m)
                    .map(|h| weight(second, j * m + h) * bias(first, h))
                    .sum::<f32>()
        })
        .collect();
    Dense {
        inputs: k,
        outputs: n,
        weights,
        bias,
        batch: first.batch,
    }
}

/// Weight `i` of a dense layer (0 past its end).
fn weight(d: &Dense, i: usize) -> f32 {
    d.weights.get(i).copied().unwrap_or(0.0)
}
