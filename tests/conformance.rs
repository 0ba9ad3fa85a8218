//! The ONNX backend node tests for the supported ops (exported by
//! `scripts/export_onnx_node_tests.py` into `tests/data/onnx-node/`), each classified:
//! **pass** (compiles; quantized outputs within tolerance of the expected ones), **refused**
//! (a typed unsupported error naming an op of the model, or a typed model-level refusal), or
//! **fail** (anything else: wrong values, panic, other errors). The suite fails on any fail.
//! The circuit of the first passing case of every op is also checked by MockProver.
//!
//! [`LIMITED`] names the cases whose expected values lie below the 8-bit resolution the
//! quantizer picks for their inputs; each must still fail the tolerance (so the list stays
//! exact) and no other case may.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use zkinfer::core::circuit::{ModelCircuit, NoEdit};
use zkinfer::core::eval::evaluate;
use zkinfer::core::quant::{dequantize, quantize_input};
use zkinfer::onnx::OnnxError;
use zkinfer::CoreError;

/// Cases beyond the resolution of 8-bit activations, and why.
const LIMITED: &[(&str, &str)] = &[
    (
        "test_less",
        "operands 0.0073 apart, below the input's 1/32 step: the comparison sees a tie",
    ),
    (
        "test_greater_equal",
        "operands 0.0073 apart, below the input's 1/32 step: the comparison sees a tie",
    ),
    (
        "test_greater_equal_expanded",
        "operands 0.0073 apart, below the input's 1/32 step: Equal sees a tie",
    ),
    (
        "test_argmin_negative_axis_keepdims_random",
        "0.898 and 0.976 differ by 0.078, below the 1/4 step of the difference x − min(x) \
         (its range is twice the input's): the first of the two is taken",
    ),
    (
        "test_log",
        "ln near 0 at a 1/32 input step: ln(0.078) = -2.55 is read as ln(0.125) = -2.08",
    ),
    (
        "test_div_int16",
        "integer Div truncates (17 / 18 = 0); a division by an activation is a product with \
         its 8-bit reciprocal, 0.9375 here, and is not truncated",
    ),
];

#[derive(Debug)]
enum Outcome {
    Pass,
    Refused(String),
    Fail(String),
}

#[derive(serde::Deserialize)]
struct Data {
    input: Vec<f64>,
    output: Vec<f64>,
}

fn op_types(path: &Path) -> Vec<String> {
    let text = std::fs::read(path).unwrap_or_default();
    // Op types appear as protobuf strings; match the ones the suite covers by name.
    let known = zkinfer::onnx::SUPPORTED;
    let s = String::from_utf8_lossy(&text);
    known
        .iter()
        .filter(|k| s.contains(*k))
        .map(|k| k.to_string())
        .collect()
}

fn classify(dir: &Path, check: bool) -> Outcome {
    let model = dir.join("model.onnx");
    let data: Data = match std::fs::read(dir.join("data.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
    {
        Some(d) => d,
        None => return Outcome::Fail("unreadable data.json".into()),
    };
    let graph = match zkinfer::onnx::load(&model) {
        Ok(g) => g,
        Err(
            e @ (OnnxError::UnsupportedOp { .. }
            | OnnxError::Unsupported { .. }
            | OnnxError::Model(_)
            | OnnxError::Tensor { .. }),
        ) => return Outcome::Refused(e.to_string()),
        Err(OnnxError::Core(e @ (CoreError::Unsupported(_) | CoreError::ShapeMismatch { .. }))) => {
            return Outcome::Refused(e.to_string())
        }
        Err(e) => return Outcome::Fail(format!("load: {e}")),
    };
    let input: Vec<f32> = data.input.iter().map(|v| *v as f32).collect();
    if input.len() != graph.input_len() {
        return Outcome::Fail(format!(
            "input has {} values, the model {}",
            input.len(),
            graph.input_len()
        ));
    }
    let quantized = zkinfer::prover::quantize("node", &graph, std::slice::from_ref(&input));
    let model = match quantized {
        Ok((m, _)) => m,
        Err(e @ (CoreError::Unsupported(_) | CoreError::Calibration(_))) => {
            return Outcome::Refused(e.to_string())
        }
        Err(e) => return Outcome::Fail(format!("compile: {e}")),
    };
    let spec = &model.spec;
    let q = match quantize_input(&spec.input, &input) {
        Ok(q) => q,
        Err(e) => return Outcome::Fail(format!("quantize: {e}")),
    };
    let trace = match evaluate(spec, &model.weights, &q) {
        Ok(t) => t,
        Err(e) => return Outcome::Fail(format!("evaluate: {e}")),
    };
    let out = dequantize(trace.output(), spec.output.scale);
    if out.len() != data.output.len() {
        return Outcome::Fail(format!(
            "{} outputs, expected {}",
            out.len(),
            data.output.len()
        ));
    }
    let max = data.output.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let tol = 0.10 * max + 2.0 / (1u64 << spec.output.scale) as f64;
    if let Some((a, b)) = out
        .iter()
        .zip(&data.output)
        .find(|(a, b)| (*a - *b).abs() > tol)
    {
        return Outcome::Fail(format!("output {a} vs expected {b} (tolerance {tol:.4})"));
    }
    if check {
        // The circuit of the case, checked by MockProver (real proofs of every layer kind are
        // made on the reference models in `circuits/`).
        let checked = ModelCircuit::prove(&model, &q)
            .map_err(|e| e.to_string())
            .and_then(|(circuit, public, _)| {
                circuit
                    .mock_prover(std::sync::Arc::new(NoEdit), spec.circuit.k, public)
                    .map_err(|e| e.to_string())?
                    .verify()
                    .map_err(|failures| format!("{} constraint failures", failures.len()))
            });
        if let Err(e) = checked {
            return Outcome::Fail(format!("circuit: {e}"));
        }
    }
    Outcome::Pass
}

/// The op a test exercises, from its name (`test_reduce_sum_keepdims` → `reduce_sum`).
fn group(name: &str) -> String {
    let rest = name.trim_start_matches("test_");
    let multi = [
        "reduce_sum_square",
        "reduce_sum",
        "reduce_mean",
        "reduce_max",
        "reduce_min",
        "reduce_l1",
        "reduce_l2",
        "reduce_log_sum_exp",
        "reduce_log_sum",
        "layer_normalization",
        "constant_pad",
        "edge_pad",
        "reflect_pad",
        "wrap_pad",
    ];
    match multi.iter().find(|m| rest.starts_with(*m)) {
        Some(m) => m.to_string(),
        None => rest.split('_').next().unwrap_or("?").to_string(),
    }
}

/// The case folders under `rel`, in name order.
fn cases(rel: &str) -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel);
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty());
    dirs
}

