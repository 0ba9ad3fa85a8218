//! `zkinfer eval`, and the same report in `compile`: the quantized model (exactly what the
//! circuit proves) against the float model on many samples, without proving.

use std::path::Path;

use zkinfer::core::ir::Graph;
use zkinfer::core::model::QuantModel;
use zkinfer::core::quant::accuracy::Accuracy;
use zkinfer::core::quant::split_samples;
use zkinfer::prover::accuracy::measure;
use zkinfer::{onnx, CompiledModel};

use crate::{bad, input_values, read, Failure};

/// Labels from a JSON array of integers, or an object's `"labels"` array.
fn parse_labels(bytes: &[u8]) -> Result<Option<Vec<i64>>, String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let list = match &value {
        serde_json::Value::Array(_) => &value,
        serde_json::Value::Object(map) => match map.get("labels") {
            Some(l) => l,
            None => return Ok(None),
        },
        _ => return Err("labels must be an array of integers".into()),
    };
    serde_json::from_value(list.clone())
        .map(Some)
        .map_err(|_| "labels must be an array of integers".into())
}

/// The labels of `labels`, or else the `"labels"` of the input file, if it has them.
pub fn labels(input: &Path, labels: Option<&Path>) -> Result<Option<Vec<i64>>, Failure> {
    let path = labels.unwrap_or(input);
    match parse_labels(&read(path)?) {
        Ok(None) if labels.is_some() => Err(bad(format!("{}: no labels", path.display()))),
        Ok(found) => Ok(found),
        Err(e) => Err(bad(format!("{}: {e}", path.display()))),
    }
}

/// Measures `model` against `graph` on the samples of `input`.
fn measured(
    graph: &Graph,
    model: &QuantModel,
    input: &Path,
    labels: Option<&[i64]>,
) -> Result<Accuracy, Failure> {
    let samples = split_samples(&input_values(input, graph.input_len())?, graph.input_len())
        .map_err(|e| bad(format!("{}: {e}", input.display())))?;
    measure(graph, model, &samples, labels).map_err(bad)
}

/// Measures `model` against `graph` on the samples of `input` and prints the report.
pub fn report(
    title: &str,
    graph: &Graph,
    model: &QuantModel,
    input: &Path,
    labels: Option<&[i64]>,
) -> Result<(), Failure> {
    print(title, &measured(graph, model, input, labels)?);
    Ok(())
}

/// Runs `zkinfer eval`.
pub fn run(
    model: &Path,
    onnx_model: &Path,
    input: &Path,
    label_file: Option<&Path>,
    json: bool,
) -> Result<(), Failure> {
    let compiled = CompiledModel::from_bytes(&read(model)?)
        .map_err(|e| bad(format!("{}: {e}", model.display())))?;
    let graph = onnx::load(onnx_model).map_err(bad)?;
    let labels = labels(input, label_file)?;
    let accuracy = measured(&graph, &compiled.model, input, labels.as_deref())?;
    if json {
        println!("{}", serde_json::json!(accuracy));
    } else {
        print(&input.display().to_string(), &accuracy);
    }
    Ok(())
}

/// Prints an accuracy report, one line per output.
pub fn print(title: &str, a: &Accuracy) {
    println!("eval       {title}: {} samples", a.samples);
    for (i, o) in a.outputs.iter().enumerate().filter(|_| a.samples > 0) {
        println!(
            "  output {i} {:?}: max |err| {:.4} (max |float| {:.3}), mean |err| {:.4}, prediction agreement {:.1}%",
            o.shape,
            o.max_abs_error,
            o.max_abs_float,
            o.mean_abs_error,
            100.0 * o.agreement
        );
    }
    if a.overflows > 0 {
        println!(
            "  overflow {} sample(s) leave the circuit's value range and cannot be proved (not compared)",
            a.overflows
        );
    }
    if let Some(l) = a.labels {
        println!(
            "  labels   accuracy: float {:.1}%, quantized {:.1}%",
            100.0 * l.float,
            100.0 * l.quantized
        );
    }
}
