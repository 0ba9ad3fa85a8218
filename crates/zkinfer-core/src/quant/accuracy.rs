//! How closely the quantized model (exactly what the circuit proves) follows the float model
//! on many samples, output by output, and how often each predicts the right label.

use serde::{Deserialize, Serialize};

use crate::spec::ModelSpec;

/// One output's quantized-vs-float agreement over the samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputAccuracy {
    /// The output's shape.
    pub shape: Vec<usize>,
    /// Largest absolute error.
    pub max_abs_error: f64,
    /// Mean absolute error.
    pub mean_abs_error: f64,
    /// Largest absolute float value (to read the error against).
    pub max_abs_float: f64,
    /// Fraction of predictions (one per row along the last axis, per sample) the two models
    /// share.
    pub agreement: f64,
}

/// Fractions of the first output's predictions that are the given labels.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LabelAccuracy {
    /// The float model's.
    pub float: f64,
    /// The quantized model's.
    pub quantized: f64,
}

/// The quantized model against the float model on a set of samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    /// Number of samples compared.
    pub samples: usize,
    /// One entry per model output.
    pub outputs: Vec<OutputAccuracy>,
    /// Against the labels, when given.
    pub labels: Option<LabelAccuracy>,
    /// Samples left out because a quantized value left the circuit's range (they cannot be
    /// proved).
    #[serde(default)]
    pub overflows: usize,
}

/// What an output predicts: the index of its largest value (first on ties), or for a single
/// value (a classifier's label output) the value rounded.
pub fn prediction(values: &[f64]) -> i64 {
    match values {
        [v] => v.round() as i64,
        _ => {
            let mut best = 0;
            for (i, v) in values.iter().enumerate() {
                if *v > values[best] {
                    best = i;
                }
            }
            best as i64
        }
    }
}

/// The shapes of a spec's outputs (one, or the parts of a concatenation).
pub fn output_shapes(spec: &ModelSpec) -> Vec<Vec<usize>> {
    if spec.output_parts.is_empty() {
        vec![spec.output.shape.clone()]
    } else {
        spec.output_parts.clone()
    }
}

/// One sample's outputs: float, then quantized.
pub type Pair = (Vec<f64>, Vec<f64>);

/// The values one prediction reads: the last axis (a classifier's scores, one position of a
/// sequence model's logits); a scalar output is one value.
pub fn row_len(shape: &[usize]) -> usize {
    shape.last().copied().unwrap_or(1).max(1)
}

/// Predictions one sample makes through an output of `shape`.
pub fn rows_per_sample(shape: &[usize]) -> usize {
    shape.iter().product::<usize>() / row_len(shape)
}

/// Compares (float, quantized) outputs sample by sample, each the concatenation of outputs of
/// `shapes`; predictions are made row by row along each output's last axis, and `labels`
/// (one per row of the first output, sample after sample) are compared with the first
/// output's.
pub fn compare(shapes: &[Vec<usize>], pairs: &[Pair], labels: Option<&[i64]>) -> Accuracy {
    let mut outputs = Vec::with_capacity(shapes.len());
    let mut start = 0;
    for shape in shapes {
        let (len, row) = (shape.iter().product::<usize>(), row_len(shape));
        let (mut max, mut sum, mut top) = (0.0f64, 0.0f64, 0.0f64);
        let (mut agree, mut rows) = (0usize, 0usize);
        for (f, q) in pairs {
            let (f, q) = (part(f, start, len), part(q, start, len));
            for (a, b) in f.iter().zip(q) {
                max = max.max((a - b).abs());
                sum += (a - b).abs();
                top = top.max(a.abs());
            }
            for (fr, qr) in f.chunks(row).zip(q.chunks(row)) {
                agree += usize::from(prediction(fr) == prediction(qr));
                rows += 1;
            }
        }
        outputs.push(OutputAccuracy {
            shape: shape.clone(),
            max_abs_error: max,
            mean_abs_error: sum / (pairs.len() * len).max(1) as f64,
            max_abs_float: top,
            agreement: agree as f64 / rows.max(1) as f64,
        });
        start += len;
    }
    let first = shapes.first().cloned().unwrap_or_default();
    let (len, row) = (first.iter().product::<usize>(), row_len(&first));
    let rows_of = |side: fn(&Pair) -> &[f64]| -> Vec<&[f64]> {
        pairs
            .iter()
            .flat_map(|p| side(p)[..len.min(side(p).len())].chunks(row))
            .collect()
    };
    let labels = labels.map(|labels| LabelAccuracy {
        float: hit_rate(&rows_of(|p| &p.0), labels),
        quantized: hit_rate(&rows_of(|p| &p.1), labels),
    });
    Accuracy {
        samples: pairs.len(),
        outputs,
        labels,
        overflows: 0,
    }
}

/// Values `start..start + len` of `v` (fewer where `v` is shorter).
fn part(v: &[f64], start: usize, len: usize) -> &[f64] {
    &v[start.min(v.len())..(start + len).min(v.len())]
}

/// The fraction of `rows` whose prediction is the label beside it.
fn hit_rate(rows: &[&[f64]], labels: &[i64]) -> f64 {
    let hits = rows
        .iter()
        .zip(labels)
        .filter(|(r, l)| prediction(r) == **l)
        .count();
    hits as f64 / rows.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_value_predicts_itself_and_a_vector_its_first_maximum() {
        assert_eq!(prediction(&[2.6]), 3);
        assert_eq!(prediction(&[0.1, 0.7, 0.7, 0.2]), 1);
    }

    #[test]
    fn outputs_are_compared_part_by_part() {
        // Output 0: a label; output 1: two scores.
        let shapes = vec![vec![1], vec![1, 2]];
        let pairs = vec![
            (vec![1.0, 0.2, 0.8], vec![1.0, 0.25, 0.75]),
            (vec![0.0, 0.6, 0.4], vec![1.0, 0.375, 0.5]),
        ];
        let a = compare(&shapes, &pairs, Some(&[1, 0]));
        assert_eq!(a.samples, 2);
        assert_eq!(a.outputs[0].max_abs_error, 1.0);
        assert_eq!(a.outputs[0].agreement, 0.5);
        assert!((a.outputs[1].max_abs_error - 0.225).abs() < 1e-12);
        assert_eq!(a.outputs[1].agreement, 0.5);
        assert_eq!(a.outputs[1].max_abs_float, 0.8);
        let l = a.labels.unwrap();
        assert_eq!((l.float, l.quantized), (1.0, 0.5));
    }

    #[test]
    fn a_sequence_output_predicts_row_by_row() {
        // Two positions of three logits; the quantized model flips the second position.
        let shapes = vec![vec![1, 2, 3]];
        let pairs = vec![(
            vec![0.0, 1.0, 0.5, 0.9, 0.1, 0.0],
            vec![0.0, 1.0, 0.5, 0.4, 0.6, 0.0],
        )];
        let a = compare(&shapes, &pairs, Some(&[1, 0]));
        assert_eq!(a.outputs[0].agreement, 0.5);
        let l = a.labels.unwrap();
        assert_eq!((l.float, l.quantized), (1.0, 0.5));
        assert_eq!(rows_per_sample(&shapes[0]), 2);
    }
}
