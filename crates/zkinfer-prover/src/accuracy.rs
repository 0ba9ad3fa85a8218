//! The quantized model measured against the float model without proving: the same integer
//! evaluation that generates the witness, on many samples.

use zkinfer_core::eval::evaluate;
use zkinfer_core::ir::Graph;
use zkinfer_core::model::QuantModel;
use zkinfer_core::quant::accuracy::{compare, output_shapes, rows_per_sample, Accuracy};
use zkinfer_core::quant::{dequantize, quantize_input};
use zkinfer_core::CoreError;

/// Runs the float graph and the quantized model on every sample and compares them (a sample
/// whose quantized values leave the 8-bit range is counted in `overflows` instead); `labels`
/// (one per prediction of the first output: per sample, or per row of a sequence output) are
/// compared with the first output's predictions.
pub fn measure(
    graph: &Graph,
    model: &QuantModel,
    samples: &[Vec<f32>],
    labels: Option<&[i64]>,
) -> Result<Accuracy, CoreError> {
    let spec = &model.spec;
    if graph.input_len() != spec.input.len() {
        return Err(CoreError::Unsupported(format!(
            "the float model reads {} input values, the quantized one {}",
            graph.input_len(),
            spec.input.len()
        )));
    }
    let shapes = output_shapes(spec);
    let rows = shapes.first().map_or(1, |s| rows_per_sample(s));
    if let Some(l) = labels.filter(|l| l.len() != samples.len() * rows) {
        return Err(CoreError::Unsupported(format!(
            "{} labels for {} samples of {rows} prediction(s) each",
            l.len(),
            samples.len()
        )));
    }
    let (mut pairs, mut kept, mut overflows) = (Vec::new(), Vec::new(), 0);
    for (i, x) in samples.iter().enumerate() {
        let float: Vec<f64> = graph.eval_f32(x)?.into_iter().map(f64::from).collect();
        // A sample whose values leave the 8-bit range cannot be proved: counted, not compared.
        let trace = quantize_input(&spec.input, x).and_then(|q| evaluate(spec, &model.weights, &q));
        let quantized = match trace {
            Ok(t) => dequantize(t.output(), spec.output.scale),
            Err(CoreError::Overflow { .. }) => {
                overflows += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        if float.len() != quantized.len() {
            return Err(CoreError::Unsupported(format!(
                "the float model writes {} output values, the quantized one {}",
                float.len(),
                quantized.len()
            )));
        }
        pairs.push((float, quantized));
        kept.push(i);
    }
    let labels: Option<Vec<i64>> = labels.map(|l| {
        kept.iter()
            .flat_map(|i| l[i * rows..(i + 1) * rows].to_vec())
            .collect()
    });
    let mut accuracy = compare(&shapes, &pairs, labels.as_deref());
    accuracy.overflows = overflows;
    Ok(accuracy)
}