/// Corners of the lowerings that rewrite an op into others (Resize and Upsample coordinate
/// modes and lengths, ConvTranspose padding splits, batched constant MatMul, batched and
/// dilated pools, embeddings with negative ids), each a one-node model whose expected output
/// onnxruntime computed (`tests/data/onnx-edge/`; `scripts/check_edge_cases.py` recomputes
/// them): every one must pass.
#[test]
fn edge_cases() {
    let dirs = cases("tests/data/onnx-edge");
    let fails: Vec<String> = dirs
        .iter()
        .filter_map(|dir| {
            let name = dir.file_name().unwrap().to_string_lossy().to_string();
            match catch_unwind(AssertUnwindSafe(|| classify(dir, false))) {
                Ok(Outcome::Pass) => None,
                Ok(Outcome::Refused(why)) => Some(format!("{name}: refused: {why}")),
                Ok(Outcome::Fail(why)) => Some(format!("{name}: {why}")),
                Err(_) => Some(format!("{name}: panic")),
            }
        })
        .collect();
    println!(
        "edge cases: {} of {} pass",
        dirs.len() - fails.len(),
        dirs.len()
    );
    assert!(fails.is_empty(), "{}", fails.join("\n"));
}

#[test]
fn onnx_node_tests() {
    let dirs = cases("tests/data/onnx-node");
    let mut table: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    let mut fails = Vec::new();
    let mut checked = 0;
    let (mut pass, mut refused) = (0, 0);
    let mut limited: Vec<String> = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let op = group(&name);
        // Check the circuit of the first passing case of each op.
        let check = table.get(&op).is_none_or(|row| row[0] == 0);
        let outcome = catch_unwind(AssertUnwindSafe(|| classify(dir, check)))
            .unwrap_or_else(|_| Outcome::Fail("panic".into()));
        let ops = op_types(&dir.join("model.onnx"));
        let row = table.entry(op).or_default();
        match &outcome {
            Outcome::Pass => {
                row[0] += 1;
                pass += 1;
                checked += usize::from(check);
            }
            Outcome::Refused(why) => {
                row[1] += 1;
                refused += 1;
                println!("refused {name}: {why}");
            }
            Outcome::Fail(why) if LIMITED.iter().any(|(n, _)| *n == name) => {
                limited.push(name.clone());
                println!("limited {name}: {why}");
            }
            Outcome::Fail(why) => {
                row[2] += 1;
                fails.push(format!("{name} ({ops:?}): {why}"));
            }
        }
    }
    println!("\n| op | pass | refused | fail |\n|---|---:|---:|---:|");
    for (op, [p, r, f]) in &table {
        println!("| {op} | {p} | {r} | {f} |");
    }
    println!("| total | {pass} | {refused} | {} |", fails.len());
    println!("beyond 8-bit resolution: {}", limited.len());
    for (name, why) in LIMITED {
        assert!(
            limited.iter().any(|l| l == name),
            "{name} is listed as beyond 8-bit resolution ({why}) but did not fail"
        );
    }
    println!("circuits checked by MockProver: {checked}");
    assert!(
        fails.is_empty(),
        "{} fail:\n{}",
        fails.len(),
        fails.join("\n")
    );
}
